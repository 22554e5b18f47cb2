"""AlexNet (Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012), as the course's sources describe it: one
tower (no split over two GPUs), 227x227x3 input. With 1000 classes it has 62,378,344
parameters.

conv1 96@11x11/4 -> LRN -> max pool 3/2 -> conv2 256@5x5 -> LRN -> max pool 3/2 ->
conv3 384@3x3 -> conv4 384@3x3 -> conv5 256@3x3 -> max pool 3/2 -> fc6 4096 -> fc7 4096
-> predictions; ReLU throughout, dropout 0.5 on the outputs of fc6 and fc7.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.layers import LocalResponseNormalization
from course_utils.zoo.common import check_pooling, pool_features, resolve_input_shape, scaled


def conv_block(x, filters, kernel, name, strides=1, padding="same", activation="relu",
               lrn=False, pool=False):
    """A convolution, optionally followed by local response normalisation and pooling."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding,
                      activation=activation, name=f"{name}_conv")(x)
    if lrn:
        x = LocalResponseNormalization(name=f"{name}_lrn")(x)
    if pool:
        x = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    return x


def alexnet(include_top=True, input_shape=None, pooling=None, classes=1000,
            classifier_activation="softmax", activation="relu", lrn=True, dropout=0.5,
            width=1.0, name="alexnet"):
    """AlexNet. ``activation`` ("relu" or "tanh"), ``lrn`` and ``width`` (a multiplier for
    every layer's channels and units) make smaller or older variants; the other arguments
    mean what they mean in keras.applications."""
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 227, 67, include_top, "AlexNet")
    inputs = keras.Input(shape=shape)
    def w(n):
        return scaled(n, width)

    x = conv_block(inputs, w(96), 11, "conv1", strides=4, padding="valid",
                   activation=activation, lrn=lrn, pool=True)
    x = conv_block(x, w(256), 5, "conv2", activation=activation, lrn=lrn, pool=True)
    x = conv_block(x, w(384), 3, "conv3", activation=activation)
    x = conv_block(x, w(384), 3, "conv4", activation=activation)
    x = conv_block(x, w(256), 3, "conv5", activation=activation, pool=True)
    if include_top:
        x = layers.Flatten(name="flatten")(x)
        for i in (6, 7):
            x = layers.Dense(w(4096), activation=activation, name=f"fc{i}")(x)
            x = layers.Dropout(dropout, name=f"fc{i}_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pool_features(x, pooling)
    return keras.Model(inputs, x, name=name)
