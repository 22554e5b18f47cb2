"""Inception v3 (Szegedy, Vanhoucke, Ioffe, Shlens and Wojna, "Rethinking the Inception
Architecture for Computer Vision", CVPR 2016).

The factorisations the paper introduces are visible in the blocks: a 5x5 convolution
replaced by two 3x3 (``inception_a``'s double-3x3 branch), an n x n convolution replaced by
1 x n then n x 1 (``inception_b``'s 7x7 branches, ``inception_c``'s split 3x3), and grids
shrunk by strided convolutions and pooling side by side (``reduction_a``/``reduction_b``).

Equal to ``keras.applications.InceptionV3``: same arguments, layer order, parameter count
(23,851,784 with the classifier), output shapes and, once weights are copied, outputs. The
layers Keras leaves unnamed get the names Keras would give them in a fresh session
(``conv2d``, ``conv2d_1``, ...), so the two models also agree name for name.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import (
    KERAS_POOL_NAMES,
    check_head_options,
    check_input_shape,
    head,
)


class KerasNames:
    """Hands out names the way Keras names unnamed layers in a fresh session: ``names(base)``
    gives ``base``, then ``base_1``, ``base_2``, ..."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"


def conv_bn_relu(x, filters: int, kernel_size, names, *, strides=1, padding="same"):
    """Convolution without bias, batch norm without scale, ReLU: every convolution of
    Inception v3 is one.

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size, e.g. ``3`` or ``(1, 7)``.
        names: the network's :class:`KerasNames`.
        strides: the convolution's strides.
        padding: ``"same"`` or ``"valid"``.
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=False,
                      name=names("conv2d"))(x)
    x = layers.BatchNormalization(axis=-1, scale=False, name=names("batch_normalization"))(x)
    return layers.Activation("relu", name=names("activation"))(x)


def avg_pool_branch(x, filters: int, names):
    """3x3 average pooling with stride 1, then a 1x1 convolution: the pooling branch.

    Args:
        x: the module's input.
        filters: the 1x1 convolution's filters.
        names: the network's :class:`KerasNames`.
    """
    x = layers.AveragePooling2D(3, strides=1, padding="same", name=names("average_pooling2d"))(x)
    return conv_bn_relu(x, filters, 1, names)


def stem(x, names):
    """The layers before the first module (Table 1's first seven rows): 299x299x3 ->
    35x35x192.

    Args:
        x: the input images.
        names: the network's :class:`KerasNames`.
    """
    x = conv_bn_relu(x, 32, 3, names, strides=2, padding="valid")
    x = conv_bn_relu(x, 32, 3, names, padding="valid")
    x = conv_bn_relu(x, 64, 3, names)
    x = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    x = conv_bn_relu(x, 80, 1, names, padding="valid")
    x = conv_bn_relu(x, 192, 3, names, padding="valid")
    return layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)


def inception_a(x, pool_filters: int, index: int, names):
    """35x35: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 (a 5x5 factorised, Figure 5) | avg pool-1x1.

    Args:
        x: the input tensor.
        pool_filters: the pooling branch's filters (32, then 64).
        index: the module's number, for its name ``mixed{index}``.
        names: the network's :class:`KerasNames`.
    """
    b1 = conv_bn_relu(x, 64, 1, names)
    b5 = conv_bn_relu(conv_bn_relu(x, 48, 1, names), 64, 5, names)
    b3 = conv_bn_relu(conv_bn_relu(conv_bn_relu(x, 64, 1, names), 96, 3, names), 96, 3, names)
    bp = avg_pool_branch(x, pool_filters, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b5, b3, bp])


def reduction_a(x, names):
    """35x35 -> 17x17 with a strided 3x3, a strided double 3x3 and max pooling side by side
    (section 5, Figure 10): ``mixed3``.

    Args:
        x: the input tensor.
        names: the network's :class:`KerasNames`.
    """
    b3 = conv_bn_relu(x, 384, 3, names, strides=2, padding="valid")
    bd = conv_bn_relu(conv_bn_relu(x, 64, 1, names), 96, 3, names)
    bd = conv_bn_relu(bd, 96, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed3")([b3, bd, bp])


def inception_b(x, channels: int, index: int, names):
    """17x17: 7x7 convolutions factorised into 1x7 and 7x1 (Figure 6).

    Args:
        x: the input tensor.
        channels: the 7x7 branches' inner filters (128, 160, 160, 192).
        index: the module's number, for its name ``mixed{index}``.
        names: the network's :class:`KerasNames`.
    """
    b1 = conv_bn_relu(x, 192, 1, names)
    b7 = conv_bn_relu(x, channels, 1, names)
    b7 = conv_bn_relu(b7, channels, (1, 7), names)
    b7 = conv_bn_relu(b7, 192, (7, 1), names)
    bd = conv_bn_relu(x, channels, 1, names)
    for filters, kernel in ((channels, (7, 1)), (channels, (1, 7)), (channels, (7, 1)),
                            (192, (1, 7))):
        bd = conv_bn_relu(bd, filters, kernel, names)
    bp = avg_pool_branch(x, 192, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b7, bd, bp])


def reduction_b(x, names):
    """17x17 -> 8x8 with strided 3x3 convolutions and max pooling side by side: ``mixed8``.

    Args:
        x: the input tensor.
        names: the network's :class:`KerasNames`.
    """
    b3 = conv_bn_relu(conv_bn_relu(x, 192, 1, names), 320, 3, names, strides=2, padding="valid")
    b7 = conv_bn_relu(x, 192, 1, names)
    b7 = conv_bn_relu(b7, 192, (1, 7), names)
    b7 = conv_bn_relu(b7, 192, (7, 1), names)
    b7 = conv_bn_relu(b7, 192, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed8")([b3, b7, bp])


def inception_c(x, index: int, names):
    """8x8: 3x3 convolutions split into 1x3 and 3x1 side by side (wider, not deeper;
    Figure 7).

    Args:
        x: the input tensor.
        index: the module's number (9 or 10), for its name ``mixed{index}``.
        names: the network's :class:`KerasNames`.
    """
    b1 = conv_bn_relu(x, 320, 1, names)
    b3 = conv_bn_relu(x, 384, 1, names)
    b3 = layers.Concatenate(axis=-1, name=f"mixed9_{index - 9}")(
        [conv_bn_relu(b3, 384, (1, 3), names), conv_bn_relu(b3, 384, (3, 1), names)])
    bd = conv_bn_relu(conv_bn_relu(x, 448, 1, names), 384, 3, names)
    bd = layers.Concatenate(axis=-1, name=names("concatenate"))(
        [conv_bn_relu(bd, 384, (1, 3), names), conv_bn_relu(bd, 384, (3, 1), names)])
    bp = avg_pool_branch(x, 192, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b3, bd, bp])


def inception_v3_stack(x, names):
    """The stem and the eleven modules of Table 1: 299x299x3 -> 8x8x2048.

    Args:
        x: the input images.
        names: the network's :class:`KerasNames`.
    """
    x = stem(x, names)
    for index, pool_filters in enumerate((32, 64, 64)):
        x = inception_a(x, pool_filters, index, names)
    x = reduction_a(x, names)
    for index, channels in zip(range(4, 8), (128, 160, 160, 192)):
        x = inception_b(x, channels, index, names)
    x = reduction_b(x, names)
    for index in (9, 10):
        x = inception_c(x, index, names)
    return x


def inception_v3(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="inception_v3"):
    """Inception v3 (Table 1): ``keras.applications.InceptionV3`` layer for layer.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the last module's maps (``mixed10``).
        input_shape: ``(height, width, channels)``; default 299x299x3, at least 75x75.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="Inception v3")
    shape = check_input_shape(input_shape, default_size=299, min_size=75,
                              include_top=include_top, network="Inception v3")
    names = KerasNames()
    inputs = keras.Input(shape=shape)
    x = inception_v3_stack(inputs, names)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return keras.Model(inputs, x, name=name)
