"""MobileNet v2 (Sandler et al., "MobileNetV2: Inverted Residuals and Linear Bottlenecks",
CVPR 2018, arXiv:1801.04381, Table 2).

A 3x3 convolution with stride 2, then seventeen inverted residual blocks: a 1x1
convolution that expands the channels (six times, Table 1), a 3x3 depthwise convolution,
and a 1x1 projection back to few channels with *no* activation (the linear bottleneck,
section 3.2); where input and output have the same shape, the block's input is added. A
last 1x1 convolution widens to 1280 channels before the classifier. Layer names,
arguments and weights line up with ``keras.applications.MobileNetV2``.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.arithmetic import make_divisible
from course_utils.zoo.common import (
    KERAS_POOL_NAMES,
    check_alpha,
    check_head_options,
    check_input_shape,
    head,
)

# Table 2: (expansion t, output channels c, repeats n, first stride s) after the stem.
STAGES = ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
          (6, 160, 3, 2), (6, 320, 1, 1))
STEM_FILTERS, LAST_FILTERS = 32, 1280
BN = {"epsilon": 1e-3, "momentum": 0.999}  # Keras's batch norm settings for this network


def stride_2_padding(x, kernel_size: int = 3):
    """The zero padding that makes a "valid" strided convolution of ``kernel_size`` line up
    as Keras's MobileNets and EfficientNets do (``correct_pad``): half a kernel on each
    side, one less at the top and left when a side is even. Keras looks at the height
    alone to tell whether the size is known: an unknown height pads both sides as even.

    Args:
        x: the tensor about to be padded.
        kernel_size: the convolution's (square) kernel size.
    """
    half = kernel_size // 2
    height, width = x.shape[1:3]
    if height is None:
        return ((half - 1, half), (half - 1, half))
    return tuple((half - (1 if size is None else 1 - size % 2), half) for size in (height, width))


def inverted_residual_block(x, filters: int, block_id: int, *, expansion: int = 6,
                            strides: int = 1):
    """One inverted residual block (Figure 3b, Table 1): ``block_{id}_expand`` (1x1,
    ``expansion`` times the input channels, batch norm, ReLU6), ``block_{id}_depthwise``
    (3x3, batch norm, ReLU6) and ``block_{id}_project`` (1x1, batch norm, no activation),
    plus ``block_{id}_add`` of the input where the shapes agree. Block 0 has no expansion
    and is named ``expanded_conv_...``, as in Keras.

    Args:
        x: the input tensor.
        filters: the output channels (already scaled by ``alpha`` and made divisible by 8).
        block_id: the block's number, 0 to 16, for the layer names.
        expansion: the expansion factor ``t``.
        strides: the depthwise convolution's stride, 1 or 2.
    """
    inputs, channels = x, x.shape[-1]
    prefix = f"block_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(expansion * channels, 1, padding="same", use_bias=False,
                          name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(**BN, name=f"{prefix}expand_BN")(x)
        x = layers.ReLU(6.0, name=f"{prefix}expand_relu")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(stride_2_padding(x), name=f"{prefix}pad")(x)
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid",
                               use_bias=False, name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(**BN, name=f"{prefix}depthwise_BN")(x)
    x = layers.ReLU(6.0, name=f"{prefix}depthwise_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(**BN, name=f"{prefix}project_BN")(x)
    if channels == filters and strides == 1:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def mobilenet_v2_stack(x, *, alpha: float = 1.0):
    """The stem, the seventeen blocks of Table 2 and the last 1x1 convolution (``Conv_1``).

    Args:
        x: the input images.
        alpha: the width multiplier.
    """
    x = layers.Conv2D(make_divisible(STEM_FILTERS * alpha), 3, strides=2, padding="same",
                      use_bias=False, name="Conv1")(x)
    x = layers.BatchNormalization(**BN, name="bn_Conv1")(x)
    x = layers.ReLU(6.0, name="Conv1_relu")(x)
    block_id = 0
    for expansion, channels, repeats, first_stride in STAGES:
        for i in range(repeats):
            x = inverted_residual_block(x, make_divisible(int(channels * alpha)), block_id,
                                        expansion=expansion,
                                        strides=first_stride if i == 0 else 1)
            block_id += 1
    last = make_divisible(LAST_FILTERS * alpha) if alpha > 1.0 else LAST_FILTERS
    x = layers.Conv2D(last, 1, use_bias=False, name="Conv_1")(x)
    x = layers.BatchNormalization(**BN, name="Conv_1_bn")(x)
    return layers.ReLU(6.0, name="out_relu")(x)


def mobilenet_v2(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", alpha=1.0, name=None):
    """MobileNet v2 (Table 2): 3,538,984 parameters at 224x224x3 with ``alpha=1``;
    ``keras.applications.MobileNetV2`` layer for layer, for every argument it takes.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with ``out_relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        alpha: the width multiplier: every block's channels times ``alpha``, made divisible
            by 8; the last convolution widens only for ``alpha > 1``.
        name: model name; defaults to Keras's ``mobilenetv2_{alpha:.2f}_{rows}``.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="MobileNetV2")
    check_alpha(alpha, network="MobileNetV2", hint="Keras's ImageNet weights exist for 0.35, "
                "0.5, 0.75, 1, 1.3 and 1.4.")
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network="MobileNetV2")
    inputs = keras.Input(shape=shape)
    x = mobilenet_v2_stack(inputs, alpha=alpha)
    if include_top:
        x = layers.GlobalAveragePooling2D(name=KERAS_POOL_NAMES[0])(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return keras.Model(inputs, x, name=name or f"mobilenetv2_{alpha:0.2f}_{shape[0]}")
