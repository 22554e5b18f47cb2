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
from course_utils.zoo.common import check_pooling, pool_features, resolve_input_shape, scaled

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
AUX_AFTER = ("4a", "4d")
AUX_LOSS_WEIGHT = 0.3


def conv(x, filters, kernel, name, strides=1):
    return layers.Conv2D(filters, kernel, strides=strides, padding="same", activation="relu",
                         name=name)(x)


def inception_module(x, filters, name):
    """Four branches, concatenated on channels: ``inception_{name}_...``."""
    f1, r3, f3, r5, f5, fp = filters
    p = f"inception_{name}"
    b1 = conv(x, f1, 1, f"{p}_1x1")
    b3 = conv(conv(x, r3, 1, f"{p}_3x3_reduce"), f3, 3, f"{p}_3x3")
    b5 = conv(conv(x, r5, 1, f"{p}_5x5_reduce"), f5, 5, f"{p}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{p}_pool")(x)
    bp = conv(bp, fp, 1, f"{p}_pool_proj")
    return layers.Concatenate(axis=-1, name=f"{p}_output")([b1, b3, b5, bp])


def auxiliary_classifier(x, classes, name, classifier_activation, width=1.0):
    """Section 5: 5x5/3 average pooling, 1x1 conv 128, dense 1024, 70% dropout, classes."""
    pool = min(5, x.shape[1])  # small inputs: a 5x5 window would not fit
    x = layers.AveragePooling2D(pool, strides=3, name=f"{name}_pool")(x)
    x = conv(x, scaled(128, width), 1, f"{name}_conv")
    x = layers.Flatten(name=f"{name}_flatten")(x)
    x = layers.Dense(scaled(1024, width), activation="relu", name=f"{name}_fc")(x)
    x = layers.Dropout(0.7, name=f"{name}_dropout")(x)
    return layers.Dense(classes, activation=classifier_activation, name=f"{name}_predictions")(x)


def stem(x, lrn=True, width=1.0):
    """224x224x3 -> 28x28x192."""
    x = conv(x, scaled(64, width), 7, "conv1_7x7", strides=2)
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    if lrn:
        x = LocalResponseNormalization(name="pool1_lrn")(x)
    x = conv(x, scaled(64, width), 1, "conv2_3x3_reduce")
    x = conv(x, scaled(192, width), 3, "conv2_3x3")
    if lrn:
        x = LocalResponseNormalization(name="conv2_lrn")(x)
    return layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)


def googlenet(include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", aux_classifiers=False, lrn=True,
              dropout=0.4, width=1.0, name="googlenet"):
    """GoogLeNet. With ``aux_classifiers`` (and ``include_top``) the model has three
    outputs: the main classifier, then the auxiliary ones after 4a and 4d; train it with
    ``loss_weights=[1, 0.3, 0.3]``. ``width`` multiplies every layer's channels."""
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 224, 32, include_top, "GoogLeNet")
    inputs = keras.Input(shape=shape)
    x = stem(inputs, lrn, width)
    aux = []
    for module, filters in MODULES.items():
        if module == "4a":
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool3")(x)
        if module == "5a":
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool4")(x)
        x = inception_module(x, [scaled(f, width) for f in filters], module)
        if include_top and aux_classifiers and module in AUX_AFTER:
            aux.append(auxiliary_classifier(x, classes, f"aux{len(aux) + 1}",
                                            classifier_activation, width))
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = pool_features(x, pooling)
    return keras.Model(inputs, [x, *aux] if aux else x, name=name)
