"""The fork server that grader kernels are copied from (course_utils.grader.forkserver):
kernels come from it when it runs, and the usual way when it does not; only the grading
process may ask it; its kernels are sandboxed, reported when they end, and die with it."""

import ast
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager

from course_utils.grader import forkserver
from course_utils.grader import kernel as grader_kernel
from course_utils.grader import process as grader_process
from course_utils.grader.paths import KERNEL_NAME

ROOT = Path(__file__).resolve().parent.parent
PROBE = ("import os, sys\n"
         "print(os.getppid(), os.getsid(0) == os.getpid(), 'keras' in sys.modules,\n"
         "      os.path.basename(os.getcwd()).startswith('course-grader-'))")


@pytest.fixture(scope="module", autouse=True)
def kernelspec():
    grader_kernel.install_kernelspec()


@pytest.fixture(scope="module")
def server():
    """One fork server for the tests that leave it running (its start costs seconds)."""
    with forkserver.running() as started:
        assert started.wait_ready(), "the fork server did not start (see its output above)"
        yield started


def _run(km: KernelManager, code: str, timeout: float = 60) -> str:
    client = km.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=timeout)
        text = []

        def keep(msg):
            if msg["msg_type"] == "stream":
                text.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                text.append("\n".join(msg["content"]["traceback"]))

        client.execute_interactive(code, timeout=timeout, output_hook=keep)
        return "".join(text)
    finally:
        client.stop_channels()


def _gone(pid: int, within: float = 20) -> bool:
    """The process has ended (a zombie nobody reaps counts as ended)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.2)
    return False


def test_the_provisioner_is_registered_and_named_by_the_kernelspec():
    assert forkserver.registered(), (
        "jupyter_client cannot find the course's provisioner: the package's entry point "
        "(pyproject.toml, jupyter_client.kernel_provisioners) is not installed. Hint: run "
        "`make setup` again after changing pyproject.toml.")
    spec = json.loads((grader_kernel.install_kernelspec() / "kernel.json").read_text())
    assert spec["metadata"]["kernel_provisioner"]["provisioner_name"] == \
        forkserver.PROVISIONER_NAME


def test_a_grader_kernel_is_a_sandboxed_copy_of_the_fork_server(server):
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    try:
        pid = km.provisioner.pid
        ppid, own_session, preloaded, private = _run(km, PROBE).split()
        assert int(ppid) == server.process.pid, "the kernel was not forked from the server"
        assert (own_session, preloaded, private) == ("True", "True", "True")
        denied = _run(km, f"open({str(ROOT / 'pyproject.toml')!r}).read()")
        assert "PermissionError" in denied or not grader_kernel.landlock_abi(), denied
    finally:
        km.shutdown_kernel(now=True)
    assert _gone(pid), "the killed kernel is still running"
    assert server.process.poll() is None, "the fork server ended with its kernel"


def test_the_fork_server_reports_how_a_kernel_ended(server):
    with open(os.devnull, "rb") as null:
        process = server.spawn(["-f", "/nonexistent/connection.json"], dict(os.environ),
                               os.getcwd(), [null.fileno(), 1, 2])
    code = process.wait(timeout=60)
    assert code not in (None, 0), "a kernel without a connection file should fail"


def test_without_a_fork_server_kernels_start_the_usual_way(monkeypatch):
    monkeypatch.setattr(forkserver, "_current", None)
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    try:
        ppid, own_session, preloaded, private = _run(km, PROBE, timeout=120).split()
        assert int(ppid) == os.getpid()
        assert (preloaded, private) == ("True", "True")
    finally:
        km.shutdown_kernel(now=True)


def test_only_the_grading_process_may_ask_for_a_kernel(server):
    """A notebook that found the socket (here: another process of the same user) gets
    nothing: the server answers only the process that started it."""
    asker = (
        "import json, os, socket, sys\n"
        "conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "conn.connect(sys.argv[1])\n"
        "request = json.dumps({'args': ['-f', 'x'], 'env': {}, 'cwd': '/'}).encode() + b'\\n'\n"
        "try:\n"
        "    socket.send_fds(conn, [request], [0, 1, 2])\n"
        "except OSError:\n"
        "    pass\n"
        "conn.settimeout(30)\n"
        "print(conn.recv(4096).decode().strip() or 'hung up')\n")
    before = set(grader_process._descendants(server.process.pid))
    done = subprocess.run([sys.executable, "-c", asker, server.path], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "only the grading process may ask" in done.stdout, done.stdout
    after = set(grader_process._descendants(server.process.pid))
    assert after == before, "the server forked a kernel for a stranger"


def test_kernels_die_with_the_fork_server():
    server, km = forkserver.ForkServer(), None
    try:
        assert server.wait_ready()
        connection = Path(server.folder) / "connection.json"
        km = KernelManager(kernel_name=KERNEL_NAME, connection_file=str(connection))
        km.write_connection_file()
        with open(os.devnull, "rb") as null:
            kernel = server.spawn(["-f", str(connection)], dict(os.environ), server.folder,
                                  [null.fileno(), 1, 2])
        time.sleep(1)
        assert not _gone(kernel.pid, within=0.1), "the kernel ended before the test"
        os.kill(server.process.pid, signal.SIGKILL)
        assert _gone(kernel.pid), "a kernel outlived its fork server"
        assert kernel.wait(timeout=10) == -signal.SIGKILL
    finally:
        if km is not None:
            km.cleanup_resources()
        server.close()
    assert not os.path.exists(server.folder), "the fork server left its folder behind"


def test_the_socket_lives_in_a_folder_only_its_owner_may_enter(server):
    mode = os.stat(server.folder).st_mode & 0o777
    assert mode == 0o700, f"the socket's folder is open to others ({oct(mode)})"


def test_a_request_without_streams_is_refused(server):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(server.path)
    conn.sendall(b'{"args": [], "env": {}, "cwd": "/"}\n')
    conn.settimeout(30)
    assert conn.recv(4096) == b"", "the server answered a request that brought no streams"
    conn.close()
    assert server.process.poll() is None, "a bad request stopped the fork server"


class _UsualLaunch(Exception):
    """Raised in place of starting a kernel the usual way (no kernel needed to see it)."""


def test_a_fork_server_that_fails_to_fork_falls_back_to_the_usual_launch(server, monkeypatch):
    from jupyter_client.provisioning import LocalProvisioner

    async def usual(self, cmd, **kwargs):
        raise _UsualLaunch(cmd)

    def broken(*args, **kwargs):
        raise OSError("no more processes")

    monkeypatch.setattr(LocalProvisioner, "launch_kernel", usual)
    monkeypatch.setattr(server, "spawn", broken)
    km = KernelManager(kernel_name=KERNEL_NAME)
    with pytest.raises(_UsualLaunch):
        km.start_kernel()
    km.cleanup_resources()


def test_a_fork_server_that_runs_threads_refuses_to_fork(tmp_path):
    """A copy of a process keeps only the thread that forked: a fork server with a second
    Python thread says no, and the provisioner starts the kernel the usual way."""
    script = ("import sys, threading, time\n"
              "threading.Thread(target=time.sleep, args=(120,), daemon=True).start()\n"
              "from course_utils.grader.forkserver import serve\n"
              "serve(sys.argv[1], int(sys.argv[2]))\n")
    path = str(tmp_path / "socket")
    read_end, write_end = os.pipe()
    process = subprocess.Popen([sys.executable, "-c", script, path, str(write_end)],
                               pass_fds=[write_end])
    os.close(write_end)
    try:
        with os.fdopen(read_end, "rb") as ready:
            assert ready.readline() == b"ready\n", "the fork server did not start"
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
        request = json.dumps({"args": ["-f", "x"], "env": {}, "cwd": "/"}).encode() + b"\n"
        # The server may refuse, and hang up, before it reads the request: sending can fail.
        with open(os.devnull, "rb") as null, contextlib.suppress(BrokenPipeError):
            socket.send_fds(conn, [request], [null.fileno(), 1, 2])
        reply = forkserver.ForkedKernel.read_line(conn, timeout=30)
        conn.close()
        assert reply == {"error": "the fork server runs threads"}, reply
    finally:
        process.kill()
        process.wait()


def test_a_batchs_kernels_come_from_fork_servers_forked_from_their_workers(graded_a2):
    """What the grading of a class uses: each worker imports Keras once and forks its fork
    server from itself; every kernel of the batch is a copy of such a server."""
    logs = sorted((graded_a2["root"] / "grading" / "logs" / "a2").glob("_worker*.log"))
    assert logs, "the batch left no worker logs"
    for log in logs:
        text = log.read_text()
        assert "the fork server was forked from this worker" in text, text[-3000:]
        kernels = [line for line in text.splitlines() if line.startswith("grader_kernel:")]
        assert kernels and all("forked from the fork server" in k for k in kernels), kernels


FORKED_HERE = """
import json, os, sys
from jupyter_client.manager import KernelManager
from course_utils.grader import forkserver
from course_utils.grader.paths import KERNEL_NAME

with forkserver.running(fork=True) as server:
    assert server.wait_ready(), "the forked fork server did not get ready"
    km = KernelManager(kernel_name=KERNEL_NAME)
    km.start_kernel()
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    seen = []
    client.execute_interactive(
        "import os, sys; print(repr((os.getppid(), sys.path, open('/proc/self/cmdline').read())))",
        timeout=60, output_hook=lambda m: seen.append(m["content"].get("text", "")))
    client.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps({"forked": server.forked, "server": server.process.pid,
                      "me": os.getpid(), "kernel": "".join(seen)}))
"""


def test_a_fork_server_forked_from_its_caller_serves_clean_kernels(tmp_path):
    """Forked from a single-threaded caller (a grading worker): its kernels' parent is the
    server, and the caller's folder (a course, with its solutions) is not on their
    ``sys.path``. They do share the caller's command line, which is why a worker's names
    no student (tests/test_autograde_pipeline.py)."""
    caller = tmp_path / "caller with a secret-looking name"
    caller.mkdir()
    done = subprocess.run([sys.executable, "-c", FORKED_HERE, "--caller-argument"],
                          cwd=caller, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["forked"] and report["server"] != report["me"], report
    ppid, path, cmdline = ast.literal_eval(report["kernel"])  # a repr the kernel printed
    assert ppid == report["server"], "the kernel was not forked from the forked server"
    assert str(caller) not in path, path
    assert "--caller-argument" in cmdline, "was the kernel forked from this caller at all?"


def test_a_fork_server_is_not_forked_from_a_process_that_runs_threads():
    """pytest-xdist's worker (this process, when run so) runs threads: a copy would lack
    them, so the server starts afresh instead."""
    import threading

    stop = threading.Event()
    extra = threading.Thread(target=stop.wait, daemon=True)
    extra.start()
    try:
        server = forkserver.ForkServer(fork=True)
        try:
            assert not server.forked and isinstance(server.process, subprocess.Popen)
        finally:
            server.close()
    finally:
        stop.set()
