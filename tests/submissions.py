"""Make submissions of an assignment for the grading tests: a student's notebook is the
released notebook with solution cells filled in, then changed in the way each test needs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def released(assignment="a1", name="a1"):
    return nbformat.read(ROOT / "assignments" / assignment / f"{name}.ipynb", as_version=4)


def solution_sources(assignment="a1", name="a1") -> dict[str, str]:
    """grade_id -> the instructor's solution code, markers removed."""
    source = nbformat.read(ROOT / "solutions" / assignment / f"{name}.ipynb", as_version=4)
    out = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines()
                     if not re.match(r"\s*### (BEGIN|END) SOLUTION", line)]
            out[meta["grade_id"]] = "\n".join(lines)
    return out


def correct(assignment="a1", name="a1"):
    """The released notebook with every solution cell answered correctly."""
    nb = released(assignment, name)
    answers = solution_sources(assignment, name)
    for cell in nb.cells:
        if _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    return nb


def replace_in_solution(nb, grade_id, old, new):
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if _grade_id(c) == grade_id)
    assert old in cell.source, f"{old!r} not in {grade_id}"
    cell.source = cell.source.replace(old, new)
    return nb


def set_solution(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    next(c for c in nb.cells if _grade_id(c) == grade_id).source = source
    return nb


def insert_cell_after(nb, grade_id, source):
    nb = copy.deepcopy(nb)
    index = next(i for i, c in enumerate(nb.cells) if _grade_id(c) == grade_id)
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.insert(index + 1, cell)
    return nb


def test_cell_ids(nb):
    return [_grade_id(c) for c in nb.cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def grade_through_pipeline(root: Path, assignment: str, cases: dict, cell_timeout: int,
                           budget: int, jobs: int = 2) -> dict:
    """Release ``assignment`` into a copy of the course at ``root``, collect ``cases``
    (``{student: notebook}``, or ``{path in the inbox: notebook or text}`` for files named
    as Colab, browsers and LMSs name them), autograde, write feedback and export: what an
    instructor does. Returns ``{"root", "rows" (the export's rows by student), "results",
    "report" (collect's), "seconds" (autograde's)}``.

    Tests should not call this themselves: they register their cases with
    :func:`register_cases` and read the shared batch from the ``graded_<assignment>``
    fixture (tests/conftest.py), so that each assignment is released and graded once."""
    import csv
    import shutil
    import time

    from course_utils.grader import autograde, collect, export, release

    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    release.release(root, [assignment])
    inbox = root / "inbox"
    for key, content in cases.items():
        path = inbox / _inbox_path(assignment, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content)
        else:
            nbformat.write(content, path)
    report = collect.collect(root, assignment, inbox)
    start = time.monotonic()
    results = autograde.autograde(root, assignment, cell_timeout=cell_timeout, budget=budget,
                                  jobs=jobs)
    seconds = time.monotonic() - start
    export.feedback(root, assignment)
    with open(export.export(root)) as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)
                if r["assignment"] == assignment}
    return {"root": root, "rows": rows, "results": results, "report": report,
            "seconds": seconds}


def _inbox_path(assignment: str, key: str) -> str:
    """A student's name means ``<student>/<assignment>.ipynb``; a key with a ``/`` or
    ending in ``.ipynb`` is the file's own path in the inbox."""
    if "/" in key or key.endswith(".ipynb"):
        return key
    return f"{key}/{assignment}.ipynb"


# --- One release and one grading batch per assignment, shared by every test module -------
#
# A test module adds its submissions at import time (pytest imports every module, on every
# xdist worker, before any test runs):
#
#     subs.register_cases("a3", _cases)          # _cases() -> {student: notebook}
#
#     @pytest.fixture(scope="module")
#     def graded(graded_a3):                      # the session's batch, see tests/conftest.py
#         return graded_a3
#
# The first test that needs ``graded_a3`` grades every registered case of a3 in one
# autograde run (``JOBS`` workers); tests/conftest.py sends every test that uses it to the
# same xdist worker. Students' names are shared across modules: the same name must mean
# the same notebook (two modules may both register "correct"), else it is an error.
#
# One batch has one cell time limit and one budget: the assignment's, below. Time limits
# are part of what some cases test (a loop stopped by the budget), so they live here,
# not with the cases.

BATCH_LIMITS = {  # assignment -> (cell_timeout, budget) in seconds
    "a1": (10, 75),
    "a2": (30, 120),
    "a3": (60, 300),
    "a4": (60, 300),
    "a5": (60, 300),
    "a6": (60, 300),
    "a7": (60, 300),
}
JOBS = 2  # autograde's workers for a batch

_REGISTERED: dict[str, list[tuple[str, object]]] = {}


def register_cases(assignment: str, cases, *, cell_timeout: int | None = None,
                   budget: int | None = None) -> None:
    """Add ``cases`` to the shared batch of ``assignment``: a function returning
    ``{student (or inbox path): notebook (or raw text)}``, called when the batch is graded,
    or such a dict. ``cell_timeout`` and ``budget``, if given, are checked against
    :data:`BATCH_LIMITS` (what the registering tests assume)."""
    import sys

    limits = BATCH_LIMITS.get(assignment)
    if limits is None:
        raise KeyError(f"no BATCH_LIMITS for {assignment!r} in tests/submissions.py")
    for name, want, have in (("cell_timeout", cell_timeout, limits[0]),
                             ("budget", budget, limits[1])):
        if want is not None and want != have:
            raise ValueError(f"{assignment}'s batch runs with {name}={have}, not {want}: "
                             f"change BATCH_LIMITS if every user of the batch agrees")
    caller = sys._getframe(1).f_globals.get("__name__", "?")
    entries = _REGISTERED.setdefault(assignment, [])
    key = getattr(cases, "__qualname__", None)
    # A module imported twice registers again: replace, do not add.
    entries[:] = [(who, got) for who, got in entries
                  if not (who == caller and key and getattr(got, "__qualname__", 0) == key)]
    entries.append((caller, cases))


def registered_cases(assignment: str) -> dict:
    """Every case registered for ``assignment``, built; duplicates must agree."""
    import json

    merged, origin = {}, {}
    for who, cases in _REGISTERED.get(assignment, []):
        for key, content in (cases() if callable(cases) else cases).items():
            if key in merged:
                same = json.dumps(merged[key], sort_keys=True) == json.dumps(content,
                                                                             sort_keys=True)
                if not same:
                    raise ValueError(f"{assignment}: {who} and {origin[key]} both register "
                                     f"{key!r}, as different submissions; rename one")
                continue
            merged[key], origin[key] = content, who
    if not merged:
        raise LookupError(f"no cases registered for {assignment}: call "
                          f"submissions.register_cases({assignment!r}, ...) in the module")
    return merged


def grade_registered(root: Path, assignment: str) -> dict:
    """The shared batch of ``assignment``: every registered case through the pipeline."""
    cell_timeout, budget = BATCH_LIMITS[assignment]
    return grade_through_pipeline(root, assignment, registered_cases(assignment),
                                  cell_timeout=cell_timeout, budget=budget, jobs=JOBS)


def score(graded: dict, student: str) -> float:
    """A student's score in the export of ``grade_through_pipeline``; fails if ungraded."""
    row = graded["rows"][student]
    assert row["status"] == "graded", row
    return float(row["score"])


def feedback(graded, student: str, assignment: str) -> str:
    """The HTML feedback ``student`` gets for ``assignment`` in a graded batch."""
    return (graded["root"] / "grading" / "feedback" / student / assignment /
            f"{assignment}.html").read_text()


def graded_cell(graded, student: str, assignment: str, grade_id: str) -> dict:
    """The autograded notebook's cell ``grade_id`` of ``student`` in a graded batch."""
    nb = json.loads((graded["root"] / "grading" / "autograded" / student / assignment /
                     f"{assignment}.ipynb").read_text())
    return next(c for c in nb["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == grade_id)


def outputs_text(cell: dict) -> str:
    """Everything a cell printed or raised, as one text."""
    return "\n".join("".join(o.get("text", "")) + o.get("evalue", "")
                     + "".join(o.get("traceback", [])) for o in cell.get("outputs", []))


def cell_text(graded, student: str, assignment: str, grade_id: str) -> str:
    """Everything that cell ``grade_id`` of ``student``'s autograded notebook printed or
    raised."""
    return outputs_text(graded_cell(graded, student, assignment, grade_id))


def cell_passed(graded, student: str, assignment: str, grade_id: str) -> bool:
    """A graded test cell that raised nothing (its points are in the score)."""
    cell = graded_cell(graded, student, assignment, grade_id)
    return not any(o.get("output_type") == "error" for o in cell.get("outputs", []))


def solution_lines_shown(graded, student: str, assignment: str, grade_ids) -> list[str]:
    """Lines of the instructor's solution (longer than 20 characters) that the messages of
    the test cells ``grade_ids`` show: feedback must teach without giving the answer."""
    lines = {line.strip() for source in solution_sources(assignment, assignment).values()
             for line in source.splitlines() if len(line.strip()) > 20}
    shown = "\n".join(cell_text(graded, student, assignment, g) for g in grade_ids)
    return [line for line in lines if line in shown]


def assert_feedback_hides_hidden_tests(graded, cases, assignment: str) -> None:
    """No graded student's feedback for ``assignment`` shows the marker or a line of the
    hidden tests (lines long enough to be telling, imports aside); ``cases`` must all be
    among the graded students (the batch may hold other modules' submissions too)."""
    source = nbformat.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb",
                           as_version=4)
    hidden = [line.strip() for cell in source.cells if "BEGIN HIDDEN TESTS" in cell.source
              for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].splitlines()
              if len(line.strip()) > 25 and "import" not in line and "END HIDDEN" not in line]
    assert hidden, f"{assignment}: no hidden test lines found to look for"
    students = [s for s, row in graded["rows"].items() if row["status"] == "graded"]
    assert set(cases) <= set(students)
    for student in students:
        text = feedback(graded, student, assignment)
        assert "BEGIN HIDDEN TESTS" not in text, student
        leaked = [line for line in hidden if line in text]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked[:3]}"
