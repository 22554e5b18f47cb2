import sys
import tomllib
import types
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_utils.maintainer import colab

ROOT = Path(__file__).resolve().parent.parent


def _run_setup_cell(monkeypatch, on_colab):
    calls = []

    class FakeShell:
        def run_line_magic(self, name, line):
            calls.append((name, line))

    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    code = TransformerManager().transform_cell(colab.setup_cell_source())
    exec(compile(code, "<setup cell>", "exec"), {"get_ipython": lambda: FakeShell()})
    return calls


def test_setup_cell_installs_from_the_repository_on_colab_only(monkeypatch):
    assert _run_setup_cell(monkeypatch, on_colab=False) == []
    calls = _run_setup_cell(monkeypatch, on_colab=True)
    assert len(calls) == 1 and calls[0][0] == "pip"
    assert f"git+{colab.REPOSITORY}@{colab.BRANCH}" in calls[0][1]


def test_the_repository_is_named_in_one_place():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["urls"]["Repository"] == colab.REPOSITORY
    assert pyproject["project"]["name"] in colab.setup_cell_source()


def test_badge_points_at_the_notebook_on_github():
    badge = colab.badge("notebooks/02_lenet5.ipynb")
    assert badge.startswith("[![Open In Colab](")
    assert badge.endswith(
        f"(https://colab.research.google.com/github/{colab.repository_slug()}/blob/"
        f"{colab.BRANCH}/notebooks/02_lenet5.ipynb)"
    )


RELEASED = sorted((ROOT / "assignments").glob("*/*.ipynb"))


@pytest.mark.parametrize("path", colab.notebook_paths() + colab.assignment_sources() + RELEASED,
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_notebook_opens_with_its_badge_and_the_setup_cell(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[0].cell_type == "markdown"
    assert colab.badge(colab.opened_path(path)) in nb.cells[0].source
    assert nb.cells[1].cell_type == "code"
    assert nb.cells[1].source == colab.setup_cell_source()


def test_everything_generated_is_up_to_date(capsys):
    assert colab.main(["--check"]) == 0, capsys.readouterr().out


def test_sync_repairs_a_notebook_and_the_readme(tmp_path):
    (tmp_path / "notebooks").mkdir()
    path = tmp_path / "notebooks" / "99_demo.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Demo"),
                                         nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, path)
    assert colab.sync_notebook(path, root=tmp_path, write=False)
    assert colab.sync_notebook(path, root=tmp_path)
    assert not colab.sync_notebook(path, root=tmp_path)
    fixed = nbformat.read(path, as_version=4)
    assert fixed.cells[1].source == colab.setup_cell_source()
    assert fixed.cells[2].source == "x = 1"
    (tmp_path / "README.md").write_text(
        "| [99](notebooks/99_demo.ipynb) [![Open In Colab](old.svg)](https://old) |\n")
    assert colab.sync_readme(root=tmp_path)
    assert colab.badge("notebooks/99_demo.ipynb") in (tmp_path / "README.md").read_text()
