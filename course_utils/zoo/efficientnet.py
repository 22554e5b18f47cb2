"""EfficientNet B0 to B7 (Tan and Le, "EfficientNet: Rethinking Model Scaling for
Convolutional Neural Networks", ICML 2019, arXiv:1905.11946).

B0 (Table 1) is a stack of MBConv blocks: the inverted residual block of MobileNet v2
(:mod:`course_utils.zoo.mobilenet_v2`) with a squeeze-and-excitation step between the
depthwise and the projecting convolution, swish instead of ReLU6, and stochastic depth on
the residual branch. B1 to B7 are B0 scaled up by the compound rule of section 3.3: wider
(every layer's channels times ``width``), deeper (every stage's repeats times ``depth``)
and fed larger images (``resolution``), all three at once, from one coefficient phi
(equation 3: depth ``alpha**phi``, width ``beta**phi``, resolution ``gamma**phi`` with
``alpha * beta**2 * gamma**2`` about 2, so each step of phi about doubles the FLOPS).

The released B1 to B7 do not follow equation 3 to the letter: their coefficients were
picked by hand near it. :data:`KERAS_COEFFICIENTS` are the ones the reference code and
``keras.applications`` use, :func:`phi_coefficients` the rule; set them side by side to
see where they part.

Layer names, arguments and weights line up with ``keras.applications.EfficientNetB0`` to
``B7``, including the ``rescaling`` and ``normalization`` layers that take pixels in
``[0, 255]``. Keras numbers the seven MBConv stages of Table 1 (stages 2 to 8) ``block1``
to ``block7`` and their blocks ``a``, ``b``, ...: ``block6d_se_excite``.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import keras
from keras import layers

from course_utils.zoo.common import POOL_NAMES, check_head_options, check_input_shape, head
from course_utils.zoo.mobilenet_v2 import make_divisible, stride_2_padding


class Stage(NamedTuple):
    """One MBConv stage of Table 1: the expansion of its blocks (MBConv1 or MBConv6), their
    kernel size, the first block's stride, the output channels and how many blocks."""

    expand_ratio: int
    kernel_size: int
    strides: int
    filters: int
    repeats: int


class Scaled(NamedTuple):
    """B0 scaled: the stem's channels, the seven stages, the last 1x1 convolution's
    channels and the input's side."""

    stem_filters: int
    stages: tuple
    top_filters: int
    size: int


class Coefficients(NamedTuple):
    """One variant's scaling: width and depth multipliers, input side, top dropout."""

    width: float
    depth: float
    resolution: int
    dropout: float


class Multipliers(NamedTuple):
    """The multipliers equation 3 gives for one phi (``resolution`` multiplies 224)."""

    width: float
    depth: float
    resolution: float


# Table 1, stages 2 to 8 (stage 1 is the 3x3 stem, stage 9 the 1x1 conv, pooling and FC).
B0_STAGES = (Stage(1, 3, 1, 16, 1), Stage(6, 3, 2, 24, 2), Stage(6, 5, 2, 40, 2),
             Stage(6, 3, 2, 80, 3), Stage(6, 5, 1, 112, 3), Stage(6, 5, 2, 192, 4),
             Stage(6, 3, 1, 320, 1))
STEM_FILTERS, TOP_FILTERS, B0_SIZE = 32, 1280, 224
SE_RATIO = 0.25  # the squeeze keeps a quarter of the block's input channels
DEPTH_DIVISOR = 8  # channels are rounded to multiples of 8
# Section 3.3: the grid search on B0 found alpha (depth), beta (width), gamma (resolution).
ALPHA, BETA, GAMMA = 1.2, 1.1, 1.15
# What the reference code (efficientnet_builder.efficientnet_params) and Keras use.
KERAS_COEFFICIENTS = {
    "b0": Coefficients(1.0, 1.0, 224, 0.2), "b1": Coefficients(1.0, 1.1, 240, 0.2),
    "b2": Coefficients(1.1, 1.2, 260, 0.3), "b3": Coefficients(1.2, 1.4, 300, 0.3),
    "b4": Coefficients(1.4, 1.8, 380, 0.4), "b5": Coefficients(1.6, 2.2, 456, 0.4),
    "b6": Coefficients(1.8, 2.6, 528, 0.5), "b7": Coefficients(2.0, 3.1, 600, 0.5),
}
MIN_SIZE = 32  # Keras's smallest input: five stride-2 steps leave one pixel
# Keras's initializers, as configs so that every layer gets an initializer of its own.
CONV_INITIALIZER = {"class_name": "VarianceScaling",
                    "config": {"scale": 2.0, "mode": "fan_out",
                               "distribution": "truncated_normal"}}
DENSE_INITIALIZER = {"class_name": "VarianceScaling",
                     "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                "distribution": "uniform"}}
# ImageNet's channel means and variances, what Keras's ImageNet weights put in the
# ``normalization`` layer (the fresh layer holds 0 and 1).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_VARIANCE = (0.229 ** 2, 0.224 ** 2, 0.225 ** 2)


def _is_number(value, *, whole=False) -> bool:
    """Whether ``value`` is a (whole) number and not ``True`` or ``False``."""
    kind = numbers.Integral if whole else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _check(ok: bool, value, argument: str, expected: str, hint: str):
    """Raise a ValueError naming ``argument`` unless ``ok``."""
    if not ok:
        raise ValueError(f"EfficientNet: {argument} must be {expected}; got {value!r}. "
                         f"Hint: {hint}")


def round_filters(filters: int, width: float) -> int:
    """The channels of a layer of B0 in a network ``width`` times as wide: ``filters *
    width`` rounded to the nearest multiple of 8, never more than 10% down (section 3.3's
    width scaling, as the reference code and Keras round it; MobileNet v2's rule).

    Args:
        filters: the channels in B0 (Table 1's "#Channels").
        width: the width coefficient (``w = beta**phi`` of equation 3).

    Returns:
        The scaled number of channels.
    """
    _check(_is_number(width) and width > 0, width, "width", "a positive number",
           "1.0 keeps B0's channels; B7 uses 2.0.")
    return make_divisible(filters * width, DEPTH_DIVISOR)


def round_repeats(repeats: int, depth: float) -> int:
    """The blocks of a stage of B0 in a network ``depth`` times as deep: ``repeats * depth``
    rounded up (section 3.3's depth scaling, as the reference code and Keras round it).

    Args:
        repeats: the blocks of the stage in B0 (Table 1's "#Layers").
        depth: the depth coefficient (``d = alpha**phi`` of equation 3).

    Returns:
        The scaled number of blocks.
    """
    _check(_is_number(depth) and depth > 0, depth, "depth", "a positive number",
           "1.0 keeps B0's 16 blocks; B7 uses 3.1 (55 blocks).")
    return int(math.ceil(depth * repeats))


def compound_scale(width: float = 1.0, depth: float = 1.0,
                   resolution: int = B0_SIZE) -> Scaled:
    """B0's layout (Table 1) scaled by the compound rule (section 3.3, equation 3): every
    stage's channels by ``width`` (:func:`round_filters`), its blocks by ``depth``
    (:func:`round_repeats`), and images of side ``resolution``.

    Args:
        width: the width coefficient; 1.0 for B0.
        depth: the depth coefficient; 1.0 for B0.
        resolution: the input's side in pixels (224 for B0; ``224 * gamma**phi`` by the
            rule, :data:`KERAS_COEFFICIENTS` for the released variants).

    Returns:
        A :class:`Scaled`: stem channels, the seven :class:`Stage` rows, the last
        convolution's channels and the input size.
    """
    _check(_is_number(resolution, whole=True) and resolution >= MIN_SIZE, resolution,
           "resolution", f"a whole number of pixels, at least {MIN_SIZE}",
           "the input's side: 224 for B0, 600 for B7.")
    stages = tuple(stage._replace(filters=round_filters(stage.filters, width),
                                  repeats=round_repeats(stage.repeats, depth))
                   for stage in B0_STAGES)
    return Scaled(round_filters(STEM_FILTERS, width), stages,
                  round_filters(TOP_FILTERS, width), resolution)


def phi_coefficients(phi: float, *, alpha: float = ALPHA, beta: float = BETA,
                     gamma: float = GAMMA) -> Multipliers:
    """Equation 3 (section 3.3): depth ``alpha**phi``, width ``beta**phi``, resolution
    ``gamma**phi``; with ``alpha * beta**2 * gamma**2`` about 2 the FLOPS grow about
    ``2**phi``.

    Args:
        phi: the compound coefficient (0 for B0, 1 for B1, ...).
        alpha: the depth base (the paper's grid search: 1.2).
        beta: the width base (1.1).
        gamma: the resolution base (1.15).

    Returns:
        :class:`Multipliers` ``(width, depth, resolution)``; ``resolution`` multiplies
        B0's 224 pixels.
    """
    _check(_is_number(phi), phi, "phi", "a number",
           "0 is B0; each step of 1 about doubles the FLOPS.")
    for argument, base in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
        _check(_is_number(base) and base > 0, base, argument, "a positive number",
               "the paper's are alpha=1.2, beta=1.1, gamma=1.15.")
    return Multipliers(beta ** phi, alpha ** phi, gamma ** phi)


def mbconv_block(x, filters: int, name: str, *, kernel_size=3, strides=1, expand_ratio=6,
                 se_ratio=SE_RATIO, drop_rate=0.0, activation="swish", id_skip=True):
    """One MBConv block (Table 1; MobileNet v2's inverted residual plus squeeze-and-
    excitation): ``{name}expand_conv`` (1x1 to ``expand_ratio`` times the channels, batch
    norm, swish; left out when ``expand_ratio`` is 1), ``{name}dwconv`` (depthwise, after
    ``{name}dwconv_pad`` when strided), ``{name}se_squeeze`` ... ``{name}se_excite``
    (average each map, a 1x1 bottleneck of ``se_ratio`` times the *input* channels, sigmoid
    gates on the maps), ``{name}project_conv`` (1x1, batch norm, no activation), then, where
    input and output have the same shape, ``{name}drop`` (stochastic depth: the whole branch
    of an example dropped with ``drop_rate``) and ``{name}add``.

    Args:
        x: the input tensor.
        filters: the output channels (already scaled).
        name: the prefix of the layer names, e.g. ``"block2a_"``.
        kernel_size: the depthwise convolution's kernel size, 3 or 5.
        strides: the depthwise convolution's stride, 1 or 2.
        expand_ratio: the expansion factor (1 for MBConv1, 6 for MBConv6).
        se_ratio: the squeeze's channels as a fraction of the input channels; 0 for none.
        drop_rate: the stochastic-depth rate of the residual branch.
        activation: the activation after the expansion and the depthwise convolution.
        id_skip: add the input where the shapes agree.

    Returns:
        The block's output tensor.
    """
    inputs, channels = x, x.shape[-1]
    expanded = channels * expand_ratio
    if expand_ratio != 1:
        x = layers.Conv2D(expanded, 1, padding="same", use_bias=False,
                          kernel_initializer=CONV_INITIALIZER, name=f"{name}expand_conv")(x)
        x = layers.BatchNormalization(name=f"{name}expand_bn")(x)
        x = layers.Activation(activation, name=f"{name}expand_activation")(x)
    if strides == 2:
        x = layers.ZeroPadding2D(stride_2_padding(x, kernel_size), name=f"{name}dwconv_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="valid" if strides == 2 else "same", use_bias=False,
                               depthwise_initializer=CONV_INITIALIZER, name=f"{name}dwconv")(x)
    x = layers.BatchNormalization(name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
        se = layers.Reshape((1, 1, expanded), name=f"{name}se_reshape")(se)
        se = layers.Conv2D(max(1, int(channels * se_ratio)), 1, padding="same",
                           activation=activation, kernel_initializer=CONV_INITIALIZER,
                           name=f"{name}se_reduce")(se)
        se = layers.Conv2D(expanded, 1, padding="same", activation="sigmoid",
                           kernel_initializer=CONV_INITIALIZER, name=f"{name}se_expand")(se)
        x = layers.Multiply(name=f"{name}se_excite")([x, se])
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_INITIALIZER, name=f"{name}project_conv")(x)
    x = layers.BatchNormalization(name=f"{name}project_bn")(x)
    if id_skip and strides == 1 and channels == filters:
        if drop_rate > 0:
            x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
        x = layers.Add(name=f"{name}add")([x, inputs])
    return x


def efficientnet_stack(x, scaled: Scaled, *, drop_connect_rate=0.2, activation="swish"):
    """The network between the preprocessing and the head: the stem (Table 1's stage 1),
    the MBConv stages (``block1a`` ... ``block7?``) and the last 1x1 convolution
    (``top_conv``, stage 9 without its pooling and FC). The stochastic-depth rate grows
    linearly from 0 at the first block to ``drop_connect_rate`` at the last.

    Args:
        x: the preprocessed images.
        scaled: the layout, from :func:`compound_scale`.
        drop_connect_rate: the stochastic-depth rate the last block would reach.
        activation: the activation of every convolution but the projections.

    Returns:
        The ``top_activation`` feature maps.
    """
    x = layers.ZeroPadding2D(stride_2_padding(x), name="stem_conv_pad")(x)
    x = layers.Conv2D(scaled.stem_filters, 3, strides=2, padding="valid", use_bias=False,
                      kernel_initializer=CONV_INITIALIZER, name="stem_conv")(x)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.Activation(activation, name="stem_activation")(x)
    blocks, done = float(sum(stage.repeats for stage in scaled.stages)), 0
    for number, stage in enumerate(scaled.stages, start=1):
        for i in range(stage.repeats):
            x = mbconv_block(x, stage.filters, f"block{number}{chr(ord('a') + i)}_",
                             kernel_size=stage.kernel_size,
                             strides=stage.strides if i == 0 else 1,
                             expand_ratio=stage.expand_ratio,
                             drop_rate=drop_connect_rate * done / blocks,
                             activation=activation)
            done += 1
    x = layers.Conv2D(scaled.top_filters, 1, padding="same", use_bias=False,
                      kernel_initializer=CONV_INITIALIZER, name="top_conv")(x)
    x = layers.BatchNormalization(name="top_bn")(x)
    return layers.Activation(activation, name="top_activation")(x)


def efficientnet(*, width=1.0, depth=1.0, resolution=B0_SIZE, dropout=0.2,
                 drop_connect_rate=0.2, activation="swish", include_top=True,
                 input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name=None):
    """EfficientNet of any compound scaling (section 3.3): B0 (Table 1) made ``width``
    times as wide and ``depth`` times as deep, for images of side ``resolution``; with the
    defaults, B0. ``keras.applications.efficientnet.EfficientNet`` layer for layer.

    Args:
        width: the width coefficient (:func:`round_filters`).
        depth: the depth coefficient (:func:`round_repeats`).
        resolution: the default input side in pixels.
        dropout: the dropout rate before the classifier (none at 0).
        drop_connect_rate: the stochastic-depth rate of the last block.
        activation: the activation of the network (swish, section 4).
        include_top: end with global average pooling, dropout and the classifier;
            ``False`` ends with ``top_activation``.
        input_shape: ``(height, width, channels)`` of pixels in ``[0, 255]``; default
            ``resolution`` x ``resolution`` x 3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name; defaults to ``efficientnet``.

    Returns:
        The ``keras.Model``.
    """
    network = name or "efficientnet"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    for argument, rate in (("dropout", dropout), ("drop_connect_rate", drop_connect_rate)):
        _check(_is_number(rate) and 0 <= rate < 1, rate, argument,
               "a rate from 0 up to (not including) 1",
               "0.2 for B0 and B1, 0.5 for B6 and B7; 0 for none.")
    scaled = compound_scale(width, depth, resolution)
    shape = check_input_shape(input_shape, default_size=scaled.size, min_size=MIN_SIZE,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    # Pixels in [0, 255] to [0, 1], then each channel standardised.
    x = layers.Rescaling(1.0 / 255.0, name="rescaling")(inputs)
    x = layers.Normalization(axis=-1, name="normalization")(x)
    x = efficientnet_stack(x, scaled, drop_connect_rate=drop_connect_rate,
                           activation=activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name=POOL_NAMES[0])(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=DENSE_INITIALIZER, name="predictions")(x)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name or "efficientnet")


def _variant(key: str):
    """``efficientnet_{key}``: :func:`efficientnet` with :data:`KERAS_COEFFICIENTS`."""
    width, depth, resolution, dropout = KERAS_COEFFICIENTS[key]

    def build(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=None):
        return efficientnet(width=width, depth=depth, resolution=resolution,
                            dropout=dropout, include_top=include_top,
                            input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation,
                            name=name or f"efficientnet{key}")

    build.__name__ = build.__qualname__ = f"efficientnet_{key}"
    build.__module__ = __name__
    build.__doc__ = f"""EfficientNet-{key.upper()}: B0 (Table 1) scaled to width {width},
    depth {depth}, {resolution}x{resolution} images, dropout {dropout} (section 3.3;
    :data:`KERAS_COEFFICIENTS`); ``keras.applications.EfficientNet{key.upper()}`` layer for
    layer.

    Args:
        include_top: end with global average pooling, dropout and the classifier;
            ``False`` ends with ``top_activation``.
        input_shape: ``(height, width, channels)`` of pixels in ``[0, 255]``; default
            {resolution}x{resolution}x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name; defaults to Keras's ``efficientnet{key}``.

    Returns:
        The ``keras.Model``.
    """
    return build


(efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3, efficientnet_b4,
 efficientnet_b5, efficientnet_b6, efficientnet_b7) = (_variant(f"b{n}") for n in range(8))
