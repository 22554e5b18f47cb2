"""Lesson 11 (SqueezeNet): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


def _fire(input_shape, squeeze, expand_1x1, expand_3x3):
    from course_utils.diagrams import block_model
    from course_utils.inspection import layer_table
    from course_utils.zoo.squeezenet import fire_module

    model = block_model(fire_module, input_shape, squeeze, expand_1x1, expand_3x3, "fire")
    return layer_table(model, totals=False).set_index("layer")


@answer("11.fire9_sr_quarter_params", rtol=0.0, hint="count the three convolutions of the "
        "module: 512 -> 128 (1x1), 128 -> 256 (1x1) and 128 -> 256 (3x3), each with one "
        "bias per filter")
def _fire9_sr_quarter_params():
    return int(_fire((13, 13, 512), 128, 256, 256)["params"].sum())


@answer("11.conv10_side_256", rtol=0.0, hint="follow the sizes: conv1 (7x7, stride 2, no "
        "padding), then three poolings of 3x3 with stride 2 that keep a last partial window: "
        "ceil((n - 3) / 2) + 1 outputs each")
def _conv10_side_256():
    from course_utils.inspection import layer_table, structure_only
    from course_utils.zoo.squeezenet import squeezenet

    with structure_only():
        rows = layer_table(squeezenet("1.0", input_shape=(256, 256, 3)), totals=False)
    return int(rows.set_index("layer").loc["conv10", "output_shape"][0])


@answer("11.expand3x3_macs_share", rtol=0.01, hint="at every position the squeeze does "
        "96 * 16 multiply-accumulates, the 1x1 expand 16 * 64 and the 3x3 expand "
        "3 * 3 * 16 * 64; the share is the last over their sum")
def _expand3x3_macs_share():
    rows = _fire((54, 54, 96), 16, 64, 64)
    return float(rows.loc["fire_expand3x3", "macs"] / rows["macs"].sum())
