"""Answers to lesson 06's self-checking exercises (GoogLeNet and Inception), computed with
the course's own builders and ``layer_table``."""

from __future__ import annotations

from course_utils.exercises import answer


def _macs(build, input_shape):
    import keras

    from course_utils.inspection import layer_table

    inputs = keras.Input(input_shape)
    return layer_table(keras.Model(inputs, build(inputs))).attrs["totals"]["macs"]


@answer("06.4c_macs", rtol=0.02, hint="add up the six convolutions: 14 x 14 output positions "
        "times kernel height x width x input channels x filters, for each")
def inception_4c_macs():
    from course_utils.zoo.googlenet import MODULES, inception_module

    return _macs(lambda x: inception_module(x, MODULES["4c"], "4c"), (14, 14, 512))


@answer("06.4c_naive_macs", rtol=0.02, hint="without reduce layers the 3x3 and 5x5 "
        "convolutions see all 512 input channels; the pooling branch has no convolution")
def inception_4c_naive_macs():
    from keras import layers

    from course_utils.zoo.googlenet import MODULES

    f1, _, f3, _, f5, _ = MODULES["4c"]

    def naive(x):
        branches = [layers.Conv2D(f, k, padding="same")(x) for f, k in ((f1, 1), (f3, 3),
                                                                         (f5, 5))]
        pool = layers.MaxPooling2D(3, strides=1, padding="same")(x)
        return layers.Concatenate()([*branches, pool])

    return _macs(naive, (14, 14, 512))


@answer("06.split_3x3_saving", rtol=0.01, hint="a 1x3 and a 3x1 do 3 + 3 multiplications "
        "per input and output channel where a 3x3 does 9")
def split_3x3_saving():
    from keras import layers

    def conv(kernels):
        def build(x):
            for k in kernels:
                x = layers.Conv2D(192, k, padding="same", use_bias=False)(x)
            return x
        return build

    full = _macs(conv([3]), (17, 17, 192))
    split = _macs(conv([(1, 3), (3, 1)]), (17, 17, 192))
    return 1 - split / full


@answer("06.aux_params", rtol=0.01, hint="each head has a 1x1 convolution to 128 channels, a "
        "dense layer of 1024 units on the flattened 4x4x128 map, and the classifier")
def aux_params():
    from course_utils import zoo
    from course_utils.inspection import structure_only

    with structure_only():
        return (zoo.googlenet(aux_classifiers=True).count_params()
                - zoo.googlenet().count_params())


@answer("06.side_at_3a", hint="the stem halves the side three times: conv1 (stride 2), pool1 "
        "and pool2")
def side_at_3a():
    from course_utils import zoo

    net = zoo.googlenet(input_shape=(32, 32, 1), classes=10, alpha=0.25)
    return int(net.get_layer("inception_3a_output").output.shape[1])
