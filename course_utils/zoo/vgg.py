"""VGG-16 and VGG-19 (Simonyan and Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015, Table 1, configurations D and E).

Five blocks of 3x3 "same" convolutions with ReLU, each closed by 2x2 max pooling with stride
2; channels 64, 128, 256, 512, 512; then two dense layers of 4096 and the classifier.
Layer names, arguments and weights line up with ``keras.applications.VGG16``/``VGG19``.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import (
    KERAS_POOL_NAMES,
    check_head_options,
    check_input_shape,
    head,
    scaled,
)

FILTERS = (64, 128, 256, 512, 512)
CONVS_PER_BLOCK = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}  # Table 1, columns D and E
FC_UNITS = 4096


def vgg_block(x, filters: int, convs: int, block: int, *, batch_norm: bool = False,
              bn_momentum: float = 0.99):
    """``convs`` 3x3 same-padded ReLU convolutions, then 2x2 max pooling: ``block{n}_...``.

    Args:
        x: the input tensor.
        filters: every convolution's number of filters.
        convs: how many convolutions (Table 1: 2, 3 or 4).
        block: the block's number, 1 to 5, for the layer names.
        batch_norm: follow each convolution by batch normalisation (``block{n}_bn{i}``),
            then ReLU (``block{n}_relu{i}``); not in the paper.
        bn_momentum: batch norm's momentum for its running statistics (Keras's default
            0.99; 0.9 suits runs of a few hundred steps, see notebook 07).
    """
    for i in range(1, convs + 1):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", name=f"block{block}_conv{i}")(x)
            x = layers.BatchNormalization(momentum=bn_momentum, name=f"block{block}_bn{i}")(x)
            x = layers.Activation("relu", name=f"block{block}_relu{i}")(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{i}")(x)
    return layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)


def vgg_stack(x, depth: int, *, alpha: float = 1.0, batch_norm: bool = False,
              bn_momentum: float = 0.99):
    """The five blocks of VGG-``depth`` (Table 1).

    Args:
        x: the input images.
        depth: 16 or 19.
        alpha: width multiplier for every convolution's filters.
        batch_norm: batch normalisation after every convolution (see :func:`vgg_block`).
        bn_momentum: batch norm's momentum for its running statistics (Keras's default
            0.99; 0.9 suits runs of a few hundred steps, see notebook 07).
    """
    for block, (filters, convs) in enumerate(zip(FILTERS, CONVS_PER_BLOCK[depth]), start=1):
        x = vgg_block(x, scaled(filters, alpha), convs, block, batch_norm=batch_norm,
                      bn_momentum=bn_momentum)
    return x


def _top(units: int) -> dict:
    """VGG's classifier as :func:`head` builds it: flatten, fc1, fc2 (ReLU), predictions."""
    return {"flatten": True, "hidden": (("fc1", units), ("fc2", units)),
            "pool_names": KERAS_POOL_NAMES}


def classifier(x, *, classes: int, classifier_activation="softmax", units: int = FC_UNITS):
    """VGG's classifier on its own (to finish a VGG built block by block): ``flatten``,
    ``fc1`` and ``fc2`` of ``units`` with ReLU, then ``predictions``.

    Args:
        x: the last block's maps.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        units: the two hidden layers' units (4096 in the paper).
    """
    return head(x, include_top=True, pooling=None, classes=classes,
                classifier_activation=classifier_activation, **_top(units))


def vgg(depth: int, *, include_top=True, input_shape=None, pooling=None, classes=1000,
        classifier_activation="softmax", alpha=1.0, batch_norm=False, bn_momentum=0.99, name=None):
    """VGG of ``depth`` 16 or 19 (Table 1, configurations D and E).

    Args:
        depth: 16 or 19 weighted layers.
        include_top: end with fc1, fc2 and the classifier; ``False`` ends with block 5.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        alpha: width multiplier for every convolution and hidden dense layer (the
            classifier keeps ``classes``).
        batch_norm: batch normalisation after every convolution (not in the paper).
        bn_momentum: batch norm's momentum for its running statistics (Keras's default
            0.99; 0.9 suits runs of a few hundred steps, see notebook 07).
        name: model name; defaults to ``vgg<depth>``.
    """
    if depth not in CONVS_PER_BLOCK:
        raise ValueError(f"VGG depth must be 16 or 19; got {depth!r}. Hint: Table 1's "
                         f"configurations D and E; zoo.vgg16 and zoo.vgg19 build them.")
    network = f"VGG-{depth}"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    x = vgg_stack(inputs, depth, alpha=alpha, batch_norm=batch_norm, bn_momentum=bn_momentum)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, **_top(scaled(FC_UNITS, alpha)))
    return keras.Model(inputs, x, name=name or f"vgg{depth}")


def vgg16(*, include_top=True, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", alpha=1.0, batch_norm=False, bn_momentum=0.99,
          name="vgg16"):
    """VGG-16 (Table 1, D): 13 convolutions and 3 dense layers, 138,357,544 parameters at
    224x224x3; ``keras.applications.VGG16`` layer for layer.

    Args:
        include_top: end with fc1, fc2 and the classifier; ``False`` ends with block 5.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        alpha: width multiplier for every convolution and hidden dense layer.
        batch_norm: batch normalisation after every convolution (not in the paper).
        bn_momentum: batch norm's momentum for its running statistics (Keras's default
            0.99; 0.9 suits runs of a few hundred steps, see notebook 07).
        name: model name.
    """
    return vgg(16, include_top=include_top, input_shape=input_shape, pooling=pooling,
               classes=classes, classifier_activation=classifier_activation, alpha=alpha,
               batch_norm=batch_norm, bn_momentum=bn_momentum, name=name)


def vgg19(*, include_top=True, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", alpha=1.0, batch_norm=False, bn_momentum=0.99,
          name="vgg19"):
    """VGG-19 (Table 1, E): 16 convolutions and 3 dense layers, 143,667,240 parameters at
    224x224x3; ``keras.applications.VGG19`` layer for layer.

    Args:
        include_top: end with fc1, fc2 and the classifier; ``False`` ends with block 5.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        alpha: width multiplier for every convolution and hidden dense layer.
        batch_norm: batch normalisation after every convolution (not in the paper).
        bn_momentum: batch norm's momentum for its running statistics (Keras's default
            0.99; 0.9 suits runs of a few hundred steps, see notebook 07).
        name: model name.
    """
    return vgg(19, include_top=include_top, input_shape=input_shape, pooling=pooling,
               classes=classes, classifier_activation=classifier_activation, alpha=alpha,
               batch_norm=batch_norm, bn_momentum=bn_momentum, name=name)
