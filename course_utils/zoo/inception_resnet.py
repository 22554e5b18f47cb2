"""Inception-ResNet v2 (Szegedy, Ioffe, Vanhoucke and Alemi, "Inception-v4,
Inception-ResNet and the Impact of Residual Connections on Learning", AAAI 2017,
arXiv:1602.07261).

Inception modules with residual connections (section 3): each block's branches are
concatenated, a 1x1 convolution without activation (the "linear" 1x1 of Figures 16, 17 and
19) brings them back to the input's channels, and the result is *added* to the input. The
blocks are those of Figure 15's schema for Inception-ResNet-v2:

- Inception-ResNet-A (Figure 16, ``block35``: 35x35 grid), three branches up to a double
  3x3;
- Reduction-A (Figure 7 with Table 1's k=256, l=256, m=384, n=384: ``mixed_6a``);
- Inception-ResNet-B (Figure 17, ``block17``: 17x17 grid), a 7x7 factorised into 1x7 and
  7x1;
- Reduction-B (Figure 18: ``mixed_7a``);
- Inception-ResNet-C (Figure 19, ``block8``: 8x8 grid), a 3x3 factorised into 1x3 and 3x1.

Residual scaling (section 3.3, Figure 20): with more than about 1000 filters the
residual networks "died" early in training (the last layer before the pooling gave only
zeros); scaling each residual down by a factor between 0.1 and 0.3 before the addition
kept training stable. The blocks here scale by Keras's 0.17 (A), 0.1 (B) and 0.2 (C),
through :class:`CustomScaleLayer`.

This is the network as ``keras.applications.InceptionResNetV2`` builds it (after the
TF-slim implementation Google released weights for), and it differs from the paper's
figures in three places: the stem is Inception v3's (five convolutions and two max
poolings) followed by an Inception module ``mixed_5b``, not Figure 3's; the blocks repeat
10, 20 and 10 times, not 5, 10 and 5; and the grids hold 320, 1088 and 2080 channels,
where the linear 1x1 convolutions of Figures 16, 17 and 19 give 384, 1154 and 2048. The
very last C block has no ReLU and a scale of 1.0; a final 1x1 convolution ``conv_7b``
(1536 filters) precedes the pooling.

Equal to ``keras.applications.InceptionResNetV2`` layer for layer: arguments, layer order,
names, output shapes, parameters (55,873,736 with the classifier at 299x299) and, once
weights are copied, outputs. The layers Keras leaves unnamed (most convolutions, batch
norms and activations, the poolings, the scale layers) get the names Keras gives them in a
fresh session: ``conv2d``, ``conv2d_1``, ..., ``custom_scale_layer_39``.
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
from course_utils.zoo.inception_v3 import KerasNames, stem  # the same stem as v3's

DEFAULT_SIZE = 299
MIN_SIZE = 75  # Keras's smallest input: mixed_7a then leaves 1x1
# block type -> (how many blocks, the residual's scale); the last block8 is built apart.
BLOCKS = {"block35": (10, 0.17), "block17": (20, 0.1), "block8": (10, 0.2)}
BLOCK_TYPES = tuple(BLOCKS)
BN_EPSILON = 1e-3  # Keras's default; the batch norms have no scale (gamma)
TOP_FILTERS = 1536  # conv_7b


@keras.saving.register_keras_serializable(package="course_utils")
class CustomScaleLayer(keras.layers.Layer):
    """The residual connection of an Inception-ResNet block, scaled: ``inputs[0] + scale *
    inputs[1]``, the block's input plus its residual branch times ``scale``.

    Residual scaling (Szegedy et al. 2017, section 3.3 and Figure 20): with many filters
    (more than about 1000) the Inception-ResNets became unstable and "died" early in
    training: the last layer before the average pooling gave only zeros after a few tens
    of thousands of iterations, and neither a lower learning rate nor an extra batch
    normalisation prevented it. Scaling the residual down by a constant between 0.1 and
    0.3 before adding it stabilised training: each block then changes its input only a
    little, and the sum of many blocks stays in range. The scale is fixed,
    not learned, so the layer has no weights; like the addition it stands for, it counts
    no MACs in :func:`course_utils.inspection.layer_table`.

    The class name is ``keras.applications``' (``inception_resnet_v2.CustomScaleLayer``),
    so the layer tables of the two networks agree row for row; it is registered for
    saving as ``course_utils>CustomScaleLayer``.

    Args:
        scale: the factor on the residual branch, e.g. 0.17.
        **kwargs: a ``keras.layers.Layer``'s (``name``, ``dtype``).

    Call arguments:
        inputs: ``[shortcut, residual]``, two tensors of the same shape.
    """

    def __init__(self, scale, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, inputs):
        shortcut, residual = inputs
        return shortcut + residual * self.scale

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


def conv2d_bn(x, filters: int, kernel_size, names, *, strides=1, padding="same",
              activation="relu", use_bias=False, name=None):
    """A convolution, then (without a bias) batch norm without scale, then ``activation``:
    every convolution of the network is one, as in Inception v3.

    Named ``{name}``, ``{name}_bn`` and ``{name}_ac`` where ``name`` is given; otherwise
    with the names Keras gives unnamed layers (``conv2d_7``, ``batch_normalization_7``,
    ``activation_7``).

    Args:
        x: the input tensor.
        filters: number of filters.
        kernel_size: kernel size, e.g. ``3`` or ``(1, 7)``.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        strides: the convolution's strides.
        padding: ``"same"`` or ``"valid"``.
        activation: the activation after the batch norm; ``None`` for a linear layer.
        use_bias: give the convolution a bias, and then no batch norm (the linear 1x1
            convolution that ends each block's residual branch).
        name: the convolution's name; ``None`` for Keras's automatic names.
    """
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                      use_bias=use_bias, name=name or names("conv2d"))(x)
    if not use_bias:
        x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, scale=False,
                                      name=f"{name}_bn" if name else
                                      names("batch_normalization"))(x)
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac" if name else names("activation"))(x)
    return x


def mixed_5b(x, names):
    """An Inception module after the stem: 1x1 (96) | 1x1-5x5 (48, 64) | 1x1-3x3-3x3 (64,
    96, 96) | average pooling-1x1 (64), concatenated to 35x35x320 (``mixed_5b``).

    Args:
        x: the stem's output.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    b1 = conv2d_bn(x, 96, 1, names)
    b5 = conv2d_bn(conv2d_bn(x, 48, 1, names), 64, 5, names)
    b3 = conv2d_bn(conv2d_bn(conv2d_bn(x, 64, 1, names), 96, 3, names), 96, 3, names)
    bp = layers.AveragePooling2D(3, strides=1, padding="same",
                                 name=names("average_pooling2d"))(x)
    bp = conv2d_bn(bp, 64, 1, names)
    return layers.Concatenate(axis=-1, name="mixed_5b")([b1, b5, b3, bp])


def _branches(x, block_type: str, names):
    """The residual branch's parallel paths of a ``block_type`` block (Figures 16, 17, 19
    with Keras's filters), made in Keras's order so that the unnamed layers get its
    numbers."""
    if block_type == "block35":  # Inception-ResNet-A, Figure 16
        return [conv2d_bn(x, 32, 1, names),
                conv2d_bn(conv2d_bn(x, 32, 1, names), 32, 3, names),
                conv2d_bn(conv2d_bn(conv2d_bn(x, 32, 1, names), 48, 3, names), 64, 3, names)]
    if block_type == "block17":  # Inception-ResNet-B, Figure 17: 7x7 as 1x7 then 7x1
        b1 = conv2d_bn(x, 192, 1, names)
        b7 = conv2d_bn(conv2d_bn(x, 128, 1, names), 160, (1, 7), names)
        return [b1, conv2d_bn(b7, 192, (7, 1), names)]
    # Inception-ResNet-C, Figure 19: 3x3 as 1x3 then 3x1
    b1 = conv2d_bn(x, 192, 1, names)
    b3 = conv2d_bn(conv2d_bn(x, 192, 1, names), 224, (1, 3), names)
    return [b1, conv2d_bn(b3, 256, (3, 1), names)]


def inception_resnet_block(x, scale: float, block_type: str, block_idx: int, names, *,
                           activation="relu"):
    """An Inception-ResNet block: the branches of ``block_type``, concatenated
    (``{block_type}_{block_idx}_mixed``), a linear 1x1 convolution with bias back to the
    input's channels (``..._conv``), then ``x + scale * residual`` (:class:`CustomScaleLayer`)
    and ``activation`` (``..._ac``).

    Args:
        x: the input tensor.
        scale: the factor on the residual before the addition (section 3.3: 0.1 to 0.3).
        block_type: ``"block35"`` (Inception-ResNet-A, 35x35), ``"block17"`` (B, 17x17) or
            ``"block8"`` (C, 8x8).
        block_idx: the block's number within its type, from 1, for the names.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        activation: the activation after the addition; ``None`` for none (the last block).

    Raises:
        ValueError: ``block_type`` is none of the three.
    """
    if block_type not in BLOCK_TYPES:
        raise ValueError(
            f"inception_resnet_block: block_type must be one of {BLOCK_TYPES}; got "
            f"{block_type!r}. Hint: the names say the grid: block35 is Inception-ResNet-A "
            f"(35x35), block17 is B (17x17), block8 is C (8x8).")
    name = f"{block_type}_{block_idx}"
    mixed = layers.Concatenate(axis=-1, name=f"{name}_mixed")(_branches(x, block_type, names))
    residual = conv2d_bn(mixed, x.shape[-1], 1, names, activation=None, use_bias=True,
                         name=f"{name}_conv")
    x = CustomScaleLayer(scale, name=names("custom_scale_layer"))([x, residual])
    if activation is not None:
        x = layers.Activation(activation, name=f"{name}_ac")(x)
    return x


def reduction_a(x, names):
    """Reduction-A (Figure 7, Table 1's k=256, l=256, m=384, n=384): a 3x3 stride-2
    convolution (n), 1x1 (k) -> 3x3 (l) -> 3x3 stride 2 (m), and 3x3 stride-2 max pooling
    side by side; 35x35x320 -> 17x17x1088 (``mixed_6a``).

    Args:
        x: the input tensor.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    b3 = conv2d_bn(x, 384, 3, names, strides=2, padding="valid")
    bd = conv2d_bn(conv2d_bn(x, 256, 1, names), 256, 3, names)
    bd = conv2d_bn(bd, 384, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid", name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed_6a")([b3, bd, bp])


def reduction_b(x, names):
    """Reduction-B (Figure 18): 1x1 -> 3x3 stride 2 (256, 384), 1x1 -> 3x3 stride 2 (256,
    288), 1x1 -> 3x3 -> 3x3 stride 2 (256, 288, 320) and 3x3 stride-2 max pooling side by
    side; 17x17x1088 -> 8x8x2080 (``mixed_7a``).

    Args:
        x: the input tensor.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
    """
    b0 = conv2d_bn(conv2d_bn(x, 256, 1, names), 384, 3, names, strides=2, padding="valid")
    b1 = conv2d_bn(conv2d_bn(x, 256, 1, names), 288, 3, names, strides=2, padding="valid")
    b2 = conv2d_bn(conv2d_bn(x, 256, 1, names), 288, 3, names)
    b2 = conv2d_bn(b2, 320, 3, names, strides=2, padding="valid")
    bp = layers.MaxPooling2D(3, strides=2, padding="valid", name=names("max_pooling2d"))(x)
    return layers.Concatenate(axis=-1, name="mixed_7a")([b0, b1, b2, bp])


def repeat_blocks(x, block_type: str, names, *, last_linear=False):
    """All the blocks of one type, ``{block_type}_1`` to ``{block_type}_{n}`` with
    :data:`BLOCKS`' number and scale. With ``last_linear`` the last one has a scale of 1.0
    and no activation (Keras's last ``block8``, before ``conv_7b``).

    Args:
        x: the input tensor.
        block_type: ``"block35"``, ``"block17"`` or ``"block8"``.
        names: the network's :class:`~course_utils.zoo.inception_v3.KerasNames`.
        last_linear: build the last block without activation and with scale 1.0.
    """
    repeats, scale = BLOCKS[block_type]
    for block_idx in range(1, repeats + 1):
        if last_linear and block_idx == repeats:
            return inception_resnet_block(x, 1.0, block_type, block_idx, names,
                                          activation=None)
        x = inception_resnet_block(x, scale, block_type, block_idx, names)
    return x


def inception_resnet_v2(*, include_top=True, input_shape=None, pooling=None, classes=1000,
                        classifier_activation="softmax", name="inception_resnet_v2"):
    """Inception-ResNet v2 (Figure 15, as Keras builds it; see the module's docstring):
    ``keras.applications.InceptionResNetV2`` layer for layer; with the classifier at
    299x299, 55,873,736 parameters.

    Args:
        include_top: end with global average pooling and the classifier; ``False`` ends
            with ``conv_7b``'s maps (``conv_7b_ac``, 8x8x1536 at 299x299).
        input_shape: ``(height, width, channels)``; default 299x299x3, at least 75x75.
        pooling: with ``include_top=False``: ``None`` (the maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name.
    """
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation,
                       network="Inception-ResNet v2")
    shape = check_input_shape(input_shape, default_size=DEFAULT_SIZE, min_size=MIN_SIZE,
                              include_top=include_top, network="Inception-ResNet v2")
    names = KerasNames()
    inputs = keras.Input(shape=shape)
    x = mixed_5b(stem(inputs, names), names)
    x = repeat_blocks(x, "block35", names)
    x = repeat_blocks(reduction_a(x, names), "block17", names)
    x = repeat_blocks(reduction_b(x, names), "block8", names, last_linear=True)
    x = conv2d_bn(x, TOP_FILTERS, 1, names, name="conv_7b")
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, pool_names=KERAS_POOL_NAMES)
    return keras.Model(inputs, x, name=name)
