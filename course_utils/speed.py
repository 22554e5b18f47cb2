"""How fast a model answers and how much room it takes: CPU latency at a given batch size
(the median of repeated runs, with its spread) and the size of its weights on disk.

Every network is timed the same way: the same input size and batch, the same number of
warm-up and timed runs, the same threads (whatever the process was started with; set
``TF_NUM_INTEROP_THREADS`` / ``TF_NUM_INTRAOP_THREADS`` before Python starts to change them,
and then for every network alike).

The calls run where Keras places the model: on a machine with a GPU (the ``gpu`` profile,
Colab) that is the GPU, and the figures are GPU latencies; to time the CPU there, start
Python with ``CUDA_VISIBLE_DEVICES=""``.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import NamedTuple

import numpy as np

from course_utils.arguments import require


class Latency(NamedTuple):
    """Milliseconds per call: the median of ``runs``, and the spread between their first
    and third quartiles (a run-to-run noise that an outlier does not blow up)."""

    median_ms: float
    spread_ms: float
    runs_ms: tuple


def cpu_latency(model, *, input_shape=None, batch_size: int = 1, repeats: int = 20,
                warmup: int = 3, seed: int = 0) -> Latency:
    """Time ``model`` on random images: ``warmup`` calls first (tracing, memory), then
    ``repeats`` timed calls of ``predict_on_batch`` (the compiled inference step).

    Args:
        model: a built ``keras.Model`` with one image input.
        input_shape: ``(height, width, channels)`` when the model accepts any size; default
            the model's own.
        batch_size: images per call; 1 is what a phone or a web service answers at.
        repeats: timed calls, at least 3.
        warmup: untimed calls before them.
        seed: for the random images.

    Raises:
        ValueError: the input size is unknown or ``repeats``/``batch_size`` is too small.
    """
    if repeats < 3 or batch_size < 1 or warmup < 0:
        raise ValueError(
            f"cpu_latency: needs repeats >= 3, batch_size >= 1 and warmup >= 0; got "
            f"repeats={repeats}, batch_size={batch_size}, warmup={warmup}. Hint: a median "
            f"and a spread need several runs; 20 is a good default.")
    shape = tuple(input_shape or model.input_shape[1:])
    if None in shape or len(shape) != 3:
        raise ValueError(
            f"cpu_latency: the model's input size is {tuple(model.input_shape[1:])}, not a "
            f"fixed (height, width, channels). Hint: pass input_shape=(224, 224, 3).")
    x = np.random.default_rng(seed).uniform(0, 1, size=(batch_size, *shape)).astype("float32")
    return time_call(model.predict_on_batch, x, repeats=repeats, warmup=max(warmup, 1))


def time_call(function, *args, repeats=20, warmup=1):
    """Milliseconds per call of ``function(*args)``, timed as ``cpu_latency`` times a
    model: ``warmup`` untimed calls, then ``repeats`` timed ones; their median and the spread
    between the first and third quartiles. Time two computations with the same arguments,
    repeats and threads to compare them (the XNOR dot product against the float one).

    Args:
        function: what to time.
        *args: its arguments, made before the timing starts.
        repeats: timed calls, at least 3.
        warmup: untimed calls first (caches, lazy set-up).
    """
    require(isinstance(repeats, int) and not isinstance(repeats, bool) and repeats >= 3,
            "time_call", "repeats", "a whole number >= 3", repeats,
            "a median and a spread need several runs; 20 is a good default.")
    for _ in range(warmup):
        function(*args)
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(*args)
        runs.append((time.perf_counter() - start) * 1000)
    q1, median, q3 = np.percentile(runs, [25, 50, 75])
    return Latency(float(median), float(q3 - q1), tuple(runs))


def size_on_disk(model) -> int:
    """Bytes of the model's weights saved by Keras (``save_weights``, an HDF5 file): what a
    deployed model downloads, without the code that builds it, and without the optimizer's
    state that ``save_weights`` also writes for a trained model (Adam's two moments would
    triple the file).

    Args:
        model: a built ``keras.Model``.
    """
    import keras

    weights_only = keras.Model(model.inputs, model.outputs)  # the same layers, no optimizer
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.weights.h5")
        weights_only.save_weights(path)
        return os.path.getsize(path)
