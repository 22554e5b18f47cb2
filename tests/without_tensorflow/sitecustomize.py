"""Hide TensorFlow from every Python process started with this folder on ``PYTHONPATH``:
the backend axis (``make test-backends``) runs the course as on a machine that has Keras on
JAX or PyTorch and no TensorFlow at all, like the lent GPU machine. ``import tensorflow``
fails there as if it were not installed."""

import importlib.abc
import sys

HIDDEN = ("tensorflow", "tf_keras", "tensorboard", "ai_edge_litert")


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            raise ModuleNotFoundError(f"No module named {name!r} (hidden by the course's "
                                      f"backend axis: tests/without_tensorflow)", name=name)
        return None


sys.meta_path.insert(0, _NoTensorFlow())
