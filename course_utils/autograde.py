"""The instructor's grading pipeline, one command per step (all headless):

    python -m course_utils.autograde release [A ...]      solutions/A -> assignments/A
    python -m course_utils.autograde check-release        exit 1 if assignments/ is stale
    python -m course_utils.autograde collect A SOURCE     a folder or an LMS .zip of notebooks
    python -m course_utils.autograde autograde A          every collected submission of A
    python -m course_utils.autograde feedback A           HTML feedback, hidden tests removed
    python -m course_utils.autograde export               grading/grades.csv with a status column

Each submission is graded in its own ``nbgrader autograde`` process with a wall-clock
limit, in the course's grader kernel (``course_utils.grader_kernel``), so one broken or
hostile notebook cannot stop the batch or damage the gradebook. How grading went for
each submission is recorded under ``grading/status`` and exported with the grades.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import datetime as dt
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KERNEL_NAME = "course-grader"
GRADING = "grading"
DEFAULT_CELL_TIMEOUT = 60
DEFAULT_BUDGET = 600


class GradingError(RuntimeError):
    """A pipeline step that cannot go on; the message says what to do."""


# ----------------------------------------------------------------------------- nbgrader


def _env() -> dict:
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
            process = subprocess.Popen(command, cwd=root, env=_env(), stdout=handle,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        else:
            process = subprocess.Popen(command, cwd=root, env=_env(), stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True,
                                       start_new_session=True)
        try:
            out, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process)
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


def _kill_group(process):
    """Stop nbgrader and everything it started, the grader kernel included."""
    import signal

    for pid in [process.pid, *_descendants(process.pid)]:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    process.wait()


def install_kernelspec() -> Path:
    """Install the grader kernel (``course_utils.grader_kernel``) into this environment."""
    directory = Path(sys.prefix) / "share" / "jupyter" / "kernels" / KERNEL_NAME
    directory.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [sys.executable, "-m", "course_utils.grader_kernel", "-f",
                 "{connection_file}"],
        "display_name": "Python 3 (course grader)",
        "language": "python",
        "metadata": {"debugger": False},
    }
    path = directory / "kernel.json"
    text = json.dumps(spec, indent=1)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return directory


def assignments(root: Path = ROOT) -> list[str]:
    return sorted(p.name for p in (root / "solutions").iterdir()
                  if p.is_dir() and list(p.glob("*.ipynb")))


def release_notebooks(root: Path, assignment: str) -> list[str]:
    """Names (without .ipynb) of the notebooks students hand in for ``assignment``."""
    names = sorted(p.stem for p in (root / "assignments" / assignment).glob("*.ipynb"))
    if not names:
        raise GradingError(
            f"No released notebooks in assignments/{assignment}/. Run `make release` first.")
    return names


# ----------------------------------------------------------------------------- release


def release(root: Path = ROOT, names: list[str] | None = None) -> list[Path]:
    """Generate the student version of each assignment from solutions/ into assignments/."""
    (root / GRADING).mkdir(exist_ok=True)
    written = []
    for name in names or assignments(root):
        result = nbgrader(root, "generate_assignment", name, "--force")
        if result.returncode != 0:
            raise GradingError(f"nbgrader could not release {name}:\n{_tail(result.stdout)}")
        written += sorted((root / "assignments" / name).glob("*.ipynb"))
    return written


def check_release(root: Path = ROOT) -> list[str]:
    """Regenerate every assignment in a scratch copy and list the released files that
    differ from (or are missing in) assignments/. Empty means up to date."""
    stale = []
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        shutil.copytree(root / "solutions", scratch / "solutions")
        shutil.copy(root / "nbgrader_config.py", scratch / "nbgrader_config.py")
        release(scratch)
        for fresh in sorted((scratch / "assignments").rglob("*.ipynb")):
            relative = fresh.relative_to(scratch)
            current = root / relative
            if not current.exists():
                stale.append(f"{relative} (missing)")
            elif json.loads(current.read_text()) != json.loads(fresh.read_text()):
                stale.append(str(relative))
        for current in sorted((root / "assignments").rglob("*.ipynb")):
            if not (scratch / current.relative_to(root)).exists():
                stale.append(f"{current.relative_to(root)} (no source in solutions/)")
    return stale


# ----------------------------------------------------------------------------- collect

# What browsers, Colab and LMSs do to a file name: "Copy of a1.ipynb", "a1 (1).ipynb",
# "a1(2).ipynb", "a1 - Copy.ipynb", "a1-1.ipynb", "A1.IPYNB".
_DECORATIONS = [
    re.compile(r"^copy of\s+", re.I),
    re.compile(r"\s*-\s*copy(\s*\(\d+\))?$", re.I),
    re.compile(r"\s*\(\d+\)$"),
    re.compile(r"[-_ ]\d+$"),
]
DEFAULT_STUDENT_PATTERN = r"^(?P<student_id>[^_\s]+)_"


def clean_stem(stem: str) -> str:
    """``"Copy of a1 (2)"`` -> ``"a1"``."""
    stem = stem.strip()
    changed = True
    while changed:
        changed = False
        for pattern in _DECORATIONS:
            new = pattern.sub("", stem).strip()
            if new != stem and new:
                stem, changed = new, True
    return stem.lower()


def _safe_student(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]", "_", student).strip("._") or "unknown"


@dataclass
class Collected:
    source: str
    student: str
    notebook: str | None
    note: str


def _candidates(source: Path, scratch: Path) -> tuple[Path, list[Path]]:
    if source.is_file() and source.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(source) as archive:
                for member in archive.infolist():
                    target = (scratch / member.filename).resolve()
                    if not str(target).startswith(str(scratch.resolve())):
                        continue  # no writing outside the scratch folder
                    if member.is_dir():
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with archive.open(member) as src, open(target, "wb") as dst:
                        shutil.copyfileobj(src, dst)
        except zipfile.BadZipFile as exc:
            raise GradingError(f"{source} is not a readable zip file ({exc}).") from None
        base = scratch
    elif source.is_dir():
        base = source
    else:
        raise GradingError(f"{source} is neither a folder nor a .zip file of notebooks.")
    files = [p for p in sorted(base.rglob("*")) if p.is_file()
             and p.suffix.lower() == ".ipynb"
             and not any(part.startswith((".", "__MACOSX")) for part in p.relative_to(base).parts)]
    return base, files


def collect(root: Path, assignment: str, source: Path,
            student_pattern: str = DEFAULT_STUDENT_PATTERN) -> list[Collected]:
    """Copy submissions from a folder or an LMS zip into nbgrader's submitted folder.

    A student is the first folder under SOURCE (``alice/whatever.ipynb``) or, for files
    lying flat, what ``student_pattern`` finds in the file name (``alice_a1.ipynb``). Names
    changed by Colab or a browser still match the released notebook. Nothing is deleted:
    files that cannot be matched are listed and left where they are.
    """
    expected = release_notebooks(root, assignment)
    pattern = re.compile(student_pattern)
    report: list[Collected] = []
    chosen: dict[tuple[str, str], tuple[float, Path, str]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        base, files = _candidates(Path(source), Path(scratch))
        per_student: dict[str, list[Path]] = {}
        for path in files:
            parts = path.relative_to(base).parts
            stem = path.stem
            if len(parts) >= 2:
                student = parts[0]
            else:
                match = pattern.search(path.name)
                if not match:
                    report.append(Collected(str(path.relative_to(base)), "", None,
                                            "no student id in the file name; put it in a "
                                            "folder named after the student"))
                    continue
                student = match.group("student_id")
                stem = path.stem[match.end():] if match.end() < len(path.stem) else stem
            per_student.setdefault(_safe_student(student), []).append((path, stem))
        for student, entries in per_student.items():
            for path, stem in entries:
                wanted = clean_stem(stem)
                notebook = next((n for n in expected if n.lower() == wanted), None)
                note = "" if stem == notebook else f"renamed: {path.name} -> {notebook}.ipynb"
                if notebook is None and len(expected) == 1 and len(entries) == 1:
                    notebook = expected[0]
                    note = f"the only notebook handed in, taken as {notebook}.ipynb"
                if notebook is None:
                    report.append(Collected(str(path.relative_to(base)), student, None,
                                            f"does not match any of {', '.join(expected)}"))
                    continue
                key = (student, notebook)
                mtime = path.stat().st_mtime
                copy_rank = _copy_number(path.stem)
                if key in chosen and (chosen[key][0], _copy_number(chosen[key][1].stem)) >= (
                        mtime, copy_rank):
                    report.append(Collected(str(path.relative_to(base)), student, notebook,
                                            "older duplicate, skipped"))
                    continue
                if key in chosen:
                    old = chosen[key][1]
                    report.append(Collected(str(old.relative_to(base)), student, notebook,
                                            "older duplicate, skipped"))
                chosen[key] = (mtime, path, note)
        for (student, notebook), (mtime, path, note) in sorted(chosen.items()):
            folder = root / GRADING / "submitted" / student / assignment
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, folder / f"{notebook}.ipynb")
            stamp = dt.datetime.fromtimestamp(mtime, dt.UTC)
            (folder / "timestamp.txt").write_text(stamp.strftime("%Y-%m-%d %H:%M:%S.%f %Z"))
            report.append(Collected(str(path.relative_to(base)), student, notebook,
                                    note or "collected"))
    _write_manifest(root, assignment, report)
    return report


def _copy_number(stem: str) -> int:
    match = re.search(r"\((\d+)\)\s*$", stem)
    return int(match.group(1)) if match else 0


def _write_manifest(root: Path, assignment: str, report: list[Collected]) -> None:
    path = root / GRADING / "collected" / f"{assignment}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "student_id", "notebook", "note"])
        for row in report:
            writer.writerow([row.source, row.student, row.notebook or "", row.note])


# ----------------------------------------------------------------------------- autograde


def submitted_students(root: Path, assignment: str) -> list[str]:
    base = root / GRADING / "submitted"
    if not base.exists():
        return []
    return sorted(p.name for p in base.iterdir() if (p / assignment).is_dir())


def _check_notebooks(folder: Path, expected: list[str]) -> str | None:
    """Why the submitted notebooks cannot be graded, or None if they can."""
    import nbformat

    for name in expected:
        path = folder / f"{name}.ipynb"
        if not path.exists():
            continue  # nbgrader scores a missing notebook 0
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as exc:  # JSON errors, wrong structure, binary junk
            text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            return f"{name}.ipynb is not a valid notebook ({text})"
    return None


@contextlib.contextmanager
def protected(root: Path):
    """Without Landlock, a root grader runs kernels as ``nobody``: then make solutions/,
    grading/ and .git/ readable by root only while grading, so that code cannot read the
    hidden tests or other submissions."""
    from course_utils.grader_kernel import landlock_abi

    if os.geteuid() != 0 or landlock_abi():  # Landlock confines the kernel already
        yield
        return
    paths = [root / "solutions", root / GRADING, root / ".git"]
    saved = {p: stat.S_IMODE(p.stat().st_mode) for p in paths if p.exists()}
    try:
        for path in saved:
            path.chmod(0o700)
        yield
    finally:
        for path, mode in saved.items():
            with contextlib.suppress(OSError):
                path.chmod(mode)


def _register_student(db: Path, student: str) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(_db_url(db)) as gb:
        gb.update_or_create_student(student)


def _grades_complete(db: Path, assignment: str, student: str) -> str | None:
    """None if the gradebook holds a score for every test cell, else what is missing."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(_db_url(db)) as gb:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            return "no submission in the gradebook"
        missing = [g.name for nb in submission.notebooks for g in nb.grades
                   if g.auto_score is None and g.manual_score is None
                   and g.cell_type == "code" and not g.needs_manual_grade]
        return f"no score for {', '.join(missing)}" if missing else None


def _notes_from_notebook(path: Path) -> str:
    """Why cells were not graded normally: the grader's own notes first (time budget,
    dead kernel), then cells stopped at their time limit."""
    if not path.exists():
        return ""
    errors = [output for cell in json.loads(path.read_text()).get("cells", [])
              for output in cell.get("outputs", []) if output.get("output_type") == "error"]
    for output in errors:
        if output.get("ename") in ("NotRun", "DeadKernel"):
            return output.get("evalue", "")
    rechecked = [cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                 for cell in json.loads(path.read_text()).get("cells", [])
                 if any(o.get("ename") == "RecheckFailed" for o in cell.get("outputs", []))]
    if rechecked:
        return (f"passed inside the notebook but failed the re-check outside it: "
                f"{', '.join(rechecked)}")
    if any(output.get("ename") == "CellTimeoutError" for output in errors):
        return "a cell ran out of time and was stopped"
    return ""


def _db_url(path: Path) -> str:
    return "sqlite:///" + str(path)


def grade_students(root: Path, assignment: str, students: list[str], db: Path,
                   cell_timeout: int, budget: int) -> None:
    """Grade ``students`` one after the other in this process, with nbgrader's API (so the
    grading side imports TensorFlow once), writing each one's status as it goes."""
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    from course_utils.nbgrader_plugins import write_status

    os.environ["PATH"] = _env()["PATH"]  # nbgrader runs `alembic` from PATH
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = _db_url(db)
    config.Execute.timeout = cell_timeout
    config.GraderExecute.budget = budget
    api = NbGraderAPI(config=config)
    expected = release_notebooks(root, assignment)
    for student in students:
        start = time.monotonic()
        write_status(root, assignment, student, "grading", started=time.time())
        result = api.autograde(assignment, student, force=True, create=True)
        log = root / GRADING / "logs" / assignment / f"{student}.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(result.get("log", "") + result.get("error", ""))
        missing = _grades_complete(db, assignment, student)
        if not result["success"] or missing:
            status = "could not be graded"
            reason = _last_line(result.get("error", "")) or missing or "nbgrader failed"
        else:
            status = "graded"
            autograded = root / GRADING / "autograded" / student / assignment
            reason = "; ".join(filter(None, (
                _notes_from_notebook(autograded / f"{n}.ipynb") for n in expected)))
        write_status(root, assignment, student, status, reason,
                     seconds=round(time.monotonic() - start, 1))


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


@dataclass
class _Worker:
    students: list[str]
    db: Path
    process: subprocess.Popen | None = None
    log: object = None


def _start_worker(root, assignment, worker, cell_timeout, budget, log):
    command = [sys.executable, "-m", "course_utils.autograde", "--root", str(root), "_worker",
               assignment, "--db", str(worker.db), "--cell-timeout", str(cell_timeout),
               "--budget", str(budget), *worker.students]
    worker.process = subprocess.Popen(command, cwd=root, env=_env(), stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)


STUCK_MARGIN = 180  # seconds past a notebook's budget before its worker counts as stuck


def _run_workers(root, assignment, workers, cell_timeout, budget, margin=STUCK_MARGIN):
    """Run the workers side by side; a worker stuck on one submission (past the budget and
    a margin) is stopped, that submission marked, and a new worker takes the rest."""
    from course_utils.nbgrader_plugins import read_status, write_status

    logs_dir = root / GRADING / "logs" / assignment
    logs_dir.mkdir(parents=True, exist_ok=True)
    limit = budget + margin
    with contextlib.ExitStack() as stack:
        for k, worker in enumerate(workers):
            worker.log = stack.enter_context(open(logs_dir / f"_worker{k}.log", "a"))
            _start_worker(root, assignment, worker, cell_timeout, budget, worker.log)
        while any(w.process is not None for w in workers):
            time.sleep(0.5)
            for worker in workers:
                if worker.process is None:
                    continue
                statuses = {s: read_status(root, assignment, s) for s in worker.students}
                current = next((s for s, st in statuses.items()
                                if st and st["status"] == "grading"), None)
                finished = worker.process.poll() is not None
                stuck = current is not None and time.time() - statuses[current]["started"] > limit
                if not finished and not stuck:
                    continue
                if stuck:
                    _kill_group(worker.process)
                if current is not None:
                    why = (f"grading took longer than {limit} s and was stopped" if stuck else
                           f"the grading process stopped (exit code {worker.process.returncode})")
                    write_status(root, assignment, current, "could not be graded", why)
                rest = [s for s, st in statuses.items()
                        if s != current and (st is None or st["status"] == "grading")]
                code, worker.process = worker.process.returncode, None
                if rest and current is None:  # the worker died before it began anyone
                    for student in rest:
                        write_status(root, assignment, student, "could not be graded",
                                     f"the grading process failed (exit code {code}); see "
                                     f"{GRADING}/logs/{assignment}/")
                elif rest:
                    worker.students = rest
                    _start_worker(root, assignment, worker, cell_timeout, budget, worker.log)


def merge_gradebook(source: Path, target: Path, assignment: str, students: list[str]) -> None:
    """Copy the submissions of ``students`` (scores, comments, penalties) from a shard's
    gradebook into the course's."""
    import warnings

    from nbgrader.api import Gradebook, MissingEntry

    warnings.filterwarnings("ignore", message="Object of type <Submitted")  # nbgrader's own
    with Gradebook(_db_url(source)) as src, Gradebook(_db_url(target)) as dst:
        for student in students:
            try:
                submission = src.find_submission(assignment, student)
            except MissingEntry:
                continue
            dst.update_or_create_student(student)
            dst.update_or_create_submission(assignment, student, timestamp=submission.timestamp)
            for notebook in submission.notebooks:
                target_nb = dst.find_submission_notebook(notebook.name, assignment, student)
                target_nb.late_submission_penalty = notebook.late_submission_penalty
                target_nb.flagged = notebook.flagged
                for grade in notebook.grades:
                    mine = dst.find_grade(grade.name, notebook.name, assignment, student)
                    for field in ("auto_score", "manual_score", "extra_credit",
                                  "needs_manual_grade"):
                        setattr(mine, field, getattr(grade, field))
                for comment in notebook.comments:
                    mine = dst.find_comment(comment.name, notebook.name, assignment, student)
                    mine.auto_comment, mine.manual_comment = (comment.auto_comment,
                                                              comment.manual_comment)
            dst.db.commit()


def autograde(root: Path, assignment: str, students: list[str] | None = None,
              cell_timeout: int = DEFAULT_CELL_TIMEOUT, budget: int = DEFAULT_BUDGET,
              jobs: int = 1, verbose: bool = True) -> dict[str, dict]:
    """Grade every collected submission (or ``students``) of ``assignment``.

    ``jobs`` workers grade side by side, each with its own copy of the gradebook (merged
    back afterwards), so a class is graded across the machine's cores. Returns
    ``{student: status}``; each status is also written under ``grading/status``.
    """
    from course_utils.nbgrader_plugins import read_status, status_path, write_status

    install_kernelspec()
    expected = release_notebooks(root, assignment)
    students = students or submitted_students(root, assignment)
    if not students:
        raise GradingError(
            f"No submissions of {assignment} in {GRADING}/submitted/. Run `collect` first.")
    main_db = root / GRADING / "gradebook.db"
    gradable = []
    for student in students:
        status_path(root, assignment, student).unlink(missing_ok=True)
        problem = _check_notebooks(root / GRADING / "submitted" / student / assignment, expected)
        if problem:
            _register_student(main_db, student)  # so that the export lists them
            write_status(root, assignment, student, "could not be graded", problem, seconds=0)
        else:
            gradable.append(student)
    jobs = max(1, min(jobs, len(gradable)))
    shards = [gradable[k::jobs] for k in range(jobs)] if gradable else []
    workers = []
    for k, shard in enumerate(shards):
        db = main_db
        if jobs > 1:
            db = root / GRADING / "shards" / f"{k}.db"
            db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(main_db, db)
        workers.append(_Worker(shard, db))
    with protected(root):
        _run_workers(root, assignment, workers, cell_timeout, budget)
    from course_utils.grader_kernel import sweep_workdirs

    sweep_workdirs()  # what killed or sandboxed kernels could not remove themselves
    for worker in workers:
        if worker.db != main_db:
            merge_gradebook(worker.db, main_db, assignment, shards[workers.index(worker)])
            worker.db.unlink(missing_ok=True)
    results = {}
    for student in students:
        status = read_status(root, assignment, student) or {
            "status": "could not be graded", "reason": "no result was recorded"}
        results[student] = status
        if verbose:
            print(f"{student:<20} {status['status']:<20} {status.get('seconds', 0):6.1f} s  "
                  f"{status.get('reason', '')}")
    return results


def _tail(text: str, errors_only: bool = False, lines: int = 6) -> str:
    rows = [r for r in (text or "").splitlines() if r.strip()]
    if errors_only:
        rows = [r for r in rows if "ERROR" in r or "Error" in r]
    return "\n".join(rows[-lines:])


# ----------------------------------------------------------------------------- feedback


def feedback(root: Path, assignment: str) -> list[Path]:
    """HTML feedback for every graded submission, with the hidden tests removed."""
    result = nbgrader(root, "generate_feedback", assignment, "--force")
    if result.returncode != 0:
        raise GradingError(f"nbgrader could not generate feedback:\n{_tail(result.stdout)}")
    return sorted((root / GRADING / "feedback").glob(f"*/{assignment}/*.html"))


def export(root: Path) -> Path:
    """Grades of every student and assignment, with their status, to grading/grades.csv."""
    dest = root / GRADING / "grades.csv"
    result = nbgrader(root, "export", f"--to={dest}")
    if result.returncode != 0:
        raise GradingError(f"nbgrader could not export grades:\n{_tail(result.stdout)}")
    return dest


# ----------------------------------------------------------------------------- CLI


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the course directory")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("release", help="solutions/A -> assignments/A")
    p.add_argument("assignments", nargs="*")
    sub.add_parser("check-release", help="exit 1 if assignments/ is out of date")
    sub.add_parser("install-kernel", help="install the grader kernel into this environment")
    p = sub.add_parser("collect", help="import submissions from a folder or an LMS zip")
    p.add_argument("assignment")
    p.add_argument("source", type=Path)
    p.add_argument("--student-pattern", default=DEFAULT_STUDENT_PATTERN,
                   help="regular expression with (?P<student_id>...) for flat file names")
    p = sub.add_parser("autograde", help="grade every collected submission")
    p.add_argument("assignment")
    p.add_argument("--student", action="append", help="only these students")
    p.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET,
                   help="seconds for a whole notebook")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                   help="submissions graded side by side (default: one per core)")
    p = sub.add_parser("_worker", help=argparse.SUPPRESS)
    p.add_argument("assignment")
    p.add_argument("students", nargs="+")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--cell-timeout", type=int, default=DEFAULT_CELL_TIMEOUT)
    p.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    p = sub.add_parser("feedback", help="HTML feedback for graded submissions")
    p.add_argument("assignment")
    sub.add_parser("export", help="grades with status to grading/grades.csv")
    args = parser.parse_args(argv)
    root = args.root.resolve()
    try:
        if args.command == "release":
            for path in release(root, args.assignments or None):
                print(f"released {path.relative_to(root)}")
        elif args.command == "check-release":
            stale = check_release(root)
            for name in stale:
                print(f"out of date: {name}")
            if stale:
                print("Run `make release` and commit assignments/.")
                return 1
            print("assignments/ is up to date with solutions/.")
        elif args.command == "install-kernel":
            print(f"installed {install_kernelspec()}")
        elif args.command == "collect":
            for row in collect(root, args.assignment, args.source, args.student_pattern):
                print(f"{row.student or '?':<20} {row.notebook or '-':<10} {row.source}  "
                      f"[{row.note}]")
        elif args.command == "autograde":
            autograde(root, args.assignment, args.student, args.cell_timeout, args.budget,
                      args.jobs)
        elif args.command == "_worker":
            grade_students(root, args.assignment, args.students, args.db, args.cell_timeout,
                           args.budget)
        elif args.command == "feedback":
            for path in feedback(root, args.assignment):
                print(f"feedback {path.relative_to(root)}")
        elif args.command == "export":
            print(f"exported {export(root).relative_to(root)}")
    except GradingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
