"""Self-checking exercises of lesson 00 (set-up and tour): LeNet-5's layer table by hand."""

from __future__ import annotations

from course_utils.exercises import answer


def _lenet_row(column: str, layer: str, input_shape=(32, 32, 1)):
    from course_utils import zoo
    from course_utils.inspection import layer_table

    table = layer_table(zoo.lenet5("classic", input_shape=input_shape))
    return table.set_index("layer").loc[layer, column]


@answer("00.c3_params", hint="sixteen 5x5 filters, each over all six maps of S2, plus one "
        "bias per filter")
def _c3_params():
    return int(_lenet_row("params", "c3_conv"))


@answer("00.c3_macs", hint="one multiply-accumulate per weight (biases not counted) and per "
        "output position: C3's output is 10x10x16")
def _c3_macs():
    return int(_lenet_row("macs", "c3_conv"))


@answer("00.c3_receptive_field", hint="C1 sees 5 pixels, S2 adds one and doubles the jump to 2, and C3 "
        "adds (5 - 1) jumps")
def _c3_receptive_field():
    return int(_lenet_row("receptive_field", "c3_conv"))


@answer("00.c5_params_28", hint="without padding S4's maps are 4x4, so C5 sees 4*4*16 values")
def _c5_params_28():
    return int(_lenet_row("params", "c5_dense", input_shape=(28, 28, 1)))
