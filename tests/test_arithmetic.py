import itertools

import keras
import pytest

from course_utils import arithmetic as ar


@pytest.mark.parametrize(
    "n, k, stride, padding",
    [case for case in itertools.product([7, 28, 32, 227], [1, 2, 3, 5, 11], [1, 2, 3, 4],
                                        ["valid", "same"])
     if case[3] == "same" or case[1] <= case[0]],
)
def test_output_size_matches_keras(n, k, stride, padding):
    x = keras.Input((n, n, 1))
    got = keras.layers.Conv2D(1, k, strides=stride, padding=padding)(x).shape[1]
    assert ar.conv_output_size(n, k, stride, padding) == got


def test_output_size_with_explicit_padding_and_dilation_matches_keras():
    for n, k, p, s, d in [(32, 5, 2, 1, 1), (227, 11, 0, 4, 1), (28, 3, 1, 2, 1), (32, 3, 0, 1, 2)]:
        x = keras.Input((n, n, 1))
        y = keras.layers.ZeroPadding2D(p)(x) if p else x
        got = keras.layers.Conv2D(1, k, strides=s, dilation_rate=d)(y).shape[1]
        assert ar.conv_output_size(n, k, s, p, dilation=d) == got


def test_hand_values_from_the_classics():
    assert ar.conv_output_size(227, 11, 4) == 55  # AlexNet conv1
    assert ar.conv_output_size(55, 3, 2) == 27  # AlexNet pool1
    assert ar.conv_output_size(32, 5) == 28  # LeNet-5 C1
    assert ar.conv_output_size(224, 3, 1, "same") == 224  # VGG


def test_bad_sizes_are_explained():
    with pytest.raises(ValueError, match="does not fit"):
        ar.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="positive integer"):
        ar.conv_output_size(0, 3)
    with pytest.raises(ValueError, match="padding must be"):
        ar.conv_output_size(8, 3, padding="full")


def test_params_match_keras():
    for k, c_in, c_out, bias in [(5, 1, 6, True), (3, 64, 128, False), ((1, 7), 192, 160, True)]:
        layer = keras.layers.Conv2D(c_out, k, use_bias=bias)
        layer.build((None, 32, 32, c_in))
        assert ar.conv_params(k, c_in, c_out, bias) == layer.count_params()
    layer = keras.layers.Conv2D(64, 3, groups=4)
    layer.build((None, 8, 8, 32))
    assert ar.conv_params(3, 32, 64, groups=4) == layer.count_params()
    layer = keras.layers.Dense(120)
    layer.build((None, 400))
    assert ar.dense_params(400, 120) == layer.count_params() == 48_120


def test_macs_of_the_bottleneck_example():
    direct = ar.conv_macs(28, 28, 32, 5, c_in=192)
    bottleneck = ar.conv_macs(28, 28, 16, 1, c_in=192) + ar.conv_macs(28, 28, 32, 5, c_in=16)
    assert direct == 120_422_400  # "about 120M"
    assert bottleneck == 12_443_648  # "about 12.4M"


def test_receptive_fields_of_stacked_convs():
    assert ar.receptive_fields([(3, 1)] * 3) == [(3, 1), (5, 1), (7, 1)]
    assert ar.receptive_fields([(5, 1), (2, 2), (5, 1), (2, 2)]) == [(5, 1), (6, 2), (14, 2),
                                                                    (16, 4)]


def test_make_divisible_rounds_to_eights_and_never_loses_a_tenth():
    make_divisible = ar.make_divisible
    assert [make_divisible(c * 0.35) for c in (32, 16, 24, 320, 1280)] == [16, 8, 8, 112, 448]
    assert make_divisible(3) == 8 and make_divisible(12) == 16 and make_divisible(11.9) == 16
    for value in [8 + 1.99 * i for i in range(1000)]:
        rounded = make_divisible(value)
        assert rounded % 8 == 0 and rounded >= 0.9 * value and abs(rounded - value) <= 8
    assert make_divisible(30, divisor=16) == 32
