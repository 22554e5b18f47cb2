"""Autograde: every collected submission of an assignment, each in a worker process.

Workers use nbgrader's API in-process (the grading side imports TensorFlow once), several
side by side with their own copy of the gradebook (merged back afterwards). A watchdog
replaces a worker stuck on one submission. How grading went for each submission is
recorded with :mod:`course_utils.grader.status`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from course_utils.grader import forkserver
from course_utils.grader.kernel import install_kernelspec, landlock_abi, sweep_workdirs
from course_utils.grader.paths import (
    GRADING,
    autograded_dir,
    db_url,
    gradebook_path,
    grading_dir,
    logs_dir,
    shard_gradebook_path,
    submitted_dir,
)
from course_utils.grader.process import GradingError, child_env, kill_group, nbgrader_api
from course_utils.grader.release import release_notebooks
from course_utils.grader.status import read_status, status_path, write_status

DEFAULT_CELL_TIMEOUT = 60
DEFAULT_BUDGET = 600


def submitted_students(root: Path, assignment: str) -> list[str]:
    base = submitted_dir(root)
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
    if os.geteuid() != 0 or landlock_abi():  # Landlock confines the kernel already
        yield
        return
    paths = [root / "solutions", grading_dir(root), root / ".git"]
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

    with Gradebook(db_url(db)) as gb:
        gb.update_or_create_student(student)


def _grades_complete(db: Path, assignment: str, student: str) -> str | None:
    """None if the gradebook holds a score for every test cell, else what is missing."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(db_url(db)) as gb:
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


def grade_students(root: Path, assignment: str, students: list[str] | Path, db: Path,
                   cell_timeout: int, budget: int) -> None:
    """Grade ``students`` one after the other in this process, with nbgrader's API (so the
    grading side imports TensorFlow once), writing each one's status as it goes.

    ``students`` may be a JSON file that lists them (how a worker is told): it is read after
    the fork server is forked from this process, so no kernel's memory holds the list, and
    no process's command line shows it to the kernels that can read ``/proc``."""
    # Keras imported once, here, for the re-checks and for all this worker's kernels
    with forkserver.running(fork=True) as server:
        how = "forked from this worker" if server.forked else "started on its own"
        print(f"grading worker: the fork server was {how}", file=sys.stderr, flush=True)
        if isinstance(students, Path):
            students = json.loads(students.read_text())
        settings = {"CourseDirectory.db_url": db_url(db), "Execute.timeout": cell_timeout,
                    "GraderExecute.budget": budget}
        with nbgrader_api(root, **settings) as api:
            expected = release_notebooks(root, assignment)
            for student in students:
                _grade_one(api, root, assignment, student, db, expected)


def _grade_one(api, root, assignment, student, db, expected):
    start = time.monotonic()
    write_status(root, assignment, student, "grading", started=time.time())
    result = api.autograde(assignment, student, force=True, create=True)
    log = logs_dir(root, assignment) / f"{student}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(result.get("log", "") + result.get("error", ""))
    missing = _grades_complete(db, assignment, student)
    if not result["success"] or missing:
        status = "could not be graded"
        reason = _last_line(result.get("error", "")) or missing or "nbgrader failed"
    else:
        status = "graded"
        autograded = autograded_dir(root, student, assignment)
        reason = "; ".join(filter(None, (
            _notes_from_notebook(autograded / f"{n}.ipynb") for n in expected)))
    write_status(root, assignment, student, status, reason,
                 seconds=round(time.monotonic() - start, 1))
    sweep_workdirs()  # the kernel is killed when done (GraderExecute): its folder goes now


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
    students = worker.db.with_suffix(".students.json")
    students.write_text(json.dumps(worker.students))
    command = [sys.executable, "-m", "course_utils.grader", "--root", str(root), "_worker",
               assignment, "--students", str(students), "--db", str(worker.db),
               "--cell-timeout", str(cell_timeout), "--budget", str(budget)]
    worker.process = subprocess.Popen(command, cwd=root, env=child_env(), stdout=log,
                                      stderr=subprocess.STDOUT, start_new_session=True)


STUCK_MARGIN = 180  # seconds past a notebook's budget before its worker counts as stuck


def _run_workers(root, assignment, workers, cell_timeout, budget, margin=STUCK_MARGIN):
    """Run the workers side by side; a worker stuck on one submission (past the budget and
    a margin) is stopped, that submission marked, and a new worker takes the rest."""
    logs = logs_dir(root, assignment)
    logs.mkdir(parents=True, exist_ok=True)
    limit = budget + margin
    with contextlib.ExitStack() as stack:
        for k, worker in enumerate(workers):
            worker.log = stack.enter_context(open(logs / f"_worker{k}.log", "a"))
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
                    kill_group(worker.process)
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
    with Gradebook(db_url(source)) as src, Gradebook(db_url(target)) as dst:
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
    install_kernelspec()
    expected = release_notebooks(root, assignment)
    students = students or submitted_students(root, assignment)
    if not students:
        raise GradingError(
            f"No submissions of {assignment} in {GRADING}/submitted/. Run `collect` first.")
    main_db = gradebook_path(root)
    gradable = []
    for student in students:
        status_path(root, assignment, student).unlink(missing_ok=True)
        problem = _check_notebooks(submitted_dir(root, student, assignment), expected)
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
            db = shard_gradebook_path(root, k)
            db.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(main_db, db)
        workers.append(_Worker(shard, db))
    with protected(root):
        _run_workers(root, assignment, workers, cell_timeout, budget)
    sweep_workdirs()  # what killed or sandboxed kernels could not remove themselves
    for worker in workers:
        worker.db.with_suffix(".students.json").unlink(missing_ok=True)
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

