"""ConvNeXt's roadmap: a ResNet-50 modernised one step at a time into ConvNeXt-T (Liu, Mao,
Wu, Feichtenhofer, Darrell and Xie, "A ConvNet for the 2020s", CVPR 2022, arXiv:2201.03545,
section 2, Figure 2; the numbers of every step are in Appendix C, Table 10).

Every step of the paper is a :class:`Design`, the one before it with one or two fields
changed (:data:`ROADMAP` lists the changes, the paper's GFLOPs and its ImageNet top-1, the
mean and spread over three seeds); :func:`designs` applies them in turn and
:func:`roadmap_network` builds any design from the zoo's parts::

    from course_utils import roadmap
    steps = roadmap.designs()                       # {step name: Design}, in order
    model = roadmap.roadmap_network(steps["inverting dimensions"])

The parts: ResNet's stem and bottleneck blocks (:mod:`course_utils.zoo.resnet`, bias-free,
the stride on the 3x3 convolution as in torchvision's ResNet-50, the paper's baseline) for
the steps up to the inverted bottleneck; ConvNeXt's patchify stem, downsampling layers,
block and head (:mod:`course_utils.zoo.convnext`, with their ``norm``, ``kernel_size`` and
``activation`` options) from there on. The steps between, where the depthwise convolution
has moved to the front of the block but the block still has a norm and an activation after
every convolution and downsamples in its first block, are :func:`moved_up_block`; once a
block has one norm and one activation it *is* :func:`~course_utils.zoo.convnext.convnext_block`.

Where the paper leaves a detail open, the choice made here (each is said again where it is
made): the patchify stem is a 4x4 convolution of stride 4 and a norm, without an
activation (ConvNeXt's); a block's hidden width is four times its *output* channels; a
block that downsamples puts the stride on its spatial (depthwise) convolution and projects
its shortcut with a strided 1x1 convolution and a norm, as ResNet does; layer scale
(Touvron et al., CaiT), which the paper counts as part of its training recipe (section
3.1), comes with the last step, so that the last step is ``zoo.convnext_tiny`` exactly.
The batch norms of ResNet's parts and of :func:`moved_up_block` keep PyTorch's momentum
(:data:`BN_MOMENTUM`), as the paper's code does; ConvNeXt's parts with ``norm="batch"``
keep Keras's defaults, as ``zoo.convnext`` builds them (no step with them is trained in
the course).
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import keras
import numpy as np
from keras import layers

from course_utils.zoo import convnext, resnet
from course_utils.zoo.common import check_head_options, check_input_shape, head

STAGES = 4
EXPAND_RATIO = 4  # the inverted bottleneck's hidden width over the block's channels
# The paper's code is PyTorch's: batch norm's running statistics move by 0.1 of the batch's
# at each step, Keras's momentum 0.9 (Keras's default 0.99 lags far behind in a short run).
BN_MOMENTUM = 0.9
MIN_SIZE = 32  # the stem and three downsamplings divide the side by 32
BLOCKS = ("bottleneck", "inverted", "moved_up")
STEMS = ("resnet", "patchify")
HOW_MANY = ("every", "one")  # an activation (a norm) after every convolution, or one a block
DOWNSAMPLINGS = ("in_block", "separate")


class Design(NamedTuple):
    """One network of the roadmap. The defaults are the paper's starting point, ResNet-50.

    ``depths``: blocks per stage. ``stem``: ``"resnet"`` (7x7 convolution of stride 2,
    batch norm, ReLU, 3x3 max pooling of stride 2) or ``"patchify"`` (4x4 convolution of
    stride 4 and a norm). ``width``: the first stage's width (a bottleneck block's inner
    width; an inverted block's input and output channels); it doubles from stage to stage.
    ``block``: ``"bottleneck"`` (1x1 -> 3x3 -> 1x1 to four times the width),
    ``"inverted"`` (1x1 to four times the channels -> 3x3 -> 1x1 back, section 2.4) or
    ``"moved_up"`` (the spatial convolution first, then the two 1x1s, section 2.5).
    ``depthwise``: the spatial convolution has one group per channel (section 2.3).
    ``kernel_size``: of the spatial convolution. ``activation``: ``"relu"`` or ``"gelu"``.
    ``activations`` and ``norms``: ``"every"`` convolution is followed by one, or ``"one"``
    per block (section 2.6). ``norm``: ``"batch"`` or ``"layer"``. ``downsampling``:
    ``"in_block"`` (the first block of a stage, ResNet's) or ``"separate"`` (a norm and a
    2x2 convolution of stride 2 between the stages, plus a LayerNorm after the pooling).
    ``layer_scale``: every residual branch of the ConvNeXt blocks times learned factors
    that start at 1e-6."""

    depths: tuple = (3, 4, 6, 3)
    stem: str = "resnet"
    width: int = 64
    block: str = "bottleneck"
    depthwise: bool = False
    kernel_size: int = 3
    activation: str = "relu"
    activations: str = "every"
    norms: str = "every"
    norm: str = "batch"
    downsampling: str = "in_block"
    layer_scale: bool = False


class Step(NamedTuple):
    """One step of Figure 2: Table 10's name for it, the section of the paper that makes
    it, what it changes in the :class:`Design` before it, and what Table 10 reports for it
    in the ResNet-50 regime: GFLOPs (multiply-adds, as fvcore counts them) and ImageNet-1K
    top-1 accuracy, the mean and standard deviation over three seeds."""

    name: str
    section: str
    change: dict
    gflops: float
    top1: float
    spread: float


# Appendix C, Table 10 ("Detailed results for modernizing a ResNet-50"), row by row; the
# kernel sizes 5, 9 and 11 that the paper tried and left are not steps here.
ROADMAP = (
    Step("ResNet-50 (enhanced recipe)", "2.1", {}, 4.09, 78.82, 0.07),
    Step("stage ratio", "2.2", {"depths": (3, 3, 9, 3)}, 4.53, 79.36, 0.07),
    Step('"patchify" stem', "2.2", {"stem": "patchify"}, 4.42, 79.51, 0.18),
    Step("depthwise conv", "2.3", {"depthwise": True}, 2.35, 78.28, 0.08),
    Step("increase width", "2.3", {"width": 96}, 5.27, 80.50, 0.02),
    Step("inverting dimensions", "2.4", {"block": "inverted"}, 4.64, 80.64, 0.03),
    Step("move up depthwise conv", "2.5", {"block": "moved_up"}, 4.07, 79.92, 0.08),
    Step("kernel size -> 7", "2.5", {"kernel_size": 7}, 4.15, 80.57, 0.14),
    Step("ReLU -> GELU", "2.6", {"activation": "gelu"}, 4.15, 80.62, 0.14),
    Step("fewer activations", "2.6", {"activations": "one"}, 4.15, 81.27, 0.06),
    Step("fewer norms", "2.6", {"norms": "one"}, 4.15, 81.41, 0.09),
    Step("BN -> LN", "2.6", {"norm": "layer"}, 4.46, 81.47, 0.09),
    Step("separate d.s. conv (ConvNeXt-T)", "2.6",
         {"downsampling": "separate", "layer_scale": True}, 4.49, 81.97, 0.06),
)
# Table 10's first row: ResNet-50 with PyTorch's original recipe (90 epochs), same network.
RESNET50_PYTORCH_TOP1 = 76.13


RESNET50 = Design()  # the starting point


def designs(steps=ROADMAP, start: Design = RESNET50) -> dict:
    """Every step's :class:`Design`, each the one before with the step's changes.

    Args:
        steps: the :class:`Step` s, in order (default: the paper's :data:`ROADMAP`).
        start: the design the first step changes (default: ResNet-50).

    Returns:
        ``{step name: Design}`` in the order of the steps.

    Raises:
        ValueError: a step changes a field a :class:`Design` does not have.
    """
    out, design = {}, start
    for step in steps:
        unknown = sorted(set(step.change) - set(Design._fields))
        if unknown:
            raise ValueError(f"roadmap: step {step.name!r} changes {unknown}, which a Design "
                             f"does not have. Hint: the fields are {', '.join(Design._fields)}.")
        design = design._replace(**step.change)
        out[step.name] = design
    return out


def _check(ok: bool, value, field: str, expected: str, hint: str):
    if not ok:
        raise ValueError(f"roadmap: {field} must be {expected}; got {value!r}. Hint: {hint}")


def check_design(design: Design) -> Design:
    """``design`` if it can be built, else a ValueError naming the field that cannot.

    Args:
        design: a :class:`Design`.
    """
    _check(isinstance(design, Design), design, "design", "a roadmap.Design",
           "roadmap.designs()[name] or roadmap.Design(...).")
    depths = tuple(design.depths) if isinstance(design.depths, (tuple, list)) else ()
    _check(len(depths) == STAGES and all(isinstance(d, numbers.Integral) and d >= 1
                                         for d in depths),
           design.depths, "depths", "four whole numbers of blocks, each at least 1",
           "(3, 4, 6, 3) is ResNet-50, (3, 3, 9, 3) ConvNeXt-T.")
    _check(isinstance(design.width, numbers.Integral) and design.width >= 4
           and design.width % 4 == 0, design.width, "width", "a multiple of 4, at least 4",
           "64 for ResNet-50, 96 for ConvNeXt-T; an inverted block's hidden width is four "
           "times it.")
    for field, choices in (("stem", STEMS), ("block", BLOCKS), ("activations", HOW_MANY),
                           ("norms", HOW_MANY), ("downsampling", DOWNSAMPLINGS),
                           ("activation", ("relu", "gelu")), ("norm", tuple(convnext.NORMS))):
        value = getattr(design, field)
        _check(value in choices, value, field, f"one of {choices}",
               "see roadmap.Design's docstring for what each means.")
    _check(isinstance(design.kernel_size, numbers.Integral) and design.kernel_size % 2 == 1
           and design.kernel_size >= 1, design.kernel_size, "kernel_size",
           "an odd whole number", "3 in ResNet, 7 in ConvNeXt (section 2.5).")
    resnet_like = design.block in ("bottleneck", "inverted")
    if resnet_like:  # ResNet's own blocks: 3x3, ReLU and batch norm after every convolution
        for field, value, theirs in (("kernel_size", design.kernel_size, 3),
                                     ("activation", design.activation, "relu"),
                                     ("activations", design.activations, "every"),
                                     ("norms", design.norms, "every"),
                                     ("norm", design.norm, "batch"),
                                     ("downsampling", design.downsampling, "in_block"),
                                     ("layer_scale", design.layer_scale, False)):
            _check(value == theirs, value, field, f"{theirs!r} with {design.block} blocks",
                   "ResNet's bottleneck block has a 3x3 convolution, batch norm and ReLU "
                   "after each convolution and downsamples in the block; move the depthwise "
                   "convolution up (block='moved_up') first, as the paper does.")
    else:
        _check(design.depthwise, design.depthwise, "depthwise", "True with moved_up blocks",
               "the block that leads with its spatial convolution leads with a depthwise one.")
        _check(design.stem == "patchify", design.stem, "stem", "'patchify' with moved_up "
               "blocks", "the paper patchifies the stem (section 2.2) before it moves the "
               "depthwise convolution up (section 2.5).")
    if design.downsampling == "separate":
        _check(design.norms == "one" and design.activations == "one", design.norms, "norms",
               "'one' (and activations 'one') with separate downsampling",
               "separate downsampling layers come last, between ConvNeXt blocks.")
    return design


def resnet_stem(x, width: int):
    """ResNet's stem (He et al. 2016, Table 1) with ``width`` channels: ``conv1_conv`` (7x7,
    stride 2, bias-free, padded by 3), ``conv1_bn``, ``conv1_relu``, ``pool1_pool`` (3x3 max
    pooling, stride 2, padded by 1): a quarter of the side.

    Args:
        x: the (preprocessed) images.
        width: the channels of the convolution (64 in ResNet-50).
    """
    x = resnet.conv_bn_relu(x, width, 7, "conv1", strides=2, use_bias=False,
                            bn_momentum=BN_MOMENTUM)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def _norm(x, norm: str, name: str):
    if norm == "layer":
        return layers.LayerNormalization(epsilon=convnext.EPSILON, name=name)(x)
    return resnet.batch_norm(x, name, bn_momentum=BN_MOMENTUM)


def moved_up_block(x, filters: int, name: str, *, strides=1, kernel_size=7,
                   expand_ratio=EXPAND_RATIO, norm="batch", activation="relu", norms="every",
                   activations="every", layer_scale=False):
    """A block of the roadmap's middle steps (Figure 3c, section 2.5 to 2.6): a depthwise
    ``kernel_size`` convolution of the input's channels (``{name}_depthwise_conv``, with
    the block's stride), a 1x1 convolution to ``expand_ratio * filters`` channels
    (``{name}_pointwise_conv_1``, a ``Dense`` on every pixel, as in ConvNeXt), a 1x1 back
    to ``filters`` (``{name}_pointwise_conv_2``); the input added back (``{name}_add``),
    through a strided 1x1 convolution and a norm (``{name}_shortcut_conv``,
    ``{name}_shortcut_norm``) where the shape changes.

    With ``norms="every"`` a norm follows each of the three convolutions
    (``{name}_norm_1`` to ``_3``), with ``"one"`` only the depthwise one; with
    ``activations="every"`` an activation follows the first two and the addition
    (``{name}_act_1``, ``_2``, ``{name}_out``), with ``"one"`` only the expanding 1x1. A
    convolution followed by a norm has no bias. A block with one norm and one activation
    that keeps its shape is :func:`~course_utils.zoo.convnext.convnext_block`, and is built
    by it (its layer scale only with ``layer_scale``).

    Args:
        x: the input tensor.
        filters: the block's output channels.
        name: the prefix of the layer names, e.g. ``"conv3_block1"``.
        strides: 2 in the first block of a stage (the depthwise convolution and the
            shortcut downsample), else 1.
        kernel_size: the depthwise convolution's kernel size.
        expand_ratio: the hidden width over ``filters``.
        norm: ``"batch"`` or ``"layer"``.
        activation: ``"relu"`` or ``"gelu"``.
        norms: ``"every"`` or ``"one"``.
        activations: ``"every"`` or ``"one"``.
        layer_scale: multiply the residual branch by learned factors starting at 1e-6.

    Returns:
        The block's output tensor.
    """
    channels = x.shape[-1]
    keeps_shape = strides == 1 and channels == filters
    if keeps_shape and norms == "one" and activations == "one":
        return convnext.convnext_block(
            x, filters, name, kernel_size=kernel_size, expand_ratio=expand_ratio, norm=norm,
            activation=activation,
            layer_scale_init_value=convnext.LAYER_SCALE_INIT if layer_scale else None)
    every_norm, every_activation = norms == "every", activations == "every"
    shortcut = x
    if not keeps_shape:
        shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False,
                                 name=f"{name}_shortcut_conv")(x)
        shortcut = _norm(shortcut, norm, f"{name}_shortcut_norm")
    y = layers.Conv2D(channels, kernel_size, strides=strides, padding="same", groups=channels,
                      use_bias=False, name=f"{name}_depthwise_conv")(x)
    y = _norm(y, norm, f"{name}_norm_1")
    if every_activation:
        y = layers.Activation(activation, name=f"{name}_act_1")(y)
    y = layers.Dense(expand_ratio * filters, use_bias=not every_norm,
                     name=f"{name}_pointwise_conv_1")(y)
    if every_norm:
        y = _norm(y, norm, f"{name}_norm_2")
    y = layers.Activation(activation, name=f"{name}_act_2")(y)
    y = layers.Dense(filters, use_bias=not every_norm, name=f"{name}_pointwise_conv_2")(y)
    if every_norm:
        y = _norm(y, norm, f"{name}_norm_3")
    if layer_scale:
        y = convnext.LayerScale(convnext.LAYER_SCALE_INIT, filters, name=f"{name}_layer_scale")(y)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    if every_activation:
        y = layers.Activation(activation, name=f"{name}_out")(y)
    return y


def stage_widths(design: Design) -> tuple:
    """The four stages' output channels: four times the width in a bottleneck block (its
    inner width doubles from ``design.width``), the width itself in the others."""
    factor = 4 if design.block == "bottleneck" else 1
    return tuple(factor * design.width * 2 ** stage for stage in range(STAGES))


def _body(x, design: Design, name: str):
    """The stem and the four stages of ``design``."""
    if design.stem == "resnet":
        x = resnet_stem(x, design.width)
    else:
        x = convnext.patchify_stem(x, design.width, name, norm=design.norm)
    for stage, (blocks, out) in enumerate(zip(design.depths, stage_widths(design))):
        strides = 1 if stage == 0 else 2
        if design.block == "bottleneck":
            inner = design.width * 2 ** stage
            x = resnet.stack(x, "bottleneck", inner, blocks, strides, f"conv{stage + 2}",
                             use_bias=False, stride_on="3x3", bn_momentum=BN_MOMENTUM,
                             groups=inner if design.depthwise else 1)
        elif design.block == "inverted":
            hidden = EXPAND_RATIO * out
            x = resnet.stack(x, "bottleneck", out // resnet.BOTTLENECK_EXPANSION, blocks,
                             strides, f"conv{stage + 2}", use_bias=False, stride_on="3x3",
                             bn_momentum=BN_MOMENTUM, width=hidden,
                             groups=hidden if design.depthwise else 1)
        elif design.downsampling == "in_block":
            for block in range(blocks):
                x = moved_up_block(
                    x, out, f"conv{stage + 2}_block{block + 1}",
                    strides=strides if block == 0 else 1, kernel_size=design.kernel_size,
                    norm=design.norm, activation=design.activation, norms=design.norms,
                    activations=design.activations, layer_scale=design.layer_scale)
        else:  # ConvNeXt's layout and names (convnext.convnext_stages)
            if stage > 0:
                x = convnext.downsampling_block(x, out, name, stage - 1, norm=design.norm)
            for block in range(blocks):
                x = convnext.convnext_block(
                    x, out, f"{name}_stage_{stage}_block_{block}",
                    kernel_size=design.kernel_size, norm=design.norm,
                    activation=design.activation,
                    layer_scale_init_value=(convnext.LAYER_SCALE_INIT if design.layer_scale
                                            else None))
    return x


def roadmap_network(design: Design, *, include_top=True, include_preprocessing=True,
                    input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", name="roadmap"):
    """The network of one step of the roadmap: ConvNeXt's preprocessing (ImageNet's
    statistics, for 3-channel images in [0, 255]), the stem, the four stages and the head
    (global average pooling and the classifier; with separate downsampling ConvNeXt's head,
    with a LayerNorm after the pooling). ``roadmap_network(designs()[last], name=
    "convnext_tiny")`` is ``zoo.convnext_tiny()``, layer for layer.

    Args:
        design: a :class:`Design` (e.g. ``designs()["fewer norms"]``).
        include_top: end with the classifier; ``False`` ends with the last stage's maps.
        include_preprocessing: standardise 3-channel images in the model, as ConvNeXt
            does (1-channel images pass unchanged).
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: the model's name (and the prefix of ConvNeXt's layer names).

    Returns:
        The ``keras.Model``.

    Raises:
        ValueError: a design or an argument that cannot build a network.
    """
    check_design(design)
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=name)
    shape = check_input_shape(input_shape, default_size=224, min_size=MIN_SIZE,
                              include_top=include_top, network=name)
    inputs = keras.Input(shape=shape)
    x = convnext.preprocessing(inputs, name) if include_preprocessing else inputs
    x = _body(x, design, name)
    if design.downsampling == "separate":
        x = convnext.convnext_head(x, name, include_top=include_top, pooling=pooling,
                                   classes=classes, classifier_activation=classifier_activation)
    else:
        x = head(x, include_top=include_top, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name)


def narrow(design: Design, factor: int = 4) -> Design:
    """``design`` with ``factor`` times fewer channels in every layer (the same depths), as
    the course cuts the classics down to Fashion-MNIST.

    Args:
        design: a :class:`Design`.
        factor: divides the width; the result must stay a multiple of 4.
    """
    _check(isinstance(factor, numbers.Integral) and factor >= 1 and design.width % factor == 0
           and (design.width // factor) % 4 == 0, factor, "factor",
           f"a whole number that divides the width {design.width} into a multiple of 4",
           "4 takes ResNet-50's 64 to 16 and ConvNeXt-T's 96 to 24.")
    return design._replace(width=design.width // factor)


def _depthwise_twin(layer):
    """A ``DepthwiseConv2D`` for a ``Conv2D`` with one group per channel, else a copy."""
    kernel = getattr(layer, "kernel", None)
    if (type(layer) is layers.Conv2D and layer.groups > 1 and layer.groups == layer.filters
            and kernel is not None and kernel.shape[-2] == 1):
        return layers.DepthwiseConv2D(
            layer.kernel_size, strides=layer.strides, padding=layer.padding,
            dilation_rate=layer.dilation_rate, activation=layer.activation,
            use_bias=layer.use_bias, data_format=layer.data_format, name=layer.name)
    return layer.__class__.from_config(layer.get_config())


def with_depthwise_layers(model):
    """The same network, with every ``Conv2D`` that has one group per channel (how Keras's
    ConvNeXt writes its depthwise convolutions) made a ``DepthwiseConv2D`` holding the same
    weights: the same function, the same parameters. TensorFlow's CPU kernels train a
    grouped convolution many times slower than a depthwise one; train this copy.

    Args:
        model: a functional model, e.g. from :func:`roadmap_network`.

    Returns:
        A new functional model with the same layer names and weights.
    """
    twin = keras.models.clone_model(model, clone_function=_depthwise_twin)
    for mine, theirs in zip(model.layers, twin.layers):
        weights = mine.get_weights()
        if isinstance(theirs, layers.DepthwiseConv2D) and type(mine) is layers.Conv2D:
            weights[0] = np.transpose(weights[0], (0, 1, 3, 2))  # (k, k, 1, C) -> (k, k, C, 1)
        theirs.set_weights(weights)
    return twin
