"""DenseNet-121, -169 and -201 (Huang, Liu, van der Maaten and Weinberger, "Densely
Connected Convolutional Networks", CVPR 2017, arXiv:1608.06993).

Inside a dense block every layer sees the feature maps of *all* the layers before it,
stacked along the channels (section 3, "Dense connectivity"), and adds ``growth_rate`` (the
paper's k) maps of its own: the block's channels grow by k per layer, ``k0 + k * l`` after
``l`` layers. Each layer is "DenseNet-B" (section 3, "Bottleneck layers"): batch norm, ReLU
and a 1x1 convolution to ``4k`` maps, then batch norm, ReLU and a 3x3 convolution to k.
Between the blocks a transition layer halves the resolution and, with ``compression`` theta
(section 3, "Compression"; "DenseNet-BC" with both), keeps ``floor(theta * m)`` of its
``m`` channels. Table 1 gives the ImageNet networks: a 7x7 stride-2 stem of ``2k`` = 64
filters and 3x3 max pooling, then four dense blocks with three transitions between them;
only the number of layers per block (:data:`DEPTHS`) tells DenseNet-121, -169 and -201
apart. :func:`channels_after`, :func:`parameter_count` and :func:`weighted_layers` work
the numbers out without building anything.

Equal to ``keras.applications.DenseNet121``/``169``/``201`` (and to its generic
``DenseNet(blocks)``): same arguments, layer names, types, output shapes, parameter counts
(8,062,504, 14,307,880 and 20,242,984 with the classifier) and, once the weights are
copied, outputs. Keras names the stages after ResNet's (``conv2`` is dense block 1,
``pool2`` transition 1; ``conv2_block1_1_conv`` is its first layer's 1x1 convolution), ends
with one more batch norm and ReLU (``bn``, ``relu``) before the pooling, and its
convolutions have no bias (a batch norm follows each, as in the paper).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head

BN_EPSILON = 1.001e-5  # what keras.applications uses
GROWTH_RATE = 32  # k of the ImageNet networks (Table 1)
COMPRESSION = 0.5  # theta of DenseNet-BC (section 3, "Compression")
BOTTLENECK_WIDTH = 4  # the 1x1 convolution makes 4k maps (section 3, "Bottleneck layers")
STEM_FILTERS = 2 * GROWTH_RATE  # "2k convolutions of size 7x7" (section 3, Implementation)
# Table 1: depth -> layers in dense blocks 1 to 4.
DEPTHS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
# The zero paddings Keras leaves unnamed, with the names Keras gives them in a fresh session.
KERAS_PAD_NAMES = ("zero_padding2d", "zero_padding2d_1")
DEFAULT_SIZE = 224


class Step(NamedTuple):
    """One dense block (``conv2``, ``conv3``, ...) or transition (``pool2``, ...) of the
    network, named as Keras names its layers, and the channels going in and out."""

    name: str
    channels_in: int
    channels_out: int


def _fail(network: str, argument: str, expected: str, value, hint: str):
    raise ValueError(f"{network}: {argument} must be {expected}; got {value!r}. Hint: {hint}")


def _whole(value) -> bool:
    """Whether ``value`` is a positive whole number (not True or False)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


def _check_layout(blocks, growth_rate, compression, stem, network="DenseNet",
                  stem_argument="stem") -> tuple:
    """``blocks`` as a tuple, once every number of the layout is checked; messages name
    the stem's filters ``stem_argument``."""
    try:
        blocks = tuple(blocks)
    except TypeError:
        blocks = None
    if not blocks or not all(_whole(n) for n in blocks):
        _fail(network, "blocks", "a sequence of positive whole numbers, the layers of each "
              "dense block", blocks, "Table 1: (6, 12, 24, 16) is DenseNet-121, "
              "(6, 12, 32, 32) DenseNet-169, (6, 12, 48, 32) DenseNet-201; "
              "densenet121() and its kin build those.")
    if not _whole(growth_rate):
        _fail(network, "growth_rate", "a positive whole number (k, the maps each layer "
              "adds)", growth_rate, "32 for the ImageNet networks, 12 or 24 for CIFAR "
              "(section 3, Implementation Details).")
    if (isinstance(compression, bool) or not isinstance(compression, numbers.Real)
            or not 0 < compression <= 1):
        _fail(network, "compression", "a number in (0, 1] (theta, the share of channels a "
              "transition keeps)", compression, "0.5 for DenseNet-BC, 1 for no compression.")
    if not _whole(stem):
        _fail(network, stem_argument, "a positive whole number (the stem convolution's filters)",
              stem, "2 * growth_rate, 64 for the ImageNet networks (section 3).")
    return blocks


def channels_after(blocks, growth_rate=GROWTH_RATE, compression=COMPRESSION,
                   stem=STEM_FILTERS) -> tuple:
    """The channels entering and leaving each dense block and transition, from the stem
    to the last block: a dense block of ``n`` layers adds ``n * growth_rate`` channels
    (section 3, "Growth rate"), a transition keeps ``floor(compression * m)`` of ``m``
    (section 3, "Compression").

    >>> [step.channels_out for step in channels_after(DEPTHS[121])]
    [256, 128, 512, 256, 1024, 512, 1024]

    Args:
        blocks: the layers of each dense block, e.g. ``(6, 12, 24, 16)`` (Table 1).
        growth_rate: k, the feature maps each layer adds.
        compression: theta, the share of its channels a transition keeps.
        stem: the channels leaving the stem (2k = 64 in Table 1's networks).

    Returns:
        A tuple of :class:`Step`, ``conv2``, ``pool2``, ``conv3``, ... ``conv{n + 1}``.

    Raises:
        ValueError: a number of the layout does not fit, or a transition would keep no
            channel; the message names the argument.
    """
    blocks = _check_layout(blocks, growth_rate, compression, stem)
    steps, channels = [], stem
    for i, layers_in_block in enumerate(blocks, start=2):
        grown = channels + layers_in_block * growth_rate
        steps.append(Step(f"conv{i}", channels, grown))
        channels = grown
        if i - 1 < len(blocks):
            kept = int(channels * compression)
            if kept < 1:
                _fail("DenseNet", "compression", f"large enough to keep a channel of "
                      f"{channels} (after dense block {i - 1})", compression,
                      "theta * channels is rounded down; 0.5 is the paper's.")
            steps.append(Step(f"pool{i}", channels, kept))
            channels = kept
    return tuple(steps)


def weighted_layers(blocks) -> int:
    """The depth in the networks' names: the convolutions and dense layers, ``1 + 2 *
    sum(blocks) + transitions + 1`` (the stem, two convolutions per layer of a dense
    block, one per transition, the classifier): 121 for ``(6, 12, 24, 16)``.

    Args:
        blocks: the layers of each dense block (Table 1).
    """
    blocks = _check_layout(blocks, GROWTH_RATE, COMPRESSION, STEM_FILTERS)
    return 1 + 2 * sum(blocks) + (len(blocks) - 1) + 1


def parameter_count(blocks, *, growth_rate=GROWTH_RATE, compression=COMPRESSION,
                    stem=STEM_FILTERS, channels=3, classes=1000, include_top=True) -> int:
    """The parameters of :func:`densenet` as Keras counts them, worked out by hand: the
    convolutions have no bias, every batch norm of ``c`` channels holds ``4c`` numbers
    (scale, offset and the moving mean and variance), the classifier has a bias.

    Args:
        blocks: the layers of each dense block (Table 1).
        growth_rate: k, the feature maps each layer adds.
        compression: theta, the share of its channels a transition keeps.
        stem: the stem convolution's filters.
        channels: the input's channels.
        classes: the classifier's classes.
        include_top: count the classifier.

    Returns:
        The number of parameters, trainable and not.
    """
    k, wide = growth_rate, BOTTLENECK_WIDTH * growth_rate
    total = 7 * 7 * channels * stem + 4 * stem  # conv1_conv, conv1_bn
    for step in channels_after(blocks, growth_rate, compression, stem):
        if step.name.startswith("conv"):  # each layer: BN, 1x1 to 4k, BN, 3x3 to k
            for c in range(step.channels_in, step.channels_out, k):
                total += 4 * c + c * wide + 4 * wide + 3 * 3 * wide * k
        else:  # BN, 1x1 convolution
            total += 4 * step.channels_in + step.channels_in * step.channels_out
    last = step.channels_out
    total += 4 * last  # bn
    if include_top:
        total += last * classes + classes
    return total


def batch_norm(x, name: str):
    """Batch normalisation with Keras's epsilon.

    Args:
        x: the input tensor.
        name: the layer's name.
    """
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name)(x)


def conv_block(x, growth_rate: int, name: str):
    """One layer of a dense block (DenseNet-B, section 3, "Bottleneck layers"): BN-ReLU-
    1x1 convolution to ``4 * growth_rate`` maps, BN-ReLU-3x3 convolution to
    ``growth_rate``, and those maps concatenated to the input (equation 2): the output has
    ``growth_rate`` more channels than the input.

    Keras names the first batch norm and ReLU ``_0_`` and the 1x1 convolution ``_1_``:
    ``{name}_0_bn``, ``{name}_0_relu``, ``{name}_1_conv``, ``{name}_1_bn``,
    ``{name}_1_relu``, ``{name}_2_conv``, ``{name}_concat``.

    Args:
        x: the input tensor, all the maps of the block so far.
        growth_rate: k, the maps the layer adds.
        name: where the layer sits, e.g. ``"conv2_block1"``.
    """
    y = batch_norm(x, f"{name}_0_bn")
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    y = layers.Conv2D(BOTTLENECK_WIDTH * growth_rate, 1, use_bias=False,
                      name=f"{name}_1_conv")(y)
    y = batch_norm(y, f"{name}_1_bn")
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False, name=f"{name}_2_conv")(y)
    return layers.Concatenate(name=f"{name}_concat")([x, y])


def dense_block(x, blocks: int, name: str, *, growth_rate=GROWTH_RATE):
    """A dense block (Figure 1): ``blocks`` layers (:func:`conv_block`), each fed
    everything before it; ``blocks * growth_rate`` channels more at the end, the same
    resolution.

    Args:
        x: the input tensor.
        blocks: the number of layers (a column's entry in Table 1).
        name: the block's name, e.g. ``"conv2"``; its layers are ``{name}_block1``, ...
        growth_rate: k, the maps each layer adds.
    """
    for i in range(1, blocks + 1):
        x = conv_block(x, growth_rate, f"{name}_block{i}")
    return x


def transition_block(x, reduction: float, name: str):
    """A transition layer (section 3, "Pooling layers" and "Compression"): BN-ReLU-1x1
    convolution to ``floor(reduction * channels)`` maps, then 2x2 average pooling with
    stride 2, which halves the height and width. ``{name}_bn``, ``{name}_relu``,
    ``{name}_conv``, ``{name}_pool``.

    Args:
        x: the input tensor, a dense block's output.
        reduction: the paper's compression theta, in (0, 1].
        name: the transition's name, e.g. ``"pool2"``.
    """
    x = batch_norm(x, f"{name}_bn")
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[-1] * reduction), 1, use_bias=False, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)


def stem(x, *, filters=STEM_FILTERS):
    """Table 1's first two rows: a 7x7 stride-2 convolution (3 pixels of zeros around
    the image first) with batch norm and ReLU, then 3x3 stride-2 max pooling (1 pixel of
    zeros first); 224x224 -> 56x56.

    Args:
        x: the input images.
        filters: the convolution's filters (2k = 64).
    """
    x = layers.ZeroPadding2D(3, name=KERAS_PAD_NAMES[0])(x)
    x = layers.Conv2D(filters, 7, strides=2, use_bias=False, name="conv1_conv")(x)
    x = batch_norm(x, "conv1_bn")
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name=KERAS_PAD_NAMES[1])(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1")(x)


def densenet(blocks, *, growth_rate=GROWTH_RATE, compression=COMPRESSION, stem_filters=None,
             include_top=True, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name="densenet"):
    """A DenseNet-BC of any layout: the stem, dense blocks of ``blocks`` layers with a
    transition after each but the last, a last batch norm and ReLU, and the head (Table 1).
    With four blocks and the default numbers, ``keras.applications.densenet.DenseNet``
    layer for layer.

    Args:
        blocks: the layers of each dense block, e.g. ``(6, 12, 24, 16)`` (Table 1); Keras
            names the blocks ``conv2``, ``conv3``, ... and the transitions ``pool2``, ...
        growth_rate: k, the maps each layer adds (32 in Table 1).
        compression: theta, the share of channels each transition keeps (0.5).
        stem_filters: the stem convolution's filters; default ``2 * growth_rate``.
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the maps after ``relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3; at least 32x32 with
            four blocks (the stem and each transition halve the size).
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.

    Returns:
        The ``keras.Model``.
    """
    network = name or "densenet"
    if stem_filters is None:
        stem_filters = 2 * growth_rate if _whole(growth_rate) else STEM_FILTERS
    blocks = _check_layout(blocks, growth_rate, compression, stem_filters, network,
                           "stem_filters")
    steps = channels_after(blocks, growth_rate, compression, stem_filters)
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    # The stem quarters the size and each transition halves it: 2 ** (blocks + 1) pixels
    # leave one (32 with four blocks, keras.applications' smallest input).
    shape = check_input_shape(input_shape, default_size=DEFAULT_SIZE,
                              min_size=2 ** (len(blocks) + 1), include_top=include_top,
                              network=network)
    inputs = keras.Input(shape=shape)
    x = stem(inputs, filters=stem_filters)
    for step, layers_in_block in zip(steps[::2], blocks):
        x = dense_block(x, layers_in_block, step.name, growth_rate=growth_rate)
        if step is not steps[-1]:
            x = transition_block(x, compression, step.name.replace("conv", "pool"))
    x = batch_norm(x, "bn")
    x = layers.Activation("relu", name="relu")(x)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name)


def _named(depth: int):
    """``densenet{depth}``: :func:`densenet` with Table 1's layout for ``depth``."""
    blocks = DEPTHS[depth]

    def build(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=f"densenet{depth}"):
        return densenet(blocks, include_top=include_top, input_shape=input_shape,
                        pooling=pooling, classes=classes,
                        classifier_activation=classifier_activation, name=name)

    build.__name__ = build.__qualname__ = f"densenet{depth}"
    build.__module__ = __name__
    build.__doc__ = f"""DenseNet-{depth} (DenseNet-BC, k = 32, theta = 0.5): dense blocks
    of {blocks} layers (Table 1); ``keras.applications.DenseNet{depth}`` layer for layer.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the maps after ``relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name; defaults to Keras's ``densenet{depth}``.

    Returns:
        The ``keras.Model``.
    """
    return build


densenet121, densenet169, densenet201 = (_named(depth) for depth in DEPTHS)
