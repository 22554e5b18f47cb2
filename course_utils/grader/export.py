"""Feedback and export: HTML feedback without the hidden tests, and ``grades.csv`` with a
status column that tells "graded 0" apart from "could not be graded" and "not submitted"."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from nbgrader.plugins import ExportPlugin

from course_utils.grader.paths import GRADING, feedback_dir, grades_csv
from course_utils.grader.process import GradingError, api_log, nbgrader_api, tail
from course_utils.grader.status import read_status


def feedback(root: Path, assignment: str) -> list[Path]:
    """HTML feedback for every graded submission, with the hidden tests removed."""
    with nbgrader_api(root) as api:
        result = api.generate_feedback(assignment, force=True)
    if not result["success"]:
        raise GradingError(f"nbgrader could not generate feedback:\n{tail(api_log(result))}")
    return sorted(feedback_dir(root).glob(f"*/{assignment}/*.html"))


def export(root: Path) -> Path:
    """Grades of every student and assignment, with their status, to grading/grades.csv."""
    from nbgrader.api import Gradebook

    dest = grades_csv(root)
    try:
        with nbgrader_api(root) as api:  # what `nbgrader export` does, without its start-up
            coursedir = api.coursedir
            with Gradebook(coursedir.db_url, coursedir.course_id) as gradebook:
                StatusCsvExport(parent=api, to=str(dest)).export(gradebook)
    except Exception as exc:  # a broken gradebook, a folder that cannot be written
        raise GradingError(f"could not export grades to {dest} ({type(exc).__name__}: {exc}). "
                           f"Hint: is {GRADING}/ writable, and its gradebook.db the one "
                           f"`autograde` wrote?") from exc
    return dest


# ----------------------------------------------------------------------------- CLI


class StatusCsvExport(ExportPlugin):
    """CSV with one row per student and assignment, and a ``status`` column:
    ``graded`` (the score is real, 0 included), ``could not be graded`` (score left empty,
    ``reason`` says why) or ``not submitted``."""

    COLUMNS = ["assignment", "student_id", "status", "score", "max_score", "reason",
               "timestamp"]

    def export(self, gradebook) -> None:
        coursedir = getattr(self.parent, "coursedir", None)
        root = coursedir.root if coursedir is not None else os.getcwd()
        dest = self.to or str(grades_csv(root))
        rows = []
        for assignment in gradebook.assignments:
            if self.assignment and assignment.name not in self.assignment:
                continue
            for student in gradebook.students:
                if self.student and student.id not in self.student:
                    continue
                rows.append(self._row(gradebook, root, assignment, student))
        Path(dest).parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=self.COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        self.log.info("Exported %d rows to %s", len(rows), dest)

    @staticmethod
    def _row(gradebook, root, assignment, student) -> dict:
        from nbgrader.api import MissingEntry

        row = {"assignment": assignment.name, "student_id": student.id,
               "max_score": assignment.max_score, "score": "", "reason": "", "timestamp": ""}
        status = read_status(root, assignment.name, student.id)
        try:
            submission = gradebook.find_submission(assignment.name, student.id)
        except MissingEntry:
            submission = None
        if status is None and submission is None:
            row["status"] = "not submitted"
            return row
        if status is not None and status["status"] != "graded":
            row.update(status=status["status"], reason=status.get("reason", ""))
            return row
        if submission is None:
            row.update(status="could not be graded",
                       reason="graded, but missing from the gradebook")
            return row
        row.update(status="graded", score=submission.score,
                   timestamp=submission.timestamp or "",
                   reason=(status or {}).get("reason", ""))
        return row
