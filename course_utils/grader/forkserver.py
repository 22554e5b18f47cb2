"""Grader kernels forked from a process that has imported Keras already.

Starting a grader kernel costs several seconds, most of them importing Keras and its
backend; a class of submissions pays it once per notebook. A grading worker therefore
imports what the kernel preloads (:data:`course_utils.grader.kernel.PRELOADED`) and
IPython's kernel, then forks one *fork server* from itself (:func:`running`), which waits;
the worker needs Keras itself for the re-checks, so the import is paid once. (A process
that runs threads, or wants another environment, starts the server afresh with
``python -m`` instead.) The worker forks before it reads whom it grades, and is told in a
file, not on its command line, which the kernels share. For each kernel, jupyter_client's
provisioner (:class:`ForkServerProvisioner`, named in the kernelspec) asks it for a copy
of itself; the copy becomes a grader kernel exactly as
``python -m course_utils.grader.kernel`` would (limits, sandbox, then IPython's kernel),
with the environment, folder and standard streams that the provisioner gives it.

What stays the same as a kernel started from scratch: the limits and the sandbox are put
in place in the copy before it runs any of the notebook; the kernel is a session of its
own, so that a signal reaches it and what it starts; the exit code is reported back.
What the fork server adds:

- Only the process that started it may ask for a kernel (the peer of its socket must be
  its parent process): a notebook that finds the socket cannot get a kernel of its own.
- A copy dies with the fork server, and the fork server with its parent: a killed worker
  leaves no kernel behind.
- No fork server (another program grading, the server failed to start): kernels start
  the usual way.

A fork copies only the thread that forks, so the fork server runs no Python thread but its
main one (it refuses to fork otherwise, and the kernel starts the usual way). Importing
Keras starts one native thread, NumPy's idle OpenBLAS pool, which OpenBLAS itself stops
around a fork; TensorFlow starts its thread pools when it first runs an operation, which
the fork server never does.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from jupyter_client.provisioning import LocalProvisioner

KERNEL_MODULE = "course_utils.grader.kernel"
PROVISIONER_NAME = "course-grader-forkserver"
READY_TIMEOUT = 120  # seconds the provisioner waits for the fork server's imports
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask Linux to kill this process when its parent ends."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


# ----------------------------------------------------------------------------- the server


def _exit_code(status: int) -> int:
    """``waitpid``'s status as Popen's ``returncode`` (minus the signal when killed)."""
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _recv_request(conn: socket.socket):
    """One request: a JSON line and three file descriptors (stdin, stdout, stderr)."""
    data, fds, _, _ = socket.recv_fds(conn, 1 << 20, 3)
    while not data.endswith(b"\n"):
        more = conn.recv(1 << 20)
        if not more:
            raise ConnectionError("the request ended early")
        data += more
    if len(fds) != 3:
        for fd in fds:
            os.close(fd)
        raise ConnectionError("a request brings three file descriptors")
    return json.loads(data), fds


def _become_kernel(request: dict, fds: list[int], keep_closed: list[int], server: int):
    """In the forked copy of the fork server (pid ``server``): take the request's streams,
    environment and folder, then run the grader kernel's own ``main``. Never returns."""
    code = 1
    try:
        os.setsid()
        die_with_parent()
        if os.getppid() != server:  # the server ended before the line above took effect
            os._exit(1)
        for fd in keep_closed:
            with contextlib.suppress(OSError):
                os.close(fd)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        if "numpy" in sys.modules:  # fresh randomness, as a new process would have
            sys.modules["numpy"].random.seed()
        from course_utils.grader import kernel

        sys.path.insert(0, request["cwd"])  # what `python -m` would put first; main drops it
        sys.argv = [kernel.__file__, *request["args"]]
        kernel.main(request["args"], after_fork=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
    finally:
        with contextlib.suppress(BaseException):
            import atexit

            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _peer_pid(conn: socket.socket) -> int:
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[0]


def serve(path: str, ready_fd: int) -> None:
    """The fork server's loop: import, listen on ``path``, then fork one kernel per request
    and report its pid, and later its exit code, on the request's connection."""
    parent = os.getppid()
    die_with_parent()
    from course_utils.grader import kernel

    kernel.preload()
    import ipykernel.kernelapp  # noqa: F401  (the rest of a kernel's start-up)

    # What is imported now lives as long as every kernel: out of the collector's view, so
    # that a kernel's collections (one in each keras.backend.clear_session()) do not walk
    # Keras's and TensorFlow's objects, nor copy their pages after the fork.
    gc.collect()
    gc.freeze()

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    os.write(ready_fd, b"ready\n")
    os.close(ready_fd)
    children: dict[int, socket.socket] = {}  # kernel pid -> the connection that asked
    while os.getppid() == parent:
        conns = list(children.values())
        readable, _, _ = select.select([listener, *conns], [], [], 0.1)
        if listener in readable:
            conn, _ = listener.accept()
            try:
                if _peer_pid(conn) != parent:
                    conn.sendall(b'{"error": "only the grading process may ask"}\n')
                    raise ConnectionError("refused")
                if threading.active_count() > 1:  # a copy would lack them: do not fork
                    conn.sendall(b'{"error": "the fork server runs threads"}\n')
                    raise ConnectionError("refused")
                request, fds = _recv_request(conn)
            except (OSError, ValueError):
                conn.close()
            else:
                others = [listener.fileno(), *(c.fileno() for c in children.values())]
                server = os.getpid()
                pid = os.fork()
                if pid == 0:
                    _become_kernel(request, fds, [*others, conn.fileno()], server)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                conn.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        for pid, conn in list(children.items()):
            if conn in readable:  # the asker hung up (or broke the protocol): no orphans
                with contextlib.suppress(OSError):
                    if not conn.recv(4096):
                        os.killpg(pid, signal.SIGKILL)
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                with contextlib.suppress(OSError):
                    conn.sendall(json.dumps({"exit": _exit_code(status)}).encode() + b"\n")
                conn.close()
                del children[pid]
    for pid in children:
        with contextlib.suppress(OSError):
            os.killpg(pid, signal.SIGKILL)


# ----------------------------------------------------------------------------- the client


class ForkServer:
    """A fork server started by this process (see :func:`running`)."""

    def __init__(self, env: dict | None = None, fork: bool = False):
        self.folder = tempfile.mkdtemp(prefix="course-forkserver-")
        os.chmod(self.folder, 0o700)
        self.path = os.path.join(self.folder, "socket")
        read_end, write_end = os.pipe()
        self.process = self._fork(read_end, write_end) if fork and env is None else None
        self.forked = self.process is not None  # from this process, not started afresh
        if self.process is None:
            self.process = subprocess.Popen(
                [sys.executable, "-m", __name__, self.path, str(write_end)],
                pass_fds=[write_end], cwd=self.folder, env=env, stdin=subprocess.DEVNULL)
        os.close(write_end)
        self._ready = os.fdopen(read_end, "rb")
        self.ready = False

    def _fork(self, read_end: int, write_end: int) -> _Child | None:
        """Import what a kernel preloads here, then fork the fork server from this process
        (it need not import them again); None if this process runs a second thread."""
        from course_utils.grader import kernel

        kernel.preload()
        import ipykernel.kernelapp  # noqa: F401

        if threading.active_count() > 1:
            return None
        started_in = os.getcwd()
        pid = os.fork()
        if pid:
            return _Child(pid)
        code = 1
        try:  # the copy: as `python -m` would have started it, in its own folder
            os.close(read_end)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.close(null)
            os.chdir(self.folder)
            if sys.path and sys.path[0] in ("", started_in):
                sys.path[0] = self.folder
            serve(self.path, write_end)
            code = 0
        except BaseException:
            import traceback

            traceback.print_exc()
        finally:
            os._exit(code)

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> bool:
        """True once the server listens; False if it failed or did not in ``timeout``."""
        if not self.ready and self.process.poll() is None:
            readable, _, _ = select.select([self._ready], [], [], timeout)
            self.ready = bool(readable) and self._ready.readline() == b"ready\n"
        return self.ready and self.process.poll() is None

    def spawn(self, args: list[str], env: dict, cwd: str, stdio: list[int]) -> ForkedKernel:
        """A grader kernel with these kernel arguments, environment, folder and streams."""
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(self.path)
            request = json.dumps({"args": args, "env": env, "cwd": cwd}).encode() + b"\n"
            with contextlib.suppress(BrokenPipeError):  # refused before it read: see why
                socket.send_fds(conn, [request], stdio)
            reply = ForkedKernel.read_line(conn, timeout=30)
            if "pid" not in reply:
                raise OSError(f"the fork server said {reply}")
        except BaseException:
            conn.close()
            raise
        return ForkedKernel(reply["pid"], conn)

    def close(self):
        with contextlib.suppress(OSError):
            self.process.kill()
        self.process.wait()
        self._ready.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self.folder)


class _Child:
    """What :class:`ForkServer` needs of a ``Popen``, for a fork server it forked."""

    def __init__(self, pid: int):
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                done, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped elsewhere
                done, status = self.pid, 0
            if done:
                self.returncode = _exit_code(status)
        return self.returncode

    def wait(self) -> int:
        while self.poll() is None:
            time.sleep(0.01)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


class ForkedKernel:
    """What jupyter_client's local provisioner needs of a ``Popen``, for a forked kernel."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, conn: socket.socket):
        self.pid, self._conn, self.returncode = pid, conn, None
        self._buffer = b""

    @staticmethod
    def read_line(conn: socket.socket, timeout: float) -> dict:
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([conn], [], [], left)[0]:
                raise TimeoutError("no answer from the fork server")
            more = conn.recv(4096)
            if not more:
                raise ConnectionError("the fork server hung up")
            data += more
        return json.loads(data)

    def poll(self) -> int | None:
        if self.returncode is None and select.select([self._conn], [], [], 0)[0]:
            more = self._conn.recv(4096)
            self._buffer += more
            if not more:  # the server is gone, and with it the kernel (it dies with it)
                self.returncode = -signal.SIGKILL
            elif self._buffer.endswith(b"\n"):
                self.returncode = int(json.loads(self._buffer)["exit"])
            if self.returncode is not None:
                self._conn.close()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            select.select([self._conn], [], [], 0.1)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_current: ForkServer | None = None


@contextlib.contextmanager
def running(env: dict | None = None, fork: bool = False):
    """Start a fork server for the grader kernels that this process launches; stop it on
    the way out. Its imports run while the caller goes on; with ``fork``, this process
    imports them, then forks the server (one import, not two: for a process that needs
    Keras itself, such as a grading worker, whose re-checks rebuild models)."""
    global _current
    if _current is not None:  # one per process
        yield _current
        return
    server = ForkServer(env, fork=fork)
    _current = server
    try:
        yield server
    finally:
        _current = None
        server.close()


def current() -> ForkServer | None:
    return _current


def _stdio_fd(value, default: int) -> int:
    if isinstance(value, int) and value >= 0:
        return value
    if hasattr(value, "fileno"):
        with contextlib.suppress(OSError, ValueError):
            return value.fileno()
    return default


class ForkServerProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with grader kernels from the fork server."""

    async def launch_kernel(self, cmd, **kwargs):
        server = current()
        is_grader = (len(cmd) > 2 and cmd[1:3] == ["-m", KERNEL_MODULE]
                     and os.path.realpath(cmd[0]) == os.path.realpath(sys.executable))
        if server is None or not is_grader or not server.wait_ready():
            return await super().launch_kernel(cmd, **kwargs)
        env = dict(kwargs.get("env") or os.environ)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        devnull = os.open(os.devnull, os.O_RDONLY)
        try:
            stdio = [devnull, _stdio_fd(kwargs.get("stdout"), 1),
                     _stdio_fd(kwargs.get("stderr"), 2)]
            self.process = server.spawn(cmd[3:], env, cwd, stdio)
        except (OSError, ValueError) as exc:  # the server is gone or confused: start anew
            self.log.warning(f"fork server: {type(exc).__name__}: {exc}; starting the "
                             "kernel the usual way")
            return await super().launch_kernel(cmd, **kwargs)
        finally:
            os.close(devnull)
        self.pid = self.pgid = self.process.pid
        self.cwd = cwd
        return self.connection_info


def registered() -> bool:
    """Whether jupyter_client can find :class:`ForkServerProvisioner` (the package's entry
    point is installed)."""
    from importlib.metadata import entry_points

    return any(ep.name == PROVISIONER_NAME
               for ep in entry_points(group="jupyter_client.kernel_provisioners"))


if __name__ == "__main__":
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    serve(sys.argv[1], int(sys.argv[2]))
