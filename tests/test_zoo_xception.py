"""Xception, proven: keras.applications.Xception layer for layer (names, types, shapes,
parameters, MACs, outputs) for every argument it takes with weights=None, Figure 5's flows
and shapes (Chollet 2017), and the identity shortcut of the middle flow."""

import keras
import numpy as np
import pytest
from reference_identity import assert_identical

from course_utils.inspection import structure_only
from course_utils.zoo.inception_v3 import KerasNames
from course_utils.zoo.xception import middle_block, separable_conv_bn, xception

REFERENCES = {"xception": (xception, keras.applications.Xception)}
# Small inputs only: the default 299x299 build costs seconds; its parameter count is
# checked below, in structure_only.
VARIANTS = [
    # the smallest input, not square, one channel
    ("xception", {"include_top": False, "input_shape": (71, 96, 1)}),
    ("xception", {"include_top": False, "input_shape": (80, 80, 3), "pooling": "avg"}),
    # any size (run at 96x96)
    ("xception", {"include_top": False, "pooling": "max"}),
    ("xception", {"input_shape": (72, 90, 3), "classes": 10, "classifier_activation": None}),
]
PARAMS = 22_910_480  # keras.applications.Xception at 299x299 with the classifier
PARAMS_NO_TOP = 20_861_480  # without it: the classifier is 2048 * 1000 + 1000


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def test_parameter_counts_and_names_are_keras():
    with structure_only():
        for kwargs, expected in (({}, PARAMS), ({"include_top": False}, PARAMS_NO_TOP)):
            ours = xception(**kwargs)
            theirs = keras.applications.Xception(weights=None, **kwargs)
            assert ours.count_params() == theirs.count_params() == expected, (
                f"Xception {kwargs}: {ours.count_params():,} parameters here, "
                f"{theirs.count_params():,} in keras.applications, {expected:,} expected. "
                f"Hint: compare the two layer tables row by row.")
            assert ours.name == theirs.name == "xception"
        assert xception(name="x").name == "x"
    assert f"{PARAMS:,} parameters" in xception.__doc__


# Figure 5 at 299x299: where each flow ends.
FIGURE_5_SHAPES = {
    "block1_conv1_act": (149, 149, 32), "block1_conv2_act": (147, 147, 64),
    "add": (74, 74, 128), "add_1": (37, 37, 256), "add_2": (19, 19, 728),  # entry flow
    "add_10": (19, 19, 728),  # the middle flow's last module
    "add_11": (10, 10, 1024), "block14_sepconv1_act": (10, 10, 1536),
    "block14_sepconv2_act": (10, 10, 2048), "avg_pool": (2048,),  # exit flow
}


def test_the_flows_of_figure_5():
    with structure_only():
        model = xception()
        for name, shape in FIGURE_5_SHAPES.items():
            got = tuple(model.get_layer(name).output.shape[1:])
            assert got == shape, (f"{name}: output {got}, Figure 5 gives {shape} at 299x299. "
                                  f"Hint: the strides and paddings of the flow it ends.")
        separable = [x for x in model.layers if isinstance(x, keras.layers.SeparableConv2D)]
        plain = [x for x in model.layers if type(x) is keras.layers.Conv2D]
        adds = [x for x in model.layers if isinstance(x, keras.layers.Add)]
        middle = {x.name.split("_")[0] for x in separable} - {"block2", "block3", "block4",
                                                              "block13", "block14"}
    # "36 convolutional layers ... structured into 14 modules, all of which have linear
    # residual connections around them, except for the first and last modules."
    assert len(separable) == 34 and len([x for x in plain if x.kernel_size == (3, 3)]) == 2
    assert len(adds) == 14 - 2
    assert sorted(middle, key=lambda n: int(n[5:])) == [f"block{i}" for i in range(5, 13)]
    # The shortcuts of the four downsampling modules: 1x1 with stride 2.
    assert [(x.kernel_size, x.strides) for x in plain if x.kernel_size == (1, 1)] == (
        [((1, 1), (2, 2))] * 4)
    # Depth multiplier 1, no bias, no activation between depthwise and pointwise halves.
    assert all((x.depth_multiplier, x.use_bias, x.activation.__name__) == (1, False, "linear")
               for x in separable)


def test_middle_block_adds_its_input():
    """The middle flow's shortcut is the identity: output = input + residual branch."""
    keras.backend.clear_session()
    inputs = keras.Input((5, 5, 16))
    out = middle_block(inputs, "m", KerasNames(), filters=16)
    block = keras.Model(inputs, out)
    two = keras.Model(inputs, [block.get_layer("m_sepconv3_bn").output, out])
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 16)).astype("float32")
    residual, y = (keras.ops.convert_to_numpy(t) for t in two(x))
    assert [layer.name for layer in two.layers if "act" in layer.name] == [
        "m_sepconv1_act", "m_sepconv2_act", "m_sepconv3_act"]
    # The branch is small at initialisation (a few hundredths), the tolerance far smaller.
    assert np.abs(residual).max() > 1e-3, "the residual branch should not be zero here"
    np.testing.assert_allclose(y, x + residual, rtol=1e-6, atol=1e-6,
                               err_msg="middle_block should return input + residual branch")


# What is this network's own; the options every builder checks alike (a 2-D shape, include_top,
# pooling, classes, classifier_activation) are test_zoo_contract's, for every builder.
BAD = [
    ({"input_shape": (70, 96, 3)}, ValueError, "input_shape"),  # under the smallest side
    ({"input_shape": (None, None, 3)}, ValueError, "input_shape"),  # with the classifier
]


@pytest.mark.parametrize("kwargs, error, argument", BAD,
                         ids=[f"{k}={v!r}" for kw, _, _ in BAD for k, v in list(kw.items())[-1:]])
def test_bad_options_are_explained(kwargs, error, argument):
    with pytest.raises(error) as raised:
        xception(**kwargs)
    message = str(raised.value)
    assert argument in message and "got" in message and "Hint:" in message, message


def test_separable_conv_bn_refuses_an_unknown_relu_place():
    with pytest.raises(ValueError, match="relu") as raised:
        separable_conv_bn(keras.Input((8, 8, 4)), 4, "s", relu="between")
    assert "Hint:" in str(raised.value)
