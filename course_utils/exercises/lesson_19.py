"""Lesson 19 (grouped and separable: ResNeXt, Xception, Inception-ResNet): answers computed
with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


def _totals(model):
    from course_utils.inspection import layer_table

    return layer_table(model).attrs["totals"]


@answer("19.grouped_conv_params", rtol=0.0, hint="each of the 512 filters is 3x3 and sees "
        "only its own group's 512 / 32 = 16 channels; no bias")
def _grouped_conv_params():
    import keras
    from keras import layers

    conv = keras.Sequential([keras.Input((14, 14, 512)),
                             layers.Conv2D(512, 3, padding="same", groups=32, use_bias=False)])
    return int(_totals(conv)["params"])


@answer("19.alexnet_all_grouped_saving", rtol=0.0, hint="grouping in two halves a "
        "convolution's weights and keeps its biases: conv2 (5x5, 96 -> 256), conv3 (3x3, "
        "256 -> 384), conv4 (3x3, 384 -> 384) and conv5 (3x3, 384 -> 256)")
def _alexnet_all_grouped_saving():
    """Parameters saved by ``groups=2`` on AlexNet's conv2 to conv5, conv3 included (the
    lesson groups the paper's three)."""
    import keras

    from course_utils.inspection import structure_only
    from course_utils.zoo.alexnet import alexnet

    def split(layer):
        config = layer.get_config()
        if layer.name in ("conv2_conv", "conv3_conv", "conv4_conv", "conv5_conv"):
            config["groups"] = 2
        return layer.__class__.from_config(config)

    with structure_only():
        one_tower = alexnet()
        two_gpus = keras.models.clone_model(one_tower, clone_function=split)
        return int(one_tower.count_params() - two_gpus.count_params())


@answer("19.form_c_8x14d_params", rtol=0.0, hint="Figure 3c without batch norm or biases: "
        "1x1 from 256 to 8 * 14 channels, a 3x3 in 8 groups of 14, 1x1 back to 256")
def _form_c_8x14d_params():
    import keras

    from course_utils.zoo.resnext import grouped_form

    block = grouped_form(keras.Input((14, 14, 256)), cardinality=8, bottleneck_width=14)
    return int(block.count_params())


@answer("19.separable_exit_ratio", rtol=0.01, hint="a regular 3x3 convolution has 3 * 3 * "
        "1024 * 1536 weights; the separable one 3 * 3 * 1024 (depthwise) plus 1024 * 1536 "
        "(pointwise)")
def _separable_exit_ratio():
    import keras
    from keras import layers

    shape = (10, 10, 1024)
    regular = keras.Sequential([keras.Input(shape), layers.Conv2D(1536, 3, use_bias=False)])
    separable = keras.Sequential([keras.Input(shape),
                                  layers.SeparableConv2D(1536, 3, use_bias=False)])
    return regular.count_params() / separable.count_params()


@answer("19.middle_flow_gmacs_224", rtol=0.01, hint="follow the sizes from 224: conv1 (3x3, "
        "stride 2, no padding), conv2 (3x3, no padding), then three stride-2 poolings with "
        "'same' padding, each ceil(n / 2); the middle flow's MACs grow with the number of "
        "pixels of its maps")
def _middle_flow_gmacs_224():
    from course_utils.diagrams import block_model
    from course_utils.inspection import structure_only
    from course_utils.zoo.inception_v3 import KerasNames
    from course_utils.zoo.xception import middle_flow, xception

    with structure_only():
        shape = xception(input_shape=(224, 224, 3)).get_layer("block4_pool").output.shape[1:]
        middle = _totals(block_model(middle_flow, shape, KerasNames()))["macs"]
    return float(middle / 1e9)
