"""Lesson 10 (MobileNet): answers computed with the course's own code."""

from __future__ import annotations

from course_utils.exercises import answer


@answer("10.separable_ratio", rtol=0.01,
        hint="a standard 3x3 convolution does 3 * 3 * 256 MACs per output value of each of "
             "its 256 filters; the depthwise one 3 * 3 per channel, the pointwise one 256 per "
             "output value; divide, or use 1/N + 1/k^2")
def _separable_ratio():
    """MACs of a 3x3 depthwise separable convolution (depthwise, then 1x1) from 256 to 256
    channels on a 14x14 map, over those of a standard 3x3 convolution (no biases)."""
    import keras

    from course_utils.inspection import layer_table

    inputs = keras.Input((14, 14, 256))
    standard = keras.layers.Conv2D(256, 3, padding="same", use_bias=False)(inputs)
    depthwise = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)(inputs)
    separable = keras.layers.Conv2D(256, 1, use_bias=False)(depthwise)
    macs = [layer_table(keras.Model(inputs, out)).attrs["totals"]["macs"]
            for out in (separable, standard)]
    return macs[0] / macs[1]


@answer("10.half_width_params", rtol=0.02,
        hint="alpha squared shrinks the convolutions between two thinned layers, but the "
             "classifier's 1x1 convolution (1024 * alpha inputs, 1000 classes and their biases) "
             "and batch norm's four numbers per channel shrink only with alpha")
def _half_width_params():
    """``count_params()`` of MobileNet v1 with alpha 0.5 at 224x224x3 (1000 classes)."""
    from course_utils import zoo
    from course_utils.inspection import structure_only

    with structure_only():
        return int(zoo.mobilenet(alpha=0.5).count_params())


@answer("10.macs_at_128", rtol=0.03,
        hint="the parameters stay, every map shrinks: MACs scale with the square of the "
             "resolution multiplier, (128/224)^2 of the count at 224x224")
def _macs_at_128():
    """``layer_table``'s total MACs of MobileNet v1 (alpha 1) on a 128x128x3 image."""
    from course_utils import zoo
    from course_utils.inspection import layer_table, structure_only

    with structure_only():
        return int(layer_table(zoo.mobilenet(input_shape=(128, 128, 3))).attrs["totals"]["macs"])


@answer("10.block_weights", rtol=0.0,
        hint="expand 24 -> 6 * 24 channels (1x1), one 3x3 filter per expanded channel, project "
             "back to 24 (1x1); none of the three has a bias")
def _block_weights():
    """Weights of the three convolutions of MobileNet v2's inverted residual block 2
    (24 channels in and out, expansion 6), batch norm left out."""
    import keras

    from course_utils import diagrams
    from course_utils.zoo.mobilenet_v2 import inverted_residual_block

    block = diagrams.block_model(inverted_residual_block, (56, 56, 24), 24, 2, name="block_2")
    convolutions = (keras.layers.Conv2D, keras.layers.DepthwiseConv2D)
    return int(sum(layer.count_params() for layer in block.layers
                   if isinstance(layer, convolutions)))
