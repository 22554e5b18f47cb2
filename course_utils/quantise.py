"""Post-training quantisation of a Keras CNN for CPU deployment: convert it to a LiteRT
(TensorFlow Lite) flatbuffer with float32, float16, dynamic-range int8 or full-integer int8
weights, run the flatbuffer, and see why Keras's own ``model.quantize("int8")`` is not the
path for a CNN (it quantises ``Dense`` layers and skips ``Conv2D``).

The four modes are those of the TensorFlow post-training quantisation guide
(https://ai.google.dev/edge/litert/models/post_training_quantization, formerly
tensorflow.org/lite/performance/post_training_quantization); the integer arithmetic behind
full-integer int8 is Jacob et al. 2018, "Quantization and Training of Neural Networks for
Efficient Integer-Arithmetic-Only Inference" (arXiv:1712.05877).

The converter is TensorFlow's: :func:`to_litert` runs only where Keras runs on TensorFlow,
and says so (``env.TensorFlowRequired``, raised by ``env.require_tensorflow``) on JAX or
PyTorch.
Running a flatbuffer (:func:`litert_predict`, :func:`interpreter`) needs ``ai_edge_litert``
or TensorFlow; ``keras_int8_quantize_report`` runs on every backend.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from typing import NamedTuple

import numpy as np

from course_utils.arguments import require
from course_utils.env import TensorFlowRequired, require_tensorflow

MODES = ("float32", "float16", "dynamic", "int8")


def _representative_dataset(representative):
    """A generator function the converter calls to see typical activations: one sample at a
    time, as a batch of one float32 image."""
    samples = np.asarray(representative, dtype="float32")

    def generate():
        for sample in samples:
            yield [sample[None]]

    return generate


def _converter_settings(mode: str, representative) -> dict:
    """The ``TFLiteConverter`` attributes for ``mode`` (the guide's table: one setting per
    mode). Every mode keeps to the builtin LiteRT ops, so the flatbuffer runs on the plain
    interpreter with no TensorFlow ("Flex") ops inside."""
    import tensorflow as tf

    settings = {"target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]}}
    if mode == "float32":
        return settings
    settings["optimizations"] = [tf.lite.Optimize.DEFAULT]
    if mode == "float16":
        settings["target_spec"]["supported_types"] = [tf.float16]
    elif mode == "int8":
        settings["representative_dataset"] = _representative_dataset(representative)
        settings["target_spec"]["supported_ops"] = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    return settings


def to_litert(model, mode: str = "float32", representative=None) -> bytes:
    """Convert ``model`` to a LiteRT flatbuffer (the bytes of a ``.tflite`` file).

    Modes (TensorFlow post-training quantisation guide,
    https://ai.google.dev/edge/litert/models/post_training_quantization):

    - ``"float32"``: no quantisation, the reference.
    - ``"float16"``: weights stored as float16, about half the size; computed in float32 on
      a CPU.
    - ``"dynamic"``: weights stored as int8 (about a quarter of the size); activations stay
      float and are quantised on the fly where a kernel supports it. Small tensors (under
      1024 values) stay float.
    - ``"int8"``: full-integer: weights and activations int8 (Jacob et al. 2018,
      arXiv:1712.05877). The activations' ranges are measured on ``representative``. The
      model's input and output stay float32 (the converter adds a quantise op at the start
      and a dequantise op at the end), so it is called exactly like the float model; a
      microcontroller that wants int8 in and out would set ``inference_input_type`` and
      ``inference_output_type`` to ``tf.int8`` itself.

    The conversion goes the way Keras 3 does it (``model.export(format="litert")``: a
    SavedModel, then ``tf.lite.TFLiteConverter.from_saved_model``), which works offline.
    TensorFlow's converter writes its progress to stderr (C++ logging, not Python warnings).

    Args:
        model: a built ``keras.Model`` with one input of fixed size.
        mode: one of ``"float32"``, ``"float16"``, ``"dynamic"``, ``"int8"``.
        representative: for ``"int8"`` only (and required there): an array of typical
            inputs, ``(n, *input_shape)``; a hundred or so training images are plenty.

    Raises:
        ValueError: an unknown mode, or ``"int8"`` without a usable representative set.
        TensorFlowRequired: Keras runs on another backend than TensorFlow.
    """
    require(mode in MODES, "to_litert", "mode", f"one of {MODES}", mode,
            "float16 halves the file; dynamic and int8 quarter it.")
    require_tensorflow("to_litert", "Keras exports LiteRT through a TensorFlow SavedModel and "
                       "TensorFlow's converter")
    if mode == "int8":
        shape = tuple(model.input_shape[1:])
        got = None if representative is None else np.shape(representative)
        require(got is not None and len(got) == len(shape) + 1 and got[0] > 0
                and got[1:] == shape, "to_litert", "representative",
                f"an array of sample inputs shaped (n, {', '.join(map(str, shape))}) for "
                f"mode='int8'", got,
                "full-integer int8 needs typical inputs to measure each activation's range; "
                "pass e.g. x_train[:100], or use mode='dynamic', which needs none.")
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "model.tflite")
        model.export(path, format="litert", verbose=False,
                     **_converter_settings(mode, representative))
        with open(path, "rb") as file:
            return file.read()


def interpreter(flatbuffer: bytes, threads: int | None = None, *, who: str = "interpreter"):
    """A LiteRT interpreter for ``flatbuffer``: ``ai_edge_litert``'s where it is installed
    (the maintained one, which needs no TensorFlow), else ``tf.lite.Interpreter``, whose
    deprecation warning is swallowed here because there is no other choice without that
    package.

    Args:
        flatbuffer: the bytes of a ``.tflite`` model.
        threads: CPU threads of the interpreter; None leaves LiteRT's default.
        who: the helper that asks, named in the error.

    Raises:
        TensorFlowRequired: neither ``ai_edge_litert`` nor TensorFlow can be imported.
    """
    options = {} if threads is None else {"num_threads": threads}
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            import tensorflow as tf
        except ImportError as error:
            raise TensorFlowRequired(
                f"{who} needs a LiteRT interpreter to run a .tflite flatbuffer, but neither "
                f"ai_edge_litert nor TensorFlow can be imported here ({error}). Hint: run "
                f"with KERAS_BACKEND=tensorflow and TensorFlow installed, or pip install "
                f"ai-edge-litert.") from error
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
            return tf.lite.Interpreter(model_content=flatbuffer, **options)
    return Interpreter(model_content=flatbuffer, **options)


def litert_predict(flatbuffer: bytes, x, batch_size: int = 1) -> np.ndarray:
    """Run the flatbuffer from ``to_litert`` on ``x``, ``batch_size`` samples per call (the
    input tensor is resized to each batch), and return its float32 output.

    Args:
        flatbuffer: the bytes of a ``.tflite`` model with one input and one output.
        x: inputs, ``(n, *input_shape)``.
        batch_size: samples per call; 1 is what a phone answers at.

    Raises:
        ValueError: ``batch_size`` is below 1.
        TensorFlowRequired: no LiteRT interpreter here (neither ``ai_edge_litert`` nor
            TensorFlow).
    """
    require(batch_size >= 1, "litert_predict", "batch_size", "at least 1", batch_size,
            "1 runs one sample per call, as on a phone.")
    x = np.asarray(x, dtype="float32")
    runner = interpreter(flatbuffer, who="litert_predict")
    source = runner.get_input_details()[0]["index"]
    target = runner.get_output_details()[0]["index"]
    outputs, shape = [], None
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size]
        if batch.shape != shape:  # resizing and allocating only when the batch changes
            runner.resize_tensor_input(source, batch.shape)
            runner.allocate_tensors()
            shape = batch.shape
        runner.set_tensor(source, batch)
        runner.invoke()
        outputs.append(np.array(runner.get_tensor(target), dtype="float32"))
    return np.concatenate(outputs)


class LayerSize(NamedTuple):
    """One layer's weights in bytes, before and after ``model.quantize``."""

    name: str
    kind: str
    bytes_before: int
    bytes_after: int


class KerasQuantizeReport(NamedTuple):
    """What Keras's ``model.quantize("int8")`` did: the layers it quantised, the layers with
    weights it skipped, the total weight bytes before and after, and the warnings it gave."""

    quantised: tuple
    skipped: tuple
    bytes_before: int
    bytes_after: int
    warnings: tuple


def _weight_bytes(layer) -> int:
    """Bytes of a layer's own weights, at their stored dtype (int8 kernels count 1 byte)."""
    return int(sum(np.prod(w.shape, dtype=int) * np.dtype(w.dtype).itemsize
                   for w in layer.weights))


def keras_int8_quantize_report(model) -> KerasQuantizeReport:
    """Apply Keras 3's ``model.quantize("int8")`` to a copy of ``model`` and report which
    layers it quantised and which it skipped.

    Keras quantises the weights of the layers that implement ``quantize`` (``Dense``,
    ``EinsumDense``, ``Embedding``: the layers of a transformer) and skips every other layer,
    ``Conv2D`` included, with a warning per layer. In a CNN most weights are convolutions,
    so for CPU deployment the LiteRT converter (``to_litert``) is the path. Keras's
    warnings are recorded in the report rather than printed. (Keras documentation,
    https://keras.io/api/models/model/#quantize-method.)

    Args:
        model: a built Functional or Sequential ``keras.Model``; it is left unchanged.
    """
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    before = {layer.name: _weight_bytes(layer) for layer in copy.layers}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copy.quantize("int8")
    quantised, skipped = [], []
    for layer in copy.layers:
        if not layer.weights:
            continue
        size = LayerSize(layer.name, type(layer).__name__, before[layer.name],
                         _weight_bytes(layer))
        (quantised if getattr(layer, "quantization_mode", None) else skipped).append(size)
    return KerasQuantizeReport(
        quantised=tuple(quantised), skipped=tuple(skipped),
        bytes_before=sum(before.values()),
        bytes_after=sum(_weight_bytes(layer) for layer in copy.layers),
        warnings=tuple(str(w.message) for w in caught))
