"""Answers of lesson 08 (residual networks), computed with the course's own code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("08.stem_share", rtol=0.15,
        hint="count conv1_conv's MACs: 112 x 112 outputs, 64 filters of 7 x 7 x 3; then divide "
             "by the whole network's total from layer_table")
def _stem_share():
    """Share of ResNet-50's forward MACs (224x224x3) done by the 7x7 stem convolution."""
    from course_utils import zoo
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        table = layer_table(zoo.resnet50())
    stem = int(table.loc[table["layer"] == "conv1_conv", "macs"].iloc[0])
    return stem / table.attrs["totals"]["macs"]


@answer("08.bottleneck_macs", rtol=0.01,
        hint="three convolutions on 56 x 56 outputs: 256 -> 64 (1x1), 64 -> 64 (3x3), "
             "64 -> 256 (1x1); each output value costs one MAC per weight it reads")
def _bottleneck_macs():
    """MACs of the three convolutions of one bottleneck block (64 filters) on a 56x56x256
    input, identity shortcut (batch norm's one per element left out)."""
    from course_utils import diagrams
    from course_utils.inspection import layer_table
    from course_utils.zoo.resnet import bottleneck_block

    model = diagrams.block_model(bottleneck_block, (56, 56, 256), 64, name="bottleneck")
    table = layer_table(model, totals=False)
    return int(table.loc[table["type"] == "Conv2D", "macs"].sum())


@answer("08.extra_params", rtol=0.0,
        hint="only the two stages that halve the maps need a projection: a 1x1 convolution "
             "with biases and a batch norm (count_params counts its 4 vectors)")
def _extra_params():
    """How many more parameters (count_params) the residual 20-layer CIFAR net with widths
    (32, 64, 128) on 28x28x1 images has than the plain one: its two projections."""
    from course_utils import zoo

    def count(kind):
        return zoo.cifar_resnet(20, kind=kind, widths=(32, 64, 128),
                                input_shape=(28, 28, 1)).count_params()

    return count("residual") - count("plain")
