"""Lesson 18 (DenseNet): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("18.d264_block3_channels", rtol=0.0, hint="follow the channels from the stem's "
        "64: a dense block adds 32 per layer, a transition keeps half; DenseNet-264's blocks "
        "have 6, 12, 64 and 48 layers (Table 1)")
def _d264_block3_channels():
    from course_utils.zoo.densenet import channels_after

    return next(step.channels_out for step in channels_after((6, 12, 64, 48))
                if step.name == "conv4")


@answer("18.layer_params", rtol=0.0, hint="a batch norm of c channels holds 4c numbers; the "
        "1x1 convolution maps 544 channels to 4k = 128 without a bias, the 3x3 one 128 to "
        "k = 32, with a batch norm of 128 channels between them")
def _layer_params():
    from course_utils.diagrams import block_model
    from course_utils.zoo.densenet import GROWTH_RATE, conv_block

    return int(block_model(conv_block, (14, 14, 544), GROWTH_RATE, "conv4_block10").count_params())


@answer("18.densenet264_layers", rtol=0.0, hint="count as for 121: the stem, two "
        "convolutions per layer of a dense block, one per transition and the classifier")
def _densenet264_layers():
    from course_utils.zoo.densenet import weighted_layers

    return weighted_layers((6, 12, 64, 48))


@answer("18.block1_concat_mib", rtol=0.01, hint="after layer l the concatenation holds "
        "64 + 32 l maps of 56x56 values, 4 bytes each; add the six and divide by 2**20")
def _block1_concat_mib():
    from course_utils.inspection import activation_memory, layer_table, structure_only
    from course_utils.zoo.densenet import densenet121

    with structure_only():
        memory = activation_memory(layer_table(densenet121()))
    concatenations = memory[memory.index.str.match(r"conv2_block\d+_concat$")]
    return float(concatenations.sum() / 2**20)


@answer("18.no_compression_channels", rtol=0.0, hint="with theta = 1 a transition keeps "
        "every channel: start from 64 and add 32 for each of the 6 + 12 + 24 + 16 layers")
def _no_compression_channels():
    from course_utils.zoo.densenet import DEPTHS, channels_after

    return channels_after(DEPTHS[121], compression=1.0)[-1].channels_out
