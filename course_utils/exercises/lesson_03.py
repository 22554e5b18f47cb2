"""Lesson 03 (AlexNet): answers computed with the course's builders and layer_table."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("03.conv1_side_224", hint="(n - k) / s + 1 with n = 224, k = 11, s = 4, rounded down: "
        "a valid convolution drops the pixels a last full window cannot reach")
def _conv1_side_224():
    import keras

    from course_utils.inspection import layer_table

    inputs = keras.Input((224, 224, 3))
    x = keras.layers.Conv2D(96, 11, strides=4, padding="valid")(inputs)
    return int(layer_table(keras.Model(inputs, x)).attrs["totals"]["output_shape"][0])


@answer("03.fc6_params", rtol=0.0, hint="conv5's pooled maps are 6 x 6 x 256, flattened; "
        "every one of those inputs meets every one of the 4096 units, plus one bias per unit")
def _fc6_params():
    from course_utils import zoo
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        rows = layer_table(zoo.alexnet(), totals=False).set_index("layer")
    return int(rows.loc["fc6", "params"])


@answer("03.conv2_grouped_params", rtol=0.0, hint="with groups=2 each of the 256 filters sees "
        "only half of the 96 input channels (48), over 5 x 5; the biases stay 256")
def _conv2_grouped_params():
    import keras

    inputs = keras.Input((27, 27, 96))
    conv = keras.layers.Conv2D(256, 5, padding="same", groups=2)
    conv(inputs)
    return int(conv.count_params())
