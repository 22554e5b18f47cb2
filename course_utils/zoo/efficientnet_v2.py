"""EfficientNetV2 B0 to B3, S, M and L (Tan and Le, "EfficientNetV2: Smaller Models and
Faster Training", ICML 2021, arXiv:2104.00298).

EfficientNet v1 (:mod:`course_utils.zoo.efficientnet`) is MBConv blocks all the way: a 1x1
expansion, a depthwise convolution, squeeze-and-excitation and a 1x1 projection. Depthwise
convolutions have few multiply-adds but run slowly on accelerators, above all in the early
stages where the maps are large (section 3.2). v2 puts the *Fused-MBConv* block there
instead (Figure 2): the 1x1 expansion and the depthwise 3x3 fused into one ordinary 3x3
convolution (with an expansion of 1, that convolution alone, no projection), and keeps
MBConv with squeeze-and-excitation for the later stages. The training-aware architecture
search also picked smaller expansion ratios (4 and 6) and 3x3 kernels everywhere.

Table 4 is EfficientNetV2-S; M, L and the smaller B0 (with B1 to B3 scaled from it as in
v1) come from the reference code's block configurations (``effnetv2_configs.py``), which
``keras.applications`` copies: :data:`LAYOUTS` and :data:`KERAS_VARIANTS`. Every network is
a stem (3x3 convolution, stride 2), the stages of :class:`Stage` rows, and a 1x1
convolution to 1280 channels before the classifier.

Layer names, arguments and weights line up with ``keras.applications.EfficientNetV2B0``
to ``EfficientNetV2L``. Keras numbers the stages ``block1`` to ``block7`` and their blocks
``a``, ``b``, ...: ``block4c_se_excite``; the depthwise convolution of an MBConv block is
``{block}dwconv2``. Where it differs from v1's Keras code: every padding is ``"same"`` (no
``ZeroPadding2D`` before strided layers), batch norm's momentum is 0.9 (v1: 0.99), and the
preprocessing depends on the variant (:func:`efficientnet_v2`'s ``imagenet_statistics``).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
from keras import layers

from course_utils.zoo.common import POOL_NAMES, check_head_options, check_input_shape, head
from course_utils.zoo.efficientnet import (
    CONV_INITIALIZER,
    DENSE_INITIALIZER,
    IMAGENET_MEAN,
    IMAGENET_VARIANCE,
    MIN_SIZE,
    TOP_FILTERS,
    round_repeats,
)


class Stage(NamedTuple):
    """One stage of Table 4: Fused-MBConv or MBConv blocks, their expansion ratio
    ("MBConv4" expands 4 times), kernel size, the first block's stride, the output channels,
    how many blocks and the squeeze-and-excitation ratio (0 for none)."""

    fused: bool
    expand_ratio: int
    kernel_size: int
    strides: int
    filters: int
    repeats: int
    se_ratio: float


class Layout(NamedTuple):
    """A whole network's configuration: the stem's channels, the stages, the channels of
    the last 1x1 convolution (Table 4's "Conv1x1 & Pooling & FC")."""

    stem_filters: int
    stages: tuple
    top_filters: int = TOP_FILTERS


class Variant(NamedTuple):
    """A released variant: its layout, width and depth coefficients, default input side,
    and whether its preprocessing standardises with ImageNet's statistics."""

    layout: Layout
    width: float
    depth: float
    resolution: int
    imagenet_statistics: bool


SE = 0.25  # the squeeze keeps a quarter of the block's input channels
BN_MOMENTUM = 0.9  # the reference code's and Keras's for v2 (v1's Keras code: 0.99)
DEPTH_DIVISOR = 8  # channels are multiples of 8 ...
MIN_DEPTH = 8  # ... and at least 8


def _fused(expand_ratio, filters, repeats, strides):
    return Stage(True, expand_ratio, 3, strides, filters, repeats, 0.0)


def _mbconv(expand_ratio, filters, repeats, strides):
    return Stage(False, expand_ratio, 3, strides, filters, repeats, SE)


# Table 4 (S) and the reference code's configurations. All kernels are 3x3; the fused
# stages have no squeeze-and-excitation, the MBConv stages SE 0.25.
LAYOUTS = {
    "b0": Layout(32, (_fused(1, 16, 1, 1), _fused(4, 32, 2, 2), _fused(4, 48, 2, 2),
                      _mbconv(4, 96, 3, 2), _mbconv(6, 112, 5, 1), _mbconv(6, 192, 8, 2))),
    "s": Layout(24, (_fused(1, 24, 2, 1), _fused(4, 48, 4, 2), _fused(4, 64, 4, 2),
                     _mbconv(4, 128, 6, 2), _mbconv(6, 160, 9, 1), _mbconv(6, 256, 15, 2))),
    "m": Layout(24, (_fused(1, 24, 3, 1), _fused(4, 48, 5, 2), _fused(4, 80, 5, 2),
                     _mbconv(4, 160, 7, 2), _mbconv(6, 176, 14, 1), _mbconv(6, 304, 18, 2),
                     _mbconv(6, 512, 5, 1))),
    "l": Layout(32, (_fused(1, 32, 4, 1), _fused(4, 64, 7, 2), _fused(4, 96, 7, 2),
                     _mbconv(4, 192, 10, 2), _mbconv(6, 224, 19, 1), _mbconv(6, 384, 25, 2),
                     _mbconv(6, 640, 7, 1))),
}
# B1 to B3 are B0 scaled as in v1 (same width, depth and sizes as EfficientNet-B1 to B3);
# S, M and L are configurations of their own, not scaled. Keras's B0 to B3 standardise
# with ImageNet's statistics (v1's preprocessing), S, M and L map pixels to [-1, 1].
KERAS_VARIANTS = {
    "b0": Variant(LAYOUTS["b0"], 1.0, 1.0, 224, True),
    "b1": Variant(LAYOUTS["b0"], 1.0, 1.1, 240, True),
    "b2": Variant(LAYOUTS["b0"], 1.1, 1.2, 260, True),
    "b3": Variant(LAYOUTS["b0"], 1.2, 1.4, 300, True),
    "s": Variant(LAYOUTS["s"], 1.0, 1.0, 384, False),
    "m": Variant(LAYOUTS["m"], 1.0, 1.0, 480, False),
    "l": Variant(LAYOUTS["l"], 1.0, 1.0, 480, False),
}


def _is_number(value, *, whole=False) -> bool:
    """Whether ``value`` is a (whole) number and not ``True`` or ``False``."""
    kind = numbers.Integral if whole else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _check(ok: bool, value, argument: str, expected: str, hint: str):
    """Raise a ValueError naming ``argument`` unless ``ok``."""
    if not ok:
        raise ValueError(f"EfficientNetV2: {argument} must be {expected}; got {value!r}. "
                         f"Hint: {hint}")


def round_filters(filters: int, width: float) -> int:
    """The channels of a layer in a network ``width`` times as wide: ``filters * width``
    rounded to the nearest multiple of 8, at least 8.

    v2's rule is not v1's (:func:`course_utils.zoo.efficientnet.round_filters`, MobileNet
    v2's ``make_divisible``), which adds 8 back when the rounding lands more than 10% below
    ``filters * width``; v2's code (the reference code's and Keras's ``round_filters``)
    has no such guard. The two part where the rounding goes far down, which happens once
    in the released variants: B3's first stage, 16 channels at width 1.2 (19.2), keeps 16
    here where v1's rule would give 24 (and 32 channels at width 1.12, 35.84, give 32
    here, 40 in v1). Keras's B3 has 16, so v2 needs its own rule.

    Args:
        filters: the channels in the unscaled layout.
        width: the width coefficient.

    Returns:
        The scaled number of channels.
    """
    _check(_is_number(width) and width > 0, width, "width", "a positive number",
           "1.0 keeps the layout's channels; B3 uses 1.2.")
    scaled = filters * width
    return max(MIN_DEPTH, int(scaled + DEPTH_DIVISOR / 2) // DEPTH_DIVISOR * DEPTH_DIVISOR)


def _check_layout(layout):
    """Refuse a layout that cannot build a network, naming the stage and what is wrong."""
    hint = "see LAYOUTS for the released ones, e.g. LAYOUTS['s'] (Table 4)."
    _check(isinstance(layout, Layout) and len(layout.stages) > 0, layout, "layout",
           "a Layout with at least one Stage", hint)
    for what, count in (("stem_filters", layout.stem_filters),
                        ("top_filters", layout.top_filters)):
        _check(_is_number(count, whole=True) and count >= 1, count, f"layout.{what}",
               "a whole number of channels, at least 1", hint)
    for i, stage in enumerate(layout.stages):
        where = f"layout.stages[{i}]"
        _check(isinstance(stage, Stage), stage, where, "a Stage", hint)
        for field in ("expand_ratio", "kernel_size", "filters", "repeats"):
            value = getattr(stage, field)
            _check(_is_number(value, whole=True) and value >= 1, value, f"{where}.{field}",
                   "a whole number of at least 1", hint)
        _check(stage.strides in (1, 2) and not isinstance(stage.strides, bool), stage.strides,
               f"{where}.strides", "1 or 2", "2 halves the maps in the stage's first block.")
        _check(_is_number(stage.se_ratio) and 0 <= stage.se_ratio <= 1, stage.se_ratio,
               f"{where}.se_ratio", "a number from 0 to 1",
               "0.25 squeezes to a quarter of the input channels, 0 leaves SE out.")


def scale_layout(layout: Layout, width: float = 1.0, depth: float = 1.0) -> Layout:
    """``layout`` with every layer's channels scaled by ``width`` (:func:`round_filters`)
    and every stage's blocks by ``depth`` (:func:`round_repeats`, v1's rule: rounded up),
    as v1's compound scaling (section 3.3 of the v1 paper) does; how B1 to B3 come from B0.

    Args:
        layout: the unscaled :class:`Layout`, e.g. ``LAYOUTS["b0"]``.
        width: the width coefficient.
        depth: the depth coefficient.

    Returns:
        The scaled :class:`Layout`.
    """
    _check_layout(layout)
    _check(_is_number(depth) and depth > 0, depth, "depth", "a positive number",
           "1.0 keeps the layout's blocks; B3 uses 1.4.")
    stages = tuple(stage._replace(filters=round_filters(stage.filters, width),
                                  repeats=round_repeats(stage.repeats, depth))
                   for stage in layout.stages)
    return Layout(round_filters(layout.stem_filters, width), stages,
                  round_filters(layout.top_filters, width))


def _conv_bn(x, filters, kernel_size, name, bn_name, *, strides=1, activation=None,
             activation_name=None):
    """A convolution ``name`` without bias (``"same"`` padding), its batch norm ``bn_name``
    and, if ``activation``, the activation ``activation_name``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False,
                      kernel_initializer=CONV_INITIALIZER, name=name)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=bn_name)(x)
    if activation is not None:
        x = layers.Activation(activation, name=activation_name)(x)
    return x


def squeeze_excite(x, squeeze_filters: int, name: str, *, activation="swish"):
    """Squeeze-and-excitation (Hu et al. 2018), as in v1's MBConv: ``{name}se_squeeze``
    (average each map to one number), ``{name}se_reshape`` (to 1x1 maps),
    ``{name}se_reduce`` (1x1 convolution to ``squeeze_filters`` channels), ``{name}se_expand``
    (1x1 convolution back, sigmoid: one gate per channel) and ``{name}se_excite`` (the maps
    times their gates).

    Args:
        x: the maps to gate.
        squeeze_filters: the bottleneck's channels (the block's *input* channels times the
            SE ratio, at least 1).
        name: the prefix of the layer names, e.g. ``"block4a_"``.
        activation: the bottleneck's activation.

    Returns:
        The gated maps.
    """
    channels = x.shape[-1]
    se = layers.GlobalAveragePooling2D(name=f"{name}se_squeeze")(x)
    se = layers.Reshape((1, 1, channels), name=f"{name}se_reshape")(se)
    se = layers.Conv2D(squeeze_filters, 1, padding="same", activation=activation,
                       kernel_initializer=CONV_INITIALIZER, name=f"{name}se_reduce")(se)
    se = layers.Conv2D(channels, 1, padding="same", activation="sigmoid",
                       kernel_initializer=CONV_INITIALIZER, name=f"{name}se_expand")(se)
    return layers.Multiply(name=f"{name}se_excite")([x, se])


def _residual(x, inputs, name, *, strides, drop_rate):
    """Add the block's input where the shapes agree, after stochastic depth ``{name}drop``
    (the whole branch of an example dropped with ``drop_rate``; none at 0)."""
    if strides != 1 or inputs.shape[-1] != x.shape[-1]:
        return x
    if drop_rate > 0:
        x = layers.Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=f"{name}drop")(x)
    return layers.Add(name=f"{name}add")([x, inputs])


def fused_mbconv_block(x, filters: int, name: str, *, kernel_size=3, strides=1,
                       expand_ratio=4, se_ratio=0.0, drop_rate=0.0, activation="swish"):
    """One Fused-MBConv block (Figure 2, right): MBConv's 1x1 expansion and depthwise
    convolution fused into one ordinary ``kernel_size`` convolution.

    With ``expand_ratio`` above 1: ``{name}expand_conv`` (``kernel_size``, ``strides``, to
    ``expand_ratio`` times the input channels; batch norm ``{name}expand_bn``, activation),
    squeeze-and-excitation if ``se_ratio`` (:func:`squeeze_excite`), ``{name}project_conv``
    (1x1 to ``filters``, batch norm ``{name}project_bn``, no activation: the linear
    bottleneck). With ``expand_ratio`` 1 (Table 4's "Fused-MBConv1") the block is one
    convolution: ``{name}project_conv`` with ``kernel_size`` and ``strides``, batch norm and
    ``{name}project_activation``. Then, where input and output have the same shape, the
    residual (``{name}drop``, ``{name}add``).

    Args:
        x: the input tensor.
        filters: the output channels (already scaled).
        name: the prefix of the layer names, e.g. ``"block2a_"``.
        kernel_size: the fused convolution's kernel size (3 in every released variant).
        strides: the fused convolution's stride, 1 or 2.
        expand_ratio: the expansion factor (1 or 4 in the released variants).
        se_ratio: the squeeze's channels as a fraction of the input channels; 0 for none
            (the released variants have none in their fused stages).
        drop_rate: the stochastic-depth rate of the residual branch.
        activation: the activation after the expansion (or the single convolution).

    Returns:
        The block's output tensor.
    """
    inputs, channels = x, x.shape[-1]
    if expand_ratio != 1:
        x = _conv_bn(x, channels * expand_ratio, kernel_size, f"{name}expand_conv",
                     f"{name}expand_bn", strides=strides, activation=activation,
                     activation_name=f"{name}expand_activation")
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, max(1, int(channels * se_ratio)), name, activation=activation)
    single = expand_ratio == 1
    x = _conv_bn(x, filters, kernel_size if single else 1, f"{name}project_conv",
                 f"{name}project_bn", strides=strides if single else 1,
                 activation=activation if single else None,
                 activation_name=f"{name}project_activation")
    return _residual(x, inputs, name, strides=strides, drop_rate=drop_rate)


def mbconv_block(x, filters: int, name: str, *, kernel_size=3, strides=1, expand_ratio=4,
                 se_ratio=SE, drop_rate=0.0, activation="swish"):
    """One MBConv block as v2 builds it (Figure 2, left): ``{name}expand_conv`` (1x1 to
    ``expand_ratio`` times the input channels, ``{name}expand_bn``, activation; left out at
    ratio 1), ``{name}dwconv2`` (depthwise ``kernel_size``, ``strides``, batch norm
    ``{name}bn``, ``{name}activation``), squeeze-and-excitation (:func:`squeeze_excite`),
    ``{name}project_conv`` (1x1 to ``filters``, ``{name}project_bn``, no activation), then,
    where input and output have the same shape, ``{name}drop`` and ``{name}add``.

    v1's :func:`course_utils.zoo.efficientnet.mbconv_block` is the same block but not the
    same layers: it pads before a strided depthwise convolution and uses ``"valid"``, names
    it ``dwconv`` and keeps batch norm's default momentum (0.99); v2's code pads ``"same"``,
    says ``dwconv2`` and uses 0.9, so the weights of one do not load into the other by name.

    Args:
        x: the input tensor.
        filters: the output channels (already scaled).
        name: the prefix of the layer names, e.g. ``"block4a_"``.
        kernel_size: the depthwise convolution's kernel size (3 in every released variant).
        strides: the depthwise convolution's stride, 1 or 2.
        expand_ratio: the expansion factor ("MBConv4", "MBConv6").
        se_ratio: the squeeze's channels as a fraction of the input channels; 0 for none.
        drop_rate: the stochastic-depth rate of the residual branch.
        activation: the activation after the expansion and the depthwise convolution.

    Returns:
        The block's output tensor.
    """
    inputs, channels = x, x.shape[-1]
    if expand_ratio != 1:
        x = _conv_bn(x, channels * expand_ratio, 1, f"{name}expand_conv",
                     f"{name}expand_bn", activation=activation,
                     activation_name=f"{name}expand_activation")
    x = layers.DepthwiseConv2D(kernel_size, strides=strides, padding="same", use_bias=False,
                               depthwise_initializer=CONV_INITIALIZER,
                               name=f"{name}dwconv2")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}bn")(x)
    x = layers.Activation(activation, name=f"{name}activation")(x)
    if 0 < se_ratio <= 1:
        x = squeeze_excite(x, max(1, int(channels * se_ratio)), name, activation=activation)
    x = _conv_bn(x, filters, 1, f"{name}project_conv", f"{name}project_bn")
    return _residual(x, inputs, name, strides=strides, drop_rate=drop_rate)


def _drop_rates(scaled: Layout, unscaled: Layout, drop_connect_rate: float) -> list:
    """The stochastic-depth rate of every block, in order: ``drop_connect_rate`` times the
    block's index over the number of blocks *before* depth scaling, as Keras's v2 counts
    them. For B0, S, M and L the rates grow from 0 to just under ``drop_connect_rate``; for
    B1 to B3, which have more blocks than B0, the last blocks go past it (B3's last:
    0.2 * 31 / 21 = 0.295)."""
    total = float(sum(stage.repeats for stage in unscaled.stages))
    count = sum(stage.repeats for stage in scaled.stages)
    return [drop_connect_rate * b / total for b in range(count)]


def efficientnet_v2_stack(x, layout: Layout, *, drop_rates=None, activation="swish"):
    """The network between the preprocessing and the head: ``stem_conv`` (3x3, stride 2,
    Table 4's stage 0), the stages of Fused-MBConv and MBConv blocks (``block1a`` ...)
    and ``top_conv`` (1x1, the start of Table 4's last stage).

    Args:
        x: the preprocessed images.
        layout: the scaled :class:`Layout` (:func:`scale_layout`).
        drop_rates: the stochastic-depth rate of each block in order; ``None`` for none.
        activation: the activation of every convolution but the projections.

    Returns:
        The ``top_activation`` feature maps.
    """
    x = _conv_bn(x, layout.stem_filters, 3, "stem_conv", "stem_bn", strides=2,
                 activation=activation, activation_name="stem_activation")
    rates = iter(drop_rates if drop_rates is not None else [])
    for number, stage in enumerate(layout.stages, start=1):
        block = fused_mbconv_block if stage.fused else mbconv_block
        for i in range(stage.repeats):
            x = block(x, stage.filters, f"block{number}{chr(ord('a') + i)}_",
                      kernel_size=stage.kernel_size, strides=stage.strides if i == 0 else 1,
                      expand_ratio=stage.expand_ratio, se_ratio=stage.se_ratio,
                      drop_rate=next(rates, 0.0), activation=activation)
    return _conv_bn(x, layout.top_filters, 1, "top_conv", "top_bn", activation=activation,
                    activation_name="top_activation")


def preprocessing(x, *, imagenet_statistics=True):
    """Keras's preprocessing layers for v2, taking pixels in [0, 255]: with
    ``imagenet_statistics`` and 3 channels, ``rescaling`` (to [0, 1]) and ``normalization``
    (each channel minus ImageNet's mean, over its standard deviation; the statistics are
    fixed, not weights); otherwise one ``rescaling`` to [-1, 1) (``x / 128 - 1``).

    Args:
        x: the input images.
        imagenet_statistics: standardise with ImageNet's statistics (Keras's B0 to B3,
            v1's preprocessing) rather than map to [-1, 1) (Keras's S, M and L).

    Returns:
        The preprocessed images.
    """
    if imagenet_statistics and x.shape[-1] == 3:
        x = layers.Rescaling(1.0 / 255, name="rescaling")(x)
        return layers.Normalization(mean=list(IMAGENET_MEAN), variance=list(IMAGENET_VARIANCE),
                                    axis=-1, name="normalization")(x)
    return layers.Rescaling(1.0 / 128.0, offset=-1, name="rescaling")(x)


def efficientnet_v2(*, layout=LAYOUTS["b0"], width=1.0, depth=1.0, resolution=224,
                    dropout=0.2, drop_connect_rate=0.2, activation="swish",
                    imagenet_statistics=True, include_top=True, input_shape=None,
                    pooling=None, classes=1000, classifier_activation="softmax",
                    include_preprocessing=True, name=None):
    """EfficientNetV2 of any block configuration: ``layout`` (a :class:`Layout` of
    Fused-MBConv and MBConv stages, as in Table 4) scaled ``width`` times as wide and
    ``depth`` times as deep (:func:`scale_layout`), for images of side ``resolution``; with
    the defaults, B0. ``keras.applications.efficientnet_v2.EfficientNetV2`` layer for layer.

    Args:
        layout: the unscaled configuration, e.g. ``LAYOUTS["s"]`` (Table 4).
        width: the width coefficient (:func:`round_filters`).
        depth: the depth coefficient (:func:`round_repeats`).
        resolution: the default input side in pixels.
        dropout: the dropout rate before the classifier (none at 0; Keras uses 0.2 for
            every variant).
        drop_connect_rate: the stochastic-depth rate; block ``b`` drops its branch with
            ``drop_connect_rate * b`` over the layout's number of blocks before scaling.
        activation: the activation of the network (swish, also called SiLU).
        imagenet_statistics: with ``include_preprocessing``, standardise 3-channel images
            with ImageNet's statistics (B0 to B3) rather than map pixels to [-1, 1) (S, M,
            L; any other number of channels).
        include_top: end with global average pooling, dropout and the classifier;
            ``False`` ends with ``top_activation``.
        input_shape: ``(height, width, channels)``; default ``resolution`` x
            ``resolution`` x 3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        include_preprocessing: start with the preprocessing layers (:func:`preprocessing`),
            taking pixels in [0, 255]; ``False`` expects the images already preprocessed.
        name: model name; defaults to ``efficientnetv2``.

    Returns:
        The ``keras.Model``.
    """
    network = name or "efficientnetv2"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    for option, value, meaning in [
            ("include_preprocessing", include_preprocessing, "True takes pixels in [0, 255] "
             "and preprocesses them in the model; False expects them preprocessed"),
            ("imagenet_statistics", imagenet_statistics, "True standardises with "
             "ImageNet's mean and variance (B0 to B3), False maps to [-1, 1) (S, M, L)")]:
        if not isinstance(value, bool):
            raise TypeError(f"{network}: {option} must be True or False; got {value!r}. "
                            f"Hint: {meaning}.")
    for argument, rate in (("dropout", dropout), ("drop_connect_rate", drop_connect_rate)):
        _check(_is_number(rate) and 0 <= rate < 1, rate, argument,
               "a rate from 0 up to (not including) 1", "Keras uses 0.2; 0 for none.")
    _check(_is_number(resolution, whole=True) and resolution >= MIN_SIZE, resolution,
           "resolution", f"a whole number of pixels, at least {MIN_SIZE}",
           "the default input's side: 224 for B0, 384 for S.")
    scaled = scale_layout(layout, width, depth)
    rates = _drop_rates(scaled, layout, drop_connect_rate)
    _check(rates[-1] < 1, drop_connect_rate, "drop_connect_rate",
           f"small enough that the last block's rate stays below 1 (here it reaches "
           f"{rates[-1]:.3g}: the rates grow with the block's index over the unscaled "
           f"number of blocks, {sum(s.repeats for s in layout.stages)})",
           "lower drop_connect_rate or depth.")
    shape = check_input_shape(input_shape, default_size=resolution, min_size=MIN_SIZE,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    x = inputs
    if include_preprocessing:
        x = preprocessing(x, imagenet_statistics=imagenet_statistics)
    x = efficientnet_v2_stack(x, scaled, drop_rates=rates, activation=activation)
    if include_top:
        x = layers.GlobalAveragePooling2D(name=POOL_NAMES[0])(x)
        if dropout > 0:
            x = layers.Dropout(dropout, name="top_dropout")(x)
        x = layers.Dense(classes, activation=classifier_activation,
                         kernel_initializer=DENSE_INITIALIZER,
                         bias_initializer=keras.initializers.Constant(0.0),
                         name="predictions")(x)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=network)


def _variant(key: str):
    """``efficientnet_v2_{key}``: :func:`efficientnet_v2` with :data:`KERAS_VARIANTS`."""
    layout, width, depth, resolution, imagenet_statistics = KERAS_VARIANTS[key]
    keras_name = f"EfficientNetV2{key.upper()}"

    def build(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", include_preprocessing=True, name=None):
        return efficientnet_v2(layout=layout, width=width, depth=depth,
                               resolution=resolution, imagenet_statistics=imagenet_statistics,
                               include_top=include_top, input_shape=input_shape,
                               pooling=pooling, classes=classes,
                               classifier_activation=classifier_activation,
                               include_preprocessing=include_preprocessing,
                               name=name or f"efficientnetv2-{key}")

    source = ("Table 4" if key == "s" else "the reference code's configuration"
              if key in ("m", "l") else "the reference code's base configuration"
              if key == "b0" else f"B0 scaled to width {width}, depth {depth}")
    preprocessed = ("to [0, 1], then ImageNet's mean and variance;\n            "
                    "without 3 channels to [-1, 1)" if imagenet_statistics else "to [-1, 1)")
    build.__name__ = build.__qualname__ = f"efficientnet_v2_{key}"
    build.__module__ = __name__
    build.__doc__ = f"""EfficientNetV2-{key.upper()} ({source}; :data:`KERAS_VARIANTS`),
    {resolution}x{resolution} images; ``keras.applications.{keras_name}`` layer for layer.

    Args:
        include_top: end with global average pooling, dropout (0.2) and the classifier;
            ``False`` ends with ``top_activation``.
        input_shape: ``(height, width, channels)``; default {resolution}x{resolution}x3,
            at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        include_preprocessing: take pixels in [0, 255] and preprocess them in the model
            ({preprocessed}); ``False`` expects them preprocessed.
        name: model name; defaults to Keras's ``efficientnetv2-{key}``.

    Returns:
        The ``keras.Model``.
    """
    return build


(efficientnet_v2_b0, efficientnet_v2_b1, efficientnet_v2_b2, efficientnet_v2_b3,
 efficientnet_v2_s, efficientnet_v2_m, efficientnet_v2_l) = (
    _variant(key) for key in ("b0", "b1", "b2", "b3", "s", "m", "l"))
