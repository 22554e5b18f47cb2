"""Running nbgrader as a child process, and stopping it with everything it started."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path


class GradingError(RuntimeError):
    """A pipeline step that cannot go on; the message says what to do."""


def child_env() -> dict:
    """This environment, with nbgrader's tools on PATH and TensorFlow quieter."""
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)  # nbgrader calls `alembic` from PATH
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def nbgrader(root: Path, *args: str, timeout: float | None = None,
             log: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader ARGS`` in the course root; raises subprocess.TimeoutExpired."""
    command = [sys.executable, "-m", "nbgrader", *args]
    with contextlib.ExitStack() as stack:
        if log is not None:
            log.parent.mkdir(parents=True, exist_ok=True)
            handle = stack.enter_context(open(log, "w"))
            process = subprocess.Popen(command, cwd=root, env=child_env(), stdout=handle,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        else:
            process = subprocess.Popen(command, cwd=root, env=child_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            kill_group(process)
            raise
    if log is not None:
        out = log.read_text(errors="replace")
    return subprocess.CompletedProcess(command, process.returncode, out, "")


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``, read from /proc (the kernel may have left the group)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_group(process):
    """Stop nbgrader and everything it started, the grader kernel included."""
    import signal

    for pid in [process.pid, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def tail(text: str, errors_only: bool = False, lines: int = 6) -> str:
    """The last few non-empty lines of a log, to quote in an error."""
    rows = [r for r in (text or "").splitlines() if r.strip()]
    if errors_only:
        rows = [r for r in rows if "ERROR" in r or "Error" in r]
    return "\n".join(rows[-lines:])
