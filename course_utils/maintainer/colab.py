"""The one place that names the course's repository, and what is generated from it:
"Open in Colab" badges and the set-up cell that opens every notebook.

``python -m course_utils.maintainer.colab`` rewrites badges and set-up cells in every notebook and
in the README; ``python -m course_utils.maintainer.colab --check`` only reports what is out of date.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPOSITORY = "https://github.com/convnet-classics/convnet-classics"
BRANCH = "main"

ROOT = Path(__file__).resolve().parent.parent.parent
BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BADGE_RE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
SETUP_MARKER = "# Set-up for Google Colab"


def repository_slug() -> str:
    """``owner/name`` of the repository."""
    return REPOSITORY.removeprefix("https://github.com/").strip("/")


def colab_url(path: str) -> str:
    """The Colab address that opens ``path`` (relative to the repository root)."""
    return f"https://colab.research.google.com/github/{repository_slug()}/blob/{BRANCH}/{path}"


def badge(path: str) -> str:
    """Markdown for an "Open in Colab" badge for ``path``."""
    return f"[![Open In Colab]({BADGE_IMAGE})]({colab_url(path)})"


def setup_cell_source() -> str:
    """The first code cell of every notebook: on Colab, install ``course_utils`` from the
    repository; anywhere else, do nothing."""
    return (
        f"{SETUP_MARKER}: install the course's helpers there. Elsewhere this does nothing.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    %pip install --quiet "convnet-classics @ git+{REPOSITORY}@{BRANCH}"'
    )


def notebook_paths(root: Path = ROOT) -> list[Path]:
    """The course's lessons, ``notebooks/NN_topic.ipynb``."""
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def assignment_sources(root: Path = ROOT) -> list[Path]:
    """The instructor's assignment notebooks, ``solutions/<assignment>/<name>.ipynb``."""
    return sorted((root / "solutions").glob("*/*.ipynb"))


def opened_path(path: Path, root: Path = ROOT) -> str:
    """Where students open a notebook from: an assignment's source opens as its release."""
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    if relative.startswith("solutions/"):
        return "assignments/" + relative.removeprefix("solutions/")
    return relative


def sync_notebook(path: Path, root: Path = ROOT, write: bool = True) -> bool:
    """Make cell 0 (markdown) carry this notebook's badge and cell 1 the set-up cell.
    Returns True if anything was (or, with ``write=False``, would be) changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    relative = path.resolve().relative_to(root.resolve()).as_posix()
    changed = False
    first = nb.cells[0] if nb.cells else None
    if first is None or first.cell_type != "markdown":
        raise ValueError(f"{relative}: the first cell must be the title (markdown).")
    wanted = badge(opened_path(path, root))
    if BADGE_RE.search(first.source):
        new = BADGE_RE.sub(wanted, first.source, count=1)
    else:
        new = f"{wanted}\n\n{first.source}"
    if new != first.source:
        first.source, changed = new, True
    second = nb.cells[1] if len(nb.cells) > 1 else None
    if second is not None and second.cell_type == "code" and second.source.startswith(
        SETUP_MARKER
    ):
        if second.source != setup_cell_source():
            second.source, changed = setup_cell_source(), True
    else:
        nb.cells.insert(1, nbformat.v4.new_code_cell(setup_cell_source()))
        changed = True
    if changed and write:
        nbformat.write(nb, path)
    return changed


def sync_readme(root: Path = ROOT, write: bool = True) -> bool:
    """Rewrite README badges: each syllabus row's badge points at its own notebook."""
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    lines, changed = text.splitlines(keepends=True), False
    for i, line in enumerate(lines):
        match = re.search(r"\(((?:notebooks|assignments)/[^)]+\.ipynb)\)", line)
        if match and BADGE_RE.search(line):
            new = BADGE_RE.sub(badge(match.group(1)), line)
            if new != line:
                lines[i], changed = new, True
    if changed and write:
        readme.write_text("".join(lines), encoding="utf-8")
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = [
        path.relative_to(ROOT).as_posix()
        for path in notebook_paths() + assignment_sources()
        if sync_notebook(path, write=not args.check)
    ]
    if sync_readme(write=not args.check):
        stale.append("README.md")
    verb = "out of date" if args.check else "updated"
    for name in stale:
        print(f"{verb}: {name}")
    if args.check and stale:
        print("Run `python -m course_utils.maintainer.colab` (or `make sync`) to regenerate them.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
