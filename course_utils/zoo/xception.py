"""Xception (Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions",
CVPR 2017, arXiv:1610.02357).

Xception pushes the Inception idea to its end (section 2): if an Inception module maps
cross-channel and spatial correlations apart, map them *entirely* apart, with depthwise
separable convolutions: a 3x3 convolution of each channel on its own, then a 1x1
convolution mixing the channels. Figure 5 stacks 36 such layers (and two plain ones) in 14
modules, all with residual connections but the first and the last:

- the entry flow: two 3x3 convolutions (32 and 64 filters, the first with stride 2), then
  three modules (128, 256, 728 filters) of two separable convolutions and a 3x3 stride-2
  max pooling, added to a 1x1 stride-2 convolution of the module's input
  (:func:`downsampling_block`);
- the middle flow: eight times the same module of three ReLU + 728-filter separable
  convolutions, added to its input (:func:`middle_block`);
- the exit flow: one more downsampling module (728, then 1024 filters), then separable
  convolutions of 1536 and 2048 filters, each followed by a ReLU, and global average
  pooling.

Every convolution is followed by batch normalisation (Figure 5's caption: "not included
in the diagram"), and there is no ReLU between the depthwise and the pointwise half of a separable
convolution (section 4.7: the network learns faster and ends better without it).

Equal to ``keras.applications.Xception`` layer for layer: arguments, layer order, names,
output shapes, parameters (22,910,480 with the classifier at 299x299) and, once weights are
copied, outputs. The layers Keras leaves unnamed (the shortcuts' ``conv2d`` and
``batch_normalization``, the ``add`` layers, the pooling without the classifier) get the
names Keras gives them in a fresh session: ``conv2d``, ``conv2d_1``, ..., ``add_11``.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import (
    KERAS_POOL_NAMES,
    check_head_options,
    check_input_shape,
    head,
)
from course_utils.zoo.inception_v3 import KerasNames

DEFAULT_SIZE = 299
MIN_SIZE = 71  # two valid 3x3 convolutions and four stride-2 poolings leave 3x3
ENTRY_FILTERS = (128, 256, 728)  # the entry flow's three modules (Figure 5)
MIDDLE_FILTERS = 728
MIDDLE_REPEATS = 8  # "repeated 8 times" (Figure 5)
EXIT_FILTERS = (728, 1024)  # the exit flow's downsampling module
TOP_FILTERS = (1536, 2048)  # the last two separable convolutions


def separable_conv_bn(x, filters: int, name: str, *, relu: str | None = "before"):
    """A 3x3 depthwise separable convolution (no bias, no activation between its depthwise
    and pointwise halves, depth multiplier 1) and batch normalisation: ``{name}`` and
    ``{name}_bn``, with the ReLU ``{name}_act`` before or after them.

    Args:
        x: the input tensor.
        filters: the pointwise convolution's filters (the output channels).
        name: the convolution's name, e.g. ``"block5_sepconv2"``.
        relu: ``"before"`` (the residual modules: ReLU, convolution, batch norm),
            ``"after"`` (the exit flow's last two: convolution, batch norm, ReLU) or
            ``None`` (no ReLU: the first convolution of the first module, whose input has
            just been through one).
    """
    if relu not in ("before", "after", None):
        raise ValueError(f"{name}: relu must be 'before', 'after' or None; got {relu!r}. "
                         f"Hint: the residual modules put the ReLU before the convolution.")
    if relu == "before":
        x = layers.Activation("relu", name=f"{name}_act")(x)
    x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False, name=name)(x)
    x = layers.BatchNormalization(axis=-1, name=f"{name}_bn")(x)
    if relu == "after":
        x = layers.Activation("relu", name=f"{name}_act")(x)
    return x


def downsampling_block(x, filters: tuple[int, int], name: str, names, *, first_relu=True):
    """A module of the entry flow (and the exit flow's first): two separable convolutions
    and a 3x3 stride-2 max pooling ``{name}_pool``, added to the shortcut, a 1x1 stride-2
    convolution with batch norm that brings the input to the new size and channels
    (Figure 5).

    Keras names the first ReLU after the *second* convolution when the first has none
    (``block2_sepconv2_act`` follows ``block2_sepconv1_bn``); the names here follow it.

    Args:
        x: the input tensor.
        filters: the two separable convolutions' filters, e.g. ``(256, 256)``; the module
            outputs the second.
        name: where the module sits, e.g. ``"block3"``.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`, for the
            shortcut's convolution and batch norm and the addition, which Keras leaves
            unnamed.
        first_relu: a ReLU before the first separable convolution; ``False`` for the first
            module, whose input (``block1_conv2_act``) has just been through one.
    """
    shortcut = layers.Conv2D(filters[1], 1, strides=2, padding="same", use_bias=False,
                             name=names("conv2d"))(x)
    shortcut = layers.BatchNormalization(axis=-1, name=names("batch_normalization"))(shortcut)
    x = separable_conv_bn(x, filters[0], f"{name}_sepconv1",
                          relu="before" if first_relu else None)
    x = separable_conv_bn(x, filters[1], f"{name}_sepconv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name=f"{name}_pool")(x)
    return layers.Add(name=names("add"))([x, shortcut])


def middle_block(x, name: str, names, *, filters: int = MIDDLE_FILTERS, convs: int = 3):
    """A module of the middle flow: ``convs`` times ReLU, separable convolution, batch norm,
    added to the module's input (an identity shortcut: the shapes do not change).

    Args:
        x: the input tensor, with ``filters`` channels.
        name: where the module sits, e.g. ``"block7"``.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`, for the
            addition.
        filters: the separable convolutions' filters (728 in Figure 5).
        convs: how many separable convolutions (3 in Figure 5).
    """
    shortcut = x
    for i in range(1, convs + 1):
        x = separable_conv_bn(x, filters, f"{name}_sepconv{i}")
    return layers.Add(name=names("add"))([x, shortcut])


def entry_flow(x, names):
    """The entry flow (Figure 5): ``block1`` (two plain 3x3 convolutions, 32 then 64
    filters, valid padding, the first with stride 2) and the modules ``block2`` to
    ``block4``; 299x299x3 -> 19x19x728.

    Args:
        x: the input images.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    for i, (filters, strides) in enumerate(((32, 2), (64, 1)), start=1):
        x = layers.Conv2D(filters, 3, strides=strides, use_bias=False,
                          name=f"block1_conv{i}")(x)
        x = layers.BatchNormalization(axis=-1, name=f"block1_conv{i}_bn")(x)
        x = layers.Activation("relu", name=f"block1_conv{i}_act")(x)
    for block, filters in enumerate(ENTRY_FILTERS, start=2):
        x = downsampling_block(x, (filters, filters), f"block{block}", names,
                               first_relu=block > 2)
    return x


def middle_flow(x, names, *, repeats: int = MIDDLE_REPEATS):
    """The middle flow (Figure 5): ``repeats`` middle modules, ``block5`` to ``block12``;
    19x19x728 all along.

    Args:
        x: the entry flow's output.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        repeats: how many modules (8 in Figure 5).
    """
    first = 2 + len(ENTRY_FILTERS)
    for block in range(first, first + repeats):
        x = middle_block(x, f"block{block}", names)
    return x


def exit_flow(x, names):
    """The exit flow (Figure 5) up to the global pooling: the downsampling module
    ``block13`` (728 then 1024 filters) and ``block14``'s two separable convolutions (1536
    and 2048 filters), each followed by batch norm and a ReLU; 19x19x728 -> 10x10x2048.

    Args:
        x: the middle flow's output.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    x = downsampling_block(x, EXIT_FILTERS, "block13", names)
    for i, filters in enumerate(TOP_FILTERS, start=1):
        x = separable_conv_bn(x, filters, f"block14_sepconv{i}", relu="after")
    return x


def xception(*, include_top=True, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="xception"):
    """Xception (Figure 5): ``keras.applications.Xception`` layer for layer; with the
    classifier at 299x299, 22,910,480 parameters.

    Args:
        include_top: end with global average pooling and the classifier (Figure 5's
            "logistic regression", without its optional fully-connected layers); ``False``
            ends with the exit flow's maps (``block14_sepconv2_act``).
        input_shape: ``(height, width, channels)``; default 299x299x3, at least 71x71.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="Xception")
    shape = check_input_shape(input_shape, default_size=DEFAULT_SIZE, min_size=MIN_SIZE,
                              include_top=include_top, network="Xception")
    names = KerasNames()
    inputs = keras.Input(shape=shape)
    x = entry_flow(inputs, names)
    x = middle_flow(x, names)
    x = exit_flow(x, names)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return keras.Model(inputs, x, name=name)
