"""How grading went for each submission, one JSON file each under ``grading/status``:
``graded`` or ``could not be graded`` with the reason. Export reads them back."""

from __future__ import annotations

import json
import os
from pathlib import Path

from course_utils.grader.paths import status_dir


def status_path(root, assignment: str, student: str) -> Path:
    return status_dir(root, assignment) / f"{student}.json"


def write_status(root, assignment: str, student: str, status: str, reason: str = "",
                 **extra) -> None:
    """Record how grading went for one submission: ``graded`` or ``could not be graded``."""
    path = status_path(root, assignment, student)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The grading workers write while the parent polls: write a temporary file beside it and
    # rename it in one step, so a reader never sees a half-written (or empty) file.
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps({"status": status, "reason": reason, **extra}, indent=1))
    os.replace(partial, path)


def read_status(root, assignment: str, student: str) -> dict | None:
    path = status_path(root, assignment, student)
    return json.loads(path.read_text()) if path.exists() else None
