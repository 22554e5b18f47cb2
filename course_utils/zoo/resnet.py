"""Residual networks: ResNet-18 to ResNet-152, the pre-activation ResNet-50/101/152 v2 and
ResNet-D.

- He, Zhang, Ren and Sun, "Deep Residual Learning for Image Recognition", CVPR 2016.
  Table 1: a 7x7 stride-2 stem and 3x3 max pooling, then four stages (``conv2`` to
  ``conv5``) of basic blocks (two 3x3 convolutions; ResNet-18/34) or bottleneck blocks
  (1x1 -> 3x3 -> 1x1 with four times the channels out; ResNet-50/101/152). Every stage but
  ``conv2`` halves the resolution in its first block.
- He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016: the pre-activation
  block (batch norm and ReLU *before* each convolution, nothing after the addition).
- He, Zhang, Zhang et al., "Bag of Tricks for Image Classification with Convolutional Neural
  Networks", CVPR 2019, Figure 2: ResNet-B (the stride on the 3x3 convolution), ResNet-C (a
  deep stem of three 3x3 convolutions) and ResNet-D (average pooling, not a strided 1x1
  convolution, on the downsampling shortcut); section 5.1: the last batch norm of every
  residual branch starts with gamma = 0, so each block starts as the identity.

ResNet-50/101/152 and ResNet-50/101/152 v2 are ``keras.applications.ResNet50``/``101``/
``152``/``ResNet50V2``/``101V2``/``152V2`` layer for layer (names, shapes, parameters,
outputs). Keras's convolutions have biases (before a batch norm, which cancels them);
``use_bias=False`` gives the bias-free convention of the paper and torchvision.

The block functions take the input, what defines the block (filters, ``strides``, the kind
of shortcut) and the name of where it sits by position, as ``keras.applications``' own
blocks do; their other options by keyword.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head

BN_EPSILON = 1.001e-5  # what keras.applications uses
BN_MOMENTUM = 0.99  # Keras's default
STAGE_FILTERS = (64, 128, 256, 512)
# Table 1: depth -> (block, blocks per stage conv2..conv5)
DEPTHS = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
SHORTCUTS = ("auto", "identity", "projection", "subsample", "avgpool")
BOTTLENECK_EXPANSION = 4


def batch_norm(x, name: str, *, zero_gamma=False, bn_momentum=BN_MOMENTUM):
    """Batch normalisation with Keras's epsilon.

    Args:
        x: the input tensor.
        name: the layer's name.
        zero_gamma: start the scale gamma at 0 (Bag of Tricks, section 5.1).
        bn_momentum: the momentum of the moving mean and variance.
    """
    return layers.BatchNormalization(epsilon=BN_EPSILON, momentum=bn_momentum, name=name,
                                     gamma_initializer="zeros" if zero_gamma else "ones")(x)


def padded_conv(x, filters: int, kernel_size: int, name: str, *, strides=1, use_bias=True,
                groups=1):
    """A convolution that keeps ``ceil(size / strides)``; a strided k x k convolution pads
    ``k // 2`` pixels on every side first (``{name}`` with ``_conv`` made ``_pad``), as the
    paper's implementations do, where ``"same"`` padding would pad one side only.

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size (one number: the kernels are square).
        name: the convolution's name, ending in ``_conv``.
        strides: strides.
        use_bias: give the convolution a bias (Keras does; the paper does not).
        groups: split the input channels and the filters into this many groups, each
            group of filters seeing only its own group of channels (ResNeXt's grouped
            convolution); 1 is an ordinary convolution.
    """
    if strides > 1 and kernel_size > 1:
        x = layers.ZeroPadding2D(kernel_size // 2, name=name.replace("_conv", "_pad"))(x)
        return layers.Conv2D(filters, kernel_size, strides=strides, use_bias=use_bias,
                             groups=groups, name=name)(x)
    return layers.Conv2D(filters, kernel_size, strides=strides,
                         padding="same" if kernel_size > 1 else "valid", use_bias=use_bias,
                         groups=groups, name=name)(x)


def conv_bn(x, filters: int, kernel_size: int, prefix: str, *, strides=1, use_bias=True,
            zero_gamma=False, bn_momentum=BN_MOMENTUM, groups=1):
    """Convolution and batch norm, no activation: ``{prefix}_conv``, ``{prefix}_bn``.

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size.
        prefix: where it sits, e.g. ``"conv3_block1_3"``.
        strides: the convolution's strides.
        use_bias: give the convolution a bias.
        zero_gamma: start the batch norm's gamma at 0 (the last one of a residual branch).
        bn_momentum: the batch norm's momentum.
        groups: the convolution's groups (see :func:`padded_conv`).
    """
    x = padded_conv(x, filters, kernel_size, f"{prefix}_conv", strides=strides,
                    use_bias=use_bias, groups=groups)
    return batch_norm(x, f"{prefix}_bn", zero_gamma=zero_gamma, bn_momentum=bn_momentum)


def conv_bn_relu(x, filters: int, kernel_size: int, prefix: str, *, strides=1, use_bias=True,
                 bn_momentum=BN_MOMENTUM, groups=1):
    """Convolution, batch norm and ReLU: ``{prefix}_conv``, ``{prefix}_bn``, ``{prefix}_relu``.

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size.
        prefix: where it sits, e.g. ``"conv3_block1_1"``.
        strides: the convolution's strides.
        use_bias: give the convolution a bias.
        bn_momentum: the batch norm's momentum.
        groups: the convolution's groups (see :func:`padded_conv`).
    """
    x = conv_bn(x, filters, kernel_size, prefix, strides=strides, use_bias=use_bias,
                bn_momentum=bn_momentum, groups=groups)
    return layers.Activation("relu", name=f"{prefix}_relu")(x)


def add_and_relu(skip, x, name: str):
    """The end of a residual block: ``{name}_add``, then ReLU as ``{name}_out``.

    Args:
        skip: the shortcut's output.
        x: the residual branch's output.
        name: the block's name.
    """
    x = layers.Add(name=f"{name}_add")([skip, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def shortcut(x, channels: int, strides: int, kind: str, name: str, *, use_bias=True,
             bn_momentum=BN_MOMENTUM):
    """The skip path of a block that outputs ``channels`` at ``strides``.

    ``"identity"``: x itself (only when the shapes already agree); ``"projection"``: a
    strided 1x1 convolution and batch norm (``{name}_0_conv``, ``{name}_0_bn``; the paper's
    option B, section 3.3); ``"subsample"``: the same projection in two steps, every
    ``strides``-th pixel (``{name}_0_subsample``, a 1x1 max pooling) then a 1x1 convolution
    at stride 1: the same numbers, and it dodges a TensorFlow 2.21 bug (its oneDNN CPU
    kernels corrupt memory when a strided 1x1 convolution sees batches of different sizes,
    e.g. a last short batch); ``"avgpool"`` (ResNet-D): 2x2 average pooling to downsample
    (``{name}_0_pool``), then a 1x1 convolution and batch norm; ``"auto"``: identity when
    it fits, else projection.

    Args:
        x: the block's input.
        channels: the block's output channels.
        strides: the block's strides.
        kind: one of ``SHORTCUTS``.
        name: the block's name.
        use_bias: give the projection's convolution a bias.
        bn_momentum: the projection's batch norm momentum.
    """
    if kind not in SHORTCUTS:
        raise ValueError(f"{name}: shortcut must be one of {SHORTCUTS}; got {kind!r}. Hint: "
                         f"'auto' takes the identity where the shapes agree.")
    fits = strides == 1 and x.shape[-1] == channels
    if kind == "auto":
        kind = "identity" if fits else "projection"
    if kind == "identity":
        if not fits:
            raise ValueError(
                f"{name}: an identity shortcut adds the block's input to its output, so they "
                f"must have the same shape; the input has {x.shape[-1]} channels and the "
                f"block outputs {channels} channels at strides {strides}. Hint: use "
                f"shortcut='projection' (a 1x1 convolution) or 'avgpool' for this block.")
        return x
    if kind == "avgpool" and strides > 1:
        x = layers.AveragePooling2D(strides, strides=strides, padding="same",
                                    name=f"{name}_0_pool")(x)
        strides = 1
    if kind == "subsample" and strides > 1:
        x = layers.MaxPooling2D(1, strides=strides, name=f"{name}_0_subsample")(x)
        strides = 1
    x = layers.Conv2D(channels, 1, strides=strides, use_bias=use_bias,
                      name=f"{name}_0_conv")(x)
    return batch_norm(x, f"{name}_0_bn", bn_momentum=bn_momentum)


def basic_block(x, filters: int, strides: int = 1, shortcut_kind: str = "auto",
                name: str = "block", *, use_bias=True, zero_gamma=False,
                bn_momentum=BN_MOMENTUM):
    """Two 3x3 convolutions with batch norm; the input is added before the last ReLU
    (Figure 5, left; ResNet-18/34).

    Args:
        x: the input tensor.
        filters: both convolutions' filters (the block's output channels).
        strides: the first convolution's strides.
        shortcut_kind: the shortcut (see :func:`shortcut`).
        name: where the block sits, e.g. ``"conv3_block1"``.
        use_bias: give the convolutions a bias.
        zero_gamma: start the last batch norm's gamma at 0.
        bn_momentum: the batch norms' momentum.
    """
    bn = {"use_bias": use_bias, "bn_momentum": bn_momentum}
    skip = shortcut(x, filters, strides, shortcut_kind, name, **bn)
    x = conv_bn_relu(x, filters, 3, f"{name}_1", strides=strides, **bn)
    x = conv_bn(x, filters, 3, f"{name}_2", zero_gamma=zero_gamma, **bn)
    return add_and_relu(skip, x, name)


def bottleneck_block(x, filters: int, strides: int = 1, shortcut_kind: str = "auto",
                     name: str = "block", *, use_bias=True, zero_gamma=False,
                     stride_on="1x1", bn_momentum=BN_MOMENTUM, width=None, groups=1):
    """1x1 (``filters``) -> 3x3 (``filters``) -> 1x1 (``4 * filters``), batch norm after
    each (Figure 5, right; ResNet-50/101/152). With ``width`` and ``groups`` it is the
    ResNeXt block (Xie et al. 2017, Figure 3c): 1x1 (``width``) -> 3x3 (``width``, in
    ``groups`` groups) -> 1x1 (``4 * filters``); see :mod:`course_utils.zoo.resnext`.

    Args:
        x: the input tensor.
        filters: the bottleneck's filters; the block outputs four times as many.
        strides: the block's strides.
        shortcut_kind: the shortcut (see :func:`shortcut`).
        name: where the block sits, e.g. ``"conv3_block1"``.
        use_bias: give the convolutions a bias.
        zero_gamma: start the last batch norm's gamma at 0.
        stride_on: ``"1x1"`` downsamples in the first 1x1 convolution, as the paper and
            Keras do; ``"3x3"`` in the 3x3 one (ResNet-B: the 1x1 no longer skips 3 of 4
            pixels).
        bn_momentum: the batch norms' momentum.
        width: the channels of the two inner convolutions; ``None``: ``filters``.
        groups: the 3x3 convolution's groups (ResNeXt's cardinality); it must divide
            ``width``.
    """
    if stride_on not in ("1x1", "3x3"):
        raise ValueError(f"{name}: stride_on must be '1x1' or '3x3'; got {stride_on!r}. "
                         f"Hint: '3x3' is ResNet-B.")
    width = filters if width is None else width
    if width % groups:
        raise ValueError(f"{name}: groups must divide the bottleneck's width, each group "
                         f"taking width / groups channels; got width={width}, "
                         f"groups={groups}. Hint: ResNeXt's 32x4d has width 128 = 32 * 4 "
                         f"in conv2.")
    channels = BOTTLENECK_EXPANSION * filters
    bn = {"use_bias": use_bias, "bn_momentum": bn_momentum}
    skip = shortcut(x, channels, strides, shortcut_kind, name, **bn)
    first, second = (strides, 1) if stride_on == "1x1" else (1, strides)
    x = conv_bn_relu(x, width, 1, f"{name}_1", strides=first, **bn)
    x = conv_bn_relu(x, width, 3, f"{name}_2", strides=second, groups=groups, **bn)
    x = conv_bn(x, channels, 1, f"{name}_3", zero_gamma=zero_gamma, **bn)
    return add_and_relu(skip, x, name)


def preact_block(x, filters: int, strides: int = 1, name: str = "block", *,
                 conv_shortcut: bool = False):
    """The pre-activation bottleneck of ResNet v2 (Identity Mappings, Figure 1b), as
    ``keras.applications.ResNet50V2`` builds it: batch norm and ReLU first, the stride on
    the 3x3 convolution, and the addition left as it is. A block without a convolution on
    its shortcut that downsamples takes every other pixel of its input (a 1x1 max pooling
    with stride 2).

    Args:
        x: the input tensor.
        filters: the bottleneck's filters; the block outputs four times as many.
        strides: the 3x3 convolution's strides.
        name: where the block sits, e.g. ``"conv3_block1"``.
        conv_shortcut: a 1x1 convolution on the shortcut (the first block of a stage).
    """
    preact = batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    channels = BOTTLENECK_EXPANSION * filters
    if conv_shortcut:
        skip = layers.Conv2D(channels, 1, strides=strides, name=f"{name}_0_conv")(preact)
    else:
        skip = layers.MaxPooling2D(1, strides=strides)(x) if strides > 1 else x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(1, name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=strides, use_bias=False, name=f"{name}_2_conv")(x)
    x = batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(channels, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([skip, x])


def stack(x, block: str, filters: int, blocks: int, strides: int, name: str, *,
          shortcut_kind="projection", **block_options):
    """One stage (a row of Table 1): ``blocks`` blocks named ``{name}_block1`` ...; the
    first one changes the resolution (``strides``) and the channels, through a
    ``shortcut_kind`` shortcut where the shapes differ.

    Args:
        x: the input tensor.
        block: ``"basic"`` or ``"bottleneck"``.
        filters: the blocks' filters.
        blocks: how many blocks.
        strides: the first block's strides.
        name: the stage's name, e.g. ``"conv3"``.
        shortcut_kind: the first block's shortcut where the shapes differ:
            ``"projection"``, ``"subsample"`` or ``"avgpool"`` (ResNet-D).
        **block_options: passed on to every block (``use_bias``, ``zero_gamma``, ...).
    """
    make = {"basic": basic_block, "bottleneck": bottleneck_block}[block]
    channels = filters * (BOTTLENECK_EXPANSION if block == "bottleneck" else 1)
    for i in range(1, blocks + 1):
        first = i == 1 and not (strides == 1 and x.shape[-1] == channels)
        x = make(x, filters, strides if i == 1 else 1, shortcut_kind if first else "identity",
                 f"{name}_block{i}", **block_options)
    return x


def preact_stack(x, filters: int, blocks: int, strides: int, name: str):
    """A ResNet v2 stage: a convolution on the first block's shortcut, the downsampling
    in the *last* block (as Keras's ResNetV2 stages do).

    Args:
        x: the input tensor.
        filters: the blocks' filters.
        blocks: how many blocks.
        strides: the last block's strides.
        name: the stage's name, e.g. ``"conv3"``.
    """
    x = preact_block(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = preact_block(x, filters, name=f"{name}_block{i}")
    return preact_block(x, filters, strides=strides, name=f"{name}_block{blocks}")


def stem(x, *, use_bias=True, deep=False, preact=False):
    """``conv1`` and ``pool1`` (Table 1): a 7x7 stride-2 convolution and 3x3 stride-2 max
    pooling, 224x224 -> 56x56.

    Args:
        x: the input images.
        use_bias: give the convolutions a bias.
        deep: three 3x3 convolutions (32, 32, 64 filters; the first with stride 2) instead
            of the 7x7 one (ResNet-C).
        preact: the stem of a pre-activation network (ResNet v2): no batch norm and ReLU
            after the 7x7 convolution, the first block applies them.
    """
    if deep:
        for i, (filters, strides) in enumerate(((32, 2), (32, 1), (64, 1)), start=1):
            x = conv_bn_relu(x, filters, 3, f"conv1_{i}", strides=strides, use_bias=use_bias)
    else:
        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
        if not preact:
            x = batch_norm(x, "conv1_bn")
            x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def resnet(depth: int, *, include_top=True, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax", use_bias=True, deep_stem=False,
           shortcut_kind="projection", stride_on="1x1", zero_gamma=False, name=None):
    """ResNet of ``depth`` 18, 34, 50, 101 or 152 (Table 1), with the bag of tricks as
    options.

    Args:
        depth: 18, 34, 50, 101 or 152 weighted layers.
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias (Keras does; the paper does not).
        deep_stem: three 3x3 convolutions in the stem (ResNet-C).
        shortcut_kind: the shortcut of the blocks that downsample: ``"projection"``,
            ``"subsample"`` or ``"avgpool"`` (ResNet-D).
        stride_on: ``"1x1"`` or ``"3x3"`` (ResNet-B) for the bottleneck blocks.
        zero_gamma: start every block's last batch norm gamma at 0 (Bag of Tricks, 5.1).
        name: model name; defaults to ``resnet<depth>``.
    """
    if depth not in DEPTHS:
        raise ValueError(f"ResNet depth must be one of {sorted(DEPTHS)}; got {depth!r}. "
                         f"Hint: Table 1's columns; cifar_resnet builds the 6n + 2 CIFAR nets.")
    network = f"ResNet-{depth}"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network=network)
    block, blocks = DEPTHS[depth]
    options = {"use_bias": use_bias, "zero_gamma": zero_gamma}
    if block == "bottleneck":
        options["stride_on"] = stride_on
    inputs = keras.Input(shape=shape)
    x = stem(inputs, use_bias=use_bias, deep=deep_stem)
    for stage, (filters, n) in enumerate(zip(STAGE_FILTERS, blocks), start=2):
        x = stack(x, block, filters, n, 1 if stage == 2 else 2, f"conv{stage}",
                  shortcut_kind=shortcut_kind, **options)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name or f"resnet{depth}")


def _named(depth: int):
    """``resnet{depth}``: :func:`resnet` with the paper's layout and Keras's options."""
    def build(*, include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", use_bias=True, name=f"resnet{depth}"):
        return resnet(depth, include_top=include_top, input_shape=input_shape,
                      pooling=pooling, classes=classes,
                      classifier_activation=classifier_activation, use_bias=use_bias,
                      name=name)

    kind, blocks = DEPTHS[depth]
    same = (f"; ``keras.applications.ResNet{depth}`` layer for layer" if kind == "bottleneck"
            else "")
    build.__name__ = build.__qualname__ = f"resnet{depth}"
    build.__module__ = __name__
    build.__doc__ = f"""ResNet-{depth}: {kind} blocks, {blocks} per stage (Table 1){same}.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias, as Keras does; ``False``: bias-free
            convolutions, as in the paper.
        name: model name.
    """
    return build


resnet18, resnet34, resnet50, resnet101, resnet152 = (_named(d) for d in (18, 34, 50, 101, 152))


def _resnet_v2(depth: int, *, include_top, input_shape, pooling, classes,
               classifier_activation, name):
    """ResNet-``depth`` v2 (50, 101 or 152): see :func:`resnet50_v2`."""
    network = f"ResNet-{depth} v2"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    x = stem(inputs, preact=True)
    for stage, (filters, n) in enumerate(zip(STAGE_FILTERS, DEPTHS[depth][1]), start=2):
        x = preact_stack(x, filters, n, 1 if stage == 5 else 2, f"conv{stage}")
    x = batch_norm(x, "post_bn")
    x = layers.Activation("relu", name="post_relu")(x)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name)


def resnet50_v2(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="resnet50v2"):
    """ResNet-50 with pre-activation blocks (Identity Mappings, section 4), as
    ``keras.applications.ResNet50V2``: the stem has no batch norm of its own, and one batch
    norm and ReLU (``post_bn``, ``post_relu``) close the net.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the maps after ``post_relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    return _resnet_v2(50, include_top=include_top, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def resnet101_v2(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="resnet101v2"):
    """ResNet-101 with pre-activation blocks (Identity Mappings, section 4; Table 1 of the
    ResNet paper for the 3, 4, 23, 3 blocks), as ``keras.applications.ResNet101V2``.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the maps after ``post_relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    return _resnet_v2(101, include_top=include_top, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def resnet152_v2(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                 classifier_activation="softmax", name="resnet152v2"):
    """ResNet-152 with pre-activation blocks (Identity Mappings, section 4; Table 1 of the
    ResNet paper for the 3, 8, 36, 3 blocks), as ``keras.applications.ResNet152V2``.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with the maps after ``post_relu``.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    return _resnet_v2(152, include_top=include_top, input_shape=input_shape, pooling=pooling,
                      classes=classes, classifier_activation=classifier_activation, name=name)


def resnet_d(depth: int = 50, *, include_top=True, input_shape=None, pooling=None,
             classes=1000, classifier_activation="softmax", use_bias=False, name=None):
    """ResNet-D with the bag of tricks (Bag of Tricks, Figure 2 and section 5.1): deep stem,
    stride on the 3x3 convolution, average pooling on the downsampling shortcuts,
    zero-initialised last gamma of every block.

    Args:
        depth: 18, 34, 50, 101 or 152 weighted layers.
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias (by default bias-free, as the paper's).
        name: model name; defaults to ``resnet<depth>_d``.
    """
    return resnet(depth, include_top=include_top, input_shape=input_shape, pooling=pooling,
                  classes=classes, classifier_activation=classifier_activation,
                  use_bias=use_bias, deep_stem=True, shortcut_kind="avgpool",
                  stride_on="3x3", zero_gamma=True, name=name or f"resnet{depth}_d")
