"""Network in Network (Lin, Chen and Yan, ICLR 2014) for ImageNet-sized inputs.

An "mlpconv" block is a convolution followed by two 1x1 convolutions, all with ReLU: a small
multilayer perceptron slid over the image, mixing channels at every position (section 3.1).
Instead of dense layers, the last block has one channel per class and global average
pooling turns each channel into a class score (section 3.2). The ImageNet layout follows
the authors' released ImageNet model: blocks of 96 (11x11, stride 4), 256 (5x5), 384 (3x3)
and 1024 (3x3) channels, 3x3 max pooling with stride 2 between blocks, dropout before the
last block, whose last 1x1 convolution maps to the classes.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_pooling, resolve_input_shape, scaled

BLOCKS = ((96, 11, 4, "valid"), (256, 5, 1, "same"), (384, 3, 1, "same"))


def mlpconv_block(x, filters, kernel, strides, padding, block, last_filters=None,
                  last_activation="relu"):
    """A k x k convolution, then two 1x1 convolutions (the "micro network"), all ReLU."""
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, activation="relu",
                      name=f"block{block}_conv")(x)
    x = layers.Conv2D(filters, 1, activation="relu", name=f"block{block}_mlp1")(x)
    return layers.Conv2D(last_filters or filters, 1, activation=last_activation,
                         name=f"block{block}_mlp2")(x)


def nin(include_top=True, input_shape=None, pooling=None, classes=1000,
        classifier_activation="softmax", dropout=0.5, width=1.0, class_map_relu=True,
        name="nin"):
    """NiN. With ``include_top`` the last block maps to ``classes`` channels and global
    average pooling gives the scores; without it the 1024-channel maps are returned
    (pooled with ``pooling``). ``width`` multiplies every block's channels.
    ``class_map_relu=False`` leaves out the ReLU on the class maps, which the released
    model has but which can silence a class for good when training starts badly."""
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 224, 67, include_top, "NiN")
    inputs = keras.Input(shape=shape)
    x = inputs
    for block, (filters, kernel, strides, padding) in enumerate(BLOCKS, start=1):
        x = mlpconv_block(x, scaled(filters, width), kernel, strides, padding, block)
        x = layers.MaxPooling2D(3, strides=2, name=f"block{block}_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    if include_top:
        x = mlpconv_block(x, scaled(1024, width), 3, 1, "same", 4, last_filters=classes,
                          last_activation="relu" if class_map_relu else None)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Activation(classifier_activation or "linear", name="predictions")(x)
    else:
        x = mlpconv_block(x, scaled(1024, width), 3, 1, "same", 4)
        if pooling == "avg":
            x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        elif pooling == "max":
            x = layers.GlobalMaxPooling2D(name="max_pool")(x)
    return keras.Model(inputs, x, name=name)
