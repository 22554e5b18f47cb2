"""AlexNet (Krizhevsky, Sutskever and Hinton, "ImageNet Classification with Deep
Convolutional Neural Networks", NeurIPS 2012), as the course's sources describe it: one
tower (no split over two GPUs), 227x227x3 input. With 1000 classes it has 62,378,344
parameters.

conv1 96@11x11/4 -> LRN -> max pool 3/2 -> conv2 256@5x5 -> LRN -> max pool 3/2 ->
conv3 384@3x3 -> conv4 384@3x3 -> conv5 256@3x3 -> max pool 3/2 -> fc6 4096 -> fc7 4096
-> predictions; ReLU throughout, dropout 0.5 on the outputs of fc6 and fc7 (section 3 and
Figure 2 of the paper; section 3.3 for the normalisation, 4.2 for the dropout).
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.layers import LocalResponseNormalization
from course_utils.zoo.common import check_head_options, check_input_shape, head, scaled

# name -> (filters, kernel size, strides, padding, LRN after it, max pooling after it)
CONVS = (
    ("conv1", 96, 11, 4, "valid", True, True),
    ("conv2", 256, 5, 1, "same", True, True),
    ("conv3", 384, 3, 1, "same", False, False),
    ("conv4", 384, 3, 1, "same", False, False),
    ("conv5", 256, 3, 1, "same", False, True),
)


def conv_block(x, filters: int, kernel_size, name: str, *, strides=1, padding="same",
               activation="relu", lrn=False, pool=False):
    """A convolution (``{name}_conv``), optionally followed by local response normalisation
    (``{name}_lrn``) and 3x3 max pooling with stride 2 (``{name}_pool``).

    Args:
        x: the input tensor.
        filters: the convolution's number of filters.
        kernel_size: its kernel size.
        name: where the block sits, e.g. ``"conv1"``.
        strides: the convolution's strides.
        padding: ``"same"`` or ``"valid"``.
        activation: the convolution's activation.
        lrn: add local response normalisation (section 3.3).
        pool: add the overlapping 3x3/2 max pooling (section 3.4).
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      activation=activation, name=f"{name}_conv")(x)
    if lrn:
        x = LocalResponseNormalization(name=f"{name}_lrn")(x)
    if pool:
        x = layers.MaxPooling2D(3, strides=2, name=f"{name}_pool")(x)
    return x


def alexnet(*, include_top=True, input_shape=None, pooling=None, classes=1000,
            classifier_activation="softmax", activation="relu", lrn=True, dropout=0.5,
            alpha=1.0, name="alexnet"):
    """AlexNet: five convolutions, then fc6, fc7 and the classifier (Figure 2).

    Args:
        include_top: end with fc6, fc7 and the classifier; ``False`` ends with conv5's maps.
        input_shape: ``(height, width, channels)``; default 227x227x3, at least 67x67.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        activation: of every convolution and hidden dense layer: ``"relu"`` (section 3.1)
            or ``"tanh"`` for the older networks it is compared with.
        lrn: local response normalisation after conv1 and conv2 (section 3.3).
        dropout: the dropout rate after fc6 and fc7 (section 4.2).
        alpha: width multiplier for every layer's channels and units.
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="AlexNet")
    shape = check_input_shape(input_shape, default_size=227, min_size=67,
                              include_top=include_top, network="AlexNet")
    inputs = keras.Input(shape=shape)
    x = inputs
    for block, filters, kernel_size, strides, padding, with_lrn, pool in CONVS:
        x = conv_block(x, scaled(filters, alpha), kernel_size, block, strides=strides,
                       padding=padding, activation=activation, lrn=lrn and with_lrn, pool=pool)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, flatten=True,
             hidden=(("fc6", scaled(4096, alpha)), ("fc7", scaled(4096, alpha))),
             hidden_activation=activation, dropout=dropout)
    return keras.Model(inputs, x, name=name)
