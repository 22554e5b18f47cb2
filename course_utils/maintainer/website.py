"""Build the course's static website offline: executed lessons, syllabus, assignments and
the instructor's guide, with Sphinx and myst-nb (needs the ``site`` extra).

    python -m course_utils.maintainer.website --profile smoke [--executed DIR] [--out build/site]

Steps, one function each:

1. :func:`plan_notebooks` finds which lessons have an executed copy in ``DIR`` (default
   ``build/executed/<profile>``) that is complete and matches the notebook's current cells;
2. :func:`execute_missing` executes the others there (and only those), and fails naming
   every notebook that failed;
3. :func:`stage` copies ``docs/site`` to a staging folder and writes the generated pages
   beside it: the syllabus from the README's tables, one page per assignment from its
   released notebook, one page per lesson from its executed copy, the instructor's guide;
4. :func:`run_sphinx` builds the HTML (never executing a notebook: ``nb_execution_mode`` is
   ``"off"``), with warnings as errors.

Every page loads only from the site itself: Colab badges point at a local image, MathJax is
served from ``_static`` (``docs/site/conf.py``). ``tests/test_site.py`` checks the built site
in headless Chromium.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from course_utils.maintainer import colab

ROOT = colab.ROOT
LOCAL_BADGE = "/_static/colab-badge.svg"  # MyST: a path from the site's source folder
# The README sections that make the syllabus page, in order, with their headings there.
SYLLABUS_SECTIONS = (("Syllabus", "Lessons"), ("Assignments and grading", "Assignments"),
                     ("How much work a notebook does: profiles",) * 2)
SPHINX_DIRS = ("_static", "_images", "_sources", "_downloads")  # in the HTML, not pages
_TARGET_RE = re.compile(r"\]\(([^()\s]+)\)")


class SiteError(RuntimeError):
    """The site cannot be built: the message says why and what to do."""


# --- Markdown from the README -------------------------------------------------------------


def readme_section(text: str, heading: str) -> str:
    """The body of the README's ``## heading`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(heading)}[ \t]*\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    if match is None:
        raise SiteError(f"the README has no section `## {heading}`; the syllabus page is "
                        "generated from it. Hint: rename the section in SYLLABUS_SECTIONS.")
    return match.group(1).strip()


def markdown_table(section: str) -> list[dict[str, str]]:
    """The rows of the first pipe table in ``section``, as ``{column: cell}``."""
    lines = [line.strip() for line in section.splitlines()]
    start = next((i for i, line in enumerate(lines) if line.startswith("|")), None)
    if start is None:
        return []
    table = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        table.append(line)
    header = [cell.strip() for cell in table[0].strip("|").split("|")]
    rows = []
    for line in table[2:]:  # table[1] is the |---| rule
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows.append(dict(zip(header, cells)))
    return rows


def site_target(target: str, *, depth: int = 0, lessons=None) -> str:
    """Where a README link to ``target`` (a path from the repository root) points on the
    site, from a page ``depth`` folders deep: the lesson or assignment page, the guide, the
    local badge image, or the file on GitHub; web addresses and anchors are kept.
    ``lessons``: the lessons' file names that have a page (default: all); a link to
    another lesson goes to GitHub."""
    if target == colab.BADGE_IMAGE:
        return LOCAL_BADGE
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target):
        return target
    up = "../" * depth
    path = target.split("#")[0]
    if re.fullmatch(r"notebooks/\d\d_[\w-]+\.ipynb", path) and (
            lessons is None or Path(path).name in lessons):
        return f"{up}lessons/{Path(path).name}"
    match = re.fullmatch(r"assignments/(\w+)/\1\.ipynb", path)
    if match:
        return f"{up}assignments/{match.group(1)}.md"
    if path == "docs/grading.md":
        return f"{up}grading.md"
    return f"{colab.REPOSITORY}/blob/{colab.BRANCH}/{target}"


def rewrite_links(markdown: str, *, depth: int = 0, lessons=None) -> str:
    """Every ``](target)`` of ``markdown`` rewritten by :func:`site_target`."""
    return _TARGET_RE.sub(
        lambda m: f"]({site_target(m.group(1), depth=depth, lessons=lessons)})", markdown)


def syllabus_page(readme: str, *, lessons=None) -> str:
    """The syllabus page: the README's syllabus, assignments and profiles sections, with
    their links pointing at the site's pages."""
    parts = ["# Syllabus", "",
             "Generated from the course's README: each lesson links to its page here, each "
             "badge opens the notebook in Colab.", ""]
    for heading, title in SYLLABUS_SECTIONS:
        body = rewrite_links(readme_section(readme, heading), lessons=lessons)
        parts += [f"## {title}", "", body, ""]
    return "\n".join(parts)


# --- Generated pages ----------------------------------------------------------------------


def lessons_index(names: list[str]) -> str:
    """The lessons' index page: a table of contents of the lesson pages ``names``."""
    entries = "\n".join(Path(name).stem for name in names)
    return ("# Lessons\n\nEach lesson with the outputs of one run, in order.\n\n"
            f"```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n")


def assignment_page(notebook, *, row: dict[str, str] | None = None) -> str:
    """An assignment's page from its released notebook: the first markdown cell (title,
    badge, instructions), what students build and the points from the README's row, and
    the parts as the notebook's section headings."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    first = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
    if not re.search(r"^# ", first, re.M):
        raise SiteError(f"{notebook}: the first markdown cell has no `# title`; the "
                        "assignment's page starts with it.")
    lines = [rewrite_links(first).strip(), ""]
    if row:
        lines += [f"**What you build:** {rewrite_links(row.get('what students build', ''), depth=1)}",
                  "", f"**Points:** {row.get('points', '')}", ""]
    parts = [line.lstrip("#").strip() for cell in nb.cells[1:] if cell.cell_type == "markdown"
             for line in cell.source.splitlines() if line.startswith("## ")]
    if parts:
        lines += ["## Parts", ""] + [f"- {part}" for part in parts] + [""]
    return "\n".join(lines)


def assignments_index(names: list[str]) -> str:
    """The assignments' index page: a table of contents of the assignment pages."""
    entries = "\n".join(names)
    return ("# Assignments\n\nAutograded with nbgrader; the instructor's guide says how.\n\n"
            f"```{{toctree}}\n:maxdepth: 1\n\n{entries}\n```\n")


def profile_note(profile: str) -> str:
    """The index page's line that says which profile the outputs come from."""
    note = f"The outputs on these pages come from the **`{profile}`** profile."
    if profile == "smoke":
        note += (" That profile is the test suite's: a small slice of the data and one epoch, "
                 "so trained numbers are not the course's results.")
    return note + "\n"


def prepare_lesson(nb):
    """``nb`` ready for its page: the Colab badge image of every markdown cell served by the
    site, and the Colab set-up cell (which does nothing off Colab) left out."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(f"]({colab.BADGE_IMAGE})", f"]({LOCAL_BADGE})")
        elif cell.source.startswith(colab.SETUP_MARKER):
            tags = cell.setdefault("metadata", {}).setdefault("tags", [])
            if "remove-cell" not in tags:
                tags.append("remove-cell")
    return nb


# --- Executed notebooks -------------------------------------------------------------------


def executed_state(executed, source) -> str:
    """``"ok"`` if ``executed`` is a complete run of ``source`` as it is now, ``"missing"``,
    ``"stale"`` (its cells differ from the notebook's) or ``"incomplete"`` (an error output
    or a code cell that did not run: a failed or interrupted run)."""
    import nbformat

    executed = Path(executed)
    if not executed.is_file():
        return "missing"
    ran = nbformat.read(executed, as_version=4)
    now = nbformat.read(source, as_version=4)
    if [c.source for c in ran.cells] != [c.source for c in now.cells]:
        return "stale"
    for cell in ran.cells:
        if cell.cell_type != "code":
            continue
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            return "incomplete"
        if cell.source.strip() and cell.get("execution_count") is None:
            return "incomplete"
    return "ok"


@dataclass
class NotebookPlan:
    """Which lessons have a usable executed copy (``ready``) and which must run
    (``to_run``, with the reason: missing, stale or incomplete)."""

    ready: list[Path]
    to_run: list[tuple[Path, str]]


def plan_notebooks(notebooks, executed_dir) -> NotebookPlan:
    """Sort ``notebooks`` by whether ``executed_dir`` holds a usable run of each."""
    ready, to_run = [], []
    for path in map(Path, notebooks):
        state = executed_state(Path(executed_dir) / path.name, path)
        if state == "ok":
            ready.append(path)
        else:
            to_run.append((path, state))
    return NotebookPlan(ready, to_run)


def execute_missing(to_run, executed_dir, *, profile: str, timeout: int = 1800,
                    log=print) -> list[Path]:
    """Execute each notebook of ``to_run`` (paths, or ``(path, reason)``) into
    ``executed_dir``; a copy lands there only when its run succeeded. Raises
    :class:`SiteError` naming every notebook that failed, with its cell and error."""
    import nbformat

    from course_utils.maintainer.runner import NotebookError, execute_notebook

    executed_dir = Path(executed_dir)
    executed_dir.mkdir(parents=True, exist_ok=True)
    done, failures = [], []
    for item in to_run:
        path, reason = (item, "missing") if isinstance(item, (str, Path)) else item
        path = Path(path)
        log(f"site: executing {path} ({reason}) in the {profile} profile")
        start = time.perf_counter()
        try:
            nb = execute_notebook(path, profile, timeout)
        except NotebookError as exc:
            failures.append((path, str(exc)))  # the error names notebook, cell and error
            continue
        with tempfile.NamedTemporaryFile("w", dir=executed_dir, suffix=".tmp",
                                         delete=False) as handle:
            nbformat.write(nb, handle)
        Path(handle.name).replace(executed_dir / path.name)
        log(f"site: ok {path} ({time.perf_counter() - start:.0f} s)")
        done.append(executed_dir / path.name)
    if failures:
        names = ", ".join(str(path) for path, _ in failures)
        raise SiteError(f"{len(failures)} notebook(s) failed in the {profile} profile, so the "
                        f"site was not built: {names}\n\n"
                        + "\n\n".join(error for _, error in failures)
                        + "\n\nHint: run `python -m course_utils.maintainer.runner --profile "
                        f"{profile} NOTEBOOK` to reproduce, fix the notebook, and build again.")
    return done


# --- Staging and Sphinx -------------------------------------------------------------------


def _write(path: Path, text: str, written: set[Path]) -> None:
    """Write ``text`` unless the file already holds it (Sphinx rebuilds what changed)."""
    written.add(path)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def stage(staging, *, executed_dir, notebooks, profile: str, root: Path = ROOT) -> Path:
    """Fill ``staging`` with the site's sources: ``docs/site``, the generated pages and the
    lessons' executed copies (:func:`prepare_lesson`). Files left from an earlier build that
    are no longer part of the site are removed. Returns ``staging``."""
    import nbformat

    staging, written = Path(staging), set()
    source = root / "docs" / "site"
    for path in sorted(source.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            target = staging / path.relative_to(source)
            written.add(target)
            if not target.is_file() or target.read_bytes() != path.read_bytes():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    readme = (root / "README.md").read_text(encoding="utf-8")
    lessons = {Path(path).name for path in notebooks}
    _write(staging / "syllabus.md", syllabus_page(readme, lessons=lessons), written)
    _write(staging / "_generated" / "profile.md", profile_note(profile), written)
    guide = (root / "docs" / "grading.md").read_text(encoding="utf-8")
    _write(staging / "grading.md", rewrite_links(guide), written)

    names = []
    for path in notebooks:
        nb = prepare_lesson(nbformat.read(Path(executed_dir) / Path(path).name, as_version=4))
        _write(staging / "lessons" / Path(path).name, nbformat.writes(nb) + "\n", written)
        names.append(Path(path).name)
    _write(staging / "lessons" / "index.md", lessons_index(names), written)

    rows = {}
    for row in markdown_table(readme_section(readme, "Assignments and grading")):
        match = re.search(r"\(assignments/(\w+)/", row.get("assignment", ""))
        if match:
            rows[match.group(1)] = row
    released = sorted((root / "assignments").glob("*/*.ipynb"))
    released = [p for p in released if p.stem == p.parent.name]
    for path in released:
        _write(staging / "assignments" / f"{path.stem}.md",
               assignment_page(path, row=rows.get(path.stem)), written)
    _write(staging / "assignments" / "index.md",
           assignments_index([p.stem for p in released]), written)

    for path in sorted(staging.rglob("*"), reverse=True):
        if path.is_file() and path not in written:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    return staging


def run_sphinx(staging, out, *, doctrees, jobs: int = 1, quiet: bool = True) -> None:
    """``sphinx-build -b html`` from ``staging`` to ``out``, warnings as errors (all of them
    listed). Raises :class:`SiteError` if Sphinx (or the ``site`` extra) is missing or
    the build fails."""
    try:
        import myst_nb  # noqa: F401
        import sphinx  # noqa: F401
    except ImportError as exc:
        raise SiteError(f"{exc.name} is not installed. Hint: pip install -e '.[site]'") from None
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going",
               "-j", str(jobs), "-d", str(doctrees), str(staging), str(out)]
    if quiet:
        command.insert(3, "-q")
    result = subprocess.run(command, check=False)
    if result.returncode:
        raise SiteError(f"sphinx-build failed (exit {result.returncode}); its warnings are "
                        f"above.\nCommand: {' '.join(command)}")


def remove_stale_pages(staging, out) -> list[Path]:
    """Delete the HTML pages of ``out`` whose source is no longer staged (Sphinx leaves
    them behind when a page is dropped); :data:`SPHINX_DIRS` are Sphinx's own. Returns
    the deleted pages."""
    staging, out = Path(staging), Path(out)
    pages = {p.relative_to(staging).with_suffix("").as_posix() for p in staging.rglob("*")
             if p.suffix in (".md", ".ipynb") and not p.relative_to(staging).parts[0]
             .startswith("_")} | {"genindex", "search"}
    stale = [p for p in out.rglob("*.html") if p.relative_to(out).parts[0] not in SPHINX_DIRS
             and p.relative_to(out).with_suffix("").as_posix() not in pages]
    for path in stale:
        path.unlink()
    return stale


def build_site(*, profile: str, executed_dir=None, out=None, work=None, notebooks=None,
               jobs: int = 1, timeout: int = 1800, root: Path = ROOT, log=print) -> Path:
    """Execute the lessons missing from ``executed_dir``, stage the sources in ``work`` and
    build the HTML into ``out``. Returns ``out``. ``notebooks``: the lessons to publish
    (default: every lesson; a subset is for quick previews, its syllabus links the others
    to GitHub)."""
    executed_dir = Path(executed_dir or root / "build" / "executed" / profile)
    out = Path(out or root / "build" / "site")
    work = Path(work or out.with_name(out.name + "-work"))
    notebooks = [Path(p) for p in notebooks] if notebooks else colab.notebook_paths(root)
    if not notebooks:
        raise SiteError(f"no lessons found in {root / 'notebooks'}")
    unknown = [str(p) for p in notebooks if not p.is_file()]
    if unknown:
        raise SiteError(f"no such notebook: {', '.join(unknown)}")
    plan = plan_notebooks(notebooks, executed_dir)
    log(f"site: {len(plan.ready)} of {len(notebooks)} lessons already executed in "
        f"{executed_dir}")
    execute_missing(plan.to_run, executed_dir, profile=profile, timeout=timeout, log=log)
    stage(work / "src", executed_dir=executed_dir, notebooks=notebooks, profile=profile,
          root=root)
    start = time.perf_counter()
    run_sphinx(work / "src", out, doctrees=work / "doctrees", jobs=jobs)
    remove_stale_pages(work / "src", out)
    log(f"site: built {out}/index.html in {time.perf_counter() - start:.0f} s (Sphinx)")
    return out


def main(argv=None) -> int:
    from course_utils.profiles import current_profile

    parser = argparse.ArgumentParser(description="Build the course's static site offline.")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="lessons to publish (default: all; a subset makes a preview)")
    parser.add_argument("--profile", default=None,
                        help="whose outputs the site shows: smoke, cpu or gpu "
                             "(default: $COURSE_PROFILE or the hardware)")
    parser.add_argument("--executed", type=Path, default=None,
                        help="executed notebooks; the missing ones are executed into it "
                             "(default: build/executed/PROFILE)")
    parser.add_argument("--out", type=Path, default=Path("build/site"),
                        help="where the HTML goes (default: build/site)")
    parser.add_argument("--jobs", type=int, default=1, help="Sphinx processes (default 1)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)
    profile = current_profile(args.profile).name
    try:
        build_site(profile=profile, executed_dir=args.executed, out=args.out.resolve(),
                   notebooks=args.notebooks, jobs=args.jobs, timeout=args.timeout)
    except SiteError as exc:
        print(f"site: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
