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

VARIANTS = {
    "classic": ("tanh", layers.AveragePooling2D),
    "modern": ("relu", layers.MaxPooling2D),
}
MIN_SIZE = 16  # two 5x5 valid convolutions and two 2x2 pools need at least this


def conv_pool_block(x, filters, activation, pooling, conv_name, pool_name):
    """A 5x5 valid convolution followed by 2x2 pooling with stride 2."""
    x = layers.Conv2D(filters, 5, activation=activation, name=conv_name)(x)
    return pooling(pool_size=2, strides=2, name=pool_name)(x)


def lenet5(variant="classic", input_shape=(32, 32, 1), classes=10,
           classifier_activation="softmax", name=None):
    """Build LeNet-5: C1 conv 6@5x5 -> S2 pool -> C3 conv 16@5x5 -> S4 pool -> C5 dense
    120 -> F6 dense 84 -> predictions.

    Args:
        variant: ``"classic"`` (tanh, average pooling) or ``"modern"`` (ReLU, max pooling).
        input_shape: ``(height, width, channels)``; 32x32x1 as in the paper.
        classes: number of output classes.
        classifier_activation: activation of the output layer (``None`` for logits).
        name: model name; defaults to ``lenet5_<variant>``.
    """
    if variant not in VARIANTS:
        raise ValueError(
            f"Unknown LeNet-5 variant {variant!r}. Choose one of: {', '.join(VARIANTS)}."
        )
    if len(input_shape) != 3 or min(input_shape[:2]) < MIN_SIZE:
        raise ValueError(
            f"LeNet-5 needs an input shaped (height, width, channels) of at least "
            f"{MIN_SIZE}x{MIN_SIZE}; got {tuple(input_shape)}. Hint: pad 28x28 images to the "
            f"paper's 32x32 with course_utils.data.prepare(x, pad=2)."
        )
    activation, pooling = VARIANTS[variant]
    inputs = keras.Input(shape=input_shape, name="input")
    x = conv_pool_block(inputs, 6, activation, pooling, "c1_conv", "s2_pool")
    x = conv_pool_block(x, 16, activation, pooling, "c3_conv", "s4_pool")
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(120, activation=activation, name="c5_dense")(x)
    x = layers.Dense(84, activation=activation, name="f6_dense")(x)
    outputs = layers.Dense(classes, activation=classifier_activation, name="predictions")(x)
    return keras.Model(inputs, outputs, name=name or f"lenet5_{variant}")
