"""Binarised networks for Keras 3 (larq needs Keras 2): the straight-through sign, binary
dense and convolution layers, bit-packed storage and the XNOR + popcount dot product.

Papers:

* BNN: Hubara, Courbariaux, Soudry, El-Yaniv and Bengio, "Binarized Neural Networks",
  NeurIPS 2016, arXiv:1602.02830. Weights and activations are binarised with ``sign``
  (section 1.1, eq. 1), gradients pass "straight through" the sign where ``|x| <= 1``
  (section 1.3), and the real-valued weights the optimizer updates are clipped to [-1, 1]
  (Algorithm 1).
* XNOR-Net: Rastegari, Ordonez, Redmon and Farhadi, "XNOR-Net: ImageNet Classification Using
  Binary Convolutional Neural Networks", ECCV 2016, arXiv:1603.05279. Each output channel's
  binary filter is scaled by ``alpha = mean(|W|)`` (section 3.1, eq. 6), and the dot product
  of two +-1 vectors is an XNOR and a bit count (section 3.2).

The layers, and ``binary_cnn`` / ``float_twin_cnn`` (a small binarised Fashion-MNIST network
and its full-precision twin), use only ``keras`` and ``keras.ops`` (they run on every
backend); the storage, the XNOR arithmetic use NumPy.
"""

from __future__ import annotations

import json
import math
from typing import NamedTuple

import keras
import numpy as np
from keras import ops

from course_utils.arguments import positive_pair, require
from course_utils.keras_graph import all_layers

SCALES = ("none", "channel")
PADDINGS = ("same", "valid")


# ---------------------------------------------------------------- the straight-through sign

def binary_sign(x):
    """``sign`` with no zero: +1 where ``x >= 0``, -1 elsewhere (BNN, section 1.1, eq. 1).
    No gradient of its own (it is a step); ``sign_ste`` gives it one.

    Args:
        x: a tensor; the result has its dtype and shape.
    """
    # not ones_like(x): JAX's refuses a keras.Variable (a layer's kernel) outside fit
    return ops.cast(ops.where(x >= 0, 1.0, -1.0), keras.backend.standardize_dtype(x.dtype))


def sign_ste(x):
    """``binary_sign`` in the forward pass, the "hard tanh" straight-through estimator in the
    backward pass (BNN, section 1.3): the gradient is passed on unchanged where ``|x| <= 1``
    and cancelled (0) where ``|x| > 1``.

    Forward: ``sign + (clip(x) - stop_gradient(clip(x)))`` is exactly the sign (the bracket
    is exactly 0); backward: the gradient of ``clip(x, -1, 1)``. At ``|x| == 1`` exactly the
    backends may differ (TensorFlow passes the whole gradient there).

    Args:
        x: a tensor (weights or activations).
    """
    clipped = ops.clip(x, -1.0, 1.0)
    return ops.stop_gradient(binary_sign(x)) + (clipped - ops.stop_gradient(clipped))


@keras.saving.register_keras_serializable(package="course_utils")
class WeightClip(keras.constraints.Constraint):
    """Clip every weight to ``[-limit, limit]`` after each optimizer step: BNN clips the
    real-valued weights to [-1, 1] (Algorithm 1), since beyond that the straight-through
    gradient is 0 and the weight could grow without changing its sign.

    Args:
        limit: positive number; 1.0 for BNN.
    """

    def __init__(self, limit=1.0):
        if not isinstance(limit, (int, float)) or isinstance(limit, bool) or limit <= 0:
            raise ValueError(
                f"WeightClip: limit is the largest |weight|, a number > 0; got "
                f"limit={limit!r}. Hint: BNN clips the latent weights to [-1, 1]: limit=1.0.")
        self.limit = float(limit)

    def __call__(self, w):
        return ops.clip(w, -self.limit, self.limit)

    def get_config(self):
        return {"limit": self.limit}


# ---------------------------------------------------------------- the binary layers

def _check_choice(layer_name, name, value, choices, hint):
    if value not in choices:
        raise ValueError(f"{layer_name}: {name} is one of {choices}; got {name}={value!r}. "
                         f"Hint: {hint}")
    return value


def _check_positive_int(layer_name, name, value, hint):
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{layer_name}: {name} is a positive integer; got {name}={value!r}. "
                         f"Hint: {hint}")
    return value


def _check_bool(layer_name, name, value, hint):
    if not isinstance(value, bool):
        raise ValueError(f"{layer_name}: {name} is True or False; got {name}={value!r}. "
                         f"Hint: {hint}")
    return value


class _BinaryKernel(keras.layers.Layer):
    """What the binary layers share: a latent real kernel clipped to [-1, 1], binarised by
    ``sign_ste`` in the forward pass; optional binary inputs; optional XNOR-Net scaling.
    Subclasses create ``self.kernel`` (output channels last) and define ``_product``."""

    def __init__(self, binarize_inputs=True, scale="none", use_bias=False,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        self.binarize_inputs = _check_bool(
            name, "binarize_inputs", binarize_inputs,
            "BNN binarises the inputs of every layer but the first (binarize_inputs=False).")
        self.scale = _check_choice(name, "scale", scale, SCALES,
                                   'scale="channel" is XNOR-Net\'s alpha = mean(|W|) per '
                                   'output channel; scale="none" is BNN\'s plain sign.')
        self.use_bias = _check_bool(
            name, "use_bias", use_bias, "BNN puts batch normalisation after the layer instead "
            "of a bias (use_bias=False, the default).")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def _add_kernel(self, shape):
        self.kernel = self.add_weight(shape=shape, initializer=self.kernel_initializer,
                                      constraint=WeightClip(1.0), name="kernel")
        self.bias = (self.add_weight(shape=shape[-1:], initializer=self.bias_initializer,
                                     name="bias") if self.use_bias else None)

    def scaling_factors(self):
        """XNOR-Net's ``alpha``, one per output channel: ``mean(|W|)`` over the kernel's
        other axes (section 3.1, eq. 6), differentiable in ``W``; ``None`` when
        ``scale="none"``. Written ``m * mean(|W| / m)`` with ``m = max(|W|)``: the same
        number, but exactly ``a`` for a kernel of ``+-a`` (what ``load_packed`` restores)."""
        if self.scale == "none":
            return None
        magnitude = ops.abs(self.kernel)
        axes = tuple(range(len(self.kernel.shape) - 1))
        largest = ops.maximum(ops.max(magnitude, axis=axes), 1e-30)
        # |W| / max|W| is exactly 1 at the maximum, even where XLA divides by multiplying
        # with a reciprocal (JAX): a kernel of +-a then gives exactly a
        ratio = ops.where(magnitude == largest, 1.0, magnitude / largest)
        return largest * ops.mean(ratio, axis=axes)

    def call(self, inputs):
        dtype = self.compute_dtype
        inputs = ops.cast(inputs, dtype)
        if self.binarize_inputs:
            inputs = sign_ste(inputs)
        # the sign of the float32 variable, then the cast (+-1 is exact in every dtype)
        outputs = self._product(inputs, ops.cast(sign_ste(self.kernel), dtype))
        alpha = self.scaling_factors()
        if alpha is not None:  # (sign(x) * sign(W)) * alpha: XNOR-Net section 3.2
            outputs = outputs * ops.cast(alpha, dtype)
        if self.bias is not None:
            outputs = outputs + ops.cast(self.bias, dtype)
        return outputs

    def get_config(self):
        return {**super().get_config(), "binarize_inputs": self.binarize_inputs,
                "scale": self.scale, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}


@keras.saving.register_keras_serializable(package="course_utils")
class BinaryDense(_BinaryKernel):
    """A dense layer with binary weights, and binary inputs by default (BNN, section 1.1;
    with ``scale="channel"``, XNOR-Net's binary-weight scaling, section 3.1).

    The kernel the optimizer updates stays real-valued (clipped to [-1, 1] after each step,
    BNN Algorithm 1); the forward pass uses ``sign_ste(kernel)``, so gradients reach it
    straight through. No bias by default: batch normalisation follows in BNN practice.

    Args:
        units: output size, a positive integer.
        binarize_inputs: binarise the inputs with ``sign_ste`` (True, the default, BNN's
            binary activations); False for the first layer, which sees real inputs.
        scale: ``"none"`` (BNN: ``sign(x) @ sign(W)``) or ``"channel"`` (XNOR-Net: times
            ``alpha = mean(|W|)`` per output unit).
        use_bias: add a (real) bias; False by default.
        kernel_initializer: initialiser of the latent kernel.
        bias_initializer: initialiser of the bias, if any.
        **kwargs: ``keras.layers.Layer``'s arguments (``name``, ``dtype``...).
    """

    def __init__(self, units, binarize_inputs=True, scale="none", **kwargs):
        self.units = _check_positive_int("BinaryDense", "units", units,
                                         "BinaryDense(256) for 256 outputs.")
        super().__init__(binarize_inputs=binarize_inputs, scale=scale, **kwargs)

    def build(self, input_shape):
        self._add_kernel((input_shape[-1], self.units))

    def _product(self, inputs, kernel):
        return ops.matmul(inputs, kernel)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape)[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _conv_length(length, kernel, stride, padding):
    if length is None:
        return None
    if padding == "same":
        return -(-length // stride)
    return max(0, (length - kernel) // stride + 1)


@keras.saving.register_keras_serializable(package="course_utils")
class BinaryConv2D(_BinaryKernel):
    """A 2-D convolution with binary weights, and binary inputs by default (BNN, section 1.1;
    with ``scale="channel"``, XNOR-Net's per-filter scaling, section 3.1). Channels last.

    The kernel the optimizer updates stays real-valued (clipped to [-1, 1] after each step);
    the forward pass uses ``sign_ste(kernel)``. With ``padding="same"`` the border is padded
    with zeros after the inputs are binarised, as in a float convolution: the padding is
    then neither +1 nor -1 (an XNOR kernel needs it to be one of them, e.g. -1 as larq's
    ``pad_values`` allows; ``padding="valid"`` avoids the question).

    Args:
        filters: number of output channels, a positive integer.
        kernel_size: an integer or a pair (rows, columns).
        strides: an integer or a pair; 1 by default.
        padding: ``"same"`` (default) or ``"valid"``.
        binarize_inputs: binarise the inputs with ``sign_ste`` (True, the default); False
            for the first layer, which sees real images.
        scale: ``"none"`` (BNN) or ``"channel"`` (XNOR-Net's ``alpha = mean(|W|)`` per
            filter, over its rows, columns and input channels).
        **kwargs: ``use_bias``, the initialisers, and ``keras.layers.Layer``'s arguments.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="same", binarize_inputs=True,
                 scale="none", **kwargs):
        name = "BinaryConv2D"
        self.filters = _check_positive_int(name, "filters", filters,
                                           "BinaryConv2D(64, 3) for 64 filters of 3x3.")
        self.kernel_size = positive_pair(name, "kernel_size", kernel_size, 3)
        self.strides = positive_pair(name, "strides", strides)
        self.padding = _check_choice(name, "padding", padding, PADDINGS,
                                     'padding="same" keeps the size at stride 1.')
        super().__init__(binarize_inputs=binarize_inputs, scale=scale, **kwargs)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[-1] is None:
            raise ValueError(
                f"BinaryConv2D: the input is (batch, rows, columns, channels) with a known "
                f"number of channels; got shape {tuple(input_shape)}. Hint: channels last; "
                f"add a channel axis to grey images.")
        self._add_kernel((*self.kernel_size, input_shape[-1], self.filters))

    def _product(self, inputs, kernel):
        return ops.conv(inputs, kernel, strides=self.strides, padding=self.padding,
                        data_format="channels_last")

    def compute_output_shape(self, input_shape):
        rows, cols = (_conv_length(n, k, s, self.padding)
                      for n, k, s in zip(input_shape[1:3], self.kernel_size, self.strides))
        return (input_shape[0], rows, cols, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding}


# ---------------------------------------------------------------- a binarised CNN and its twin

def _check_widths(who, widths):
    ok = (isinstance(widths, (tuple, list)) and len(widths) == 3
          and all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths))
    require(ok, who, "widths", "three positive integers (the real first convolution, the "
            "binary convolution, the binary dense layer)", widths,
            "widths=(32, 64, 256), the course's default.")
    return tuple(widths)


def _small_cnn(binary, widths, input_shape, classes, scale, name):
    """The layout both networks share; ``binary`` picks binary layers and sign activations
    or float layers and ReLU."""
    first, conv, dense = widths
    layers = keras.layers

    def batch_norm(name):  # Keras's 0.99 leaves the running statistics far off in a few epochs
        return layers.BatchNormalization(momentum=0.9, name=name)

    inputs = keras.Input(input_shape)
    x = layers.Conv2D(first, 3, padding="same", use_bias=False, name="first_conv")(inputs)
    x = batch_norm("first_bn")(layers.MaxPooling2D(name="first_pool")(x))
    if binary:  # the sign comes with the next layer (binarize_inputs=True)
        x = BinaryConv2D(conv, 3, padding="valid", scale=scale, name="conv")(x)
    else:
        x = layers.Conv2D(conv, 3, padding="valid", use_bias=False,
                          name="conv")(layers.ReLU(name="first_relu")(x))
    x = batch_norm("conv_bn")(layers.MaxPooling2D(name="conv_pool")(x))
    x = layers.Flatten(name="flatten")(x)
    if binary:
        x = BinaryDense(dense, scale=scale, name="dense")(x)
    else:
        x = layers.Dense(dense, use_bias=False, name="dense")(layers.ReLU(name="conv_relu")(x))
    x = batch_norm("dense_bn")(x)
    x = (layers.Activation(sign_ste, name="dense_sign") if binary
         else layers.ReLU(name="dense_relu"))(x)
    outputs = layers.Dense(classes, activation="softmax", name="classifier")(x)
    return keras.Model(inputs, outputs, name=name)


def binary_cnn(*, widths=(32, 64, 256), scale="none", input_shape=(28, 28, 1), classes=10,
               name="binary_cnn"):
    """A small binarised CNN for Fashion-MNIST, in the BNN training practice: the first
    layer (real images in) and the last (the classifier) keep real weights, the two between
    are binary with binary inputs, each followed by batch normalisation, whose output the
    next layer binarises with ``sign_ste`` (BNN, sections 1.1-1.6; XNOR-Net's block order,
    section 3.2: batch norm, binary activation, binary convolution, pooling). Train it with
    Adam (BNN Algorithm 1); the binary kernels are clipped to [-1, 1] by ``WeightClip``.

    Layers: real 3x3 convolution (``widths[0]``, "same"), max pooling, batch norm; binary
    3x3 convolution (``widths[1]``, "valid": no zero padding, every input is +-1), max
    pooling, batch norm; flatten; binary dense (``widths[2]``), batch norm, sign; real dense
    softmax classifier. :func:`float_twin_cnn` is the same network in full precision.

    Args:
        widths: channels of the real first convolution, the binary convolution, and units
            of the binary dense layer.
        scale: ``"none"`` (BNN's plain sign) or ``"channel"`` (XNOR-Net's ``alpha =
            mean(|W|)`` per output channel, section 3.1) for both binary layers.
        input_shape: ``(rows, columns, channels)`` of the images.
        classes: number of classes.
        name: the model's name.
    """
    widths = _check_widths("binary_cnn", widths)
    _check_choice("binary_cnn", "scale", scale, SCALES,
                  'scale="channel" for XNOR-Net\'s factors, scale="none" for BNN.')
    return _small_cnn(True, widths, input_shape, classes, scale, name)


def float_twin_cnn(*, widths=(32, 64, 256), input_shape=(28, 28, 1), classes=10,
                   name="float_twin_cnn"):
    """The full-precision twin of :func:`binary_cnn`: the same layers, widths, batch norms
    and poolings, with float convolution and dense layers and ReLU where the binary network
    takes the sign: what binarising costs is the difference between the two.

    Args:
        widths: as for :func:`binary_cnn`.
        input_shape: ``(rows, columns, channels)`` of the images.
        classes: number of classes.
        name: the model's name.
    """
    widths = _check_widths("float_twin_cnn", widths)
    return _small_cnn(False, widths, input_shape, classes, "none", name)


# ---------------------------------------------------------------- bit-packed storage

class PackedWeight(NamedTuple):
    """One stored weight: ``data`` is ``numpy.packbits`` of ``kernel >= 0`` (uint8) for a
    binary kernel, the values as float32 otherwise; ``shape`` is the weight's shape."""

    data: np.ndarray
    shape: tuple


def binary_layers(model):
    """The built binary layers (``BinaryDense``, ``BinaryConv2D``) of ``model``, in order,
    nested models included; ``[model]`` when ``model`` is itself one.

    Args:
        model: a Keras model or layer.
    """
    layers = [model, *(all_layers(model) if hasattr(model, "layers") else ())]
    return [layer for layer in layers if isinstance(layer, _BinaryKernel) and layer.built]


def _binary_kernels(model):
    """``id(kernel) -> layer`` for every binary layer of ``model``."""
    return {id(layer.kernel): layer for layer in binary_layers(model)}


def pack_signs(values):
    """Bit-pack ``values >= 0`` (1 for +1, 0 for -1) along the last axis: 8 signs a byte,
    the first in the highest bit, the last byte padded with zeros (``numpy.packbits``).

    Args:
        values: array of reals (or +-1); its last axis is packed.
    """
    return np.packbits(np.asarray(values) >= 0, axis=-1)


def unpack_signs(bits, shape):
    """The +-1 array (float32) of ``shape`` whose signs ``pack_signs`` packed (flattened).

    Args:
        bits: uint8 array from ``pack_signs`` of the flattened values.
        shape: the shape of the values.
    """
    flat = np.unpackbits(np.asarray(bits, dtype=np.uint8), count=math.prod(shape))
    return np.where(flat == 1, 1.0, -1.0).astype("float32").reshape(shape)


def pack_binary_weights(model):
    """Every weight of ``model``, in ``model.weights`` order, keyed by its path: a binary
    layer's kernel as its signs, bit-packed (BNN's 1 bit a weight), and, for
    ``scale="channel"``, its XNOR-Net factors ``alpha`` under ``"<kernel path>:alpha"``;
    every other weight (batch norm, float layers, biases) as float32.

    Args:
        model: a built Keras model (or layer) holding binary layers.

    Returns:
        ``dict[str, PackedWeight]``; a ``PackedWeight`` is a ``(data, shape)`` tuple.
    """
    binary = _binary_kernels(model)
    packed = {}
    for weight in model.weights:
        if weight.path in packed:
            raise ValueError(
                f"pack_binary_weights: every weight needs its own path; got "
                f"{weight.path!r} twice. Hint: give the layers distinct names.")
        values = np.asarray(ops.convert_to_numpy(weight), dtype="float32")
        layer = binary.get(id(weight))
        if layer is None:
            packed[weight.path] = PackedWeight(values, values.shape)
            continue
        packed[weight.path] = PackedWeight(pack_signs(values.ravel()), values.shape)
        alpha = layer.scaling_factors()
        if alpha is not None:
            alpha = np.asarray(ops.convert_to_numpy(alpha), dtype="float32")
            packed[f"{weight.path}:alpha"] = PackedWeight(alpha, alpha.shape)
    return packed


def packed_size_bytes(model):
    """Bytes of the packed payload (bits, factors and float32 weights; no file headers).

    Args:
        model: a built Keras model (or layer).
    """
    return sum(entry.data.nbytes for entry in pack_binary_weights(model).values())


def float32_size_bytes(model):
    """Bytes of all of ``model``'s weights stored as float32: the baseline for the packing.

    Args:
        model: a built Keras model (or layer).
    """
    return sum(4 * math.prod(weight.shape) for weight in model.weights)


class LayerStorage(NamedTuple):
    """The storage of one binary layer's weights: as float32, and packed (1 bit a binary
    weight, plus float32 factors ``alpha`` and bias, if any)."""

    layer: str
    weights: int
    float32_bytes: int
    packed_bytes: int


def binary_layer_storage(model):
    """One :class:`LayerStorage` per binary layer of ``model``, in order: what BNN and
    XNOR-Net's "32x smaller" is about (BNN section 3; XNOR-Net's abstract), the real
    first and last layers and the batch norms left out.

    Args:
        model: a built Keras model (or a binary layer).
    """
    return [LayerStorage(layer.name, sum(math.prod(w.shape) for w in layer.weights),
                         float32_size_bytes(layer), packed_size_bytes(layer))
            for layer in binary_layers(model)]


def save_packed(model, path):
    """Write ``pack_binary_weights(model)`` to ``path`` (an uncompressed ``.npz``): array
    ``w<i>`` for entry ``i`` and a JSON manifest (UTF-8 bytes) of the paths and shapes, in
    order.

    Args:
        model: a built Keras model (or layer).
        path: file to write (NumPy adds ``.npz`` if missing).
    """
    packed = pack_binary_weights(model)
    manifest = [{"path": key, "shape": list(entry.shape), "bits": entry.data.dtype == np.uint8}
                for key, entry in packed.items()]
    arrays = {f"w{i}": entry.data for i, entry in enumerate(packed.values())}
    manifest = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)  # 1 byte a char
    np.savez(path, manifest=manifest, **arrays)


def read_packed(path):
    """The ``dict[str, PackedWeight]`` that ``save_packed`` wrote to ``path``.

    Args:
        path: an ``.npz`` file from ``save_packed``.
    """
    with np.load(path, allow_pickle=False) as stored:
        manifest = json.loads(stored["manifest"].tobytes().decode())
        return {item["path"]: PackedWeight(stored[f"w{i}"], tuple(item["shape"]))
                for i, item in enumerate(manifest)}


def _mismatch(what, expected, got):
    return ValueError(
        f"load_packed: the file does not fit the model: {what}: expected {expected}, got "
        f"{got}. Hint: load into a model built like the saved one (same layers, same order, "
        f"built on the same input shape).")


def _restore_kernel(entry, alpha):
    """The latent kernel that binarises (and scales) exactly like the saved one:
    ``sign(W)``, times ``alpha`` per output channel when the layer scales."""
    signs = unpack_signs(entry.data, entry.shape)
    return signs if alpha is None else signs * alpha.data


def load_packed(model, path):
    """Read a ``save_packed`` file into ``model``, built like the saved one. Weights are
    matched by their position in ``model.weights`` (like ``set_weights``; the layer names may
    differ) and checked for shape and kind. A binary kernel comes back as ``sign(W)`` (times
    ``alpha`` for ``scale="channel"``): the latent values are gone, but the binarised layer,
    and so the model, computes the same outputs. Returns ``model``.

    Args:
        model: a built Keras model (or layer).
        path: an ``.npz`` file from ``save_packed``.
    """
    entries = list(read_packed(path).items())
    binary = _binary_kernels(model)
    position = 0
    for weight in model.weights:
        if position >= len(entries):
            raise _mismatch("number of weights", f"more than {len(entries)}", weight.path)
        key, entry = entries[position]
        position += 1
        if tuple(entry.shape) != tuple(weight.shape):
            raise _mismatch(f"shape of {weight.path} (saved as {key})", tuple(weight.shape),
                            tuple(entry.shape))
        layer = binary.get(id(weight))
        is_bits = entry.data.dtype == np.uint8
        if is_bits != (layer is not None):
            raise _mismatch(f"kind of {weight.path}", "bits" if layer else "float32",
                            "bits" if is_bits else "float32")
        alpha = None
        if layer is not None and layer.scale == "channel":
            if position >= len(entries) or not entries[position][0].endswith(":alpha"):
                raise _mismatch(f"scaling factors after {weight.path}", "alpha", "none")
            alpha = entries[position][1]
            position += 1
        weight.assign(_restore_kernel(entry, alpha) if layer is not None else entry.data)
    if position != len(entries):
        raise _mismatch("number of stored entries", position, len(entries))
    return model


# ---------------------------------------------------------------- XNOR + popcount

_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


def _last_byte_mask(n):
    """The bits of the last byte that hold values (``packbits`` fills from the top)."""
    extra = n % 8
    return 0xFF if extra == 0 else (0xFF << (8 - extra)) & 0xFF


def _popcount_xor(a_bits, b_bits, n):
    """Per pair of rows, how many of the first ``n`` signs differ: popcount(a XOR b).
    NumPy 2's ``bitwise_count`` (the CPU's popcount instruction), on 64-bit words when the
    rows fill whole words; a 256-entry table of bit counts with older NumPy."""
    a_bits, b_bits = (np.array(bits, dtype=np.uint8, order="C") for bits in (a_bits, b_bits))
    for bits in (a_bits, b_bits):
        bits[..., -1] &= _last_byte_mask(n)  # ignore the padding bits
    if not hasattr(np, "bitwise_count"):
        return _POPCOUNT[np.bitwise_xor(a_bits, b_bits)].sum(axis=-1)
    if a_bits.shape[-1] % 8 == 0:  # 64 signs a word: one XOR and one popcount each
        a_bits, b_bits = a_bits.view(np.uint64), b_bits.view(np.uint64)
    return np.bitwise_count(np.bitwise_xor(a_bits, b_bits)).sum(axis=-1, dtype=np.int64)


def _check_bits(name, bits, n):
    bits = np.asarray(bits)
    if bits.dtype != np.uint8 or bits.shape[-1:] != (-(-n // 8),):
        raise ValueError(
            f"{name}: the bits of {n} signs are uint8 of {-(-n // 8)} bytes on the last "
            f"axis; got dtype {bits.dtype}, shape {bits.shape}. Hint: pack_signs(v) packs "
            f"a +-1 vector v of length n.")
    return bits


def xnor_popcount_dot(a_bits, b_bits, n):
    """The dot product of two +-1 vectors of length ``n`` from their packed signs: the ``n``
    products are +1 where the signs agree (XNOR) and -1 where they differ, so
    ``dot = n - 2 * popcount(a XOR b)`` (XNOR-Net, section 3.2; BNN, section 4).

    Args:
        a_bits, b_bits: ``pack_signs`` of the two vectors (uint8, ``ceil(n / 8)`` bytes).
        n: the vectors' length; the padding bits of the last byte are ignored.
    """
    a_bits = _check_bits("xnor_popcount_dot", a_bits, n)
    b_bits = _check_bits("xnor_popcount_dot", b_bits, n)
    return int(n - 2 * _popcount_xor(a_bits, b_bits, n))


def xnor_matmul(a_bits, b_bits, n):
    """``(+-1 A) @ (+-1 B).T`` from packed rows: entry ``(i, j)`` is
    ``xnor_popcount_dot(a_bits[i], b_bits[j], n)`` (XNOR-Net, section 3.2).

    Args:
        a_bits: ``pack_signs(A)`` for ``A`` of shape (m, n).
        b_bits: ``pack_signs(B)`` for ``B`` of shape (k, n), e.g. a dense layer's kernel
            transposed (one row per output unit).
        n: the rows' length.

    Returns:
        int64 array of shape (m, k).
    """
    a_bits = _check_bits("xnor_matmul", a_bits, n)
    b_bits = _check_bits("xnor_matmul", b_bits, n)
    return n - 2 * _popcount_xor(a_bits[:, None, :], b_bits[None, :, :], n)
