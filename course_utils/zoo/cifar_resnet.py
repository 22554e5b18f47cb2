"""The small networks of the ResNet paper's CIFAR-10 experiments, plain, residual or gated.

He et al., "Deep Residual Learning for Image Recognition", CVPR 2016, section 4.2: a 3x3
convolution with 16 filters, then three stages of ``n`` blocks of two 3x3 convolutions with
16, 32 and 64 filters on 32x32, 16x16 and 8x8 maps, global average pooling and the
classifier: ``6n + 2`` weighted layers (20, 32, 44, 56, 110). The *plain* network is the
same stack without shortcuts; the *residual* one adds them (identity, or a 1x1 projection
where a stage changes shape; the paper's option B, computed as ``"subsample"`` in
``resnet.shortcut``); the *highway* one (Srivastava, Greff
and Schmidhuber, "Training Very Deep Networks", NeurIPS 2015) mixes the block's input and
output through a learned gate ``T``: ``y = T * H(x) + (1 - T) * x``. A residual block is a
highway block whose gate is open to both at once and has nothing to learn.
"""

from __future__ import annotations

import keras
from keras import initializers, layers

from course_utils.zoo.resnet import basic_block, conv_bn, shortcut

KINDS = ("plain", "residual", "highway")
WIDTHS = (16, 32, 64)
BN_MOMENTUM = 0.9


def plain_block(x, filters: int, stride: int = 1, name="block"):
    """A basic residual block without its shortcut: conv-BN-ReLU twice."""
    x = conv_bn(x, filters, 3, f"{name}_1", stride)
    x = conv_bn(x, filters, 3, f"{name}_2", relu=False)
    return layers.Activation("relu", name=f"{name}_out")(x)


def highway_block(x, filters: int, stride: int = 1, name="block", gate_bias: float = -2.0):
    """``y = x' + T * (H(x) - x')``, which is ``T * H + (1 - T) * x'``: ``H`` is the plain
    block, ``x'`` the input carried (projected where the shape changes, as in a residual
    block) and ``T`` a sigmoid gate per pixel and channel from a 3x3 convolution. The gate's
    bias starts negative (``sigmoid(-2) = 0.12``), so a new block mostly carries its input."""
    carried = shortcut(x, filters, stride, _skip_kind(x, filters, stride), name)
    gate = x
    if stride > 1:  # pad as the block's own strided convolution does, so the pixels line up
        gate = layers.ZeroPadding2D(1, name=f"{name}_gate_pad")(gate)
    gate = layers.Conv2D(filters, 3, strides=stride, padding="same" if stride == 1 else "valid",
                         activation="sigmoid", bias_initializer=initializers.Constant(gate_bias),
                         name=f"{name}_gate")(gate)
    transform = plain_block(x, filters, stride, name)
    change = layers.Subtract(name=f"{name}_change")([transform, carried])
    change = layers.Multiply(name=f"{name}_gated")([gate, change])
    return layers.Add(name=f"{name}_highway")([carried, change])


def block(x, kind: str, filters: int, stride: int, name: str, zero_gamma=False):
    if kind == "plain":
        return plain_block(x, filters, stride, name)
    if kind == "highway":
        return highway_block(x, filters, stride, name)
    return basic_block(x, filters, stride, _skip_kind(x, filters, stride), name,
                       zero_gamma=zero_gamma)


def _skip_kind(x, filters, stride):
    """Identity where the shapes agree; else the projection, computed in two steps (see
    ``resnet.shortcut``: these networks are trained on CPUs, where TF 2.21 needs it)."""
    return "identity" if stride == 1 and x.shape[-1] == filters else "subsample"


def cifar_resnet(depth: int = 20, kind: str = "residual", widths=WIDTHS,
                 input_shape=(32, 32, 3), classes: int = 10, include_top=True, name=None,
                 zero_gamma=False):
    """The ``6n + 2``-layer CIFAR network of section 4.2 as ``kind`` ``"plain"``,
    ``"residual"`` or ``"highway"``. ``widths`` are the three stages' filters; the input
    may have any size (``(None, None, c)`` too): global average pooling ends the features."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}.")
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"A CIFAR ResNet has 6n + 2 weighted layers (8, 14, 20, 32, 44, 56, 110, ...); got "
            f"depth={depth}. Hint: n blocks of two convolutions in each of three stages, plus "
            f"the first convolution and the classifier.")
    if len(widths) != 3:
        raise ValueError(f"widths gives the three stages' filters; got {widths}.")
    n = (depth - 2) // 6
    inputs = keras.Input(shape=tuple(input_shape))
    x = conv_bn(inputs, widths[0], 3, "conv1")
    for stage, filters in enumerate(widths, start=2):
        for i in range(1, n + 1):
            stride = 2 if stage > 2 and i == 1 else 1
            x = block(x, kind, filters, stride, f"conv{stage}_block{i}", zero_gamma)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if include_top:
        x = layers.Dense(classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, x, name=name or f"{kind}{depth}")
    # Keras's default momentum (0.99) leaves the moving statistics far from the batch ones
    # after the few hundred steps of a laptop run; 0.9 (PyTorch's default, written 0.1
    # there) lets them settle, so that inference-mode results mean something.
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            layer.momentum = BN_MOMENTUM
    return model

