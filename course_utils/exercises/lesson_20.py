"""Answers of lesson 20 (RegNet's design space and ConvNeXt's roadmap), computed with the
course's own code."""

from __future__ import annotations

from course_utils.exercises import answer


def _block_totals(block, input_shape, *args, **kwargs):
    """``layer_table`` totals of one block on inputs of ``input_shape``, built without
    drawing weights."""
    from course_utils.diagrams import block_model
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        return layer_table(block_model(block, input_shape, *args, **kwargs)).attrs["totals"]


@answer("20.x002_block6_width", rtol=0.0,
        hint="u_6 = 24 + 6 * 36.44; find s_6 with u_6 = 24 * 2.49 ** s_6, round s_6 to a "
             "whole number, take 24 * 2.49 ** round(s_6) and round that to a multiple of 8")
def _x002_block6_width():
    """RegNetX-200MF's quantised width of block j = 6 (the seventh of 13)."""
    from course_utils.zoo.regnet import DESIGNS, linear_widths

    design = DESIGNS["x002"]
    return int(linear_widths(design.depth, design.w0, design.wa, design.wm).quantized[6])


@answer("20.x032_blocks_per_stage", rtol=0.0,
        hint="compute the 25 quantised widths of d = 25, w0 = 88, wa = 26.31, wm = 2.25 and "
             "count how many blocks share each width; give four whole numbers")
def _x032_blocks_per_stage():
    """Blocks in each of RegNetX-3.2GF's four stages."""
    from course_utils.zoo.regnet import DESIGNS, regnet_widths

    return tuple(stage.depth for stage in regnet_widths(*DESIGNS["x032"][:5]))


@answer("20.depthwise_macs_ratio", rtol=0.0,
        hint="a 3x3 convolution from 64 to 64 channels does 3 * 3 * 64 multiply-accumulates "
             "per output value; with one group per channel each output value sees one input "
             "channel")
def _depthwise_macs_ratio():
    """How many times fewer MACs ResNet-50's conv2_block1 3x3 convolution does once made
    depthwise (groups = 64), on the same 56x56x64 maps."""
    from course_utils.arithmetic import conv_macs

    return conv_macs(56, 56, 64, 3, 64) / conv_macs(56, 56, 64, 3, 64, groups=64)


@answer("20.stem_macs_ratio", rtol=0.01,
        hint="ResNet-50's conv1: 64 filters of 7x7x3 on a 112x112 output; ConvNeXt-T's "
             "patchify stem: 96 filters of 4x4x3 on a 56x56 output; divide the first's "
             "multiply-accumulates by the second's (convolutions only)")
def _stem_macs_ratio():
    """MACs of ResNet-50's 7x7 stride-2 stem convolution over those of ConvNeXt-T's 4x4
    stride-4 patchify convolution, at 224x224."""
    from course_utils import zoo
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        resnet = layer_table(zoo.resnet50(), totals=False).set_index("layer")
        convnext = layer_table(zoo.convnext_tiny(), expand_nested=True,
                               totals=False).set_index("layer")
    return float(resnet.loc["conv1_conv", "macs"]
                 / convnext.loc["convnext_tiny_stem/convnext_tiny_stem_conv", "macs"])


@answer("20.convnext_stage3_block_params", rtol=0.0,
        hint="a 7x7 depthwise convolution of 384 channels with biases, a LayerNorm (a scale "
             "and an offset per channel), a Dense 384 -> 1536 and a Dense 1536 -> 384 with "
             "biases, and the layer scale's 384 factors")
def _convnext_stage3_block_params():
    """Parameters of one ConvNeXt-T block of the third stage (384 channels)."""
    from course_utils.zoo.convnext import convnext_block

    return int(_block_totals(convnext_block, (14, 14, 384), 384, "block")["params"])
