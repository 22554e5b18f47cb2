"""Lesson 04 (VGG): answers computed with the course's builders and layer_table."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("04.vgg19_params", rtol=0.0, hint="VGG-19 adds one 3x3 convolution to each of blocks "
        "3, 4 and 5 (256, 512 and 512 channels in and out); count weights and biases")
def _vgg19_params():
    from course_utils import zoo
    from course_utils.inspection import structure_only

    with structure_only():
        return int(zoo.vgg19().count_params())


@answer("04.two_3x3_params", rtol=0.0, hint="each 3x3 convolution from 128 to 128 channels has "
        "3 * 3 * 128 * 128 weights and 128 biases")
def _two_3x3_params():
    import keras

    from course_utils.inspection import layer_table

    x = inputs = keras.Input((28, 28, 128))
    for _ in range(2):
        x = keras.layers.Conv2D(128, 3, padding="same")(x)
    return int(layer_table(keras.Model(inputs, x)).attrs["totals"]["params"])


@answer("04.adam_moments_mib", rtol=0.01, hint="Adam keeps two float32 numbers (4 bytes each) "
        "per parameter; 1 MiB is 2**20 bytes")
def _adam_moments_mib():
    from course_utils import zoo
    from course_utils.inspection import structure_only

    with structure_only():
        return 2 * 4 * zoo.vgg16().count_params() / 2**20
