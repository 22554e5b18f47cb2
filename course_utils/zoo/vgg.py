"""VGG-16 and VGG-19 (Simonyan and Zisserman, "Very Deep Convolutional Networks for
Large-Scale Image Recognition", ICLR 2015, Table 1, configurations D and E).

Five blocks of 3x3 "same" convolutions with ReLU, each closed by 2x2 max pooling with stride
2; channels 64, 128, 256, 512, 512; then two dense layers of 4096 and the classifier.
Layer names, arguments and weights line up with ``keras.applications.VGG16``/``VGG19``.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_pooling, pool_features, resolve_input_shape, scaled

FILTERS = (64, 128, 256, 512, 512)
CONVS_PER_BLOCK = {16: (2, 2, 3, 3, 3), 19: (2, 2, 4, 4, 4)}


def vgg_block(x, filters: int, convs: int, block: int, batch_norm: bool = False):
    """``convs`` 3x3 same-padded ReLU convolutions, then 2x2 max pooling: ``block{n}_...``.
    With ``batch_norm`` each convolution is followed by batch normalisation, then ReLU."""
    for i in range(1, convs + 1):
        if batch_norm:
            x = layers.Conv2D(filters, 3, padding="same", name=f"block{block}_conv{i}")(x)
            x = layers.BatchNormalization(name=f"block{block}_bn{i}")(x)
            x = layers.Activation("relu", name=f"block{block}_relu{i}")(x)
        else:
            x = layers.Conv2D(filters, 3, padding="same", activation="relu",
                              name=f"block{block}_conv{i}")(x)
    return layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)


def vgg_stack(x, depth: int, width: float = 1.0, batch_norm: bool = False):
    for block, (filters, convs) in enumerate(zip(FILTERS, CONVS_PER_BLOCK[depth]), start=1):
        x = vgg_block(x, scaled(filters, width), convs, block, batch_norm)
    return x


def classifier(x, classes: int, classifier_activation, units: int = 4096):
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(units, activation="relu", name="fc1")(x)
    x = layers.Dense(units, activation="relu", name="fc2")(x)
    return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)


def vgg(depth: int, include_top=True, input_shape=None, pooling=None, classes=1000,
        classifier_activation="softmax", name=None, width=1.0, batch_norm=False):
    """VGG of ``depth`` 16 or 19; the arguments mean what they mean in keras.applications.
    ``width`` scales every convolution and dense layer (the classifier's classes stay);
    ``batch_norm`` adds batch normalisation after every convolution (not in the paper)."""
    if depth not in CONVS_PER_BLOCK:
        raise ValueError(f"VGG depth must be 16 or 19; got {depth}.")
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 224, 32, include_top, f"VGG-{depth}")
    inputs = keras.Input(shape=shape)
    x = vgg_stack(inputs, depth, width, batch_norm)
    if include_top:
        x = classifier(x, classes, classifier_activation, scaled(4096, width))
    else:
        x = pool_features(x, pooling)
    return keras.Model(inputs, x, name=name or f"vgg{depth}")


def vgg16(include_top=True, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg16", width=1.0, batch_norm=False):
    """VGG-16: 13 convolutions and 3 dense layers (138,357,544 parameters at 224x224x3)."""
    return vgg(16, include_top, input_shape, pooling, classes, classifier_activation, name,
               width, batch_norm)


def vgg19(include_top=True, input_shape=None, pooling=None, classes=1000,
          classifier_activation="softmax", name="vgg19", width=1.0, batch_norm=False):
    """VGG-19: 16 convolutions and 3 dense layers (143,667,240 parameters at 224x224x3)."""
    return vgg(19, include_top, input_shape, pooling, classes, classifier_activation, name,
               width, batch_norm)
