"""Release: the student version of each assignment, from ``solutions/`` to ``assignments/``."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from course_utils.grader.paths import ROOT, grading_dir
from course_utils.grader.process import GradingError, api_log, nbgrader_api, tail


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
    grading_dir(root).mkdir(exist_ok=True)
    written = []
    with nbgrader_api(root) as api:
        for name in names or assignments(root):
            result = api.generate_assignment(name, force=True, create=True)
            if not result["success"]:
                raise GradingError(f"nbgrader could not release {name}:\n"
                                   f"{tail(api_log(result))}")
            written += sorted((root / "assignments" / name).glob("*.ipynb"))
    return written


def check_release(root: Path = ROOT, names: list[str] | None = None) -> list[str]:
    """Regenerate the assignments ``names`` (default: every one) in a scratch copy and list
    the released files that differ from (or are missing in) assignments/. Empty means up
    to date."""
    stale = []
    names = names or assignments(root)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        shutil.copytree(root / "solutions", scratch / "solutions")
        shutil.copy(root / "nbgrader_config.py", scratch / "nbgrader_config.py")
        release(scratch, names)
        for name in names:
            for fresh in sorted((scratch / "assignments" / name).rglob("*.ipynb")):
                relative = fresh.relative_to(scratch)
                current = root / relative
                if not current.exists():
                    stale.append(f"{relative} (missing)")
                elif json.loads(current.read_text()) != json.loads(fresh.read_text()):
                    stale.append(str(relative))
        released = sorted(p for p in (root / "assignments").glob("*") if p.is_dir())
        for folder in (p for p in released
                       if p.name in names or not (root / "solutions" / p.name).is_dir()):
            for current in sorted(folder.rglob("*.ipynb")):
                if not (scratch / current.relative_to(root)).exists():
                    stale.append(f"{current.relative_to(root)} (no source in solutions/)")
    return stale


