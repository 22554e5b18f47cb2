"""RegNetX and RegNetY, 200MF to 32GF (Radosavovic, Kosaraju, Girshick, He and Dollar,
"Designing Network Design Spaces", CVPR 2020, arXiv:2003.13678).

A RegNet is not drawn by hand, layer by layer: six numbers generate it (section 3.3).
Block ``j`` of ``depth`` blocks gets the width of a line, ``u_j = w0 + wa * j``; the line is
then made a staircase: ``s_j = log(u_j / w0) / log(wm)`` is rounded to a whole number and
the block gets ``w0 * wm ** round(s_j)`` channels, rounded to a multiple of 8. Blocks of
equal width form a stage (four, for the published models), each stage starts by halving
the resolution, and every block of a stage has the same group width ``g`` (the channels of
one group of its 3x3 convolution). :func:`regnet_widths` does exactly that, in plain
NumPy, so a lesson can compute and plot it; :func:`linear_widths` gives the line and the
staircase block by block.

The block is ResNeXt's bottleneck with a bottleneck ratio of 1 (section 4: ``b = 1`` is
best): the *X block* is 1x1 conv -> BN -> ReLU, 3x3 grouped conv (the stride) -> BN ->
ReLU, 1x1 conv -> BN, added to the input (through a 1x1 conv and BN where the shape
changes), ReLU. The *Y block* puts squeeze-and-excitation after the 3x3 convolution, its
squeeze a quarter as wide as the block's *input*. Before the stages, a 3x3 stride-2
convolution to 32 channels; after them, global average pooling and the classifier.

One detail decides the channels exactly: a stage's width must be a multiple of its group
width. The paper's code (pycls; also timm and the ImageNet weights of tf.keras 2.x) rounds
to the *nearest* multiple (Python's ``round``, halves to even); torchvision rounds halves
up and never more than 10% down (MobileNet's ``_make_divisible``). The two differ for
three published models: RegNetX-400MF (last stage 384 or 400 channels), RegNetY-800MF and
RegNetY-8.0GF, and torchvision's weights are for its own widths. ``rounding="pycls"``
(the default) gives the paper's networks, ``rounding="torchvision"`` torchvision's: the
parameter counts of all 14 torchvision RegNets come out exactly.

Keras 3's ``keras.applications`` has no RegNet; tf.keras 2.9-2.15 had one
(``keras/applications/regnet.py``), and this module follows its names and options:
builders ``regnetx_002`` ... ``regnety_320`` (tf.keras's ``RegNetX002`` ...: the digits are
the paper's FLOPs in units of 100 million multiply-adds at 224x224, so ``016`` is
RegNetX-1.6GF), models named ``regnetx002``, a ``Rescaling`` of pixels in ``[0, 255]`` to
``[0, 1]`` first (``include_preprocessing``), and tf.keras's layer names:
``regnetx002_stem_conv``, ``regnetx002_Stage_0_XBlock_0_conv_1x1_1``,
``..._conv_3x3``, ``..._squeeze_and_excite_squeeze`` (Y), ``..._conv_1x1_2``,
``..._skip_1x1``, ``..._exit_relu`` (stages and blocks counted from 0, as there). Three
differences, where tf.keras left layers unnamed or the zoo's contract decides: the SE
product is ``..._squeeze_and_excite_multiply`` and the sum ``..._add``, and the head is the
zoo's ``avg_pool`` and ``predictions`` (tf.keras: ``regnetx002_head_gap`` and
``regnetx002head_dense``). Convolutions keep Keras's ``"same"`` padding, batch norm
tf.keras's momentum 0.9 and epsilon 1e-5 (PyTorch's 0.1 and 1e-5).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head

BN_MOMENTUM, BN_EPSILON = 0.9, 1e-5  # pycls's (PyTorch momentum 0.1), as tf.keras
STEM_WIDTH = 32
SE_RATIO = 0.25  # RegNetY: the squeeze is a quarter of the block's input channels
QUANTUM = 8  # every block width is a multiple of 8
ROUNDINGS = ("pycls", "torchvision")
MIN_SIZE = 32  # tf.keras's smallest input


class Design(NamedTuple):
    """The numbers that generate one RegNet (section 3.3): ``depth`` blocks, initial width
    ``w0``, slope ``wa``, width multiplier ``wm``, group width ``group_width``; the
    squeeze-and-excitation ratio (0 for RegNetX, 0.25 for RegNetY)."""

    depth: int
    w0: int
    wa: float
    wm: float
    group_width: int
    se_ratio: float


class Stage(NamedTuple):
    """One stage: its output channels, how many blocks and the group width of their 3x3
    convolutions."""

    width: int
    depth: int
    group_width: int


class LinearWidths(NamedTuple):
    """Section 3.3 block by block: the line ``u_j = w0 + wa * j``, the exponents ``s_j``
    with ``u_j = w0 * wm ** s_j``, and the staircase ``w0 * wm ** round(s_j)`` rounded to
    a multiple of the quantum."""

    continuous: np.ndarray
    exponents: np.ndarray
    quantized: np.ndarray


# The published models: pycls's configs (configs/dds_baselines, the models of the paper's
# Appendix), the same numbers as timm's and, for the 14 it has, torchvision's.
DESIGNS = {
    "x002": Design(13, 24, 36.44, 2.49, 8, 0.0),
    "x004": Design(22, 24, 24.48, 2.54, 16, 0.0),
    "x006": Design(16, 48, 36.97, 2.24, 24, 0.0),
    "x008": Design(16, 56, 35.73, 2.28, 16, 0.0),
    "x016": Design(18, 80, 34.01, 2.25, 24, 0.0),
    "x032": Design(25, 88, 26.31, 2.25, 48, 0.0),
    "x040": Design(23, 96, 38.65, 2.43, 40, 0.0),
    "x064": Design(17, 184, 60.83, 2.07, 56, 0.0),
    "x080": Design(23, 80, 49.56, 2.88, 120, 0.0),
    "x120": Design(19, 168, 73.36, 2.37, 112, 0.0),
    "x160": Design(22, 216, 55.59, 2.1, 128, 0.0),
    "x320": Design(23, 320, 69.86, 2.0, 168, 0.0),
    "y002": Design(13, 24, 36.44, 2.49, 8, SE_RATIO),
    "y004": Design(16, 48, 27.89, 2.09, 8, SE_RATIO),
    "y006": Design(15, 48, 32.54, 2.32, 16, SE_RATIO),
    "y008": Design(14, 56, 38.84, 2.4, 16, SE_RATIO),
    "y016": Design(27, 48, 20.71, 2.65, 24, SE_RATIO),
    "y032": Design(21, 80, 42.63, 2.66, 24, SE_RATIO),
    "y040": Design(22, 96, 31.41, 2.24, 64, SE_RATIO),
    "y064": Design(25, 112, 33.22, 2.27, 72, SE_RATIO),
    "y080": Design(17, 192, 76.82, 2.19, 56, SE_RATIO),
    "y120": Design(19, 168, 73.36, 2.37, 112, SE_RATIO),
    "y160": Design(18, 200, 106.23, 2.48, 112, SE_RATIO),
    "y320": Design(20, 232, 115.89, 2.53, 232, SE_RATIO),
}


def paper_name(key: str) -> str:
    """The paper's name of a published model: ``"x016"`` -> ``"RegNetX-1.6GF"``.

    Args:
        key: ``x`` or ``y`` and tf.keras's three digits (hundreds of MF), e.g. ``"y320"``.
    """
    hundreds = int(key[1:])
    flops = (f"{hundreds * 100}MF" if hundreds < 10 else f"{hundreds / 10:.1f}GF"
             if hundreds < 100 else f"{hundreds // 10}GF")
    return f"RegNet{key[0].upper()}-{flops}"


def _is_number(value, *, whole=False) -> bool:
    """Whether ``value`` is a (whole) number and not ``True`` or ``False``."""
    kind = numbers.Integral if whole else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def _check(ok: bool, value, argument: str, expected: str, hint: str):
    """Raise a ValueError naming ``argument`` unless ``ok``."""
    if not ok:
        raise ValueError(f"RegNet: {argument} must be {expected}; got {value!r}. "
                         f"Hint: {hint}")


def _check_design(depth, w0, wa, wm, quantum):
    """Refuse numbers that generate no network (pycls asserts the same)."""
    _check(_is_number(quantum, whole=True) and quantum >= 1, quantum, "quantum",
           "a whole number of at least 1", "every width is a multiple of it; 8 in the paper.")
    _check(_is_number(depth, whole=True) and depth >= 1, depth, "depth",
           "a whole number of blocks, at least 1", "the published models have 13 to 27.")
    _check(_is_number(w0, whole=True) and w0 > 0 and w0 % quantum == 0, w0, "w0",
           f"a positive multiple of {quantum} (the quantum)",
           "the first block's width: 24 for RegNetX-200MF, 232 for RegNetY-32GF.")
    _check(_is_number(wa) and wa >= 0, wa, "wa", "a number of at least 0",
           "the slope of the widths in channels per block: 36.44 for RegNetX-200MF.")
    _check(_is_number(wm) and wm > 1, wm, "wm", "a number above 1",
           "the width multiplier from one stage to the next: about 2 to 3 (paper: 1.5 to 3).")


def linear_widths(depth: int, w0: int, wa: float, wm: float,
                  quantum: int = QUANTUM) -> LinearWidths:
    """Section 3.3, block by block: the linear widths ``u_j = w0 + wa * j`` (equation 2),
    their exponents ``s_j = log(u_j / w0) / log(wm)`` (equation 3) and the quantized widths
    ``w0 * wm ** round(s_j)`` (equation 4) rounded to a multiple of ``quantum``. Plot the
    first and the last against ``j`` to see the line become a staircase.

    Args:
        depth: the number of blocks ``d``.
        w0: the initial width, a multiple of ``quantum``.
        wa: the slope (channels per block), at least 0.
        wm: the width multiplier, above 1.
        quantum: the widths are rounded to a multiple of it (8 in the paper).

    Returns:
        :class:`LinearWidths` of three arrays of ``depth`` entries.

    Raises:
        ValueError: a number that generates no network; the message names it.
    """
    _check_design(depth, w0, wa, wm, quantum)
    continuous = np.arange(depth) * wa + w0
    exponents = np.log(continuous / w0) / np.log(wm)
    # np.round rounds halves to even, as pycls and torchvision do.
    steps = w0 * np.power(wm, np.round(exponents))
    quantized = (np.round(steps / quantum) * quantum).astype(int)
    return LinearWidths(continuous, exponents, quantized)


def _to_multiple(width: int, divisor: int, rounding: str) -> int:
    """``width`` made a multiple of ``divisor``: to the nearest, halves to even (pycls), or
    halves up and never more than 10% down (torchvision)."""
    if rounding == "pycls":
        return int(round(width / divisor) * divisor)
    rounded = max(divisor, int(width + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * width else rounded


def regnet_widths(depth: int, w0: int, wa: float, wm: float, group_width: int,
                  bottleneck_ratio: float = 1.0, quantum: int = QUANTUM, *,
                  rounding: str = "pycls") -> tuple[Stage, ...]:
    """The stages a RegNet's six numbers generate (section 3.3): the quantized widths of
    :func:`linear_widths`, blocks of one width gathered in one stage, then each stage made
    to fit its groups: the group width is at most the bottleneck width (``width *
    bottleneck_ratio``), and the bottleneck width is rounded to a multiple of it.

    Args:
        depth: the number of blocks ``d``.
        w0: the initial width, a multiple of ``quantum``.
        wa: the slope (channels per block), at least 0.
        wm: the width multiplier, above 1.
        group_width: the channels of one group of the 3x3 convolutions ``g``.
        bottleneck_ratio: the bottleneck ratio ``b`` (1 for RegNet: the 3x3 convolution
            is as wide as the block).
        quantum: the widths are rounded to a multiple of it (8 in the paper).
        rounding: how a bottleneck width is made a multiple of the group width:
            ``"pycls"`` (the paper's code, nearest multiple) or ``"torchvision"`` (halves
            up, never 10% down); they differ for RegNetX-400MF, RegNetY-800MF and
            RegNetY-8.0GF.

    Returns:
        One :class:`Stage` ``(width, depth, group_width)`` per stage.

    Raises:
        ValueError: a number that generates no network; the message names it.
    """
    quantized = linear_widths(depth, w0, wa, wm, quantum).quantized
    _check(_is_number(group_width, whole=True) and group_width >= 1, group_width,
           "group_width", "a whole number of channels, at least 1",
           "the channels of one group of the 3x3 convolution: 8 for RegNetX-200MF; the "
           "number of groups is the width divided by it.")
    _check(_is_number(bottleneck_ratio) and bottleneck_ratio > 0, bottleneck_ratio,
           "bottleneck_ratio", "a positive number",
           "1 for RegNet (section 4); 0.25 is ResNet's bottleneck, four times narrower.")
    _check(rounding in ROUNDINGS, rounding, "rounding", f"one of {ROUNDINGS}",
           "'pycls' for the paper's networks, 'torchvision' for torchvision's.")
    widths, depths = np.unique(quantized, return_counts=True)  # non-decreasing widths
    stages = []
    for width, blocks in zip(widths.tolist(), depths.tolist()):
        bottleneck = int(width * bottleneck_ratio)
        groups_of = min(group_width, bottleneck)
        bottleneck = _to_multiple(bottleneck, groups_of, rounding)
        stages.append(Stage(int(bottleneck / bottleneck_ratio), blocks, groups_of))
    return tuple(stages)


def batch_norm(x, name: str):
    """Batch normalisation with pycls's (and tf.keras's) momentum and epsilon.

    Args:
        x: the input tensor.
        name: the layer's name.
    """
    return layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name=name)(x)


def conv(x, filters: int, kernel_size: int, name: str, *, strides=1, groups=1):
    """A bias-free convolution with ``"same"`` padding and He initialisation (a batch
    norm follows every one).

    Args:
        x: the input tensor.
        filters: the output channels.
        kernel_size: 1 or 3.
        name: the layer's name.
        strides: the stride.
        groups: the number of groups (each sees ``channels / groups`` input channels).
    """
    return layers.Conv2D(filters, kernel_size, strides=strides, padding="same",
                         groups=groups, use_bias=False, kernel_initializer="he_normal",
                         name=name)(x)


def squeeze_excite(x, squeeze_width: int, name: str):
    """Squeeze-and-excitation (Hu et al. 2018), the Y in RegNetY: average each map to one
    number (``{name}_squeeze_and_excite_gap``), a 1x1 bottleneck of ``squeeze_width``
    channels with ReLU (``..._squeeze``), a 1x1 back to every channel with a sigmoid
    (``..._excite``), and the maps scaled by those gates (``..._multiply``).

    Args:
        x: the feature maps.
        squeeze_width: the channels of the bottleneck.
        name: the block's name, the prefix of the layer names.
    """
    prefix = f"{name}_squeeze_and_excite"
    se = layers.GlobalAveragePooling2D(keepdims=True, name=f"{prefix}_gap")(x)
    se = layers.Conv2D(squeeze_width, 1, activation="relu", kernel_initializer="he_normal",
                       name=f"{prefix}_squeeze")(se)
    se = layers.Conv2D(x.shape[-1], 1, activation="sigmoid", kernel_initializer="he_normal",
                       name=f"{prefix}_excite")(se)
    return layers.Multiply(name=f"{prefix}_multiply")([x, se])


def regnet_block(x, width: int, group_width: int, name: str, *, strides=1,
                 bottleneck_ratio=1.0, se_ratio=0.0):
    """One X block (section 4, the ResNeXt bottleneck with ``b = 1``), or with
    ``se_ratio`` a Y block: ``{name}_conv_1x1_1`` (1x1 to the bottleneck width ``width *
    bottleneck_ratio``) -> BN -> ReLU, ``{name}_conv_3x3`` (grouped, ``group_width``
    channels a group, the stride) -> BN -> ReLU, [squeeze-and-excitation], ``{name}_conv_1x1_2``
    (1x1 to ``width``) -> BN; added to the input, or where the shape changes to
    ``{name}_skip_1x1`` (1x1 with the stride) -> BN; ``{name}_exit_relu``.

    Args:
        x: the input tensor.
        width: the output channels.
        group_width: the channels of one group of the 3x3 convolution; it must divide the
            bottleneck width (:func:`regnet_widths` makes it so).
        name: the prefix of the layer names, e.g. ``"regnetx002_Stage_0_XBlock_0"``.
        strides: the stride of the 3x3 convolution and the shortcut, 1 or 2.
        bottleneck_ratio: the bottleneck width over the block's width (1 for RegNet).
        se_ratio: the squeeze's channels over the block's *input* channels (torchvision's
            and pycls's rule; tf.keras's too); 0 for an X block, 0.25 for a Y block.

    Returns:
        The block's output tensor.

    Raises:
        ValueError: the group width does not divide the bottleneck width.
    """
    channels = x.shape[-1]
    bottleneck = int(round(width * bottleneck_ratio))
    _check(_is_number(group_width, whole=True) and group_width >= 1
           and bottleneck % group_width == 0, group_width, "group_width",
           f"a divisor of the bottleneck width {bottleneck}",
           "regnet_widths rounds each stage's width to fit its group width.")
    shortcut = x
    if strides != 1 or channels != width:
        shortcut = conv(x, width, 1, f"{name}_skip_1x1", strides=strides)
        shortcut = batch_norm(shortcut, f"{name}_skip_bn")
    x = conv(x, bottleneck, 1, f"{name}_conv_1x1_1")
    x = batch_norm(x, f"{name}_conv_1x1_1_bn")
    x = layers.ReLU(name=f"{name}_conv_1x1_1_relu")(x)
    x = conv(x, bottleneck, 3, f"{name}_conv_3x3", strides=strides,
             groups=bottleneck // group_width)
    x = batch_norm(x, f"{name}_conv_3x3_bn")
    x = layers.ReLU(name=f"{name}_conv_3x3_relu")(x)
    if se_ratio:
        x = squeeze_excite(x, int(round(se_ratio * channels)), name)
    x = conv(x, width, 1, f"{name}_conv_1x1_2")
    x = batch_norm(x, f"{name}_conv_1x1_2_bn")
    x = layers.Add(name=f"{name}_add")([x, shortcut])
    return layers.ReLU(name=f"{name}_exit_relu")(x)


def regnet_stage(x, width: int, depth: int, group_width: int, name: str, *, strides=2,
                 bottleneck_ratio=1.0, se_ratio=0.0):
    """One stage: ``depth`` blocks of ``width`` channels, ``{name}_XBlock_0`` ... (``YBlock``
    with squeeze-and-excitation); the first one changes the resolution and the channels.

    Args:
        x: the input tensor.
        width: the blocks' output channels.
        depth: how many blocks.
        group_width: the group width of their 3x3 convolutions.
        name: the stage's name, e.g. ``"regnetx002_Stage_0"``.
        strides: the first block's stride (2 in every RegNet stage).
        bottleneck_ratio: the bottleneck ratio of the blocks.
        se_ratio: the squeeze-and-excitation ratio (0: X blocks).

    Returns:
        The stage's output tensor.
    """
    kind = "YBlock" if se_ratio else "XBlock"
    for i in range(depth):
        x = regnet_block(x, width, group_width, f"{name}_{kind}_{i}",
                         strides=strides if i == 0 else 1,
                         bottleneck_ratio=bottleneck_ratio, se_ratio=se_ratio)
    return x


def stem(x, name: str, *, width=STEM_WIDTH):
    """The stem every RegNet shares: ``{name}_stem_conv`` (3x3, stride 2, to ``width``
    channels) -> ``{name}_stem_bn`` -> ``{name}_stem_relu``.

    Args:
        x: the (rescaled) images.
        name: the model's name, the prefix of the layer names.
        width: the stem's channels (32 in the paper).
    """
    x = conv(x, width, 3, f"{name}_stem_conv", strides=2)
    x = batch_norm(x, f"{name}_stem_bn")
    return layers.ReLU(name=f"{name}_stem_relu")(x)


def regnet(depth: int = 13, *, w0=24, wa=36.44, wm=2.49, group_width=8, se_ratio=0.0,
           bottleneck_ratio=1.0, rounding="pycls", include_top=True,
           include_preprocessing=True, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax", name=None):
    """The RegNet that six numbers generate (section 3.3): the stem, the stages of
    :func:`regnet_widths`, each starting with stride 2, and the head; with the defaults,
    RegNetX-200MF. Only ``depth`` may come by position.

    Args:
        depth: the number of blocks ``d``.
        w0: the initial width, a multiple of 8.
        wa: the slope (channels per block), at least 0.
        wm: the width multiplier, above 1.
        group_width: the channels of one group of the 3x3 convolutions ``g``.
        se_ratio: squeeze-and-excitation ratio: 0 for RegNetX, 0.25 for RegNetY.
        bottleneck_ratio: the bottleneck ratio ``b`` (1 for RegNet).
        rounding: ``"pycls"`` (the paper's widths) or ``"torchvision"``
            (:func:`regnet_widths`).
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the last stage's maps.
        include_preprocessing: start with ``{name}_prestem_rescaling``, pixels in
            ``[0, 255]`` to ``[0, 1]``, as tf.keras's RegNets do.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name, the prefix of the layer names; defaults to ``regnet``.

    Returns:
        The ``keras.Model``.

    Raises:
        ValueError: an argument that cannot build a network; the message names it.
    """
    network = name or "regnet"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    _check(_is_number(se_ratio) and 0 <= se_ratio <= 1, se_ratio, "se_ratio",
           "a number from 0 to 1", "0 for RegNetX, 0.25 for RegNetY.")
    stages = regnet_widths(depth, w0, wa, wm, group_width, bottleneck_ratio,
                           rounding=rounding)
    shape = check_input_shape(input_shape, default_size=224, min_size=MIN_SIZE,
                              include_top=include_top, network=network,
                              top_needs_fixed_size=False)
    inputs = keras.Input(shape=shape)
    x = inputs
    if include_preprocessing:
        x = layers.Rescaling(1.0 / 255.0, name=f"{network}_prestem_rescaling")(x)
    x = stem(x, network)
    for number, stage in enumerate(stages):
        x = regnet_stage(x, stage.width, stage.depth, stage.group_width,
                         f"{network}_Stage_{number}", bottleneck_ratio=bottleneck_ratio,
                         se_ratio=se_ratio)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=network)


def _published(key: str):
    """``regnet{x|y}_{digits}``: :func:`regnet` with the paper's numbers ``DESIGNS[key]``."""
    design = DESIGNS[key]

    def build(*, include_top=True, include_preprocessing=True, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax",
              rounding="pycls", name=f"regnet{key}"):
        return regnet(design.depth, w0=design.w0, wa=design.wa, wm=design.wm,
                      group_width=design.group_width, se_ratio=design.se_ratio,
                      rounding=rounding, include_top=include_top,
                      include_preprocessing=include_preprocessing, input_shape=input_shape,
                      pooling=pooling, classes=classes,
                      classifier_activation=classifier_activation, name=name)

    stages = regnet_widths(*design[:5])
    block = "Y blocks (X blocks with squeeze-and-excitation)" if design.se_ratio else "X blocks"
    build.__name__ = build.__qualname__ = f"regnet{key[0]}_{key[1:]}"
    build.__module__ = __name__
    build.__doc__ = f"""{paper_name(key)} (tf.keras 2.x's ``RegNet{key.upper()}``): d =
    {design.depth}, w0 = {design.w0}, wa = {design.wa}, wm = {design.wm}, g =
    {design.group_width}; {block}; widths {tuple(s.width for s in stages)}, depths
    {tuple(s.depth for s in stages)} (:func:`regnet_widths`).

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the last stage's maps.
        include_preprocessing: start with a ``Rescaling`` of pixels in ``[0, 255]`` to
            ``[0, 1]``, as tf.keras's RegNets do.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        rounding: ``"pycls"`` for the paper's widths, ``"torchvision"`` for torchvision's
            (they differ for RegNetX-400MF, RegNetY-800MF and RegNetY-8.0GF).
        name: model name, the prefix of the layer names; tf.keras's ``regnet{key}``.

    Returns:
        The ``keras.Model``.
    """
    return build


(regnetx_002, regnetx_004, regnetx_006, regnetx_008, regnetx_016, regnetx_032, regnetx_040,
 regnetx_064, regnetx_080, regnetx_120, regnetx_160, regnetx_320) = (
    _published(key) for key in DESIGNS if key.startswith("x"))
(regnety_002, regnety_004, regnety_006, regnety_008, regnety_016, regnety_032, regnety_040,
 regnety_064, regnety_080, regnety_120, regnety_160, regnety_320) = (
    _published(key) for key in DESIGNS if key.startswith("y"))
