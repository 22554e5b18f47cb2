"""Pieces of the instructor's pipeline that need no grading run: collecting files from
Colab and LMSs, the release check, the nbgrader plugins and the grader kernel's sandbox."""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
import submissions as subs
from nbformat.notebooknode import NotebookNode

from course_utils.grader import autograde, cli, collect, process, release
from course_utils.grader import kernel as grader_kernel
from course_utils.grader.preprocessors import HideTestCode, LimitOutputSize, StderrIsNotFailure

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name, stem", [
    ("Copy of a1", "a1"), ("a1 (1)", "a1"), ("a1(2)", "a1"), ("a1 - Copy", "a1"),
    ("Copy of a1 (3)", "a1"), ("A1", "a1"), ("a1-1", "a1"), ("a1", "a1"),
])
def test_clean_stem_undoes_what_browsers_and_colab_do(name, stem):
    assert collect.clean_stem(name) == stem


@pytest.fixture
def course(tmp_path):
    shutil.copytree(ROOT / "assignments", tmp_path / "assignments")
    return tmp_path


def _write(path, nb):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_collect_from_an_lms_zip(course, tmp_path_factory):
    inbox = tmp_path_factory.mktemp("inbox")
    good = subs.correct()
    _write(inbox / "alice_a1.ipynb", good)
    _write(inbox / "bob_Copy of a1.ipynb", good)
    _write(inbox / "carol" / "a1 (1).ipynb", good)
    _write(inbox / "carol" / "a1 (2).ipynb", good)  # the later download wins
    _write(inbox / "dave" / "homework.ipynb", good)  # the only notebook: taken as a1
    _write(inbox / "erin" / "a1.ipynb", good)
    _write(inbox / "erin" / "scratch.ipynb", good)  # unmatched, reported
    _write(inbox / "__MACOSX" / "._alice_a1.ipynb", good)
    (inbox / "notes.txt").write_text("not a notebook")
    archive = tmp_path_factory.mktemp("lms") / "submissions.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in inbox.rglob("*"):
            if path.is_file():
                zf.write(path, path.relative_to(inbox))
        zf.writestr("../escape.ipynb", "{}")  # a path that tries to leave the folder
    report = collect.collect(course, "a1", archive)
    submitted = course / "grading" / "submitted"
    assert sorted(p.name for p in submitted.iterdir()) == ["alice", "bob", "carol", "dave",
                                                           "erin"]
    for student in ("alice", "bob", "carol", "dave", "erin"):
        assert (submitted / student / "a1" / "a1.ipynb").exists()
        assert (submitted / student / "a1" / "timestamp.txt").exists()
    notes = {(r.student, Path(r.source).name): r.note for r in report}
    assert "older duplicate" in notes[("carol", "a1 (1).ipynb")]
    for renamed in (("bob", "bob_Copy of a1.ipynb"), ("carol", "a1 (2).ipynb")):
        assert "renamed" in notes[renamed], (renamed, notes[renamed])
    assert "taken as a1.ipynb" in notes[("dave", "homework.ipynb")]
    assert "does not match" in notes[("erin", "scratch.ipynb")]
    assert not (course.parent / "escape.ipynb").exists()
    manifest = (course / "grading" / "collected" / "a1.csv").read_text()
    assert "bob_Copy of a1.ipynb" in manifest


def test_collect_explains_bad_sources(course, tmp_path):
    bad = tmp_path / "broken.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(process.GradingError, match="not a readable zip"):
        collect.collect(course, "a1", bad)
    with pytest.raises(process.GradingError, match="neither a folder nor a .zip"):
        collect.collect(course, "a1", tmp_path / "missing")
    with pytest.raises(process.GradingError, match="make release"):
        collect.collect(course, "a9", tmp_path)


def test_released_assignments_are_up_to_date():
    assert release.check_release(ROOT) == []


def test_release_check_catches_a_forgotten_regeneration(tmp_path):
    for name in ("solutions", "assignments"):
        shutil.copytree(ROOT / name, tmp_path / name)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    source = tmp_path / "solutions" / "a1" / "a1.ipynb"
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\n\nOne more instruction."
    nbformat.write(nb, source)
    # Regenerating a1 alone is enough to see it (every assignment is checked above).
    assert release.check_release(tmp_path, ["a1"]) == ["assignments/a1/a1.ipynb"]
    assert cli.main(["--root", str(tmp_path), "check-release", "a1"]) == 1


def _grade_cell(outputs, grade=True, count=7):
    cell = NotebookNode(cell_type="code", source="x", execution_count=count, outputs=outputs,
                        metadata=NotebookNode(nbgrader=NotebookNode(
                            grade=grade, grade_id="t", points=1, solution=False, locked=True)))
    return cell


def test_stderr_in_test_cells_becomes_ordinary_output():
    cell = _grade_cell([NotebookNode(output_type="stream", name="stderr", text="warning\n")])
    cell, _ = StderrIsNotFailure().preprocess_cell(cell, {}, 0)
    assert cell.outputs[0].name == "stdout" and "[stderr] warning" in cell.outputs[0].text
    other = _grade_cell([NotebookNode(output_type="stream", name="stderr", text="w")],
                        grade=False)
    other, _ = StderrIsNotFailure().preprocess_cell(other, {}, 0)
    assert other.outputs[0].name == "stderr"


def test_output_size_is_capped():
    big = _grade_cell([
        NotebookNode(output_type="stream", name="stdout", text="x" * 100_000),
        NotebookNode(output_type="display_data", metadata={},
                     data={"image/png": "A" * 3_000_000, "text/plain": "<Figure>"}),
    ])
    cell, _ = LimitOutputSize().preprocess_cell(big, {}, 0)
    assert len(cell.outputs[0].text) < 21_000 and "more characters cut" in cell.outputs[0].text
    assert "image/png" not in cell.outputs[1].data
    assert "removed by the grader" in cell.outputs[1].data["text/plain"]


def test_feedback_tracebacks_lose_the_test_cells_own_frames():
    frames = ["---", "CheckFailed   Traceback", "\x1b[36mCell\x1b[39m In[7], line 3\n hidden()",
              "Cell In[3], line 2, in my_function\n    return 0", "File /x/course_utils/grading.py:37",
              "CheckFailed: Checked: ..."]
    cell = _grade_cell([NotebookNode(output_type="error", ename="CheckFailed", evalue="m",
                                     traceback=frames)])
    cell, _ = HideTestCode().preprocess_cell(cell, {}, 0)
    kept = cell.outputs[0].traceback
    assert not any("In[7]" in f for f in kept) and not any("grading.py" in f for f in kept)
    assert any("my_function" in f for f in kept) and kept[-1].startswith("CheckFailed:")


def _in_sandbox(code, tmp_path):
    script = ("import sys; from course_utils.grader import kernel as g\n"
              f"g.landlock_restrict(g.readable_roots(), [{str(tmp_path)!r}])\n" + code)
    env = {**os.environ, "HOME": str(tmp_path), "KERAS_HOME": str(tmp_path), "TMPDIR": str(tmp_path),
           "MPLCONFIGDIR": str(tmp_path)}  # as the grader kernel sets them
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=60, env=env)


@pytest.mark.skipif(not grader_kernel.landlock_abi(), reason="this kernel has no Landlock")
def test_sandbox_reads_packages_but_not_the_course(tmp_path):
    result = _in_sandbox(
        "import json, keras\n"
        f"open({str(tmp_path / 'ok.txt')!r}, 'w').write('fine')\n"
        f"for path in [{str(ROOT / 'solutions' / 'a1' / 'a1.ipynb')!r}, {str(ROOT / 'README.md')!r}]:\n"
        "    try:\n        open(path).read(); print('OPENED', path)\n"
        "    except PermissionError:\n        print('DENIED', path)\n"
        "try:\n    open('/tmp/outside.txt', 'w')\nexcept PermissionError:\n    print('DENIED write')\n",
        tmp_path)
    assert result.returncode == 0, result.stderr
    assert "OPENED" not in result.stdout and result.stdout.count("DENIED") == 3
    assert (tmp_path / "ok.txt").read_text() == "fine"


def test_limits_turn_a_memory_blowup_into_an_error():
    code = ("from course_utils.grader.kernel import apply_limits\napply_limits()\n"
            "try:\n    bytearray(64 * 2**30)\nexcept MemoryError:\n    print('MemoryError')\n")
    env = {**os.environ, grader_kernel.MEMORY_ENV: "2048"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.stdout.strip() == "MemoryError", result.stderr


def test_the_grader_kernelspec_is_installed():
    directory = grader_kernel.install_kernelspec()
    spec = (directory / "kernel.json").read_text()
    assert "course_utils.grader.kernel" in spec and sys.executable in spec


def test_the_grader_kernel_preloads_keras_on_the_environments_backend():
    code = ("import sys\nfrom course_utils.grader import kernel\n"
            "print(kernel.preload(), sys.modules['keras'].backend.backend())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=ROOT,
                          env=dict(os.environ, KERAS_BACKEND="tensorflow"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines()[-1] == "['keras'] tensorflow", done.stdout


def test_a_module_that_cannot_be_preloaded_is_skipped_with_a_note(tmp_path, monkeypatch,
                                                                   capsys):
    (tmp_path / "broken_for_preload.py").write_text("raise ImportError('no backend here')")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(grader_kernel, "PRELOADED", ("broken_for_preload", "not_installed_x"))
    assert grader_kernel.preload() == []
    assert "could not preload broken_for_preload (ImportError: no backend here)" in \
        capsys.readouterr().err


def test_a_stuck_worker_is_replaced_and_the_rest_still_graded(tmp_path, monkeypatch):
    """A worker that hangs on one submission is killed after budget + margin; that
    submission is marked, and a fresh worker grades the others."""
    from course_utils.grader.status import read_status

    fake = tmp_path / "fake_worker.py"
    fake.write_text(
        "import sys, time\n"
        "from course_utils.grader.status import write_status\n"
        "root, students = sys.argv[1], sys.argv[2:]\n"
        "for s in students:\n"
        "    write_status(root, 'a1', s, 'grading', started=time.time())\n"
        "    if s == 'hangs':\n"
        "        time.sleep(600)\n"
        "    write_status(root, 'a1', s, 'graded', 'fake', seconds=0)\n")

    def start(root, assignment, worker, cell_timeout, budget, log):
        worker.process = subprocess.Popen([sys.executable, str(fake), str(root),
                                           *worker.students], stdout=log, stderr=log,
                                          start_new_session=True)

    monkeypatch.setattr(autograde, "_start_worker", start)
    workers = [autograde._Worker(["first", "hangs", "last"], tmp_path / "db")]
    autograde._run_workers(tmp_path, "a1", workers, cell_timeout=1, budget=1, margin=2)
    assert read_status(tmp_path, "a1", "first")["status"] == "graded"
    stuck = read_status(tmp_path, "a1", "hangs")
    assert stuck["status"] == "could not be graded" and "longer than 3 s" in stuck["reason"]
    assert read_status(tmp_path, "a1", "last")["status"] == "graded"


def test_a_worker_that_cannot_start_marks_its_students(tmp_path, monkeypatch):
    from course_utils.grader.status import read_status

    def start(root, assignment, worker, cell_timeout, budget, log):
        worker.process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    monkeypatch.setattr(autograde, "_start_worker", start)
    workers = [autograde._Worker(["x", "y"], tmp_path / "db")]
    autograde._run_workers(tmp_path, "a1", workers, cell_timeout=1, budget=1, margin=2)
    for student in ("x", "y"):
        status = read_status(tmp_path, "a1", student)
        assert status["status"] == "could not be graded" and "exit code 3" in status["reason"]


def test_leftovers_of_ended_grader_kernels_are_swept(tmp_path):
    import time

    def workdir(name, pid=None, files=(), age=3600):
        path = tmp_path / f"{grader_kernel.WORKDIR_PREFIX}{name}"
        path.mkdir()
        if pid is not None:
            (path / grader_kernel.PID_FILE).write_text(str(pid))
        for file in files:
            (path / file).write_text("x")
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))
        return path

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    gone = [workdir("empty"), workdir("killed", dead.pid, ["connection.json"]),
            workdir("killed_at_once", dead.pid, ["connection.json"], age=0)]
    kept = [workdir("running", os.getpid(), ["connection.json"]),
            workdir("just_made", age=0),  # empty for an instant before its pid file
            workdir("no_pid_file", files=["connection.json"])]
    other = tmp_path / "someone-else"
    other.mkdir()
    assert grader_kernel.sweep_workdirs(str(tmp_path)) == len(gone)
    assert not any(path.exists() for path in gone)
    assert all(path.exists() for path in kept) and other.exists()


def test_grader_kernels_are_killed_once_graded():
    """Nothing in a kernel is needed after its notebook and re-check have run: a graceful
    shutdown only waits for TensorFlow to tear down (seconds a submission). The driver then
    sweeps what the killed kernel left (the test above)."""
    from course_utils.grader.preprocessors import GraderExecute

    assert GraderExecute().shutdown_kernel == "immediate"
    assert GraderExecute(shutdown_kernel="graceful").shutdown_kernel == "graceful"


def test_a_workers_command_line_names_no_student(tmp_path, monkeypatch):
    """Grader kernels can read ``/proc``, and those forked from a worker share its command
    line: the worker is told whom it grades in a file, read after its fork server forked."""
    started = []

    class Recorder:
        def __init__(self, command, **kwargs):
            started.append(command)

    monkeypatch.setattr(autograde.subprocess, "Popen", Recorder)
    worker = autograde._Worker(["alice-1234", "bob-5678"], tmp_path / "0.db")
    autograde._start_worker(tmp_path, "a1", worker, cell_timeout=1, budget=1, log=None)
    (command,) = started
    assert not any("alice" in part or "bob" in part for part in command), command
    listed = Path(command[command.index("--students") + 1])
    assert json.loads(listed.read_text()) == ["alice-1234", "bob-5678"]


def test_a_status_being_written_is_never_read_half_written(tmp_path):
    """The parent polls the status files while a worker writes them (CI once read an empty
    one and crashed): a reader sees the old status or the new one, never a torn file."""
    import threading

    from course_utils.grader.status import read_status, status_dir, write_status

    write_status(tmp_path, "a1", "s", "grading", "x" * 50_000, started=0)
    stop, torn = threading.Event(), []

    def reader():
        while not stop.is_set():
            try:
                read_status(tmp_path, "a1", "s")
            except ValueError as error:  # json.JSONDecodeError
                torn.append(error)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for k in range(300):
            write_status(tmp_path, "a1", "s", "graded", "y" * (50_000 + k), seconds=k)
    finally:
        stop.set()
        thread.join()
    assert not torn, f"a reader saw a half-written status file {len(torn)} times: {torn[0]}"
    assert read_status(tmp_path, "a1", "s")["seconds"] == 299
    leftovers = [p.name for p in status_dir(tmp_path, "a1").iterdir() if p.name != "s.json"]
    assert not leftovers, f"temporary status files were left behind: {leftovers}"
