"""Block diagrams drawn from the course's own builders.

``block_model`` wraps one block function (``bottleneck_block``, ``inception_module``, ...) in a
small functional model, and ``draw`` draws any functional model as a graph of its layers with
``keras.utils.plot_model`` (pydot + Graphviz). Where pydot or Graphviz is missing, ``draw``
says so and prints the same graph as text, so the notebook goes on.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

_FOLDER = None  # this process's folder of pictures, removed when the process ends


def _picture_path(name: str) -> str:
    global _FOLDER
    if _FOLDER is None:
        _FOLDER = tempfile.mkdtemp(prefix="course-diagrams-")
        atexit.register(shutil.rmtree, _FOLDER, True)
    handle, path = tempfile.mkstemp(suffix=".png", prefix=f"{name}-", dir=_FOLDER)
    os.close(handle)
    return path


def block_model(block, input_shape, *args, name=None, **kwargs):
    """A ``keras.Model`` from ``keras.Input(input_shape)`` through ``block(x, *args, **kwargs)``.

    Args:
        block: a block function of the zoo, called as ``block(x, *args, **kwargs)``.
        input_shape: the shape of one example, e.g. ``(28, 28, 256)``.
        name: the model's name (default: the block function's name).
    """
    import keras

    if not callable(block):
        raise TypeError(f"block must be a block function such as zoo.resnet.bottleneck_block; "
                        f"got {type(block).__name__}.")
    inputs = keras.Input(tuple(input_shape), name="block_input")
    outputs = block(inputs, *args, **kwargs)
    return keras.Model(inputs, outputs, name=name or getattr(block, "__name__", "block"))


def graph_lines(model) -> list[str]:
    """The graph as text: one line per layer, ``name (Type) <- inputs``, inputs first."""
    from course_utils.grading import inbound_layer_names

    lines = []
    for layer in model.layers:
        feeds = inbound_layer_names(layer)
        arrow = f"  <- {', '.join(feeds)}" if feeds else ""
        lines.append(f"{layer.name} ({type(layer).__name__}){arrow}")
    return lines


def _plot_model_problem() -> str | None:
    """Why ``keras.utils.plot_model`` cannot draw here, or None if it can."""
    try:
        import pydot  # noqa: F401
    except ImportError:
        return "pydot is not installed (pip install pydot)"
    if shutil.which("dot") is None:
        return "Graphviz's `dot` is not on PATH (Debian/Ubuntu: apt-get install graphviz)"
    return None


def draw(model, show_shapes: bool = True, rankdir: str = "TB", dpi: int = 64, path=None):
    """Draw ``model``'s layer graph as a PNG.

    In a notebook the picture is displayed and nothing is returned (no file name in the
    cell's output) unless ``path`` was given; elsewhere the PNG's path is returned. Without
    pydot or Graphviz the cell prints why, then the graph as text (:func:`graph_lines`),
    and returns None.

    Args:
        model: a functional ``keras.Model`` (for one block, see :func:`block_model`).
        show_shapes: write each layer's output shape in its box.
        rankdir: ``"TB"`` top to bottom or ``"LR"`` left to right.
        dpi: resolution of the picture.
        path: where to write the PNG, returned (default: a temporary file, removed when
            the Python process ends).
    """
    import keras

    problem = _plot_model_problem()
    if problem is not None:
        print(f"(No picture: {problem}. The graph as text instead:)")
        print("\n".join(graph_lines(model)))
        return None
    asked = path is not None
    if not asked:
        path = _picture_path(model.name)
    keras.utils.plot_model(model, to_file=str(path), show_shapes=show_shapes,
                           show_layer_names=True, rankdir=rankdir, dpi=dpi)
    try:
        from IPython import get_ipython
        from IPython.display import Image, display

        if get_ipython() is not None:
            display(Image(filename=str(path)))
            return path if asked else None
    except ImportError:
        pass
    return path
