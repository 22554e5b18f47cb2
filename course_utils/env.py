"""The environment check that opens the course."""

from __future__ import annotations

import os
import platform
import sys


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def environment_report(verbose: bool = True) -> dict:
    """Versions, backend, GPUs, profile and where Fashion-MNIST comes from."""
    import keras
    import matplotlib
    import numpy as np
    import pandas as pd

    from course_utils import data
    from course_utils.profiles import current_profile, gpu_available

    info = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "cpu cores": os.cpu_count(),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "matplotlib": matplotlib.__version__,
    }
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        info["tensorflow"] = tf.__version__
    info["gpu"] = "yes" if gpu_available() else "no"
    info["colab"] = "yes" if in_colab() else "no"
    info["profile"] = str(current_profile())
    found = data.find_fashion_mnist()
    info["fashion-mnist"] = (
        f"{found[1]} ({found[0]})" if found else "no offline copy: Keras will download it"
    )
    if verbose:
        width = max(len(k) for k in info)
        for key, value in info.items():
            print(f"{key:<{width}}  {value}")
    return info


TENSORFLOW_ONLY_MAGIC = "tensorflow_only"


def tensorflow_for(*parts: str):
    """For a lesson's set-up cell: say which of its parts need TensorFlow itself (``tf.data``,
    LiteRT, ``tf.distribute``), and whether they run here. Returns the ``tensorflow`` module
    on the TensorFlow backend and ``None`` on any other (JAX, PyTorch: TensorFlow may not
    even be installed there), and registers the ``%%tensorflow_only`` cell magic that the
    lesson puts on top of those cells: on another backend such a cell is skipped with a
    message instead of failing.

    Args:
        parts: what needs TensorFlow, e.g. ``"the tf.data pipelines (section 3)"``.
    """
    import keras

    backend = keras.backend.backend()
    _register_tensorflow_only_magic()
    what = "; ".join(parts) or "some of its cells"
    if backend == "tensorflow":
        import tensorflow as tf

        print(f"TensorFlow {tf.__version__} runs the parts of this lesson that need it: {what}.")
        return tf
    print(f"This lesson needs TensorFlow itself for {what}. The Keras backend here is "
          f"{backend}, so the cells marked %%{TENSORFLOW_ONLY_MAGIC} are skipped, each with a "
          f"message; the rest runs as usual. To see them, run the lesson with "
          f"KERAS_BACKEND=tensorflow (Colab's default).")
    return None


def skip_message(what: str, backend: str) -> str:
    """What a skipped ``%%tensorflow_only`` cell prints."""
    return (f"Skipped on the {backend} backend: this cell needs TensorFlow itself"
            f"{f' ({what})' if what else ''}. Run the lesson with KERAS_BACKEND=tensorflow "
            f"to see it.")


def _register_tensorflow_only_magic() -> None:
    """``%%tensorflow_only [what it needs]``: run the cell on the TensorFlow backend, print
    :func:`skip_message` on any other. Does nothing outside IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return

    def tensorflow_only(line, cell):
        import keras

        backend = keras.backend.backend()
        if backend != "tensorflow":
            print(skip_message(line.strip(), backend))
            return None
        result = shell.run_cell(cell)
        result.raise_error()  # a failing cell fails the notebook, as it would without us
        return None

    shell.register_magic_function(tensorflow_only, magic_kind="cell",
                                  magic_name=TENSORFLOW_ONLY_MAGIC)


class TensorFlowRequired(RuntimeError):
    """A helper that needs TensorFlow itself (the LiteRT converter, ``tf.distribute``) was
    called where Keras runs on another backend, or where TensorFlow is not installed."""


def require_tensorflow(who: str, why: str) -> None:
    """Raise :class:`TensorFlowRequired` unless Keras runs on TensorFlow here.

    Args:
        who: the helper, e.g. ``"to_litert"``.
        why: what in it needs TensorFlow, e.g. ``"the LiteRT converter is TensorFlow's"``.
    """
    import keras

    backend = keras.backend.backend()
    if backend != "tensorflow":
        raise TensorFlowRequired(
            f"{who} needs TensorFlow itself ({why}), but the Keras backend here is "
            f"{backend}. Hint: run with KERAS_BACKEND=tensorflow (Colab's default), "
            f"TensorFlow installed; the lesson's %%tensorflow_only cells do.")
