"""Small and fast, measured the same way for every variant: the helpers behind lesson 16's
table of size on disk, CPU latency at batch 1 and test accuracy.

A Keras model and a LiteRT flatbuffer are measured alike (:func:`measure_keras`,
:func:`measure_litert`): the same random images (same seed and shape), the same warm-up and
timed repeats at batch 1, and the same test images for the accuracy. Every LiteRT variant
runs on the same number of CPU threads, one by default (see :func:`litert_latency`); Keras
runs on TensorFlow's (:func:`cpu_threads`), which cannot change once TensorFlow has started. :func:`table` puts the rows side by side with ratios to a
baseline row, :func:`pareto_front` says which rows no other row beats on size, latency and
accuracy at once, and :func:`plot_pareto` draws them. The networks to compress come from
:func:`copy_model`, :func:`at_input_size` (the same weights on a downsampled input, after
:func:`downsample`) and :func:`slim_conv` (channel pruning of one convolution in a
functional model); :func:`fit_recipe` trains any of them with the course's fast recipe
(a :class:`~course_utils.compress.Distiller` too, on :func:`logits_model`), and
:func:`keras_accuracy` scores a Keras model. :func:`goals` checks a row against the course's
int8 goals (3.9x smaller, 2x faster, half a point of accuracy). :func:`measure_variant`
measures a trained variant as LiteRT on TensorFlow and in Keras itself on JAX or PyTorch,
where there is no LiteRT converter.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from course_utils import env
from course_utils.arguments import require
from course_utils.speed import Latency, cpu_latency, size_on_disk, time_call

SIZE, GZIPPED, LATENCY, SPREAD, ACCURACY = ("size (bytes)", "gzipped (bytes)", "latency (ms)",
                                            "spread (ms)", "test accuracy")
COLUMNS = ("runtime", SIZE, GZIPPED, LATENCY, SPREAD, ACCURACY)


class Row(NamedTuple):
    """One variant of the table: what it is, where it runs, its bytes on disk (as saved,
    and gzipped), its batch-1 CPU latency (median and interquartile spread of the timed
    runs) and its test accuracy."""

    variant: str
    runtime: str
    size_bytes: int
    gzipped_bytes: int
    latency_ms: float
    spread_ms: float
    accuracy: float


# --- inputs -------------------------------------------------------------------------------


def downsample(images, size: int):
    """Images resized to ``size`` x ``size`` with bicubic interpolation (antialiased, as an
    image editor shrinks a photo), clipped back to [0, 1] (bicubic overshoots at edges).

    Args:
        images: float images ``(n, height, width, channels)`` in [0, 1].
        size: the new height and width, in pixels.
    """
    import keras

    require(isinstance(size, int) and size >= 4, "downsample", "size",
            "a whole number of pixels >= 4", size, "28 -> 20 or 14 keeps Fashion-MNIST "
            "readable.")
    images = np.asarray(images, dtype="float32")
    require(images.ndim == 4, "downsample", "images", "a batch (n, height, width, channels)",
            images.shape, "pass data.prepare(x), which adds the channel axis.")
    small = keras.ops.image.resize(images, (size, size), interpolation="bicubic",
                                   antialias=True)
    return np.clip(keras.ops.convert_to_numpy(small), 0.0, 1.0)


# --- networks -----------------------------------------------------------------------------


def copy_model(model, input_shape=None):
    """A trainable copy of a functional ``model`` with its weights, on a new input size if
    ``input_shape`` is given (the weights of convolutions and of a dense layer after global
    pooling do not depend on the image size).

    Args:
        model: a functional ``keras.Model``.
        input_shape: ``(height, width, channels)`` of the copy's input; default the model's.
    """
    import keras

    shape = tuple(input_shape or model.input_shape[1:])
    copy = keras.models.clone_model(model, input_tensors=keras.Input(shape))
    copy.set_weights(model.get_weights())
    copy.trainable = True
    return copy


def at_input_size(model, size: int):
    """A copy of ``model`` (its trained weights) that reads ``size`` x ``size`` images: the
    starting point of a network fine-tuned on downsampled inputs.

    Args:
        model: a functional ``keras.Model`` whose head does not depend on the image size
            (global pooling before its dense layer).
        size: the new height and width.
    """
    channels = model.input_shape[-1]
    try:
        return copy_model(model, (size, size, channels))
    except ValueError as error:
        raise ValueError(
            f"at_input_size: expected a network that accepts any image size, but "
            f"{model.name!r} failed at {size}x{size}: {error}. Hint: a Flatten before a "
            f"Dense fixes the size; global pooling does not.") from error


def slim_conv(model, layer_name: str, keep: int):
    """Channel pruning of one convolution in a functional model (Li et al. 2017, "Pruning
    Filters for Efficient ConvNets", section 3.1, arXiv:1608.08710): a copy in which
    ``layer_name`` keeps its ``keep`` filters of largest L1 norm
    (:func:`course_utils.compress.channel_importance`), and the layers that read those
    channels (batch norm, the next convolution) keep the matching weights. Every other
    weight is copied. Unlike :func:`course_utils.compress.slim_sequential_cnn`, the model
    may have branches elsewhere; the pruned convolution must feed only layers that treat
    channels one by one, up to the next convolution or dense layer (not an ``Add``).

    Args:
        model: a functional ``keras.Model``, channels last.
        layer_name: the ``Conv2D`` whose filters are pruned.
        keep: how many filters to keep.
    """
    import keras

    from course_utils.compress import channel_importance

    names = [layer.name for layer in model.layers]
    require(layer_name in names, "slim_conv", "layer_name", f"a layer of {model.name!r}",
            layer_name, "model.summary() lists the names.")
    target = model.get_layer(layer_name)
    require(isinstance(target, keras.layers.Conv2D) and target.groups == 1, "slim_conv",
            "layer_name", "an ordinary Conv2D (groups=1)", type(target).__name__,
            "prune the filters of a plain convolution.")
    require(isinstance(keep, int) and 1 <= keep <= target.filters, "slim_conv", "keep",
            f"a number of filters in 1..{target.filters}", keep,
            "keep e.g. half of the filters.")
    kept = np.sort(np.argsort(-channel_importance(target.kernel), kind="stable")[:keep])

    def clone(layer):
        config = layer.get_config()
        if layer.name == layer_name:
            config["filters"] = keep
        return type(layer).from_config(config)

    try:
        slim = keras.models.clone_model(model, clone_function=clone)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"slim_conv: pruning {layer_name!r} should leave a network whose shapes fit, "
            f"but they do not: {error}. Hint: a convolution that feeds an Add (a residual "
            f"branch) must keep all its filters; prune one inside a branch.") from error
    for old, new in zip(model.layers, slim.layers, strict=True):
        new.set_weights([_slice(np.asarray(w), tuple(v.shape), kept, target.filters)
                         for w, v in zip(old.get_weights(), new.weights, strict=True)])
    slim.trainable = True
    return slim


def _slice(weight, shape, kept, filters):
    """``weight`` cut to ``shape``: every axis that shrank from ``filters`` to the kept
    count keeps the ``kept`` indices."""
    for axis, (old, new) in enumerate(zip(weight.shape, shape, strict=True)):
        if old != new:
            require(old == filters and new == kept.size, "slim_conv", "the network",
                    f"layers after the pruned convolution whose weights have {filters} "
                    f"channels on an axis", weight.shape,
                    "prune a convolution followed by batch norm and a convolution (not a "
                    "Flatten).")
            weight = np.take(weight, kept, axis=axis)
    return weight


def logits_model(model, layer_name: str = "logits"):
    """The part of ``model`` up to its logits (sharing its layers): what
    :class:`course_utils.compress.Distiller` needs from a network that ends in a softmax.

    Args:
        model: a functional ``keras.Model``.
        layer_name: the layer that outputs the logits.
    """
    import keras

    names = [layer.name for layer in model.layers]
    require(layer_name in names, "logits_model", "layer_name", f"a layer of {model.name!r}",
            layer_name, "the dense layer before the softmax.")
    return keras.Model(model.inputs, model.get_layer(layer_name).output,
                       name=f"{model.name}_logits")


def fit_recipe(model, x, y, *, epochs: int, batch_size: int = 256, max_lr: float = 5e-3,
               label_smoothing: float = 0.1, classes: int = 10, callbacks=(),
               run_eagerly: bool = False):
    """Train ``model`` (softmax outputs, integer labels) with the course's fast recipe (see
    :mod:`course_utils.recipes`): Adam on a one-cycle schedule, label smoothing. Returns
    the model. A :class:`course_utils.compress.Distiller` trains with it too (its own loss
    replaces the cross-entropy; it reads the one-hot labels without smoothing).

    Args:
        model: a ``keras.Model`` ending in a softmax.
        x: training images.
        y: their class indices.
        epochs: passes over ``x``.
        batch_size: images per step.
        max_lr: the peak learning rate of the cycle.
        label_smoothing: 0 trains on the hard labels.
        classes: the number of classes (the labels are one-hot encoded).
        callbacks: e.g. ``compress.MagnitudePruning``.
        run_eagerly: ``P.run_eagerly``.
    """
    import keras

    from course_utils.schedules import OneCycle

    steps = epochs * int(np.ceil(len(x) / batch_size))
    model.compile(keras.optimizers.Adam(OneCycle(max_lr, steps, warmup=0.25, div_factor=10.0,
                                                 final_div=1e3)),
                  keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    model.fit(x, keras.utils.to_categorical(y, classes), batch_size=batch_size, epochs=epochs,
              shuffle=True, callbacks=list(callbacks), verbose=0)
    return model


# --- measuring ------------------------------------------------------------------------------


def cpu_threads() -> int:
    """The CPU threads Keras's backend computes with. TensorFlow: its intra-op setting, or
    every core when left at 0, its default (set ``TF_NUM_INTRAOP_THREADS`` before Python
    starts to change it). PyTorch: ``torch.get_num_threads()``. JAX: every core (XLA's CPU
    client uses them all)."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count() or 1
    if backend == "torch":
        import torch

        return torch.get_num_threads()
    return os.cpu_count() or 1


def litert_latency(flatbuffer: bytes, *, repeats: int = 20, warmup: int = 3, seed: int = 0,
                   threads: int = 1) -> Latency:
    """Milliseconds per single-image call of a LiteRT flatbuffer, timed exactly as
    :func:`course_utils.speed.cpu_latency` times a Keras model: the same random image (same
    seed and shape), ``warmup`` untimed calls, then ``repeats`` timed ones (set the input,
    invoke, read the output); the median and the interquartile spread.

    One thread by default, as LiteRT's own benchmark tool: a call of a small network lasts
    tens of microseconds, and with two threads on a busy CPU each call waits for a second
    core to be free, so the timings fall into two clusters and their median jumps between
    them from one measurement to the next.

    Args:
        flatbuffer: the bytes of a ``.tflite`` model (``quantise.to_litert``).
        repeats: timed calls, at least 3.
        warmup: untimed calls before them.
        seed: for the random image.
        threads: CPU threads; the same for every variant compared.
    """
    require(isinstance(threads, int) and threads >= 1, "litert_latency", "threads",
            "a whole number of threads >= 1", threads, "1 gives steady timings; "
            "deploy.cpu_threads() is what TensorFlow uses.")
    require(isinstance(repeats, int) and repeats >= 3, "litert_latency", "repeats",
            "a whole number >= 3", repeats, "a median and a spread need several runs; 20 is "
            "a good default.")
    from course_utils.quantise import interpreter as litert_interpreter

    interpreter = litert_interpreter(flatbuffer, threads, who="litert_latency")
    source, target = (interpreter.get_input_details()[0],
                      interpreter.get_output_details()[0])
    shape = tuple(int(n) for n in source["shape"][1:])
    x = np.random.default_rng(seed).uniform(0, 1, size=(1, *shape)).astype("float32")
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()

    def call():
        interpreter.set_tensor(source["index"], x)
        interpreter.invoke()
        return interpreter.get_tensor(target["index"])

    return time_call(call, repeats=repeats, warmup=max(warmup, 1))


def _accuracy(probabilities, y) -> float:
    return float(np.mean(np.argmax(probabilities, axis=-1) == np.asarray(y)))


def keras_accuracy(model, x_test, y_test) -> float:
    """The fraction of ``x_test`` that a Keras ``model`` classifies as ``y_test`` says
    (inference mode, batches of 500).

    Args:
        model: a ``keras.Model`` with softmax (or logit) outputs.
        x_test: test images shaped like the model's input.
        y_test: their class indices.
    """
    _check_test("keras_accuracy", x_test, y_test)
    return _accuracy(model.predict(x_test, batch_size=500, verbose=0), y_test)


def _check_test(who, x, y):
    require(len(x) == len(y) and len(x) > 0, who, "x_test, y_test",
            "the same number (> 0) of test images and labels", (len(x), len(y)),
            "pass data.prepare(x_test) and y_test sliced alike.")


def measure_keras(variant: str, model, x_test, y_test, *, repeats: int = 20,
                  warmup: int = 3) -> Row:
    """A table row for a Keras model: its weights file's bytes
    (:func:`course_utils.speed.size_on_disk`) and their gzip, its batch-1 latency
    (:func:`course_utils.speed.cpu_latency`) and its accuracy on ``x_test``.

    Args:
        variant: the row's name.
        model: a built ``keras.Model`` with softmax (or logit) outputs.
        x_test: test images shaped like the model's input.
        y_test: their class indices.
        repeats: timed calls.
        warmup: untimed calls first.
    """
    import keras

    from course_utils.compress import gzipped_size

    _check_test("measure_keras", x_test, y_test)
    latency = cpu_latency(model, repeats=repeats, warmup=warmup)
    weights_only = keras.Model(model.inputs, model.outputs)  # no optimizer state
    return Row(variant, "Keras", size_on_disk(model), gzipped_size(weights_only),
               latency.median_ms, latency.spread_ms, keras_accuracy(model, x_test, y_test))


def measure_litert(variant: str, flatbuffer: bytes, x_test, y_test, *, repeats: int = 20,
                   warmup: int = 3, threads: int = 1) -> Row:
    """A table row for a LiteRT flatbuffer, measured as :func:`measure_keras` measures a
    Keras model: its bytes and their gzip, its batch-1 latency (:func:`litert_latency`)
    and its accuracy on ``x_test`` (``quantise.litert_predict``).

    Args:
        variant: the row's name.
        flatbuffer: the bytes of a ``.tflite`` model.
        x_test: test images shaped like the model's input.
        y_test: their class indices.
        repeats: timed calls.
        warmup: untimed calls first.
        threads: CPU threads of the interpreter, the same for every row.
    """
    from course_utils.compress import gzipped_size
    from course_utils.quantise import litert_predict

    require(isinstance(flatbuffer, (bytes, bytearray)) and len(flatbuffer) > 0,
            "measure_litert", "flatbuffer", "the bytes of a .tflite model",
            type(flatbuffer).__name__, "convert with quantise.to_litert(model, mode).")
    _check_test("measure_litert", x_test, y_test)
    latency = litert_latency(bytes(flatbuffer), repeats=repeats, warmup=warmup,
                             threads=threads)
    accuracy = _accuracy(litert_predict(bytes(flatbuffer), x_test, batch_size=100), y_test)
    return Row(variant, "LiteRT", len(flatbuffer), gzipped_size(bytes(flatbuffer)),
               latency.median_ms, latency.spread_ms, accuracy)


def measure_variant(variant: str, model, x_test, y_test, *, mode: str = "float32",
                    representative=None, repeats: int = 20, warmup: int = 3) -> Row:
    """A table row for a trained Keras ``model``, deployed the way the backend allows: on
    TensorFlow converted to a LiteRT flatbuffer (``quantise.to_litert(model, mode,
    representative)``) and measured by :func:`measure_litert`; on any other backend (no
    LiteRT converter there) measured in Keras itself by :func:`measure_keras`, in float32.

    Args:
        variant: the row's name.
        model: a built ``keras.Model`` with softmax outputs.
        x_test: test images shaped like the model's input.
        y_test: their class indices.
        mode: the LiteRT mode (``quantise.MODES``); other than ``"float32"`` only on
            TensorFlow.
        representative: typical inputs, for ``mode="int8"``.
        repeats: timed calls.
        warmup: untimed calls first.

    Raises:
        env.TensorFlowRequired: a quantised ``mode`` on another backend.
    """
    import keras

    from course_utils import quantise

    require(mode in quantise.MODES, "measure_variant", "mode", f"one of {quantise.MODES}",
            mode, "float32 measures the network as trained.")
    if keras.backend.backend() != "tensorflow":
        if mode != "float32":
            env.require_tensorflow("measure_variant", f"LiteRT {mode} quantisation is "
                                   "TensorFlow's converter")
        return measure_keras(variant, model, x_test, y_test, repeats=repeats, warmup=warmup)
    flatbuffer = quantise.to_litert(model, mode, representative=representative)
    return measure_litert(variant, flatbuffer, x_test, y_test, repeats=repeats, warmup=warmup)


# --- the table and its front ------------------------------------------------------------------


def table(rows, baseline: str):
    """The rows as a DataFrame indexed by variant, with their ratios to ``baseline``:
    ``x smaller`` (baseline bytes / bytes, and the same for the gzipped bytes),
    ``x faster`` (baseline latency / latency) and ``accuracy change (points)`` (percentage
    points against the baseline's accuracy).

    Args:
        rows: :class:`Row` values (from :func:`measure_keras` / :func:`measure_litert`).
        baseline: the variant the ratios are taken to, e.g. ``"LiteRT float32"``.
    """
    import pandas as pd

    rows = list(rows)
    require(rows and all(isinstance(r, Row) for r in rows), "table", "rows",
            "a list of deploy.Row", [type(r).__name__ for r in rows][:3],
            "measure each variant with measure_keras or measure_litert.")
    names = [r.variant for r in rows]
    require(len(set(names)) == len(names), "table", "rows", "distinct variant names",
            names, "give each row its own name.")
    require(baseline in names, "table", "baseline", f"one of the variants {names}", baseline,
            "the float32 model is the usual baseline.")
    frame = pd.DataFrame([r._asdict() for r in rows]).set_index("variant")
    frame.columns = list(COLUMNS)
    base = frame.loc[baseline]
    frame["x smaller"] = base[SIZE] / frame[SIZE]
    frame["x smaller gzipped"] = base[GZIPPED] / frame[GZIPPED]
    frame["x faster"] = base[LATENCY] / frame[LATENCY]
    frame["accuracy change (points)"] = 100 * (frame[ACCURACY] - base[ACCURACY])
    return frame


def pareto_front(frame, minimise=(SIZE, LATENCY), maximise=(ACCURACY,)):
    """Which rows no other row beats: a row is off the front when another is at least as
    good on every column (smaller on ``minimise``, larger on ``maximise``) and strictly
    better on one.

    Args:
        frame: a DataFrame such as :func:`table`'s.
        minimise: the columns where less is better.
        maximise: the columns where more is better.

    Returns:
        A boolean ``pandas.Series`` indexed like ``frame``.
    """
    import pandas as pd

    columns = [*minimise, *maximise]
    missing = [c for c in columns if c not in getattr(frame, "columns", ())]
    require(not missing and len(frame) > 0, "pareto_front", "frame",
            f"a non-empty DataFrame with the columns {columns}", missing or "no rows",
            "pass deploy.table(rows, baseline).")
    costs = np.concatenate([frame[list(minimise)].to_numpy(float),
                            -frame[list(maximise)].to_numpy(float)], axis=1)
    on_front = [not np.any(np.all(costs <= row, axis=1) & np.any(costs < row, axis=1))
                for row in costs]
    return pd.Series(on_front, index=frame.index, name="on the Pareto front")


def plot_pareto(frame):
    """Test accuracy against size on disk and against batch-1 latency (with its spread),
    both on log scales, one labelled point per variant; the rows on the Pareto front of
    all three columns (:func:`pareto_front`) are filled in both panels
    (:func:`course_utils.plots.plot_pareto`).

    Args:
        frame: :func:`table`'s DataFrame.
    """
    from course_utils.plots import plot_pareto as draw

    return draw(frame, ACCURACY, [SIZE, LATENCY], front=pareto_front(frame),
                spread={LATENCY: SPREAD})


class Goal(NamedTuple):
    """One goal of a variant against the baseline: what, the target, what was measured,
    and whether it is met."""

    goal: str
    target: float
    measured: float
    met: bool


def goals(frame, variant: str, *, smaller: float = 3.9, faster: float = 2.0,
          max_loss_points: float = 0.5) -> list:
    """The int8-against-float32 goals the course sets, checked on :func:`table`'s ratios:
    at least ``smaller`` times smaller on disk, ``faster`` times faster at batch 1, and at
    most ``max_loss_points`` percentage points of test accuracy lost.

    Args:
        frame: :func:`table`'s DataFrame (its ratios are to the baseline).
        variant: the row to check, e.g. ``"LiteRT int8"``.
        smaller: the least size ratio.
        faster: the least latency ratio.
        max_loss_points: the most accuracy lost, in points.
    """
    require(variant in frame.index, "goals", "variant", f"one of {list(frame.index)}",
            variant, "name the int8 row.")
    row = frame.loc[variant]
    lost = -float(row["accuracy change (points)"])
    return [Goal("x smaller", smaller, float(row["x smaller"]), bool(row["x smaller"] >= smaller)),
            Goal("x faster", faster, float(row["x faster"]), bool(row["x faster"] >= faster)),
            Goal("accuracy points lost", max_loss_points, lost, bool(lost <= max_loss_points))]
