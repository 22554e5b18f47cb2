"""Inception-ResNet v2, proven: keras.applications.InceptionResNetV2 layer for layer
(names, types, shapes, parameters, MACs, outputs) for every argument it takes with
weights=None, its blocks and residual scales read off Keras's model, and the scaled
residual ``x + scale * residual`` (Szegedy et al. 2017, section 3.3) checked in numbers,
against Keras's own CustomScaleLayer and through a saved model."""

import keras
import numpy as np
import pytest
from keras.src.applications.inception_resnet_v2 import CustomScaleLayer as KerasScaleLayer
from reference_identity import assert_identical

from course_utils.inspection import structure_only
from course_utils.zoo.inception_resnet import (
    BLOCKS,
    CustomScaleLayer,
    inception_resnet_block,
    inception_resnet_v2,
)
from course_utils.zoo.inception_v3 import KerasNames

REFERENCES = {"inception_resnet_v2": (inception_resnet_v2,
                                      keras.applications.InceptionResNetV2)}
# Small inputs only: the default 299x299 build costs seconds; its parameter count is
# checked below, in structure_only.
VARIANTS = [
    # the smallest input, not square, one channel
    ("inception_resnet_v2", {"include_top": False, "input_shape": (75, 99, 1)}),
    ("inception_resnet_v2", {"include_top": False, "input_shape": (80, 80, 3),
                             "pooling": "avg"}),
    # any size (run at 96x96)
    ("inception_resnet_v2", {"include_top": False, "pooling": "max"}),
    ("inception_resnet_v2", {"input_shape": (75, 75, 3), "classes": 10,
                             "classifier_activation": None}),
]
PARAMS = 55_873_736  # keras.applications.InceptionResNetV2 at 299x299 with the classifier
PARAMS_NO_TOP = 54_336_736  # without it (the classifier is 1536 * 1000 + 1000)


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def _scales(model):
    """The ``scale`` of every scale layer, in order, whatever module its class is from."""
    return [x.scale for x in model.layers if type(x).__name__ == "CustomScaleLayer"]


def test_counts_blocks_and_scales_are_keras():
    with structure_only():
        ours = inception_resnet_v2()
        theirs = keras.applications.InceptionResNetV2(weights=None)
        assert ours.count_params() == theirs.count_params() == PARAMS, (
            f"Inception-ResNet v2: {ours.count_params():,} parameters here, "
            f"{theirs.count_params():,} in keras.applications, {PARAMS:,} expected. "
            f"Hint: compare the two layer tables row by row.")
        assert ours.name == theirs.name == "inception_resnet_v2"
        # The residual scales, block by block, are Keras's.
        assert _scales(ours) == _scales(theirs)
        without_top = ours.count_params() - ours.get_layer("predictions").count_params()
        names = {x.name for x in ours.layers}
        shapes = {name: tuple(ours.get_layer(name).output.shape[1:]) for name in
                  ("mixed_5b", "block35_10_ac", "mixed_6a", "block17_20_ac", "mixed_7a",
                   "block8_9_ac", "conv_7b_ac")}
    # 10 x 0.17, 20 x 0.1, 9 x 0.2 and a last block8 with 1.0 (and no activation).
    assert _scales(ours) == [0.17] * 10 + [0.1] * 20 + [0.2] * 9 + [1.0]
    assert without_top == PARAMS_NO_TOP
    assert {block: BLOCKS[block][0] for block in BLOCKS} == {"block35": 10, "block17": 20,
                                                             "block8": 10}
    assert "block8_9_ac" in names and "block8_10_ac" not in names, (
        "the last block8 should end without an activation (Keras's block8_10)")
    # The grids of the module docstring at 299x299.
    assert shapes == {"mixed_5b": (35, 35, 320), "block35_10_ac": (35, 35, 320),
                      "mixed_6a": (17, 17, 1088), "block17_20_ac": (17, 17, 1088),
                      "mixed_7a": (8, 8, 2080), "block8_9_ac": (8, 8, 2080),
                      "conv_7b_ac": (8, 8, 1536)}
    assert f"{PARAMS:,} parameters" in inception_resnet_v2.__doc__


def test_the_scale_layer_adds_the_scaled_residual(tmp_path):
    """``CustomScaleLayer(scale)([x, r])`` is ``x + scale * r``, as Keras's layer of the
    same name computes it, and it survives saving and loading (registered for saving)."""
    rng = np.random.default_rng(0)
    x, r = (rng.normal(size=(2, 3, 3, 4)).astype("float32") for _ in range(2))
    expected = x + 0.17 * r
    got = keras.ops.convert_to_numpy(CustomScaleLayer(0.17)([x, r]))
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6,
                               err_msg="CustomScaleLayer(0.17)([x, r]) should be x + 0.17 * r")
    keras_got = keras.ops.convert_to_numpy(KerasScaleLayer(0.17)([x, r]))
    np.testing.assert_allclose(got, keras_got, rtol=1e-6, atol=1e-6)
    assert not CustomScaleLayer(0.1).weights  # no weights: the scale is fixed
    assert CustomScaleLayer.__name__ == KerasScaleLayer.__name__
    assert keras.saving.get_registered_name(CustomScaleLayer) == "course_utils>CustomScaleLayer"
    assert CustomScaleLayer.__doc__ and "section 3.3" in CustomScaleLayer.__doc__
    # Saved and loaded without custom_objects: the registration finds the class.
    shortcut, residual = keras.Input((3, 3, 4)), keras.Input((3, 3, 4))
    model = keras.Model([shortcut, residual],
                        CustomScaleLayer(0.3, name="scale")([shortcut, residual]))
    model.save(tmp_path / "scale.keras")
    loaded = keras.saving.load_model(tmp_path / "scale.keras")
    assert type(loaded.get_layer("scale")) is CustomScaleLayer
    assert loaded.get_layer("scale").scale == 0.3
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded([x, r])), x + 0.3 * r,
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("block_type, side, channels", [("block35", 5, 320),
                                                         ("block17", 7, 1088),
                                                         ("block8", 3, 2080)])
def test_a_block_adds_its_scaled_branch(block_type, side, channels):
    """Without its activation a block returns ``x + scale * (its linear 1x1's output)``; the
    1x1 brings the concatenated branches back to the input's channels."""
    keras.backend.clear_session()
    inputs = keras.Input((side, side, channels))
    out = inception_resnet_block(inputs, 0.25, block_type, 1, KerasNames(), activation=None)
    block = keras.Model(inputs, out)
    up = block.get_layer(f"{block_type}_1_conv")
    assert up.kernel_size == (1, 1) and up.filters == channels and up.use_bias
    assert up.activation.__name__ == "linear"
    two = keras.Model(inputs, [up.output, out])
    x = np.random.default_rng(1).normal(size=(1, side, side, channels)).astype("float32")
    residual, y = (keras.ops.convert_to_numpy(t) for t in two(x))
    assert np.abs(residual).max() > 1e-2, "the residual branch should not be zero here"
    np.testing.assert_allclose(y, x + 0.25 * residual, rtol=1e-5, atol=1e-5,
                               err_msg=f"{block_type}: output should be x + 0.25 * residual")


# What is this network's own; the options every builder checks alike (a 2-D shape, include_top,
# pooling, classes, classifier_activation) are test_zoo_contract's, for every builder.
BAD = [
    ({"input_shape": (74, 96, 3)}, ValueError, "input_shape"),  # under the smallest side
    ({"input_shape": (None, None, 3)}, ValueError, "input_shape"),  # with the classifier
]


@pytest.mark.parametrize("kwargs, error, argument", BAD,
                         ids=[f"{k}={v!r}" for kw, _, _ in BAD for k, v in list(kw.items())[-1:]])
def test_bad_options_are_explained(kwargs, error, argument):
    with pytest.raises(error) as raised:
        inception_resnet_v2(**kwargs)
    message = str(raised.value)
    assert argument in message and "got" in message and "Hint:" in message, message


def test_an_unknown_block_type_is_explained():
    with pytest.raises(ValueError, match="block_type") as raised:
        inception_resnet_block(keras.Input((5, 5, 8)), 0.1, "block99", 1, KerasNames())
    assert "got 'block99'" in str(raised.value) and "Hint:" in str(raised.value)
