import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils import env


def test_environment_report_says_what_the_course_needs(capsys):
    info = env.environment_report()
    for key in ("python", "keras", "backend", "gpu", "colab", "profile", "fashion-mnist"):
        assert key in info, key
    assert ("tensorflow" in info) == (info["backend"] == "tensorflow"), info
    assert info["keras"].startswith("3.")
    assert info["gpu"] == "no" and info["colab"] == "no"
    assert info["profile"].startswith("smoke")
    printed = capsys.readouterr().out
    assert "keras" in printed and info["backend"] in printed


def test_in_colab_follows_the_google_colab_module(monkeypatch):
    import types

    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert env.in_colab() is False
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    assert env.in_colab() is True


def _command(name):
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed; `make setup` installs it"
    return found


def test_jupyterlab_and_nbgrader_are_installed_beside_the_tests():
    for command in ([_command("jupyter"), "lab", "--version"], [_command("nbgrader"), "--version"]):
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def _notebook_with_tensorflow_only_cells(path):
    import nbformat

    cells = ["import course_utils\nfrom course_utils import env\n"
             "tf = env.tensorflow_for('a tf.data pipeline')",
             "%%tensorflow_only the pipeline\nimport tensorflow\n"
             "ran = tensorflow.data.Dataset.range(3).reduce(tensorflow.constant(0, tensorflow.int64), lambda a, b: a + b).numpy()\n"
             "print('sum', ran)",
             "print('after: tf is', 'a module' if tf else None)",
             "%%tensorflow_only\nraise ValueError('a real error inside')"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, path)
    return path


def _text(cell):
    return "".join(o.get("text", "") for o in cell.outputs)


@pytest.mark.parametrize("backend", [
    pytest.param("tensorflow", marks=pytest.mark.tensorflow("runs a kernel on TensorFlow")),
    "jax"])
def test_tensorflow_only_cells_run_on_tensorflow_and_are_skipped_elsewhere(backend, tmp_path):
    """A lesson that needs TensorFlow for some cells says so in its set-up cell; on another
    backend those cells print why they were skipped, and the rest of the lesson runs."""
    from course_utils.maintainer.runner import NotebookError, execute_notebook

    path = _notebook_with_tensorflow_only_cells(tmp_path / "lesson.ipynb")
    if backend == "tensorflow":
        with pytest.raises(NotebookError) as failed:  # the last cell's error is not swallowed
            execute_notebook(path, "smoke", timeout=120, output=tmp_path / "out.ipynb",
                             extra_env={"KERAS_BACKEND": backend})
        assert "a real error inside" in str(failed.value)
        import nbformat

        cells = nbformat.read(tmp_path / "out.ipynb", as_version=4).cells
        assert "runs the parts of this lesson that need it" in _text(cells[0])
        assert "sum 3" in _text(cells[1]), _text(cells[1])
        assert "tf is a module" in _text(cells[2])
        return
    cells = execute_notebook(path, "smoke", timeout=120,
                             extra_env={"KERAS_BACKEND": backend}).cells
    assert f"The Keras backend here is {backend}" in _text(cells[0]), _text(cells[0])
    for index in (1, 3):
        assert _text(cells[index]).startswith(f"Skipped on the {backend} backend"), \
            _text(cells[index])
    assert "(the pipeline)" in _text(cells[1])
    assert "tf is None" in _text(cells[2])
