"""Lesson 05 (Network in Network): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


def _totals(*convs, input_shape=(28, 28, 192)):
    import keras

    from course_utils.inspection import layer_table

    x = inputs = keras.Input(input_shape)
    for filters, kernel in convs:
        x = keras.layers.Conv2D(filters, kernel, padding="same")(x)
    return layer_table(keras.Model(inputs, x)).attrs["totals"]


@answer("05.conv1x1_params", rtol=0.0, hint="a 1x1 kernel from 192 to 32 channels is a "
        "192 x 32 matrix, plus one bias per output channel")
def _conv1x1_params():
    return int(_totals((32, 1))["params"])


@answer("05.bottleneck_macs", rtol=0.001, hint="28 * 28 positions, each doing 192 * 16 "
        "multiply-accumulates for the 1x1 and 5 * 5 * 16 * 32 for the 5x5")
def _bottleneck_macs():
    return int(_totals((16, 1), (32, 5))["macs"])


@answer("05.fc6_after_gap_params", rtol=0.0, hint="global average pooling leaves one number "
        "per channel of conv5 (256), each meeting all 4096 units of fc6, plus the biases")
def _fc6_after_gap_params():
    import keras

    inputs = keras.Input((256,))
    dense = keras.layers.Dense(4096)
    dense(inputs)
    return int(dense.count_params())
