"""Block diagrams: drawn from the builders, kept out of the user's temporary folder, and
shown as text where Graphviz is missing."""

import os
import subprocess
import sys

import pytest

from course_utils import diagrams
from course_utils.zoo.resnet import basic_block

needs_graphviz = pytest.mark.skipif(
    diagrams._plot_model_problem() is not None,
    reason="pydot or Graphviz missing: the text fallback is tested below")


def _block():
    return diagrams.block_model(basic_block, (8, 8, 4), 4, name="basic_block")


def test_block_model_wraps_one_block_and_names_it():
    model = _block()
    assert model.name == "basic_block"
    assert tuple(model.output.shape[1:]) == (8, 8, 4)
    with pytest.raises(TypeError, match="block function"):
        diagrams.block_model("basic_block", (8, 8, 4))


def test_graph_as_text_lists_every_layer_with_its_inputs():
    model = _block()
    lines = diagrams.graph_lines(model)
    assert len(lines) == len(model.layers)
    assert lines[0].startswith("block_input (InputLayer)")
    add = next(line for line in lines if "(Add)" in line)
    assert "<-" in add and "," in add  # two inputs: the shortcut and the residual branch


@needs_graphviz
def test_a_picture_is_written_where_asked(tmp_path):
    path = diagrams.draw(_block(), path=tmp_path / "block.png")
    assert path == tmp_path / "block.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@needs_graphviz
def test_temporary_pictures_are_removed_when_the_process_ends(tmp_path):
    code = ("from course_utils import diagrams\n"
            "from course_utils.zoo.resnet import basic_block\n"
            "print(diagrams.draw(diagrams.block_model(basic_block, (8, 8, 4), 4)))\n")
    env = dict(os.environ, TMPDIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    path = done.stdout.strip().splitlines()[-1]
    assert path.endswith(".png") and path.startswith(str(tmp_path)), path
    assert not os.path.exists(path), "the picture outlived the process that drew it"
    assert not os.listdir(tmp_path), f"left in the temporary folder: {os.listdir(tmp_path)}"


def test_without_graphviz_the_graph_is_printed_as_text(monkeypatch, capsys):
    monkeypatch.setattr(diagrams, "_plot_model_problem", lambda: "Graphviz is not here")
    assert diagrams.draw(_block()) is None
    out = capsys.readouterr().out
    assert "No picture: Graphviz is not here" in out
    assert "block_input (InputLayer)" in out
