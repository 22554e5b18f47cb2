"""LeNet-5 (LeCun, Bottou, Bengio and Haffner, "Gradient-based learning applied to
document recognition", Proc. IEEE 1998), in the form courses use today.

Layer names follow the paper's: C1, S2, C3, S4 are convolution and subsampling layers,
C5 and F6 the fully connected layers (C5 is a 5x5 convolution over a 5x5 map, which is
the same as a dense layer on the flattened map). This form has 61,706 parameters. It
leaves out three details of 1998: trainable coefficients in the subsampling layers, the
partial connection table between S2 and C3, and the RBF output layer (the paper's
network has about 60,000 trainable parameters).

``variant="classic"``: tanh and average pooling, as in 1998.
``variant="modern"``: ReLU and max pooling, as a network would be built today.
"""

from __future__ import annotations

import keras
from keras import layers

from course_utils.zoo.common import check_head_options, check_input_shape, head

# variant -> (activation, pooling of S2 and S4)
VARIANTS = {
    "classic": ("tanh", "avg"),
    "modern": ("relu", "max"),
}
POOLING_LAYERS = {"avg": layers.AveragePooling2D, "max": layers.MaxPooling2D}
MIN_SIZE = 16  # two 5x5 valid convolutions and two 2x2 pools need at least this


def conv_pool_block(x, filters: int, conv_name: str, pool_name: str, *, activation="tanh",
                    pool="avg"):
    """A 5x5 valid convolution (C1, C3), then 2x2 pooling with stride 2 (S2, S4).

    Args:
        x: the input tensor.
        filters: the convolution's number of filters (6 for C1, 16 for C3).
        conv_name: the convolution's name, e.g. ``"c1_conv"``.
        pool_name: the pooling layer's name, e.g. ``"s2_pool"``.
        activation: the convolution's activation.
        pool: ``"avg"`` (the paper's subsampling) or ``"max"``.
    """
    x = layers.Conv2D(filters, 5, activation=activation, name=conv_name)(x)
    return POOLING_LAYERS[pool](pool_size=2, strides=2, name=pool_name)(x)


def lenet5(variant="classic", *, include_top=True, input_shape=None, pooling=None,
           classes=10, classifier_activation="softmax", name=None):
    """Build LeNet-5: C1 conv 6@5x5 -> S2 pool -> C3 conv 16@5x5 -> S4 pool -> C5 dense
    120 -> F6 dense 84 -> predictions (the paper's Figure 2).

    Args:
        variant: ``"classic"`` (tanh, average pooling) or ``"modern"`` (ReLU, max pooling).
        include_top: end with C5, F6 and the classifier; ``False`` ends with S4's maps.
        input_shape: ``(height, width, channels)``; default 32x32x1 as in the paper.
        pooling: with ``include_top=False``: ``None`` (S4's maps), ``"avg"`` or ``"max"``.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name; defaults to ``lenet5_<variant>``.
    """
    if variant not in VARIANTS:
        raise ValueError(
            f"Unknown LeNet-5 variant {variant!r}. Choose one of: {', '.join(VARIANTS)}.")
    check_head_options(include_top=include_top, pooling=pooling, classes=classes,
                       classifier_activation=classifier_activation, network="LeNet-5")
    shape = check_input_shape(
        input_shape, default_size=32, min_size=MIN_SIZE, include_top=include_top,
        channels=1, network="LeNet-5",
        hint="pad 28x28 images to the paper's 32x32 with course_utils.data.prepare(x, pad=2).")
    activation, pool = VARIANTS[variant]
    inputs = keras.Input(shape=shape, name="input")
    x = conv_pool_block(inputs, 6, "c1_conv", "s2_pool", activation=activation, pool=pool)
    x = conv_pool_block(x, 16, "c3_conv", "s4_pool", activation=activation, pool=pool)
    x = head(x, include_top=include_top, pooling=pooling, classes=classes,
             classifier_activation=classifier_activation, flatten=True,
             hidden=(("c5_dense", 120), ("f6_dense", 84)), hidden_activation=activation)
    return keras.Model(inputs, x, name=name or f"lenet5_{variant}")
