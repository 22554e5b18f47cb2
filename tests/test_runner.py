import nbformat
import pytest

from course_utils.maintainer import runner
from course_utils.profiles import ProfileError


def _notebook(tmp_path, *sources):
    cells = [nbformat.v4.new_markdown_cell("# test")]
    cells += [nbformat.v4.new_code_cell(s) for s in sources]
    path = tmp_path / "demo.ipynb"
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def test_a_failure_names_notebook_cell_source_and_error(tmp_path):
    path = _notebook(tmp_path, "x = 1", "def f():\n    raise ValueError('boom')\nf()", "y = 2")
    out = tmp_path / "out" / "demo.ipynb"
    with pytest.raises(runner.NotebookError) as info:
        runner.execute_notebook(path, "smoke", timeout=60, output=out)
    message = str(info.value)
    assert "demo.ipynb, cell 2" in message
    assert "def f():" in message and "ValueError" in message and "boom" in message
    assert info.value.index == 2
    partial = nbformat.read(out, as_version=4)  # written up to the failure
    assert partial.cells[1].execution_count == 1 and not partial.cells[3].get("outputs")


def test_the_profile_reaches_the_kernel(tmp_path):
    path = _notebook(tmp_path, "import os\nprint(os.environ['COURSE_PROFILE'])")
    nb = runner.execute_notebook(path, "cpu", timeout=60)
    assert nb.cells[1].outputs[0]["text"].strip() == "cpu"


def test_an_unknown_profile_fails_before_a_kernel_starts(tmp_path):
    with pytest.raises(ProfileError):
        runner.execute_notebook(_notebook(tmp_path, "1"), "turbo")


def test_command_line_reports_failures_with_exit_code(tmp_path, capsys):
    bad = _notebook(tmp_path, "1/0")
    assert runner.main([str(bad), "--profile", "smoke", "--out", str(tmp_path / "o")]) == 1
    assert "ZeroDivisionError" in capsys.readouterr().err


def test_slowest_cells_are_listed_from_the_recorded_timings(tmp_path, capsys):
    path = _notebook(tmp_path, "x = 1", "import time\ntime.sleep(0.3)", "y = 2")
    assert runner.main([str(path), "--profile", "smoke", "--out", str(tmp_path / "o"),
                        "--slowest", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok ") and "cells" in lines[0]
    assert lines[1].split()[:2] == ["cell", "2"] and "import time" in lines[1]
    times = runner.cell_seconds(nbformat.read(tmp_path / "o" / "demo.ipynb", as_version=4))
    assert [t[0] for t in times][0] == 2 and times[0][1] >= 0.3 and len(times) == 3
