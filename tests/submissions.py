"""Make submissions of an assignment for the grading tests: a student's notebook is the
released notebook with solution cells filled in, then changed in the way each test needs."""

from __future__ import annotations

import copy
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
    (``{student: notebook}``), autograde, write feedback and export: what an instructor
    does. Returns ``{"root", "rows" (the export's rows by student), "results"}``."""
    import csv
    import shutil

    from course_utils.grader import autograde, collect, export, release

    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    release.release(root, [assignment])
    inbox = root / "inbox"
    for student, nb in cases.items():
        (inbox / student).mkdir(parents=True)
        nbformat.write(nb, inbox / student / f"{assignment}.ipynb")
    collect.collect(root, assignment, inbox)
    results = autograde.autograde(root, assignment, cell_timeout=cell_timeout, budget=budget,
                                  jobs=jobs)
    export.feedback(root, assignment)
    with open(export.export(root)) as handle:
        rows = {r["student_id"]: r for r in csv.DictReader(handle)
                if r["assignment"] == assignment}
    return {"root": root, "rows": rows, "results": results}


def score(graded: dict, student: str) -> float:
    """A student's score in the export of ``grade_through_pipeline``; fails if ungraded."""
    row = graded["rows"][student]
    assert row["status"] == "graded", row
    return float(row["score"])
