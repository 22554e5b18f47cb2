"""Lesson 16 (small and fast): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer

WIDTH = 48


def _conv_kernel_bytes(dtype):
    import keras
    import numpy as np

    conv = keras.layers.Conv2D(96, 3, use_bias=False)
    conv.build((None, 13, 13, 48))
    return int(np.prod(conv.kernel.shape)) * np.dtype(dtype).itemsize


def _macs(model):
    from course_utils.inspection import layer_table

    return layer_table(model).attrs["totals"]["macs"]


def _soft_target(temperature):
    import numpy as np

    logits = np.array([4.0, 2.0, 0.0]) / temperature
    return float(np.exp(logits[0]) / np.exp(logits).sum())


@answer("16.conv_float32_bytes", rtol=0.0, hint="3 x 3 x 48 x 96 weights, 4 bytes each in "
        "float32")
def _conv_float32_bytes():
    return _conv_kernel_bytes("float32")


@answer("16.conv_int8_bytes", rtol=0.0, hint="the same number of weights, one byte each (the "
        "per-channel scales come on top)")
def _conv_int8_bytes():
    return _conv_kernel_bytes("int8")


@answer("16.sparsity_halfway", rtol=1e-6, hint="s_t = s_f + (s_i - s_f)(1 - t / n)^3 with "
        "s_i = 0, s_f = 0.8: the cube of one half is an eighth")
def _sparsity_halfway():
    from course_utils.compress import polynomial_sparsity

    return float(polynomial_sparsity(50, 0, 100, 0.0, 0.8, 3))


@answer("16.downsample_14_macs", rtol=0.02, hint="each convolution's MACs follow its output "
        "area; the stem's valid 3x3 leaves 12x12 instead of 26x26, then each pooling halves "
        "(rounding down)")
def _downsample_14_macs():
    from course_utils.deploy import at_input_size
    from course_utils.recipes import fast_model

    model = fast_model(WIDTH)
    return _macs(at_input_size(model, 14)) / _macs(model)


@answer("16.slim_macs", rtol=0.02, hint="halving stem_conv halves its own MACs and the input "
        "channels of layer1_conv; halving res_a_conv halves its MACs and res_b_conv's inputs")
def _slim_macs():
    from course_utils.deploy import slim_conv
    from course_utils.recipes import fast_model

    model = fast_model(WIDTH)
    slim = slim_conv(slim_conv(model, "stem_conv", WIDTH // 2), "res_a_conv", WIDTH)
    return _macs(slim) / _macs(model)


@answer("16.soft_target_t1", rtol=0.005, hint="softmax: e^4 / (e^4 + e^2 + e^0)")
def _soft_target_t1():
    return _soft_target(1.0)


@answer("16.soft_target_t3", rtol=0.005, hint="divide the logits by T first: e^(4/3) / "
        "(e^(4/3) + e^(2/3) + 1); a higher T flattens the distribution")
def _soft_target_t3():
    return _soft_target(3.0)


@answer("16.packed_ratio", rtol=0.0, hint="32 bits per float32 weight against 1 bit; "
        "41,472 weights fill whole bytes exactly")
def _packed_ratio():
    import numpy as np

    weights = np.ones((3, 3, 48, 96), "float32")
    return weights.nbytes / np.packbits(weights.ravel() > 0).nbytes
