"""Self-checking exercises of lesson 01 (convolution arithmetic), computed with
``course_utils.arithmetic``."""

from __future__ import annotations

from course_utils import arithmetic as ar
from course_utils.exercises import answer


@answer("01.alexnet_224", hint="floor((n + 2p - k) / s) + 1 with n = 224, p = 2, k = 11, s = 4")
def _alexnet_224():
    return ar.conv_output_size(224, 11, stride=4, padding=2)


@answer("01.vgg_conv3_3_field", hint="each 2x2 pool doubles the jump; a 3x3 convolution then "
        "adds 2 jumps")
def _vgg_conv3_3_field():
    stack = [(3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (2, 2), (3, 1), (3, 1), (3, 1)]
    return ar.receptive_fields(stack)[-1][0]


@answer("01.bottleneck_to_8", rtol=0.01, hint="two terms: the 1x1 (192 -> 8 channels) and the "
        "5x5 (8 -> 32 channels), both on a 28x28 output")
def _bottleneck_to_8():
    return ar.conv_macs(28, 28, 8, 1, c_in=192) + ar.conv_macs(28, 28, 32, 5, c_in=8)


@answer("01.dense_share_256", rtol=0.01, hint="the flatten layer hands 4*4*64 values to the "
        "dense layer; count the weights and biases of every layer, then divide")
def _dense_share_256():
    convs = (ar.conv_params(3, 3, 16) + ar.conv_params(3, 16, 32) + ar.conv_params(3, 32, 64))
    dense = ar.dense_params(4 * 4 * 64, 256) + ar.dense_params(256, 10)
    return dense / (dense + convs)


@answer("01.dilated_field", hint="a 3x3 kernel with dilation d spans d * (3 - 1) + 1 pixels")
def _dilated_field():
    stack = [(d * (3 - 1) + 1, 1) for d in (1, 2, 4)]
    return ar.receptive_fields(stack)[-1][0]
