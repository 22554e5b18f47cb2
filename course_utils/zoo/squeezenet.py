"""SqueezeNet 1.0 and 1.1 (Iandola et al., "SqueezeNet: AlexNet-level accuracy with 50x
fewer parameters and <0.5MB model size", 2016, arXiv:1602.07360, Table 1; version 1.1
from the authors' repository, as in torchvision).

A convolution, then eight fire modules: a 1x1 "squeeze" convolution to few channels,
then 1x1 and 3x3 "expand" convolutions side by side, concatenated (section 3.2). Three
max poolings sit between them; the head is a 1x1 convolution to the classes, ReLU and
global average pooling, with no dense layer at all. Keras has no SqueezeNet: the counts
match the paper's Table 1 layer for layer (with biases) and torchvision's totals,
1,248,424 (1.0) and 1,235,496 (1.1) parameters at 224x224 with 1,000 classes.

Two options change how it trains, not what it counts: ``kernel_initializer`` (Keras's
Glorot-uniform by default; ``"he_uniform"`` as torchvision draws all but conv10's) and
``class_map_relu`` (the ReLU on conv10's class maps; without it no class can be silenced
for good, as in NiN's Fashion-MNIST version).

torchvision pools with ``ceil_mode=True``: a last, partial window is kept where the input
does not divide evenly. Keras's pooling floors, so :func:`ceil_pool` pads one row and
column of zeros at the bottom and right where the floor would lose a window; after a ReLU
every value is at least 0, so a zero never wins the maximum over a real one.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head

# (conv1 filters, kernel), then per fire module (squeeze, expand 1x1, expand 3x3), the
# modules after which a max pooling comes (the stem's pooling is pool1), and the smallest
# side whose last pooling still has a whole window.
VERSIONS = {
    "1.0": {"stem": (96, 7), "pools_after": (4, 8), "min_size": 29,
            "fires": ((16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
                      (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))},
    "1.1": {"stem": (64, 3), "pools_after": (3, 5), "min_size": 25,
            "fires": ((16, 64, 64), (16, 64, 64), (32, 128, 128), (32, 128, 128),
                      (48, 192, 192), (48, 192, 192), (64, 256, 256), (64, 256, 256))},
}


def ceil_pool(x, name: str):
    """3x3 max pooling with stride 2 that keeps a last partial window, as PyTorch's
    ``ceil_mode=True``: ``{name}_pad`` (where needed) and ``{name}``.

    Args:
        x: the maps, after a ReLU (no negative values); their height and width must be known.
        name: the pooling layer's name.
    """
    pad = [1 if (size - 3) % 2 else 0 for size in x.shape[1:3]]
    if any(pad):
        x = layers.ZeroPadding2D(((0, pad[0]), (0, pad[1])), name=f"{name}_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name=name)(x)


def fire_module(x, squeeze: int, expand_1x1: int, expand_3x3: int, name: str, *,
                kernel_initializer="glorot_uniform"):
    """A fire module (Figure 1): ``{name}_squeeze`` (1x1), then ``{name}_expand1x1`` and
    ``{name}_expand3x3`` (3x3, same padding) on the squeezed maps, each with ReLU, joined
    by ``{name}_concat``.

    Args:
        x: the input tensor.
        squeeze: the squeeze layer's filters (``s1x1`` in Table 1).
        expand_1x1: the 1x1 expand filters (``e1x1``).
        expand_3x3: the 3x3 expand filters (``e3x3``).
        name: where the module sits, e.g. ``"fire2"``.
        kernel_initializer: the three convolutions' initializer (Keras's default, or
            ``"he_uniform"`` as torchvision draws them).
    """
    conv = {"activation": "relu", "kernel_initializer": kernel_initializer}
    s = layers.Conv2D(squeeze, 1, name=f"{name}_squeeze", **conv)(x)
    e1 = layers.Conv2D(expand_1x1, 1, name=f"{name}_expand1x1", **conv)(s)
    e3 = layers.Conv2D(expand_3x3, 3, padding="same", name=f"{name}_expand3x3", **conv)(s)
    return layers.Concatenate(name=f"{name}_concat")([e1, e3])


def squeezenet_stack(x, version: str = "1.0", *, kernel_initializer="glorot_uniform"):
    """conv1, pool1 and the fire modules fire2 to fire9 with their poolings.

    Args:
        x: the input images.
        version: ``"1.0"`` (Table 1) or ``"1.1"`` (a 3x3 stem and earlier poolings).
        kernel_initializer: every convolution's initializer.
    """
    spec = VERSIONS[version]
    filters, kernel = spec["stem"]
    x = layers.Conv2D(filters, kernel, strides=2, activation="relu",
                      kernel_initializer=kernel_initializer, name="conv1")(x)
    x = ceil_pool(x, "pool1")
    for number, (squeeze, e1, e3) in enumerate(spec["fires"], start=2):
        x = fire_module(x, squeeze, e1, e3, f"fire{number}",
                        kernel_initializer=kernel_initializer)
        if number in spec["pools_after"]:
            x = ceil_pool(x, f"pool{number}")
    return x


def squeezenet(version="1.0", *, include_top=True, input_shape=None, pooling=None,
               classes=1000, classifier_activation="softmax", dropout=0.5,
               class_map_relu=True, kernel_initializer="glorot_uniform", name=None):
    """SqueezeNet 1.0 or 1.1: 1,248,424 or 1,235,496 parameters at 224x224x3 with 1,000
    classes (torchvision's counts).

    Args:
        version: ``"1.0"`` (the paper's Table 1) or ``"1.1"`` (2.4x less computation,
            about the same accuracy, the authors say).
        include_top: end with ``drop9``, ``conv10`` (1x1 to the classes) with ReLU, global
            average pooling and ``predictions``; ``False`` ends with fire9.
        input_shape: ``(height, width, channels)`` with a known height and width (the
            poolings' padding depends on them); default 224x224x3.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for the pooled
            scores, as torchvision returns them).
        dropout: the dropout rate before ``conv10`` (0.5 in the paper).
        class_map_relu: keep the ReLU on conv10's class maps, as the paper and torchvision
            have it; ``False`` leaves it out, since a class whose map starts out negative
            everywhere then scores zero and gets no gradient.
        kernel_initializer: every convolution's initializer: Keras's default
            ``"glorot_uniform"``, or ``"he_uniform"`` as torchvision draws all but conv10.
        name: model name; defaults to ``squeezenet1_0`` or ``squeezenet1_1``.
    """
    if version not in VERSIONS:
        raise ValueError(f"SqueezeNet: version must be '1.0' or '1.1'; got {version!r}. "
                         f"Hint: 1.1 is the lighter one from the authors' repository.")
    network = f"SqueezeNet {version}"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape if input_shape is not None else (224, 224, 3),
                              default_size=224, min_size=VERSIONS[version]["min_size"], include_top=include_top,
                              network=network)
    if None in shape[:2]:
        raise ValueError(
            f"{network}: input_shape needs a known height and width; got {shape}. Hint: "
            f"the ceil-mode poolings pad by the size they see, so give e.g. (224, 224, 3).")
    inputs = keras.Input(shape=shape)
    x = squeezenet_stack(inputs, version, kernel_initializer=kernel_initializer)
    if include_top:
        x = layers.Dropout(dropout, name="drop9")(x)
        x = layers.Conv2D(classes, 1, activation="relu" if class_map_relu else None,
                          kernel_initializer=kernel_initializer, name="conv10")(x)
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Activation(classifier_activation, name="predictions")(x)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name or f"squeezenet{version.replace('.', '_')}")
