"""ResNeXt: ResNet's bottleneck block with its 3x3 convolution split into many groups.

- Xie, Girshick, Dollar, Tu and He, "Aggregated Residual Transformations for Deep Neural
  Networks", CVPR 2017. Table 1: ResNeXt-50 (32x4d) is ResNet-50 (the same 7x7 stem, the
  same four stages of 3, 4, 6, 3 blocks) with every bottleneck block made of
  ``cardinality`` = 32 parallel paths of width ``d`` = 4: conv2's blocks are
  [1x1, 128; 3x3, 128, C = 32; 1x1, 256], and each stage doubles the widths while it
  halves the resolution. ResNeXt-101 takes ResNet-101's 3, 4, 23, 3 blocks; its 32x8d
  variant (``torchvision.models.resnext101_32x8d``; not in the paper, whose widest
  ResNeXt-101 is 64x4d, at twice ResNet-101's cost) doubles the width of every path.
- Figure 3: one block in three equivalent forms. (a) ``C`` separate paths of
  1x1 -> 3x3 -> 1x1 whose outputs are summed ("aggregated residual transformations");
  (b) the paths stop after the 3x3, their outputs are concatenated and one 1x1
  convolution follows; (c) the paths become groups of one grouped 3x3 convolution
  (``layers.Conv2D(groups=C)``) between two ordinary 1x1 convolutions. The networks use
  (c), the fastest; :func:`aggregated_form`, :func:`concatenated_form`,
  :func:`grouped_form` and :func:`copy_grouped_weights` build the three and show they
  compute the same function.

The convention, chosen to be the paper's and torchvision's: **no bias** on any
convolution (each is followed by a batch norm, whose shift makes a bias redundant) and
**the stride on the 3x3 convolution** of a stage's first block (the paper's implementation
follows fb.resnet.torch, and the authors' released code, facebookresearch/ResNeXt, strides
the 3x3; so does torchvision). With it the trainable parameters are torchvision's
exactly: 25,028,904 (ResNeXt-50 32x4d) and 88,791,336 (ResNeXt-101 32x8d);
``count_params()`` adds each batch norm's moving mean and variance, weights that
torchvision keeps as buffers. ``use_bias=True`` gives Keras's
ResNet convention instead (a bias on every convolution, as in ``keras.applications``).
The batch norms keep the ResNet module's epsilon 1.001e-5 (Keras's; torchvision's is
1e-5) and momentum 0.99. Layer names are ``keras.applications``' ResNet names
(``conv2_block1_2_conv`` is conv2's first grouped convolution): the blocks are
:func:`course_utils.zoo.resnet.bottleneck_block` with ``width`` and ``groups``, so
``resnext(50, cardinality=1, bottleneck_width=64)`` is ResNet-50 with the stride on the
3x3 (ResNet-B, the paper's baseline) layer for layer.
"""

from __future__ import annotations

import numbers
import re

import keras
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head
from course_utils.zoo.resnet import DEPTHS, STAGE_FILTERS, bottleneck_block, stem

# The paper's template: conv2's 64 bottleneck filters <-> C paths of width d (64 = 1 x 64d).
TEMPLATE_FILTERS = STAGE_FILTERS[0]
RESNEXT_DEPTHS = tuple(depth for depth, (block, _) in DEPTHS.items() if block == "bottleneck")


def group_width(filters: int, cardinality: int, bottleneck_width: int) -> int:
    """The width of a ResNeXt block's inner convolutions: ``cardinality`` paths of
    ``bottleneck_width * filters / 64`` channels each (the paper's ``d`` doubles with the
    stage's filters, 64 in conv2), as the authors' code and torchvision compute it.

    Args:
        filters: the stage's bottleneck filters in ResNet (64, 128, 256, 512).
        cardinality: the number of paths ``C``.
        bottleneck_width: the width ``d`` of one path in conv2.
    """
    return cardinality * (filters * bottleneck_width // TEMPLATE_FILTERS)


def _check_positive(value, argument: str, hint: str):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"ResNeXt: {argument} must be a whole number of at least 1; got "
                         f"{value!r}. Hint: {hint}")


def resnext_block(x, filters: int, strides: int = 1, shortcut_kind: str = "auto",
                  name: str = "block", *, cardinality=32, bottleneck_width=4, use_bias=False,
                  zero_gamma=False):
    """One ResNeXt block in its grouped form (Figure 3c, Table 1): 1x1 (``width``) ->
    3x3 (``width``, ``cardinality`` groups, the block's stride) -> 1x1 (``4 * filters``),
    batch norm after each, ReLU after the first two and after the addition, where
    ``width = group_width(filters, cardinality, bottleneck_width)``.

    Args:
        x: the input tensor.
        filters: ResNet's bottleneck filters for the stage; the block outputs four times
            as many.
        strides: the 3x3 convolution's strides.
        shortcut_kind: the shortcut (see :func:`course_utils.zoo.resnet.shortcut`).
        name: where the block sits, e.g. ``"conv3_block1"``.
        cardinality: the number of paths ``C`` (the groups of the 3x3 convolution).
        bottleneck_width: the width ``d`` of one path in conv2.
        use_bias: give the convolutions a bias (the paper and torchvision do not).
        zero_gamma: start the last batch norm's gamma at 0.
    """
    return bottleneck_block(x, filters, strides, shortcut_kind, name, use_bias=use_bias,
                            zero_gamma=zero_gamma, stride_on="3x3",
                            width=group_width(filters, cardinality, bottleneck_width),
                            groups=cardinality)


def resnext(depth: int, *, cardinality=32, bottleneck_width=4, include_top=True,
            input_shape=None, pooling=None, classes=1000, classifier_activation="softmax",
            use_bias=False, name=None):
    """ResNeXt-``depth`` (``cardinality`` x ``bottleneck_width``d), Table 1: ResNet's stem
    and stages with ResNeXt blocks.

    Args:
        depth: 50, 101 or 152 weighted layers (ResNet's bottleneck depths, Table 1 of He
            et al.).
        cardinality: the number of paths ``C`` in every block.
        bottleneck_width: the width ``d`` of one path in conv2; it doubles every stage.
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias (Keras's ResNet convention); by default
            bias-free, as the paper and torchvision.
        name: model name; defaults to ``resnext<depth>_<C>x<d>d``.
    """
    if depth not in RESNEXT_DEPTHS:
        raise ValueError(f"ResNeXt: depth must be one of {list(RESNEXT_DEPTHS)}; got "
                         f"{depth!r}. Hint: ResNeXt changes the bottleneck block, which "
                         f"ResNet-18 and -34 do not have.")
    _check_positive(cardinality, "cardinality", "the paper's networks have 32 paths (C).")
    _check_positive(bottleneck_width, "bottleneck_width",
                    "4 for 32x4d: 32 paths of 4 channels in conv2.")
    network = f"ResNeXt-{depth} ({cardinality}x{bottleneck_width}d)"
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    shape = check_input_shape(input_shape, default_size=224, min_size=32,
                              include_top=include_top, network=network)
    inputs = keras.Input(shape=shape)
    x = stem(inputs, use_bias=use_bias)
    for stage, (filters, blocks) in enumerate(zip(STAGE_FILTERS, DEPTHS[depth][1]), start=2):
        for i in range(1, blocks + 1):
            strides = 2 if i == 1 and stage > 2 else 1
            x = resnext_block(x, filters, strides, name=f"conv{stage}_block{i}",
                              cardinality=cardinality, bottleneck_width=bottleneck_width,
                              use_bias=use_bias)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation)
    return keras.Model(inputs, x,
                       name=name or f"resnext{depth}_{cardinality}x{bottleneck_width}d")


def resnext50_32x4d(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                    classifier_activation="softmax", use_bias=False, name="resnext50_32x4d"):
    """ResNeXt-50 (32x4d), Table 1: 4.2 billion multiply-adds and 25.0 million parameters
    at 224x224 (torchvision's ``resnext50_32x4d``: 25,028,904).

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias (Keras's ResNet convention); by default
            bias-free, as the paper and torchvision.
        name: model name.
    """
    return resnext(50, cardinality=32, bottleneck_width=4, include_top=include_top,
                   input_shape=input_shape, pooling=pooling, classes=classes,
                   classifier_activation=classifier_activation, use_bias=use_bias, name=name)


def resnext101_32x8d(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                     classifier_activation="softmax", use_bias=False,
                     name="resnext101_32x8d"):
    """ResNeXt-101 (32x8d), torchvision's ``resnext101_32x8d``: 88,791,336 parameters and
    16.4 billion multiply-adds at 224x224 (the paper has the 64x4d variant instead, about
    15.6 billion in the authors' README).

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with conv5's maps.
        input_shape: ``(height, width, channels)``; default 224x224x3, at least 32x32.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        use_bias: give the convolutions a bias (Keras's ResNet convention); by default
            bias-free, as the paper and torchvision.
        name: model name.
    """
    return resnext(101, cardinality=32, bottleneck_width=8, include_top=include_top,
                   input_shape=input_shape, pooling=pooling, classes=classes,
                   classifier_activation=classifier_activation, use_bias=use_bias, name=name)


# Figure 3: the three forms of one block ------------------------------------------------
#
# They are built here as in Figure 3, which draws no batch norm: bias-free convolutions
# (so that form (a)'s C last 1x1 convolutions, summed, do not carry C biases where (b)
# and (c) have one) and ReLU after the first two. In the network a batch norm follows each
# convolution. A batch norm works channel by channel, so the first two split into the
# paths exactly (each path keeps its channels' statistics, in training as in inference);
# the last one must act on the sum, once, in every form: C batch norms, one per path of
# form (a), would be a different function and C times the parameters. Leaving batch norm
# out keeps the forms to what the figure says and the equality to what the convolutions do.


def _check_form(x, cardinality, bottleneck_width):
    _check_positive(cardinality, "cardinality", "Figure 3 has 32 paths.")
    _check_positive(bottleneck_width, "bottleneck_width", "Figure 3's paths are 4 wide.")
    return x.shape[-1]


def _path(x, bottleneck_width: int, prefix: str, *, last_channels=None):
    """One path of form (a) or (b): 1x1 -> ReLU -> 3x3 -> ReLU (-> 1x1 with
    ``last_channels``)."""
    x = layers.Conv2D(bottleneck_width, 1, use_bias=False, name=f"{prefix}_1_conv")(x)
    x = layers.Activation("relu", name=f"{prefix}_1_relu")(x)
    x = layers.Conv2D(bottleneck_width, 3, padding="same", use_bias=False,
                      name=f"{prefix}_2_conv")(x)
    x = layers.Activation("relu", name=f"{prefix}_2_relu")(x)
    if last_channels:
        x = layers.Conv2D(last_channels, 1, use_bias=False, name=f"{prefix}_3_conv")(x)
    return x


def _residual(inputs, x, name: str):
    x = layers.Add(name=f"{name}_add")([inputs, x])
    return layers.Activation("relu", name=f"{name}_out")(x)


def aggregated_form(inputs, cardinality: int = 32, bottleneck_width: int = 4,
                    name: str = "form_a"):
    """Figure 3a: ``cardinality`` separate paths ``{name}_path{i}`` of 1x1
    (``bottleneck_width``) -> 3x3 (``bottleneck_width``) -> 1x1 (the input's channels),
    summed (``{name}_sum``), added to the input, ReLU. Equation 3:
    ``y = x + sum_i T_i(x)``.

    Args:
        inputs: a ``keras.Input``; the block keeps its shape.
        cardinality: the number of paths ``C``.
        bottleneck_width: the width ``d`` of each path.
        name: the model's name and its layers' prefix.
    """
    channels = _check_form(inputs, cardinality, bottleneck_width)
    paths = [_path(inputs, bottleneck_width, f"{name}_path{i}", last_channels=channels)
             for i in range(1, cardinality + 1)]
    x = layers.Add(name=f"{name}_sum")(paths) if cardinality > 1 else paths[0]
    return keras.Model(inputs, _residual(inputs, x, name), name=name)


def concatenated_form(inputs, cardinality: int = 32, bottleneck_width: int = 4,
                      name: str = "form_b"):
    """Figure 3b: ``cardinality`` paths ``{name}_path{i}`` of 1x1 -> 3x3
    (``bottleneck_width`` each), concatenated (``{name}_concat``), one 1x1 convolution
    (``{name}_3_conv``) back to the input's channels, added to the input, ReLU.

    Args:
        inputs: a ``keras.Input``; the block keeps its shape.
        cardinality: the number of paths ``C``.
        bottleneck_width: the width ``d`` of each path.
        name: the model's name and its layers' prefix.
    """
    channels = _check_form(inputs, cardinality, bottleneck_width)
    paths = [_path(inputs, bottleneck_width, f"{name}_path{i}")
             for i in range(1, cardinality + 1)]
    x = layers.Concatenate(name=f"{name}_concat")(paths) if cardinality > 1 else paths[0]
    x = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_3_conv")(x)
    return keras.Model(inputs, _residual(inputs, x, name), name=name)


def grouped_form(inputs, cardinality: int = 32, bottleneck_width: int = 4,
                 name: str = "form_c"):
    """Figure 3c: 1x1 (``C * d``) -> grouped 3x3 (``C * d``, ``cardinality`` groups) ->
    1x1 (the input's channels), added to the input, ReLU; the networks' block without
    its batch norms.

    Args:
        inputs: a ``keras.Input``; the block keeps its shape.
        cardinality: the number of paths ``C`` (the groups).
        bottleneck_width: the width ``d`` of each path (of each group).
        name: the model's name and its layers' prefix.
    """
    channels = _check_form(inputs, cardinality, bottleneck_width)
    width = cardinality * bottleneck_width
    x = layers.Conv2D(width, 1, use_bias=False, name=f"{name}_1_conv")(inputs)
    x = layers.Activation("relu", name=f"{name}_1_relu")(x)
    x = layers.Conv2D(width, 3, padding="same", groups=cardinality, use_bias=False,
                      name=f"{name}_2_conv")(x)
    x = layers.Activation("relu", name=f"{name}_2_relu")(x)
    x = layers.Conv2D(channels, 1, use_bias=False, name=f"{name}_3_conv")(x)
    return keras.Model(inputs, _residual(inputs, x, name), name=name)


def figure3_forms(input_shape=(14, 14, 256), *, cardinality=32, bottleneck_width=4):
    """Forms (a), (b) and (c) of Figure 3 on one ``keras.Input``, in that order; copy (c)'s
    weights into the others with :func:`copy_grouped_weights` to make them compute the
    same function.

    Args:
        input_shape: ``(height, width, channels)`` of the block's input and output;
            Figure 3 has 256 channels.
        cardinality: the number of paths ``C``.
        bottleneck_width: the width ``d`` of each path.
    """
    inputs = keras.Input(shape=input_shape)
    return (aggregated_form(inputs, cardinality, bottleneck_width),
            concatenated_form(inputs, cardinality, bottleneck_width),
            grouped_form(inputs, cardinality, bottleneck_width))


def copy_grouped_weights(grouped, target):
    """Give form (a) or (b) (``target``) the weights of form (c) (``grouped``), so that
    both compute the same function. Path ``i`` of the target takes group ``i`` of the
    grouped convolution, which holds output channels ``(i - 1) d ... i d - 1`` and sees
    the same channels of the first 1x1's output: its 1x1 takes those output columns of
    (c)'s first 1x1, its 3x3 group ``i``'s kernels; form (a)'s last 1x1 of path ``i``
    takes rows ``(i - 1) d ... i d - 1`` of (c)'s last 1x1 (summing the paths adds up
    the rows' contributions), form (b)'s one last 1x1 takes (c)'s whole.

    Args:
        grouped: a model from :func:`grouped_form`.
        target: a model from :func:`aggregated_form` or :func:`concatenated_form` with
            the same cardinality, path width and channels.

    Raises:
        ValueError: ``grouped`` is not form (c), ``target`` not form (a) or (b), or
            their shapes differ.
    """
    try:
        conv1, conv2, conv3 = (grouped.get_layer(f"{grouped.name}_{i}_conv") for i in (1, 2, 3))
    except ValueError:
        raise ValueError(f"copy_grouped_weights: grouped must be a model from grouped_form "
                         f"(layers {grouped.name}_1_conv to _3_conv); got {grouped.name!r} "
                         f"with layers {[layer.name for layer in grouped.layers][:5]}... "
                         f"Hint: copy_grouped_weights(form_c, form_a).") from None
    pattern = re.compile(rf"{re.escape(target.name)}_path(\d+)_1_conv")
    paths = sorted(int(m.group(1)) for layer in target.layers
                   if (m := pattern.fullmatch(layer.name)))
    cardinality, width = conv2.groups, conv2.filters
    d = width // cardinality
    if not paths:
        raise ValueError(f"copy_grouped_weights: target must be a model from aggregated_form "
                         f"or concatenated_form (layers {target.name}_path1_1_conv, ...); "
                         f"got {target.name!r} without paths. Hint: "
                         f"copy_grouped_weights(form_c, form_a).")
    first = target.get_layer(f"{target.name}_path1_1_conv")
    if (len(paths) != cardinality or first.filters != d
            or target.input_shape[1:] != grouped.input_shape[1:]):
        raise ValueError(
            f"copy_grouped_weights: the forms must have the same cardinality, path width "
            f"and input; grouped has {cardinality} groups of {d} channels on "
            f"{grouped.input_shape[1:]}, got a target with {len(paths)} paths of "
            f"{first.filters} channels on {target.input_shape[1:]}. Hint: build all three "
            f"with figure3_forms(input_shape, cardinality=..., bottleneck_width=...).")
    w1, w2, w3 = (keras.ops.convert_to_numpy(c.kernel) for c in (conv1, conv2, conv3))
    concatenated = any(layer.name == f"{target.name}_3_conv" for layer in target.layers)
    for i in range(cardinality):
        group = slice(i * d, (i + 1) * d)
        prefix = f"{target.name}_path{i + 1}"
        target.get_layer(f"{prefix}_1_conv").set_weights([w1[..., group]])
        target.get_layer(f"{prefix}_2_conv").set_weights([w2[..., group]])
        if not concatenated:
            target.get_layer(f"{prefix}_3_conv").set_weights([w3[:, :, group, :]])
    if concatenated:
        target.get_layer(f"{target.name}_3_conv").set_weights([w3])
