"""GoogLeNet, Inception v1 (Szegedy et al., "Going Deeper with Convolutions", CVPR 2015).

Table 1 of the paper gives each stage's output size and each Inception module's filters:
``#1x1``, ``#3x3 reduce``, ``#3x3``, ``#5x5 reduce``, ``#5x5``, ``pool proj``. A module runs
four branches side by side and concatenates them on channels; the 1x1 "reduce"
convolutions in front of the 3x3 and 5x5 branches (and after the pooling branch) are the
bottlenecks that keep the cost down. Section 5 adds two auxiliary classifiers, after
inception 4a and 4d, whose losses are weighted by 0.3 during training.

Local response normalisation follows the stem's pooling and its 3x3 convolution, as in the
paper's Figure 3 (``lrn=False`` leaves it out).
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.layers import LocalResponseNormalization
from course_utils.zoo.common import check_head_options, check_input_shape, head, scaled

# Table 1: name -> (#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj)
MODULES = {
    "3a": (64, 96, 128, 16, 32, 32),
    "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64),
    "4b": (160, 112, 224, 24, 64, 64),
    "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64),
    "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128),
    "5b": (384, 192, 384, 48, 128, 128),
}
POOL_BEFORE = {"4a": "pool3", "5a": "pool4"}  # Table 1: max pool 3x3/2 between the stages
AUX_AFTER = ("4a", "4d")
AUX_LOSS_WEIGHT = 0.3


def conv_relu(x, filters: int, kernel_size, name: str, *, strides=1):
    """A same-padded convolution with ReLU; every convolution of GoogLeNet is one.

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size.
        name: the layer's name.
        strides: strides.
    """
    return layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                         activation="relu", name=name)(x)


def inception_module(x, filters, name: str):
    """Four branches, concatenated on channels: ``inception_{name}_...`` (Figure 2b).

    Args:
        x: the input tensor.
        filters: Table 1's six numbers: ``(#1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5,
            pool proj)``.
        name: the module's name in Table 1, e.g. ``"3a"``.
    """
    f1, r3, f3, r5, f5, fp = filters
    p = f"inception_{name}"
    b1 = conv_relu(x, f1, 1, f"{p}_1x1")
    b3 = conv_relu(conv_relu(x, r3, 1, f"{p}_3x3_reduce"), f3, 3, f"{p}_3x3")
    b5 = conv_relu(conv_relu(x, r5, 1, f"{p}_5x5_reduce"), f5, 5, f"{p}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{p}_pool")(x)
    bp = conv_relu(bp, fp, 1, f"{p}_pool_proj")
    return layers.Concatenate(axis=-1, name=f"{p}_output")([b1, b3, b5, bp])


def auxiliary_classifier(x, classes: int, name: str, *, classifier_activation="softmax",
                         alpha=1.0):
    """Section 5: 5x5/3 average pooling, 1x1 conv 128, dense 1024 with 70% dropout, then the
    classes: ``{name}_pool``, ``{name}_conv``, ``{name}_flatten``, ``{name}_fc``,
    ``{name}_fc_dropout``, ``{name}_predictions``.

    Args:
        x: the output of the module it follows (4a or 4d).
        classes: number of output classes.
        name: ``"aux1"`` or ``"aux2"``.
        classifier_activation: activation of its output layer (``None`` for logits).
        alpha: width multiplier for its convolution and dense layer.
    """
    pool = min(5, x.shape[1])  # small inputs: a 5x5 window would not fit
    x = layers.AveragePooling2D(pool, strides=3, name=f"{name}_pool")(x)
    x = conv_relu(x, scaled(128, alpha), 1, f"{name}_conv")
    return head(x, include_top=True, pooling=None, classes=classes,
                classifier_activation=classifier_activation, flatten=True,
                hidden=((f"{name}_fc", scaled(1024, alpha)),), dropout=0.7,
                prefix=f"{name}_")


def stem(x, *, lrn=True, alpha=1.0):
    """The layers before inception 3a (Table 1): 224x224x3 -> 28x28x192.

    Args:
        x: the input images.
        lrn: local response normalisation after pool1 and conv2 (Figure 3).
        alpha: width multiplier for the convolutions' filters.
    """
    x = conv_relu(x, scaled(64, alpha), 7, "conv1_7x7", strides=2)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = LocalResponseNormalization(name="pool1_lrn")(x)
    x = conv_relu(x, scaled(64, alpha), 1, "conv2_3x3_reduce")
    x = conv_relu(x, scaled(192, alpha), 3, "conv2_3x3")
    if lrn:
        x = LocalResponseNormalization(name="conv2_lrn")(x)
    return layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)


def googlenet(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", aux_classifiers=False, lrn=True,
              dropout=0.4, alpha=1.0, name="googlenet"):
    """GoogLeNet: the stem, nine Inception modules and global average pooling (Table 1).

    Args:
        include_top: end with average pooling, 40% dropout and the classifier; ``False``
            ends with inception 5b's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layers (``None`` for logits).
        aux_classifiers: with ``include_top``, add the auxiliary classifiers after 4a and 4d
            (section 5): the model then has three outputs, the main one first; train it
            with ``loss_weights=[1, 0.3, 0.3]``.
        lrn: local response normalisation in the stem (Figure 3).
        dropout: the dropout rate before the classifier (section 5: 40%).
        alpha: width multiplier for every layer's channels.
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="GoogLeNet")
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network="GoogLeNet")
    inputs = keras.Input(shape=shape)
    x = stem(inputs, lrn=lrn, alpha=alpha)
    aux = []
    for module, filters in MODULES.items():
        if module in POOL_BEFORE:
            x = layers.MaxPooling2D(3, strides=2, padding="same", name=POOL_BEFORE[module])(x)
        x = inception_module(x, [scaled(f, alpha) for f in filters], module)
        if include_top and aux_classifiers and module in AUX_AFTER:
            aux.append(auxiliary_classifier(x, classes, f"aux{len(aux) + 1}",
                                            classifier_activation=classifier_activation,
                                            alpha=alpha))
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, dropout=dropout)
    return keras.Model(inputs, [x, *aux] if aux else x, name=name)
