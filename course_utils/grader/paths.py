"""Where the pipeline keeps things: the one home of every path the grading steps share.

Every folder is relative to the course root (the directory with ``nbgrader_config.py``).
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
GRADING = "grading"                     # nbgrader's course directory for student work
KERNEL_NAME = "course-grader"           # the kernelspec that submissions run in


def grading_dir(root) -> Path:
    return Path(root) / GRADING


def submitted_dir(root, student: str | None = None, assignment: str | None = None) -> Path:
    """``grading/submitted[/student[/assignment]]``: what ``collect`` writes."""
    path = grading_dir(root) / "submitted"
    if student is not None:
        path = path / student
    if assignment is not None:
        path = path / assignment
    return path


def autograded_dir(root, student: str, assignment: str) -> Path:
    return grading_dir(root) / "autograded" / student / assignment


def feedback_dir(root) -> Path:
    return grading_dir(root) / "feedback"


def logs_dir(root, assignment: str) -> Path:
    return grading_dir(root) / "logs" / assignment


def status_dir(root, assignment: str) -> Path:
    return grading_dir(root) / "status" / assignment


def manifest_path(root, assignment: str) -> Path:
    """The CSV that ``collect`` writes: which file became whose notebook, and why."""
    return grading_dir(root) / "collected" / f"{assignment}.csv"


def gradebook_path(root) -> Path:
    return grading_dir(root) / "gradebook.db"


def shard_gradebook_path(root, k: int) -> Path:
    return grading_dir(root) / "shards" / f"{k}.db"


def grades_csv(root) -> Path:
    """What ``export`` writes: one row per student and assignment, with a status."""
    return grading_dir(root) / "grades.csv"


def db_url(path) -> str:
    return "sqlite:///" + str(path)
