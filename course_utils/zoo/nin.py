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

from course_utils.zoo.common import check_head_options, check_input_shape, head, scaled

# The first three blocks: (filters, kernel size, strides, padding)
BLOCKS = ((96, 11, 4, "valid"), (256, 5, 1, "same"), (384, 3, 1, "same"))
LAST_FILTERS = 1024


def mlpconv_block(x, filters: int, kernel_size, block: int, *, strides=1, padding="same",
                  last_filters=None, last_activation="relu"):
    """A k x k convolution, then two 1x1 convolutions (the "micro network", section 3.1):
    ``block{n}_conv``, ``block{n}_mlp1``, ``block{n}_mlp2``.

    Args:
        x: the input tensor.
        filters: the filters of the convolution and of the first 1x1 convolution.
        kernel_size: the first convolution's kernel size.
        block: the block's number, for the layer names.
        strides: the first convolution's strides.
        padding: its padding, ``"same"`` or ``"valid"``.
        last_filters: the last 1x1 convolution's filters (default ``filters``; the number
            of classes in the last block, section 3.2).
        last_activation: its activation (``None`` leaves the class maps linear).
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      activation="relu", name=f"block{block}_conv")(x)
    x = layers.Conv2D(filters, 1, activation="relu", name=f"block{block}_mlp1")(x)
    return layers.Conv2D(last_filters or filters, 1, activation=last_activation,
                         name=f"block{block}_mlp2")(x)


def nin(*, include_top=True, input_shape=None, pooling=None, classes=1000,
        classifier_activation="softmax", dropout=0.5, alpha=1.0, class_map_relu=True,
        name="nin"):
    """NiN: four mlpconv blocks, the last one mapping to one channel per class, and global
    average pooling in place of dense layers (sections 3.1 and 3.2).

    Args:
        include_top: end with the class maps and their global average; ``False`` ends with
            block 4's 1024-channel maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 67x67.
            ``None`` for height and width takes any size, with the classifier too.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: applied to the averaged class maps (``None`` for logits).
        dropout: the dropout rate before the last block, as in the released model.
        alpha: width multiplier for every block's channels.
        class_map_relu: keep the ReLU on the class maps, as the released model has it;
            ``False`` leaves it out, since it can silence a class for good when training
            starts badly.
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="NiN")
    # The classifier is a global average of class maps: any input size will do.
    shape = check_input_shape(input_shape, default_size=224, min_size=67,
                              include_top=include_top, network="NiN",
                              top_needs_fixed_size=False)
    inputs = keras.Input(shape=shape)
    x = inputs
    for block, (filters, kernel_size, strides, padding) in enumerate(BLOCKS, start=1):
        x = mlpconv_block(x, scaled(filters, alpha), kernel_size, block, strides=strides,
                          padding=padding)
        x = layers.MaxPooling2D(3, strides=2, name=f"block{block}_pool")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    if include_top:  # the last 1x1 convolution maps to the classes
        x = mlpconv_block(x, scaled(LAST_FILTERS, alpha), 3, 4, last_filters=classes,
                          last_activation="relu" if class_map_relu else None)
    else:
        x = mlpconv_block(x, scaled(LAST_FILTERS, alpha), 3, 4)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, class_maps=True)
    return keras.Model(inputs, x, name=name)
