"""Residual networks: ResNet-18 to ResNet-152, the pre-activation ResNet-50 v2 and ResNet-D.

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

ResNet-50/101/152 and ResNet-50 v2 are ``keras.applications.ResNet50``/``101``/``152``/
``ResNet50V2`` layer for layer (names, shapes, parameters, outputs). Keras's convolutions
have biases (before a batch norm, which cancels them); ``use_bias=False`` gives the
bias-free convention of the paper and torchvision.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_pooling, resolve_input_shape

BN_EPSILON = 1.001e-5  # what keras.applications uses
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


def batch_norm(x, name, zero_gamma=False):
    return layers.BatchNormalization(epsilon=BN_EPSILON, name=name,
                                     gamma_initializer="zeros" if zero_gamma else "ones")(x)


def conv(x, filters, kernel, name, stride=1, use_bias=True):
    """A convolution that keeps ``ceil(size / stride)``; strided 3x3 convolutions pad one
    pixel on every side first (``{name}_pad``), as the paper's implementations do."""
    if stride > 1 and kernel > 1:
        x = layers.ZeroPadding2D(kernel // 2, name=name.replace("_conv", "_pad"))(x)
        return layers.Conv2D(filters, kernel, strides=stride, use_bias=use_bias, name=name)(x)
    return layers.Conv2D(filters, kernel, strides=stride, padding="same" if kernel > 1 else "valid",
                         use_bias=use_bias, name=name)(x)


def conv_bn(x, filters, kernel, prefix, stride=1, use_bias=True, relu=True, zero_gamma=False):
    """Convolution, batch norm and (with ``relu``) ReLU: ``{prefix}_conv``, ``{prefix}_bn``,
    ``{prefix}_relu``."""
    x = conv(x, filters, kernel, f"{prefix}_conv", stride, use_bias)
    x = batch_norm(x, f"{prefix}_bn", zero_gamma)
    return layers.Activation("relu", name=f"{prefix}_relu")(x) if relu else x


def add_and_relu(skip, x, name):
    """The end of a residual block: ``{name}_add``, then ReLU as ``{name}_out``."""
    x = layers.Add(name=f"{name}_add")([skip, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def shortcut(x, channels: int, stride: int, kind: str, name: str, use_bias: bool = True):
    """The skip path of a block that outputs ``channels`` at ``stride``.

    ``"identity"``: x itself (only when the shapes already agree); ``"projection"``: a
    strided 1x1 convolution and batch norm (``{name}_0_conv``, ``{name}_0_bn``);
    ``"subsample"``: the same projection in two steps, every ``stride``-th pixel
    (``{name}_0_subsample``, a 1x1 max pooling) then a 1x1 convolution at stride 1: the same
    numbers, and it dodges a TensorFlow 2.21 bug (its oneDNN CPU kernels corrupt memory when
    a strided 1x1 convolution sees batches of different sizes, e.g. a last short batch);
    ``"avgpool"`` (ResNet-D): 2x2 average pooling to downsample (``{name}_0_pool``), then
    a 1x1 convolution and batch norm; ``"auto"``: identity when it fits, else projection.
    """
    if kind not in SHORTCUTS:
        raise ValueError(f"{name}: shortcut must be one of {SHORTCUTS}; got {kind!r}.")
    fits = stride == 1 and x.shape[-1] == channels
    if kind == "auto":
        kind = "identity" if fits else "projection"
    if kind == "identity":
        if not fits:
            raise ValueError(
                f"{name}: an identity shortcut adds the block's input to its output, so they "
                f"must have the same shape; the input has {x.shape[-1]} channels and the "
                f"block outputs {channels} channels at stride {stride}. Hint: use "
                f"shortcut='projection' (a 1x1 convolution) or 'avgpool' for this block.")
        return x
    if kind == "avgpool" and stride > 1:
        x = layers.AveragePooling2D(stride, strides=stride, padding="same",
                                    name=f"{name}_0_pool")(x)
        stride = 1
    if kind == "subsample" and stride > 1:
        x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_subsample")(x)
        stride = 1
    x = layers.Conv2D(channels, 1, strides=stride, use_bias=use_bias, name=f"{name}_0_conv")(x)
    return batch_norm(x, f"{name}_0_bn")


def basic_block(x, filters: int, stride: int = 1, shortcut_kind: str = "auto", name="block",
                use_bias=True, zero_gamma=False):
    """Two 3x3 convolutions with batch norm; the input is added before the last ReLU."""
    skip = shortcut(x, filters, stride, shortcut_kind, name, use_bias)
    x = conv_bn(x, filters, 3, f"{name}_1", stride, use_bias)
    x = conv_bn(x, filters, 3, f"{name}_2", 1, use_bias, relu=False, zero_gamma=zero_gamma)
    return add_and_relu(skip, x, name)


def bottleneck_block(x, filters: int, stride: int = 1, shortcut_kind: str = "auto",
                     name="block", use_bias=True, zero_gamma=False, stride_on="1x1"):
    """1x1 (``filters``) -> 3x3 (``filters``) -> 1x1 (``4 * filters``), batch norm after
    each. ``stride_on="1x1"`` downsamples in the first 1x1 convolution, as the paper and
    Keras do; ``"3x3"`` in the 3x3 one (ResNet-B: the 1x1 no longer skips 3 of 4 pixels)."""
    if stride_on not in ("1x1", "3x3"):
        raise ValueError(f"{name}: stride_on must be '1x1' or '3x3'; got {stride_on!r}.")
    channels = BOTTLENECK_EXPANSION * filters
    skip = shortcut(x, channels, stride, shortcut_kind, name, use_bias)
    first, second = (stride, 1) if stride_on == "1x1" else (1, stride)
    x = conv_bn(x, filters, 1, f"{name}_1", first, use_bias)
    x = conv_bn(x, filters, 3, f"{name}_2", second, use_bias)
    x = conv_bn(x, channels, 1, f"{name}_3", 1, use_bias, relu=False, zero_gamma=zero_gamma)
    return add_and_relu(skip, x, name)


def preact_block(x, filters: int, stride: int = 1, conv_shortcut: bool = False, name="block"):
    """The pre-activation bottleneck of ResNet v2, as ``keras.applications.ResNet50V2``
    builds it: batch norm and ReLU first, the stride on the 3x3 convolution, and the
    addition left as it is. A block without a convolution on its shortcut that downsamples
    takes every other pixel of its input (a 1x1 max pooling with stride 2)."""
    preact = batch_norm(x, f"{name}_preact_bn")
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    channels = BOTTLENECK_EXPANSION * filters
    if conv_shortcut:
        skip = layers.Conv2D(channels, 1, strides=stride, name=f"{name}_0_conv")(preact)
    else:
        skip = layers.MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    x = batch_norm(x, f"{name}_1_bn")
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.ZeroPadding2D(1, name=f"{name}_2_pad")(x)
    x = layers.Conv2D(filters, 3, strides=stride, use_bias=False, name=f"{name}_2_conv")(x)
    x = batch_norm(x, f"{name}_2_bn")
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(channels, 1, name=f"{name}_3_conv")(x)
    return layers.Add(name=f"{name}_out")([skip, x])


def stack(x, block: str, filters: int, blocks: int, stride: int, name: str,
          projection="projection", **block_kwargs):
    """One stage: ``blocks`` blocks named ``{name}_block1`` ...; the first one changes the
    resolution (``stride``) and the channels, through a ``projection`` shortcut
    (``"projection"`` or ``"avgpool"``) where the shapes differ."""
    make = {"basic": basic_block, "bottleneck": bottleneck_block}[block]
    for i in range(1, blocks + 1):
        kind = projection if i == 1 else "identity"
        channels = filters * (BOTTLENECK_EXPANSION if block == "bottleneck" else 1)
        if i == 1 and stride == 1 and x.shape[-1] == channels:
            kind = "identity"
        x = make(x, filters, stride if i == 1 else 1, kind, f"{name}_block{i}", **block_kwargs)
    return x


def preact_stack(x, filters: int, blocks: int, stride: int, name: str):
    """A ResNet v2 stage: a convolution on the first block's shortcut, the downsampling
    in the *last* block (as Keras's ResNetV2 stages do)."""
    x = preact_block(x, filters, conv_shortcut=True, name=f"{name}_block1")
    for i in range(2, blocks):
        x = preact_block(x, filters, name=f"{name}_block{i}")
    return preact_block(x, filters, stride=stride, name=f"{name}_block{blocks}")


def stem(x, use_bias=True, deep=False, batch_norm_after=True):
    """7x7 stride-2 convolution (``conv1``) and 3x3 stride-2 max pooling (``pool1``); with
    ``deep`` three 3x3 convolutions (32, 32, 64 filters; the first with stride 2) instead."""
    if deep:
        for i, (filters, stride) in enumerate(((32, 2), (32, 1), (64, 1)), start=1):
            x = conv_bn(x, filters, 3, f"conv1_{i}", stride, use_bias)
    else:
        x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
        x = layers.Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
        if batch_norm_after:
            x = batch_norm(x, "conv1_bn")
            x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    return layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)


def head(x, include_top, pooling, classes, classifier_activation):
    """Keras's ResNet ending: global average pooling and the classifier, or the features."""
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def resnet(depth: int, include_top=True, input_shape=None, pooling=None, classes=1000,
           classifier_activation="softmax", name=None, use_bias=True, deep_stem=False,
           projection="projection", stride_on="1x1", zero_gamma=False):
    """ResNet of ``depth`` 18, 34, 50, 101 or 152 (Table 1). The first five arguments mean
    what they mean in ``keras.applications``; the rest switch on the bag of tricks."""
    if depth not in DEPTHS:
        raise ValueError(f"ResNet depth must be one of {sorted(DEPTHS)}; got {depth}.")
    check_pooling(pooling)
    block, blocks = DEPTHS[depth]
    shape = resolve_input_shape(input_shape, 224, 32, include_top, f"ResNet-{depth}")
    inputs = keras.Input(shape=shape)
    x = stem(inputs, use_bias, deep_stem)
    extra = {"use_bias": use_bias, "zero_gamma": zero_gamma}
    if block == "bottleneck":
        extra["stride_on"] = stride_on
    for stage, (filters, n) in enumerate(zip(STAGE_FILTERS, blocks), start=2):
        x = stack(x, block, filters, n, 1 if stage == 2 else 2, f"conv{stage}", projection,
                  **extra)
    x = head(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name or f"resnet{depth}")


def _named(depth):
    def build(include_top=True, input_shape=None, pooling=None, classes=1000,
              classifier_activation="softmax", name=f"resnet{depth}", use_bias=True):
        return resnet(depth, include_top, input_shape, pooling, classes, classifier_activation,
                      name, use_bias)

    kind, blocks = DEPTHS[depth]
    build.__name__ = build.__qualname__ = f"resnet{depth}"
    build.__doc__ = (f"ResNet-{depth}: {kind} blocks, {blocks} per stage (Table 1). "
                     "``use_bias=False``: bias-free convolutions, as in the paper.")
    return build


resnet18, resnet34, resnet50, resnet101, resnet152 = (_named(d) for d in (18, 34, 50, 101, 152))


def resnet50_v2(include_top=True, input_shape=None, pooling=None, classes=1000,
                classifier_activation="softmax", name="resnet50v2"):
    """ResNet-50 with pre-activation blocks, as ``keras.applications.ResNet50V2``: the stem
    has no batch norm of its own, and one batch norm and ReLU (``post_bn``) close the net."""
    check_pooling(pooling)
    shape = resolve_input_shape(input_shape, 224, 32, include_top, "ResNet-50 v2")
    inputs = keras.Input(shape=shape)
    x = stem(inputs, batch_norm_after=False)
    for stage, (filters, n) in enumerate(zip(STAGE_FILTERS, DEPTHS[50][1]), start=2):
        x = preact_stack(x, filters, n, 1 if stage == 5 else 2, f"conv{stage}")
    x = batch_norm(x, "post_bn")
    x = layers.Activation("relu", name="post_relu")(x)
    x = head(x, include_top, pooling, classes, classifier_activation)
    return keras.Model(inputs, x, name=name)


def resnet_d(depth: int = 50, include_top=True, input_shape=None, pooling=None, classes=1000,
             classifier_activation="softmax", name=None, use_bias=False):
    """ResNet-D with the bag of tricks: deep stem, stride on the 3x3 convolution, average
    pooling on the downsampling shortcuts, zero-initialised last gamma of every block."""
    return resnet(depth, include_top, input_shape, pooling, classes, classifier_activation,
                  name or f"resnet{depth}_d", use_bias, deep_stem=True, projection="avgpool",
                  stride_on="3x3", zero_gamma=True)
