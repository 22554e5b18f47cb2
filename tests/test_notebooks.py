"""Every notebook runs top to bottom in the smoke profile, and is stored clean."""

import ast
import json
import os
import subprocess
from pathlib import Path

import nbformat
import pytest

import course_utils
from course_utils.maintainer import colab
from course_utils.maintainer.runner import NotebookError, execute_notebook

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = colab.notebook_paths()


def _tracked_notebooks():
    try:
        names = subprocess.run(["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True,
                               text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        names = []
    return sorted({ROOT / n for n in names} | set(ROOT.glob("notebooks/*.ipynb")))


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS][:3] == ["00", "01", "02"]


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_the_smoke_profile(path, tmp_path):
    """$COURSE_KEEP_EXECUTED names a folder that keeps the executed copies: CI builds the
    static site from them (`make site`) instead of running every notebook twice."""
    kept = os.environ.get("COURSE_KEEP_EXECUTED")
    output = Path(kept) / path.name if kept else tmp_path / path.name
    try:
        execute_notebook(path, "smoke", timeout=600, output=output)
    except NotebookError as exc:
        pytest.fail(f"notebook failed in the smoke profile:\n{exc}", pytrace=False)


@pytest.mark.parametrize("path", _tracked_notebooks(), ids=lambda p: p.name)
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    nbformat.validate(nbformat.from_dict(nb))
    dirty = [i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
             and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; run `make strip` first"


def _helper_names():
    names = set()
    for module in Path(course_utils.__file__).parent.rglob("*.py"):
        tree = ast.parse(module.read_text())
        names |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                  and not n.name.startswith("_")}
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_carry_no_private_copy_of_a_helper(path):
    helpers = _helper_names()
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or cell.source.startswith(colab.SETUP_MARKER):
            continue
        # a %%tensorflow_only cell (course_utils.env) is Python below its magic line
        source = cell.source.partition("\n")[2] if cell.source.startswith("%%") else cell.source
        tree = ast.parse(source)
        defined = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef,
                                                                      ast.ClassDef))}
        assert not defined & helpers, (
            f"{path.name} defines {sorted(defined & helpers)}, which course_utils already "
            f"has: import it instead")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_trained_results_are_reported_with_their_profile(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                       if c.cell_type == "code")
    if "fit_and_evaluate(" in source or ".fit(" in source:
        assert ".report()" in source or "report(" in source, (
            f"{path.name} trains a model but never reports the result with its profile")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_clear_the_session_without_losing_the_precision(path):
    source = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells
                       if c.cell_type == "code")
    assert "keras.backend.clear_session(" not in source, (
        f"{path.name} calls keras.backend.clear_session(), which resets the dtype policy to "
        "float32 (mixed precision off in the gpu profile). Hint: call "
        "course_utils.clear_session() instead.")
