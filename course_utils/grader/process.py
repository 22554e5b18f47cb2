"""Running nbgrader (its Python API, in this process), and stopping a grading process with
everything it started."""

from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def nbgrader_api(root: Path, **settings):
    """nbgrader's Python API on the course at ``root``, configured by the course's
    ``nbgrader_config.py`` (what the ``nbgrader`` command reads there) and ``settings``
    (``{"Execute.timeout": 30}``), run in this process: each call costs no start-up of
    nbgrader, seconds saved per step. nbgrader's tools are on PATH while it is open."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for key, value in settings.items():
        section, name = key.rsplit(".", 1)
        setattr(config[section], name, value)
    before = os.environ.get("PATH")
    os.environ["PATH"] = child_env()["PATH"]  # nbgrader runs `alembic` from PATH
    try:
        yield NbGraderAPI(config=config)
    finally:
        if before is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = before


def api_log(result: dict) -> str:
    """What an nbgrader API call logged and raised, to quote when it failed."""
    return (result.get("log") or "") + (result.get("error") or "")


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
