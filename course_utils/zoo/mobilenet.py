"""MobileNet v1 (Howard et al., "MobileNets: Efficient Convolutional Neural Networks for
Mobile Vision Applications", 2017, arXiv:1704.04861, Table 1).

A 3x3 convolution with stride 2, then thirteen depthwise separable blocks: a 3x3
depthwise convolution (one filter per channel, section 3.1) and a 1x1 pointwise
convolution that mixes the channels, each followed by batch normalisation and ReLU6. Five
of the depthwise convolutions have stride 2. The width multiplier ``alpha`` (section 3.3)
thins every layer; ``depth_multiplier`` gives each channel that many depthwise filters.
Layer names, arguments and weights line up with ``keras.applications.MobileNet``.
"""

from __future__ import annotations

import numbers

import keras
from keras import layers

from course_utils.zoo.common import (
    KERAS_POOL_NAMES,
    check_alpha,
    check_head_options,
    check_input_shape,
    head,
)

STEM_FILTERS = 32
# Table 1, after the stem: (pointwise filters, stride of the depthwise convolution).
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1),
          (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1))


def thinned(channels: int, alpha: float) -> int:
    """``channels`` times the width multiplier, rounded down as Keras does.

    Args:
        channels: the number of channels in the paper's network (Table 1).
        alpha: the width multiplier.

    Raises:
        ValueError: ``alpha`` is not a positive number, or it leaves a layer no channel.
    """
    check_alpha(alpha, network="MobileNet",
                hint="the paper uses 1, 0.75, 0.5 and 0.25 (section 3.3).")
    if int(channels * alpha) < 1:
        raise ValueError(
            f"MobileNet: alpha={alpha!r} leaves the {channels}-channel layers no channel "
            f"(int({channels} * {alpha}) = 0). Hint: alpha of at least {1 / channels:.3g}.")
    return int(channels * alpha)


def stem(x, filters: int):
    """The first layer: a 3x3 convolution with stride 2, batch norm and ReLU6 (``conv1``).

    Args:
        x: the input images.
        filters: the convolution's filters (32 times ``alpha``).
    """
    x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=False, name="conv1")(x)
    x = layers.BatchNormalization(name="conv1_bn")(x)
    return layers.ReLU(6.0, name="conv1_relu")(x)


def depthwise_separable_block(x, filters: int, block_id: int, *, strides: int = 1,
                              depth_multiplier: int = 1):
    """One depthwise separable block (Figure 3, right): ``conv_dw_{id}`` (3x3 depthwise),
    batch norm and ReLU6, then ``conv_pw_{id}`` (1x1 pointwise), batch norm and ReLU6.

    With stride 2 the input is first padded by one row and column at the bottom and right
    (``conv_pad_{id}``) and the depthwise convolution is "valid", as in Keras.

    Args:
        x: the input tensor.
        filters: the pointwise convolution's filters (the block's output channels).
        block_id: the block's number, 1 to 13, for the layer names.
        strides: the depthwise convolution's stride, 1 or 2.
        depth_multiplier: depthwise filters per input channel.
    """
    if strides != 1:
        x = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"conv_pad_{block_id}")(x)
    x = layers.DepthwiseConv2D(3, strides=strides, padding="same" if strides == 1 else "valid",
                               depth_multiplier=depth_multiplier, use_bias=False,
                               name=f"conv_dw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_dw_{block_id}_bn")(x)
    x = layers.ReLU(6.0, name=f"conv_dw_{block_id}_relu")(x)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"conv_pw_{block_id}")(x)
    x = layers.BatchNormalization(name=f"conv_pw_{block_id}_bn")(x)
    return layers.ReLU(6.0, name=f"conv_pw_{block_id}_relu")(x)


def mobilenet_stack(x, *, alpha: float = 1.0, depth_multiplier: int = 1):
    """The stem and the thirteen blocks of Table 1.

    Args:
        x: the input images.
        alpha: the width multiplier.
        depth_multiplier: depthwise filters per input channel.
    """
    x = stem(x, thinned(STEM_FILTERS, alpha))
    for block_id, (filters, strides) in enumerate(BLOCKS, start=1):
        x = depthwise_separable_block(x, thinned(filters, alpha), block_id, strides=strides,
                                      depth_multiplier=depth_multiplier)
    return x


def classifier(x, *, classes: int, classifier_activation="softmax", dropout: float = 1e-3):
    """MobileNet's classifier: global average pooling (keeping a 1x1 map), ``dropout``, a
    1x1 convolution to the classes (``conv_preds``), ``reshape_2`` and ``predictions``.

    Args:
        x: the last block's maps.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        dropout: the dropout rate before ``conv_preds``.
    """
    x = layers.GlobalAveragePooling2D(keepdims=True, name=KERAS_POOL_NAMES[0])(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Conv2D(classes, 1, padding="same", name="conv_preds")(x)
    x = layers.Reshape((classes,), name="reshape_2")(x)
    return layers.Activation(classifier_activation, name="predictions")(x)


def _check_options(depth_multiplier, dropout):
    if (isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, numbers.Integral)
            or depth_multiplier < 1):
        raise ValueError(
            f"MobileNet: depth_multiplier must be a whole number of at least 1; got "
            f"{depth_multiplier!r}. Hint: 1 gives one depthwise filter per channel, as in "
            f"the paper.")
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ValueError(
            f"MobileNet: dropout must be a rate from 0 up to (not including) 1; got "
            f"{dropout!r}. Hint: Keras's default is 0.001.")


def mobilenet(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", alpha=1.0, depth_multiplier=1, dropout=1e-3,
              name=None):
    """MobileNet v1 (Table 1): 4,253,864 parameters at 224x224x3 with ``alpha=1``;
    ``keras.applications.MobileNet`` layer for layer, for every argument it takes.

    Args:
        include_top: end with the classifier; ``False`` ends with block 13.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        alpha: the width multiplier (section 3.3): every layer keeps ``int(channels *
            alpha)`` channels.
        depth_multiplier: depthwise filters per input channel (Keras's name; not the
            paper's resolution multiplier, which is the input size).
        dropout: the dropout rate before the classifier.
        name: model name; defaults to Keras's ``mobilenet_{alpha:.2f}_{rows}``.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="MobileNet")
    _check_options(depth_multiplier, dropout)
    thinned(STEM_FILTERS, alpha)  # a bad alpha fails before anything is built
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network="MobileNet")
    inputs = keras.Input(shape=shape)
    x = mobilenet_stack(inputs, alpha=alpha, depth_multiplier=depth_multiplier)
    if include_top:
        x = classifier(x, classes=classes, classifier_activation=classifier_activation,
                       dropout=dropout)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return keras.Model(inputs, x, name=name or f"mobilenet_{alpha:0.2f}_{shape[0]}")
