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

from course_utils.zoo.common import check_pooling, pool_features, resolve_input_shape


class KerasNames:
    """Hands out names the way Keras names unnamed layers in a fresh session."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        n = self.counts.get(base, 0)
        self.counts[base] = n + 1
        return base if n == 0 else f"{base}_{n}"


def conv_bn(x, filters, kernel, names, strides=1, padding="same"):
    """Convolution without bias, batch norm without scale, ReLU."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False,
                      name=names("conv2d"))(x)
    x = layers.BatchNormalization(axis=-1, scale=False, name=names("batch_normalization"))(x)
    return layers.Activation("relu", name=names("activation"))(x)


def avg_pool_branch(x, filters, names):
    x = layers.AveragePooling2D(3, strides=1, padding="same", name=names("average_pooling2d"))(x)
    return conv_bn(x, filters, 1, names)


def stem(x, names):
    """299x299x3 -> 35x35x192."""
    x = conv_bn(x, 32, 3, names, strides=2, padding="valid")
    x = conv_bn(x, 32, 3, names, padding="valid")
    x = conv_bn(x, 64, 3, names)
    x = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    x = conv_bn(x, 80, 1, names, padding="valid")
    x = conv_bn(x, 192, 3, names, padding="valid")
    return layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)


def inception_a(x, pool_filters, index, names):
    """35x35: 1x1 | 1x1-5x5 | 1x1-3x3-3x3 (a 5x5 factorised) | avg pool-1x1."""
    b1 = conv_bn(x, 64, 1, names)
    b5 = conv_bn(conv_bn(x, 48, 1, names), 64, 5, names)
    b3 = conv_bn(conv_bn(conv_bn(x, 64, 1, names), 96, 3, names), 96, 3, names)
    bp = avg_pool_branch(x, pool_filters, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b5, b3, bp])


def reduction_a(x, names):
    """35x35 -> 17x17 with a strided 3x3, a strided double 3x3 and max pooling."""
    b3 = conv_bn(x, 384, 3, names, strides=2, padding="valid")
    bd = conv_bn(conv_bn(x, 64, 1, names), 96, 3, names)
    bd = conv_bn(bd, 96, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed3")([b3, bd, bp])


def inception_b(x, channels, index, names):
    """17x17: 7x7 convolutions factorised into 1x7 and 7x1."""
    b1 = conv_bn(x, 192, 1, names)
    b7 = conv_bn(x, channels, 1, names)
    b7 = conv_bn(b7, channels, (1, 7), names)
    b7 = conv_bn(b7, 192, (7, 1), names)
    bd = conv_bn(x, channels, 1, names)
    for filters, kernel in ((channels, (7, 1)), (channels, (1, 7)), (channels, (7, 1)),
                            (192, (1, 7))):
        bd = conv_bn(bd, filters, kernel, names)
    bp = avg_pool_branch(x, 192, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b7, bd, bp])


def reduction_b(x, names):
    """17x17 -> 8x8."""
    b3 = conv_bn(conv_bn(x, 192, 1, names), 320, 3, names, strides=2, padding="valid")
    b7 = conv_bn(x, 192, 1, names)
    b7 = conv_bn(b7, 192, (1, 7), names)
    b7 = conv_bn(b7, 192, (7, 1), names)
    b7 = conv_bn(b7, 192, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed8")([b3, b7, bp])


def inception_c(x, index, names):
    """8x8: 3x3 convolutions split into 1x3 and 3x1 side by side (wider, not deeper)."""
    b1 = conv_bn(x, 320, 1, names)
    b3 = conv_bn(x, 384, 1, names)
    b3 = layers.Concatenate(axis=-1, name=f"mixed9_{index - 9}")(
        [conv_bn(b3, 384, (1, 3), names), conv_bn(b3, 384, (3, 1), names)])
    bd = conv_bn(conv_bn(x, 448, 1, names), 384, 3, names)
    bd = layers.Concatenate(axis=-1, name=names("concatenate"))(
        [conv_bn(bd, 384, (1, 3), names), conv_bn(bd, 384, (3, 1), names)])
    bp = avg_pool_branch(x, 192, names)
    return layers.Concatenate(axis=-1, name=f"mixed{index}")([b1, b3, bd, bp])


def inception_v3_stack(x, names):
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


def inception_v3(include_top=True, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="inception_v3"):
    """Inception v3; the arguments mean what they mean in keras.applications."""
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 299, 75, include_top, "Inception v3")
    names = KerasNames()
    inputs = keras.Input(shape=shape)
    x = inception_v3_stack(inputs, names)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pool_features(x, pooling)
    return keras.Model(inputs, x, name=name)
