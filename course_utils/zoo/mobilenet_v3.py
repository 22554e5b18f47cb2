"""MobileNet v3 (Howard et al., "Searching for MobileNetV3", ICCV 2019, arXiv:1905.02244,
Table 1: MobileNetV3-Large, Table 2: MobileNetV3-Small).

The blocks are MobileNet v2's inverted residuals (expand 1x1, depthwise, linear 1x1
projection, the input added where the shapes agree), found by architecture search
(section 4) and given three additions (section 5):

- hard swish, ``x * ReLU6(x + 3) / 6``, a cheap stand-in for swish, in the later layers
  where it pays most (section 5.2); the early ones keep ReLU;
- squeeze-and-excite in some blocks: the channels' averages, through a bottleneck of a
  quarter of the expanded channels, gate every channel by a hard sigmoid (section 5.3);
- a cheaper start and end: a 16-filter stem, and the last 1x1 convolution applied after
  the global average pooling, on a 1x1 map (section 5.1).

``minimalistic=True`` gives the "minimalistic" models of Keras and TF-slim: no
squeeze-and-excite, no hard swish (ReLU everywhere) and 3x3 kernels in place of the 5x5.

Layer names, arguments and weights line up with ``keras.applications.MobileNetV3Small``
and ``MobileNetV3Large``. The layers Keras leaves unnamed (the activations, the rescaling,
the classifier's pooling, dropout and flatten) get the names Keras would give them in a
fresh session (``re_lu``, ``re_lu_1``, ``activation``, ...).
"""

from __future__ import annotations

import numbers

import keras
from keras import layers

from course_utils.zoo.common import check_alpha, check_head_options, check_input_shape, head
from course_utils.zoo.inception_v3 import KerasNames
from course_utils.zoo.mobilenet_v2 import BN, make_divisible, stride_2_padding

STEM_FILTERS = 16
SE_RATIO = 0.25  # section 5.3: the squeeze is a quarter of the expanded channels
# The paper's rows after the stem, in its column order: (kernel_size, exp size, #out, SE,
# NL, s). "RE" is ReLU, "HS" hard swish; se_ratio is None where the SE column is empty.
# Table 1, MobileNetV3-Large:
LARGE = ((3, 16, 16, None, "RE", 1), (3, 64, 24, None, "RE", 2), (3, 72, 24, None, "RE", 1),
         (5, 72, 40, SE_RATIO, "RE", 2), (5, 120, 40, SE_RATIO, "RE", 1),
         (5, 120, 40, SE_RATIO, "RE", 1), (3, 240, 80, None, "HS", 2),
         (3, 200, 80, None, "HS", 1), (3, 184, 80, None, "HS", 1), (3, 184, 80, None, "HS", 1),
         (3, 480, 112, SE_RATIO, "HS", 1), (3, 672, 112, SE_RATIO, "HS", 1),
         (5, 672, 160, SE_RATIO, "HS", 2), (5, 960, 160, SE_RATIO, "HS", 1),
         (5, 960, 160, SE_RATIO, "HS", 1))
# Table 2, MobileNetV3-Small (its last 1x1 convolution, 576 channels, has SE in the paper
# but not in Keras's code, which this follows):
SMALL = ((3, 16, 16, SE_RATIO, "RE", 2), (3, 72, 24, None, "RE", 2), (3, 88, 24, None, "RE", 1),
         (5, 96, 40, SE_RATIO, "HS", 2), (5, 240, 40, SE_RATIO, "HS", 1),
         (5, 240, 40, SE_RATIO, "HS", 1), (5, 120, 48, SE_RATIO, "HS", 1),
         (5, 144, 48, SE_RATIO, "HS", 1), (5, 288, 96, SE_RATIO, "HS", 2),
         (5, 576, 96, SE_RATIO, "HS", 1), (5, 576, 96, SE_RATIO, "HS", 1))
# The last two 1x1 convolutions (Tables 1 and 2): six times the last block's channels
# before the pooling, then 1280 (Large) or 1024 (Small) after it.
LAST_EXPANSION = 6
LAST_POINT = {"MobileNetV3Large": 1280, "MobileNetV3Small": 1024}


def relu(x, names):
    """ReLU, the "RE" of the NL column, as an unnamed Keras layer would be named.

    Args:
        x: the input tensor.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    return layers.ReLU(name=names("re_lu"))(x)


def hard_sigmoid(x, names):
    """``ReLU6(x + 3) / 6`` (section 5.2): a piecewise linear sigmoid, 0 below -3 and 1
    above 3; the gate of the squeeze-and-excite blocks.

    Args:
        x: the input tensor.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    return layers.ReLU(6.0, name=names("re_lu"))(x + 3.0) * (1.0 / 6.0)


def hard_swish(x, names):
    """Hard swish, ``x * ReLU6(x + 3) / 6`` (section 5.2, the "HS" of the NL column):
    swish with the sigmoid replaced by :func:`hard_sigmoid`.

    Args:
        x: the input tensor.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    return layers.Activation("hard_swish", name=names("activation"))(x)


ACTIVATIONS = {"RE": relu, "HS": hard_swish}


def squeeze_excite_block(x, prefix: str, names, *, se_ratio: float = SE_RATIO):
    """Squeeze-and-excite (section 5.3, Figure 4): ``{prefix}squeeze_excite_avg_pool``
    averages each channel, ``..._conv`` (1x1, ``se_ratio`` of the channels, made divisible
    by 8) and ``..._relu`` squeeze them, ``..._conv_1`` (1x1, all channels) and a hard
    sigmoid give one gate per channel, and ``..._mul`` multiplies the input by its gates.

    Args:
        x: the input tensor (the block's expanded channels, after the depthwise convolution).
        prefix: the block's name, e.g. ``"expanded_conv_3_"``.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        se_ratio: the squeeze's share of the channels.
    """
    channels = x.shape[-1]
    gates = layers.GlobalAveragePooling2D(keepdims=True,
                                          name=f"{prefix}squeeze_excite_avg_pool")(x)
    gates = layers.Conv2D(make_divisible(channels * se_ratio), 1, padding="same",
                          name=f"{prefix}squeeze_excite_conv")(gates)
    gates = layers.ReLU(name=f"{prefix}squeeze_excite_relu")(gates)
    gates = layers.Conv2D(channels, 1, padding="same",
                          name=f"{prefix}squeeze_excite_conv_1")(gates)
    gates = hard_sigmoid(gates, names)
    return layers.Multiply(name=f"{prefix}squeeze_excite_mul")([x, gates])


def inverted_residual_block_v3(x, expansion: float, filters: int, block_id: int, names, *,
                               kernel_size: int = 3, strides: int = 1, se_ratio=None,
                               activation=relu):
    """One block of Tables 1 and 2 ("bneck", Figure 4): ``expanded_conv_{id}_expand``
    (1x1 to ``expansion`` times the input channels, batch norm, ``activation``),
    ``..._depthwise`` (``kernel_size``, ``strides``, batch norm, ``activation``), the
    squeeze-and-excite block where ``se_ratio`` is set, ``..._project`` (1x1, batch norm,
    no activation) and ``..._add`` of the input where the shapes agree. Block 0 has no
    expansion and is named ``expanded_conv_...``, as in Keras.

    Args:
        x: the input tensor.
        expansion: the expanded channels over the input channels (the paper's "exp size"
            over the previous "#out"); the product is made divisible by 8.
        filters: the output channels (already scaled by ``alpha`` and made divisible by 8).
        block_id: the block's number, from 0, for the layer names.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        kernel_size: the depthwise convolution's kernel size, 3 or 5.
        strides: the depthwise convolution's stride, 1 or 2.
        se_ratio: the squeeze-and-excite block's share of the channels (``None``: none).
        activation: :func:`relu` or :func:`hard_swish`.
    """
    inputs, channels = x, x.shape[-1]
    prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
    if block_id:
        x = layers.Conv2D(make_divisible(channels * expansion), 1, padding="same",
                          use_bias=False, name=f"{prefix}expand")(x)
        x = layers.BatchNormalization(**BN, name=f"{prefix}expand_bn")(x)
        x = activation(x, names)
    if strides == 2:
        x = layers.ZeroPadding2D(stride_2_padding(x, kernel_size),
                                 name=f"{prefix}depthwise_pad")(x)
    x = layers.DepthwiseConv2D(kernel_size, strides=strides,
                               padding="same" if strides == 1 else "valid", use_bias=False,
                               name=f"{prefix}depthwise")(x)
    x = layers.BatchNormalization(**BN, name=f"{prefix}depthwise_bn")(x)
    x = activation(x, names)
    if se_ratio:
        x = squeeze_excite_block(x, prefix, names, se_ratio=se_ratio)
    x = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{prefix}project")(x)
    x = layers.BatchNormalization(**BN, name=f"{prefix}project_bn")(x)
    if channels == filters and strides == 1:
        x = layers.Add(name=f"{prefix}add")([inputs, x])
    return x


def mobilenet_v3_stack(x, blocks, names, *, alpha: float = 1.0, minimalistic: bool = False):
    """The stem (``conv``: 3x3, 16 filters, stride 2), the blocks of Table 1 or 2 and the
    last 1x1 convolution before the pooling (``conv_1``, six times the last block's
    channels).

    Args:
        x: the input images (already rescaled).
        blocks: the table, :data:`LARGE` or :data:`SMALL`.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        alpha: the width multiplier of the blocks' outputs (the stem keeps its 16 filters).
        minimalistic: 3x3 kernels, ReLU and no squeeze-and-excite throughout.
    """
    activation = relu if minimalistic else hard_swish
    x = layers.Conv2D(STEM_FILTERS, 3, strides=2, padding="same", use_bias=False,
                      name="conv")(x)
    x = layers.BatchNormalization(**BN, name="conv_bn")(x)
    x = activation(x, names)
    before = STEM_FILTERS
    for block_id, (kernel_size, exp_size, out, se_ratio, nl, strides) in enumerate(blocks):
        x = inverted_residual_block_v3(
            x, exp_size / before, make_divisible(out * alpha), block_id, names,
            kernel_size=3 if minimalistic else kernel_size, strides=strides,
            se_ratio=None if minimalistic else se_ratio,
            activation=relu if minimalistic else ACTIVATIONS[nl])
        before = out
    x = layers.Conv2D(make_divisible(x.shape[-1] * LAST_EXPANSION), 1, padding="same",
                      use_bias=False, name="conv_1")(x)
    x = layers.BatchNormalization(**BN, name="conv_1_bn")(x)
    return activation(x, names)


def classifier(x, filters: int, names, *, classes: int, classifier_activation="softmax",
               dropout_rate: float = 0.2, activation=hard_swish):
    """MobileNet v3's classifier (section 5.1, Figure 5): global average pooling (keeping
    a 1x1 map), ``conv_2`` (1x1 with bias, ``filters``, no batch norm) and ``activation``,
    dropout (left out at rate 0), ``logits`` (1x1 to the classes), ``flatten`` and
    ``predictions``.

    Args:
        x: the last convolution's maps.
        filters: ``conv_2``'s filters: 1280 (Large) or 1024 (Small).
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        dropout_rate: the dropout rate before ``logits``.
        activation: :func:`hard_swish`, or :func:`relu` for the minimalistic models.
    """
    x = layers.GlobalAveragePooling2D(keepdims=True, name=names("global_average_pooling2d"))(x)
    x = layers.Conv2D(filters, 1, padding="same", name="conv_2")(x)
    x = activation(x, names)
    if dropout_rate > 0:
        x = layers.Dropout(dropout_rate, name=names("dropout"))(x)
    x = layers.Conv2D(classes, 1, padding="same", name="logits")(x)
    x = layers.Flatten(name=names("flatten"))(x)
    return layers.Activation(classifier_activation, name="predictions")(x)


def _check_options(network, alpha, minimalistic, dropout_rate, include_preprocessing):
    check_alpha(alpha, network=network, hint="Keras's ImageNet weights exist for 0.75 and 1.0 "
                "(for the minimalistic models 1.0 only); any positive width builds.")
    for option, value, meaning in [
            ("minimalistic", minimalistic, "True drops squeeze-and-excite, hard swish and the "
             "5x5 kernels"),
            ("include_preprocessing", include_preprocessing, "True rescales pixels of 0-255 "
             "to [-1, 1] in the model (its 'rescaling' layer); False expects them so")]:
        if not isinstance(value, bool):
            raise TypeError(f"{network}: {option} must be True or False; got {value!r}. "
                            f"Hint: {meaning}.")
    if (isinstance(dropout_rate, bool) or not isinstance(dropout_rate, numbers.Real)
            or not 0 <= dropout_rate < 1):
        raise ValueError(
            f"{network}: dropout_rate must be a rate from 0 up to (not including) 1; got "
            f"{dropout_rate!r}. Hint: Keras's default is 0.2; 0 leaves the dropout layer out.")


def _mobilenet_v3(network, blocks, *, input_shape, alpha, minimalistic, include_top, pooling,
                  classes, dropout_rate, classifier_activation, include_preprocessing, name):
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network=network)
    _check_options(network, alpha, minimalistic, dropout_rate, include_preprocessing)
    # Keras's default input is any size, with or without the classifier (it pools first).
    shape = check_input_shape((None, None, 3) if input_shape is None else input_shape,
                              default_size=224, min_size=32, include_top=include_top,
                              network=network, top_needs_fixed_size=False)
    names = KerasNames()
    inputs = keras.Input(shape=shape)
    x = inputs
    if include_preprocessing:
        x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name=names("rescaling"))(x)
    x = mobilenet_v3_stack(x, blocks, names, alpha=alpha, minimalistic=minimalistic)
    if include_top:
        last_point = LAST_POINT[network]
        x = classifier(x, make_divisible(last_point * alpha) if alpha > 1.0 else last_point,
                       names, classes=classes, classifier_activation=classifier_activation,
                       dropout_rate=dropout_rate,
                       activation=relu if minimalistic else hard_swish)
    else:
        x = head(x, include_top=False, pooling=pooling, classes=classes,
                 classifier_activation=classifier_activation)
    return keras.Model(inputs, x, name=name or network)


def _variant(network: str, blocks, table: str, parameters: int):
    """``mobilenet_v3_small`` or ``_large``: :func:`_mobilenet_v3` with one table."""

    def build(*, input_shape=None, alpha=1.0, minimalistic=False, include_top=True,
              pooling=None, classes=1000, dropout_rate=0.2, classifier_activation="softmax",
              include_preprocessing=True, name=None):
        return _mobilenet_v3(
            network, blocks, input_shape=input_shape, alpha=alpha, minimalistic=minimalistic,
            include_top=include_top, pooling=pooling, classes=classes,
            dropout_rate=dropout_rate, classifier_activation=classifier_activation,
            include_preprocessing=include_preprocessing, name=name)

    size = network.removeprefix("MobileNetV3")
    build.__name__ = build.__qualname__ = f"mobilenet_v3_{size.lower()}"
    build.__module__ = __name__
    build.__doc__ = f"""MobileNetV3-{size} ({table}): {parameters:,} parameters with ``alpha=1``
    and the classifier; ``keras.applications.{network}`` layer for layer, for every
    argument it takes.

    Args:
        input_shape: ``(height, width, channels)``; default any size with 3 channels (the
            classifier pools first), at least 32x32.
        alpha: the width multiplier of the blocks (made divisible by 8); the stem keeps 16
            filters and ``conv_2`` its {LAST_POINT[network]} unless ``alpha > 1``.
        minimalistic: 3x3 kernels, ReLU and no squeeze-and-excite throughout.
        include_top: end with the classifier; ``False`` ends with ``conv_1``'s activation.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        dropout_rate: the dropout rate before ``logits`` (0 leaves the layer out).
        classifier_activation: activation of the output layer (``None`` for logits).
        include_preprocessing: start with a ``Rescaling`` layer that maps pixels of 0-255
            to [-1, 1].
        name: model name; defaults to Keras's ``"{network}"``.
    """
    return build


# The counts are Keras's (tests/test_zoo_mobilenet_v3.py reads them off its models).
mobilenet_v3_small = _variant("MobileNetV3Small", SMALL, "Table 2", 2_554_968)
mobilenet_v3_large = _variant("MobileNetV3Large", LARGE, "Table 1", 5_507_432)
