"""Collect: submissions from a folder or an LMS zip into nbgrader's ``submitted`` folder,
whatever Colab, a browser or an LMS did to the file names."""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from course_utils.grader.paths import manifest_path, submitted_dir
from course_utils.grader.process import GradingError
from course_utils.grader.release import release_notebooks

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
            folder = submitted_dir(root, student, assignment)
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
    path = manifest_path(root, assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "student_id", "notebook", "note"])
        for row in report:
            writer.writerow([row.source, row.student, row.notebook or "", row.note])


# ----------------------------------------------------------------------------- autograde
