"""Answers of lesson 12 (EfficientNet and the zoo at a glance), computed with the course's
own code."""

from __future__ import annotations

from course_utils.exercises import answer


def _structure(build):
    """``layer_table`` of ``build()`` made without drawing its weights."""
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        return layer_table(build(), totals=False)


@answer("12.se_params", rtol=0.0,
        hint="block2a's input has 16 channels, expanded 6 times to 96; the squeeze keeps a "
             "quarter of the input channels (4); se_reduce (96 -> 4) and se_expand (4 -> 96) "
             "are 1x1 convolutions with biases")
def _se_params():
    """Parameters of the squeeze-and-excitation layers of EfficientNet-B0's block2a."""
    from course_utils import zoo

    table = _structure(zoo.efficientnet_b0)
    se = table["layer"].isin(["block2a_se_reduce", "block2a_se_expand"])
    return int(table.loc[se, "params"].sum())


@answer("12.b3_blocks", rtol=0.0,
        hint="B3's depth coefficient is 1.4: each of B0's seven stages (1, 2, 2, 3, 3, 4 and 1 "
             "blocks) is multiplied by it and rounded up")
def _b3_blocks():
    """How many MBConv blocks EfficientNet-B3 has."""
    from course_utils import zoo

    table = _structure(zoo.efficientnet_b3)
    return int(table["layer"].str.endswith("_project_conv").sum())


@answer("12.b5_top_filters", rtol=0.0,
        hint="B0's last 1x1 convolution has 1280 channels; B5's width coefficient is 1.6, and "
             "round_filters rounds to the nearest multiple of 8")
def _b5_top_filters():
    """Output channels of EfficientNet-B5's last 1x1 convolution (``top_conv``)."""
    from course_utils import zoo

    table = _structure(zoo.efficientnet_b5)
    return int(table.loc[table["layer"] == "top_conv", "output_shape"].iloc[0][-1])


@answer("12.phi_product", rtol=0.005,
        hint="multiply alpha by beta squared and gamma squared, with the grid search's "
             "alpha=1.2, beta=1.1, gamma=1.15")
def _phi_product():
    """alpha * beta**2 * gamma**2 with the paper's constants (section 3.3)."""
    from course_utils.zoo.efficientnet import ALPHA, BETA, GAMMA

    return ALPHA * BETA ** 2 * GAMMA ** 2


@answer("12.b7_macs_ratio", rtol=0.05,
        hint="divide B7's MACs per image (at 600x600) by B0's (at 224x224); both are in "
             "glance.costs()")
def _b7_macs_ratio():
    """How many times B0's multiply-accumulates B7 does per image, each at its own size."""
    from course_utils import glance

    macs = glance.costs(["EfficientNet-B0", "EfficientNet-B7"])["MACs"]
    return float(macs.iloc[1] / macs.iloc[0])
