"""Hide TensorFlow from every Python process started with this folder on ``PYTHONPATH``:
the backend axis (``make test-backends``) runs the course as on a machine that has Keras on
JAX or PyTorch and no TensorFlow at all, like the lent GPU machine. ``import tensorflow``
fails there as if it were not installed.

A spec is found (with no origin: a probe such as ``importlib.util.find_spec``, which PyTorch
runs over optional packages at import, sees nothing to read) and loading it raises
``ModuleNotFoundError``."""

import importlib.abc
import importlib.machinery
import sys

HIDDEN = ("tensorflow", "tf_keras", "tensorboard", "ai_edge_litert")


class _Refuse(importlib.abc.Loader):
    def create_module(self, spec):
        raise ModuleNotFoundError(f"No module named {spec.name!r} (hidden by the course's "
                                  f"backend axis: tests/without_tensorflow)", name=spec.name)

    def exec_module(self, module):  # never reached: create_module raises
        raise ModuleNotFoundError(module.__name__)


class _NoTensorFlow(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HIDDEN:
            return importlib.machinery.ModuleSpec(name, _Refuse(), origin=None)
        return None


sys.meta_path.insert(0, _NoTensorFlow())
