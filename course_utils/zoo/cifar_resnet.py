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

Batch norm's momentum is 0.9, not Keras's default 0.99: with 0.99 the moving statistics
are still far from the batch ones after the few hundred steps of a laptop run; 0.9
(PyTorch's default, written 0.1 there) lets them settle, so that inference-mode results
mean something.
"""

from __future__ import annotations

import keras
from keras import initializers, layers

from course_utils.zoo.common import check_head_options, check_input_shape, head
from course_utils.zoo.resnet import basic_block, conv_bn, conv_bn_relu, shortcut

KINDS = ("plain", "residual", "highway")
WIDTHS = (16, 32, 64)
BN_MOMENTUM = 0.9  # see the module's docstring
MIN_SIZE = 8


def _skip_kind(x, filters: int, strides: int) -> str:
    """Identity where the shapes agree; else the projection, computed in two steps (see
    ``resnet.shortcut``: these networks are trained on CPUs, where TF 2.21 needs it)."""
    return "identity" if strides == 1 and x.shape[-1] == filters else "subsample"


def plain_block(x, filters: int, strides: int = 1, name: str = "block", *,
                bn_momentum=BN_MOMENTUM):
    """A basic residual block without its shortcut: conv-BN-ReLU, conv-BN, ReLU
    (``{name}_out``).

    Args:
        x: the input tensor.
        filters: both convolutions' filters.
        strides: the first convolution's strides.
        name: where the block sits, e.g. ``"conv3_block1"``.
        bn_momentum: the batch norms' momentum.
    """
    x = conv_bn_relu(x, filters, 3, f"{name}_1", strides=strides, bn_momentum=bn_momentum)
    x = conv_bn(x, filters, 3, f"{name}_2", bn_momentum=bn_momentum)
    return layers.Activation("relu", name=f"{name}_out")(x)


def highway_block(x, filters: int, strides: int = 1, name: str = "block", *,
                  gate_bias: float = -2.0, bn_momentum=BN_MOMENTUM):
    """``y = x' + T * (H(x) - x')``, which is ``T * H + (1 - T) * x'``: ``H`` is the plain
    block, ``x'`` the input carried (projected where the shape changes, as in a residual
    block) and ``T`` a sigmoid gate per pixel and channel from a 3x3 convolution
    (``{name}_gate``). The gate's bias starts negative (``sigmoid(-2) = 0.12``), so a new
    block mostly carries its input (Srivastava et al., section 2.2).

    Args:
        x: the input tensor.
        filters: the block's output channels.
        strides: the block's strides.
        name: where the block sits, e.g. ``"conv3_block1"``.
        gate_bias: the gate's initial bias.
        bn_momentum: the batch norms' momentum.
    """
    carried = shortcut(x, filters, strides, _skip_kind(x, filters, strides), name,
                       bn_momentum=bn_momentum)
    gate = x
    if strides > 1:  # pad as the block's own strided convolution does, so the pixels line up
        gate = layers.ZeroPadding2D(1, name=f"{name}_gate_pad")(gate)
    gate = layers.Conv2D(filters, 3, strides=strides,
                         padding="same" if strides == 1 else "valid", activation="sigmoid",
                         bias_initializer=initializers.Constant(gate_bias),
                         name=f"{name}_gate")(gate)
    transform = plain_block(x, filters, strides, name, bn_momentum=bn_momentum)
    change = layers.Subtract(name=f"{name}_change")([transform, carried])
    change = layers.Multiply(name=f"{name}_gated")([gate, change])
    return layers.Add(name=f"{name}_highway")([carried, change])


def cifar_block(x, kind: str, filters: int, strides: int, name: str, *, zero_gamma=False,
                bn_momentum=BN_MOMENTUM):
    """One block of a ``kind`` network: :func:`plain_block`, :func:`highway_block` or
    ``resnet.basic_block`` (identity shortcut, or the projection where the shape changes).

    Args:
        x: the input tensor.
        kind: ``"plain"``, ``"residual"`` or ``"highway"``.
        filters: the block's output channels.
        strides: the block's strides.
        name: where the block sits, e.g. ``"conv3_block1"``.
        zero_gamma: start a residual block's last batch norm gamma at 0.
        bn_momentum: the batch norms' momentum.
    """
    if kind == "plain":
        return plain_block(x, filters, strides, name, bn_momentum=bn_momentum)
    if kind == "highway":
        return highway_block(x, filters, strides, name, bn_momentum=bn_momentum)
    return basic_block(x, filters, strides, _skip_kind(x, filters, strides), name,
                       zero_gamma=zero_gamma, bn_momentum=bn_momentum)


def cifar_stack(x, kind: str, widths, blocks: int, *, zero_gamma=False,
                bn_momentum=BN_MOMENTUM):
    """The three stages of section 4.2, ``conv2`` to ``conv4``, of ``blocks`` blocks each;
    the first block of ``conv3`` and ``conv4`` halves the maps.

    Args:
        x: the first convolution's maps.
        kind: ``"plain"``, ``"residual"`` or ``"highway"``.
        widths: the three stages' filters.
        blocks: ``n``, the blocks per stage.
        zero_gamma: start a residual block's last batch norm gamma at 0.
        bn_momentum: the batch norms' momentum.
    """
    for stage, filters in enumerate(widths, start=2):
        for i in range(1, blocks + 1):
            strides = 2 if stage > 2 and i == 1 else 1
            x = cifar_block(x, kind, filters, strides, f"conv{stage}_block{i}",
                            zero_gamma=zero_gamma, bn_momentum=bn_momentum)
    return x


def cifar_resnet(depth: int = 20, *, kind: str = "residual", widths=WIDTHS,
                 include_top=True, input_shape=None, pooling=None, classes: int = 10,
                 classifier_activation="softmax", zero_gamma=False,
                 bn_momentum: float = BN_MOMENTUM, name=None):
    """The ``6n + 2``-layer CIFAR network of section 4.2 as a plain, residual or highway net.

    Args:
        depth: ``6n + 2`` weighted layers: 8, 14, 20, 32, 44, 56, 110, ...
        kind: ``"plain"`` (no shortcuts), ``"residual"`` or ``"highway"`` (gated shortcuts).
        widths: the three stages' filters; (16, 32, 64) in the paper.
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the last stage's maps.
        input_shape: ``(height, width, channels)``; default 32x32x3. The head averages the
            maps, so height and width may be ``None`` (any size) even with the classifier.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        zero_gamma: start every residual block's last batch norm gamma at 0.
        bn_momentum: batch norm's momentum, 0.9 rather than Keras's 0.99 (see the
            module's docstring).
        name: model name; defaults to ``<kind><depth>``.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}; got {kind!r}. Hint: 'residual' is the "
                         f"ResNet, 'plain' the same stack without shortcuts.")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
        raise ValueError(
            f"A CIFAR ResNet has 6n + 2 weighted layers (8, 14, 20, 32, 44, 56, 110, ...); got "
            f"depth={depth!r}. Hint: n blocks of two convolutions in each of three stages, "
            f"plus the first convolution and the classifier.")
    if len(widths) != 3:
        raise ValueError(f"widths gives the three stages' filters; got {widths}. Hint: the "
                         f"paper's are (16, 32, 64).")
    network = f"CIFAR {kind} net"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape, default_size=32, min_size=MIN_SIZE,
                              include_top=include_top, network=network,
                              top_needs_fixed_size=False)
    inputs = keras.Input(shape=shape)
    x = conv_bn_relu(inputs, widths[0], 3, "conv1", bn_momentum=bn_momentum)
    x = cifar_stack(x, kind, widths, (depth - 2) // 6, zero_gamma=zero_gamma,
                    bn_momentum=bn_momentum)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name or f"{kind}{depth}")
