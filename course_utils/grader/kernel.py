"""The kernel that runs students' code while a submission is autograded.

    python -m course_utils.grader.kernel -f CONNECTION_FILE [kernel options]

It is an ordinary IPython kernel with four differences:

1. Output that C libraries write straight to the process's file descriptors (TensorFlow's
   start-up chatter) is not copied into cells (``--IPKernelApp.capture_fd_output=False``),
   so it can never zero a correct answer.
2. Resource limits: memory (address space, ``$COURSE_GRADER_MEMORY_MB``, default 6144),
   the size of any file written (256 MiB), processes and threads (1024), no core dumps.
   A submission that blows up memory gets a ``MemoryError`` or dies alone.
3. A sandbox: the kernel runs in an empty private directory and, where Linux offers
   Landlock (5.13 and later), may only read the Python installation, the course's
   packages and the system's libraries, and write nowhere but that directory. A submission
   can then neither read ``solutions/``, the gradebook or other students' work, nor change
   them, even when grading runs as root. Without Landlock, a root grader drops to the user
   ``nobody`` where that user can run Python; otherwise the kernel says in its log that
   the submission runs unconfined.
4. Keras, with its backend (TensorFlow unless the grading environment's ``KERAS_BACKEND``
   says otherwise), is imported before the first cell: a cell's time limit then measures
   the student's code, not TensorFlow's start-up, which takes several seconds on a busy
   machine. The backend is the grading environment's, as the re-check's is: a notebook
   cannot switch it while it is graded. When autograding, the kernel is a copy of a fork
   server that imported Keras once for all the worker's kernels
   (:mod:`course_utils.grader.forkserver`); the limits and the sandbox are put in place
   in the copy, before any of the notebook runs. Started on its own, the kernel imports
   Keras itself, once the sandbox is in place.
"""

from __future__ import annotations

import atexit
import ctypes
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
from pathlib import Path

MEMORY_ENV = "COURSE_GRADER_MEMORY_MB"
DEFAULT_MEMORY_MB = 6144
FILE_SIZE_BYTES = 256 * 2**20
MAX_PROCESSES = 1024
UNPRIVILEGED_USER = "nobody"


# ----------------------------------------------------------------------------- limits


def _limit(which, value):
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def apply_limits():
    """Memory, file size, processes and core dumps, for this process and its children."""
    memory = int(os.environ.get(MEMORY_ENV, DEFAULT_MEMORY_MB)) * 2**20
    _limit(resource.RLIMIT_AS, memory)
    _limit(resource.RLIMIT_FSIZE, FILE_SIZE_BYTES)
    _limit(resource.RLIMIT_CORE, 0)
    _limit(resource.RLIMIT_NPROC, MAX_PROCESSES)


# ----------------------------------------------------------------------------- Landlock

# Syscall numbers are the same on x86-64 and arm64 (include/uapi/asm-generic/unistd.h).
_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_READ = _EXECUTE | _READ_FILE | _READ_DIR
_FILE_RIGHTS = {1: 0b111, 2: 0b111, 3: 0b111 | 1 << 14, 4: 0b111 | 1 << 14,
                5: 0b111 | 1 << 14 | 1 << 15}


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers, 0 if none (not Linux, too old, off)."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    version = _libc().syscall(_SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    return max(int(version), 0)


def _handled(abi: int) -> int:
    bits = 13 + (abi >= 2) + (abi >= 3)  # ABI 1: 13 rights, 2: + REFER, 3: + TRUNCATE
    mask = (1 << bits) - 1
    if abi >= 5:
        mask |= 1 << 15  # IOCTL_DEV
    return mask


def landlock_restrict(read_dirs, write_dirs, write_files=()) -> None:
    """Allow reading under ``read_dirs``, everything under ``write_dirs`` and writing
    ``write_files``; deny every other file-system access, for good (children included)."""
    abi = landlock_abi()
    if not abi:
        raise OSError("Landlock is not available")
    libc = _libc()
    handled = _handled(abi)
    ruleset = _RulesetAttr(handled)
    fd = libc.syscall(_SYS_CREATE_RULESET, ctypes.byref(ruleset),
                      ctypes.c_size_t(ctypes.sizeof(ruleset)), ctypes.c_uint32(0))
    if fd < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    file_rights = _FILE_RIGHTS.get(min(abi, 5), _FILE_RIGHTS[5]) & handled
    try:
        rules = [(p, _READ) for p in read_dirs] + [(p, handled) for p in write_dirs] + [
            (p, file_rights) for p in write_files]
        for path, rights in rules:
            if not os.path.exists(path):
                continue
            if not os.path.isdir(path):
                rights &= file_rights
            path_fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(rights, path_fd)
                if libc.syscall(_SYS_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                                ctypes.byref(rule), ctypes.c_uint32(0)) != 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(path_fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(_SYS_RESTRICT_SELF, ctypes.c_int(fd), ctypes.c_uint32(0)) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(fd)


def readable_roots() -> list[str]:
    """What a submission may read: Python, the installed packages, the course's package,
    the system's libraries and configuration."""
    import course_utils

    roots = {sys.base_prefix, sys.prefix, sys.exec_prefix,
             os.path.dirname(os.path.abspath(course_utils.__file__)),
             "/usr", "/lib", "/lib32", "/lib64", "/bin", "/sbin", "/etc", "/proc", "/sys",
             "/dev"}
    roots |= {os.path.dirname(os.path.realpath(sys.executable))}
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")) or entry.endswith(".zip"):
            roots.add(entry)
    return sorted(r for r in roots if r and os.path.exists(r))


# ----------------------------------------------------------------------------- sandbox


def _connection_file_index(args):
    for i, arg in enumerate(args):
        if arg == "-f" and i + 1 < len(args):
            return i + 1
        if arg.startswith(("--f=", "--IPKernelApp.connection_file=")):
            return i
    raise SystemExit("grader_kernel: no connection file given (-f FILE)")


WORKDIR_PREFIX = "course-grader-"
PID_FILE = "kernel.pid"


def _private_directory(args):
    """Make an empty private directory, move the connection file and $HOME there."""
    workdir = tempfile.mkdtemp(prefix=WORKDIR_PREFIX)
    os.chmod(workdir, 0o700)
    with open(os.path.join(workdir, PID_FILE), "w") as handle:  # for sweep_workdirs
        handle.write(str(os.getpid()))
    index = _connection_file_index(args)
    arg = args[index]
    source = arg.split("=", 1)[1] if arg.startswith("--") else arg
    target = os.path.join(workdir, "connection.json")
    shutil.copyfile(source, target)
    os.chmod(target, 0o600)
    args = list(args)
    args[index] = arg.split("=", 1)[0] + "=" + target if arg.startswith("--") else target
    for name, sub in (("HOME", ""), ("TMPDIR", "tmp"), ("MPLCONFIGDIR", "mpl"),
                      ("IPYTHONDIR", "ipython"), ("KERAS_HOME", "keras")):
        path = os.path.join(workdir, sub) if sub else workdir
        os.makedirs(path, exist_ok=True)
        os.environ[name] = path
    tempfile.tempdir = os.environ["TMPDIR"]
    os.environ["JOBLIB_MULTIPROCESSING"] = "0"  # it would probe /dev/shm, which is closed
    os.chdir(workdir)
    atexit.register(_clean_up, workdir)
    return workdir, args


def _clean_up(workdir):
    """Remove the private directory; if the sandbox keeps the (now empty) directory itself,
    leave the pid file in it, so that ``sweep_workdirs`` knows whose it was."""
    shutil.rmtree(workdir, ignore_errors=True)
    if os.path.isdir(workdir):
        with open(os.path.join(workdir, PID_FILE), "w") as handle:
            handle.write(str(os.getpid()))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_workdirs(tmpdir: str | None = None, min_age: float = 60.0) -> int:
    """Remove what grader kernels that have ended left in the temporary directory.

    A kernel cleans its private directory when it exits, but a sandboxed kernel may not
    remove the directory itself (the sandbox denies changes to the temporary directory),
    and a killed kernel (timeout, memory) cleans nothing. The grading driver calls this
    afterwards: a directory goes if the kernel named in its pid file is gone, or if it is
    empty and older than ``min_age`` seconds (a kernel writes its pid file at once, and
    leaves it behind if it cannot remove the directory).
    Returns how many were removed.
    """
    import time

    base = tmpdir or tempfile.gettempdir()
    removed = 0
    for entry in os.scandir(base):
        if not entry.name.startswith(WORKDIR_PREFIX) or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if not os.listdir(entry.path):
                if time.time() - entry.stat(follow_symlinks=False).st_mtime < min_age:
                    continue
                os.rmdir(entry.path)
            else:
                with open(os.path.join(entry.path, PID_FILE)) as handle:
                    pid = int(handle.read().strip() or 0)
                if pid <= 0 or _alive(pid):
                    continue
                shutil.rmtree(entry.path)
            removed += 1
        except (OSError, ValueError):  # not ours, in use, or half gone: leave it
            continue
    return removed


def _nobody_can_run_python() -> bool:
    """Every directory on the way to the interpreter must be searchable by others."""
    for base in {sys.base_prefix, sys.prefix}:
        path = os.path.abspath(base)
        while True:
            if not os.stat(path).st_mode & 0o001:
                return False
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return True


def _become_nobody(workdir):
    import pwd

    user = pwd.getpwnam(UNPRIVILEGED_USER)
    for folder, _, files in os.walk(workdir):
        os.chown(folder, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), user.pw_uid, user.pw_gid)
    os.environ["USER"] = os.environ["LOGNAME"] = UNPRIVILEGED_USER
    os.setgroups([])
    os.setgid(user.pw_gid)
    os.setuid(user.pw_uid)


def sandbox(args):
    """Confine this process (see the module docstring); returns the kernel's arguments and
    a sentence for the log saying how it is confined."""
    workdir, args = _private_directory(args)
    if landlock_abi():
        devices = [f"/dev/{n}" for n in ("null", "zero", "random", "urandom", "tty")]
        landlock_restrict(readable_roots(), [workdir], devices)
        how = f"Landlock sandbox (ABI {landlock_abi()}): read-only system, writable {workdir}"
    elif os.geteuid() == 0 and _nobody_can_run_python():
        _become_nobody(workdir)
        how = f"running as {UNPRIVILEGED_USER} in {workdir} (no Landlock on this system)"
    else:
        how = ("UNCONFINED: no Landlock on this system and no way to switch users, so the "
               "submission can read and write what the grading user can")
    return args, how


def install_kernelspec() -> Path:
    """Install this kernel (as ``course-grader``) into the running Python's environment."""
    from course_utils.grader.paths import KERNEL_NAME

    directory = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "course_utils.grader.kernel", "-f",
                 "{connection_file}"],
        "display_name": "Python 3 (course grader)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    from course_utils.grader import forkserver

    if forkserver.registered():  # else jupyter_client could not start the kernel at all
        spec["metadata"]["kernel_provisioner"] = {
            "provisioner_name": forkserver.PROVISIONER_NAME, "config": {}}
    path = directory / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return directory


PRELOADED = ("keras",)  # and the backend it imports


def preload() -> list[str]:
    """Import :data:`PRELOADED` modules that are installed; returns those imported."""
    import importlib
    import importlib.util

    done = []
    for name in PRELOADED:
        if importlib.util.find_spec(name) is None:
            continue
        try:
            importlib.import_module(name)
        except Exception as exc:  # the notebook's own import will show the error
            print(f"grader_kernel: could not preload {name} ({type(exc).__name__}: {exc})",
                  file=sys.stderr)
        else:
            done.append(name)
    return done


def main(argv=None, after_fork=False):
    """Start the kernel; ``after_fork``: this process is a copy of the fork server
    (:mod:`course_utils.grader.forkserver`), which has imported Keras already."""
    args = list(sys.argv[1:] if argv is None else argv)
    start = os.getcwd()
    apply_limits()
    args, how = sandbox(args)
    if after_fork:  # a change of user forgets it: say again that the kernel dies with its server
        from course_utils.grader.forkserver import die_with_parent

        die_with_parent()
    started = "forked from the fork server" if after_fork else "started on its own"
    print(f"grader_kernel: {how}; {started}; preloaded: {', '.join(preload()) or 'nothing'}",
          file=sys.stderr)
    if sys.path and sys.path[0] in ("", start):  # the grading directory is not importable
        del sys.path[0]
    sys.argv = [sys.argv[0], *args, "--IPKernelApp.capture_fd_output=False"]
    from ipykernel import kernelapp

    kernelapp.launch_new_instance()


if __name__ == "__main__":
    main()
