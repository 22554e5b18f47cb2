"""MobileNet v3, proven: keras.applications.MobileNetV3Small and MobileNetV3Large layer for
layer for every argument they take with weights=None, and the paper's Tables 1 and 2."""

import keras
import numpy as np
import pytest
from reference_identity import assert_identical

from course_utils.inspection import structure_only
from course_utils.zoo.inception_v3 import KerasNames
from course_utils.zoo.mobilenet_v3 import (
    LARGE,
    SMALL,
    hard_sigmoid,
    hard_swish,
    mobilenet_v3_large,
    mobilenet_v3_small,
)

REFERENCES = {
    "small": (mobilenet_v3_small, keras.applications.MobileNetV3Small),
    "large": (mobilenet_v3_large, keras.applications.MobileNetV3Large),
}
VARIANTS = [
    ("small", {}),
    ("large", {}),
    ("small", {"alpha": 0.75, "input_shape": (64, 64, 3)}),
    ("large", {"alpha": 0.75, "input_shape": (64, 64, 3)}),
    # alpha > 1 also widens conv_2; odd sides, one channel
    ("small", {"alpha": 1.3, "input_shape": (75, 75, 1)}),
    ("large", {"alpha": 0.5, "minimalistic": True, "input_shape": (96, 112, 3)}),
    ("small", {"minimalistic": True, "include_top": False, "pooling": "avg",
               "input_shape": (33, 47, 3)}),
    ("large", {"include_top": False, "pooling": "max", "input_shape": (64, 64, 3)}),
    ("large", {"include_top": False}),
    # an unknown height: Keras's correct_pad then pads the (odd) width as if it were even
    ("small", {"include_top": False, "input_shape": (None, 33, 3)}),
    ("small", {"classes": 10, "classifier_activation": None, "dropout_rate": 0,
               "input_shape": (32, 32, 3)}),
    ("large", {"classes": 10, "dropout_rate": 0.5, "include_preprocessing": False,
               "input_shape": (48, 48, 3)}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


@pytest.mark.parametrize("network", REFERENCES)
def test_counts_and_names_are_keras(network):
    build, reference = REFERENCES[network]
    with structure_only():
        for kwargs in ({}, {"minimalistic": True}, {"include_top": False}):
            ours, theirs = build(**kwargs), reference(weights=None, **kwargs)
            assert ours.count_params() == theirs.count_params(), kwargs
            assert ours.name == theirs.name, kwargs
        assert build(name="v3").name == "v3"
    # What the builders' docstrings say, read off Keras's models above.
    expected = {"small": 2_554_968, "large": 5_507_432}[network]
    assert f"{expected:,} parameters" in build.__doc__
    with structure_only():
        assert build().count_params() == expected


@pytest.mark.parametrize("network, table, last", [("large", LARGE, 960), ("small", SMALL, 576)])
def test_blocks_follow_the_papers_table(network, table, last):
    """Tables 1 and 2 at 224x224 and alpha=1: each block's expanded channels ("exp size"),
    output channels ("#out") and the side its stride leaves."""
    with structure_only():
        model = REFERENCES[network][0](input_shape=(224, 224, 3))
    side = 112  # after the stem's stride 2
    for block_id, (_, exp_size, out, se_ratio, _, strides) in enumerate(table):
        prefix = f"expanded_conv_{block_id}_" if block_id else "expanded_conv_"
        side //= strides
        if block_id:
            assert model.get_layer(f"{prefix}expand").output.shape[-1] == exp_size, block_id
        assert model.get_layer(f"{prefix}project_bn").output.shape[1:] == (side, side, out)
        has_se = f"{prefix}squeeze_excite_mul" in [x.name for x in model.layers]
        assert has_se == (se_ratio is not None), block_id
    assert model.get_layer("conv_1").output.shape[1:] == (7, 7, last)


def test_hard_sigmoid_and_hard_swish():
    x = np.linspace(-5, 5, 41, dtype="float32")
    inputs = keras.Input((41,))
    names = KerasNames()
    model = keras.Model(inputs, [hard_sigmoid(inputs, names), hard_swish(inputs, names)])
    sigmoid, swish = (keras.ops.convert_to_numpy(y)[0] for y in model(x[None]))
    expected = np.clip(x + 3, 0, 6) / 6
    np.testing.assert_allclose(sigmoid, expected, atol=1e-6)
    np.testing.assert_allclose(swish, x * expected, atol=1e-6)
    assert [x.name for x in model.layers[1:]] == ["re_lu", "activation"]


BAD = [
    ({"alpha": 0}, ValueError, "alpha"),
    ({"alpha": -0.5}, ValueError, "alpha"),
    ({"alpha": "1.0"}, ValueError, "alpha"),
    ({"dropout_rate": 1.0}, ValueError, "dropout_rate"),
    ({"dropout_rate": -0.1}, ValueError, "dropout_rate"),
    ({"dropout_rate": "0.2"}, ValueError, "dropout_rate"),
    ({"minimalistic": "yes"}, TypeError, "minimalistic"),
    ({"minimalistic": 1}, TypeError, "minimalistic"),
    ({"include_preprocessing": None}, TypeError, "include_preprocessing"),
    ({"input_shape": (31, 64, 3)}, ValueError, "input_shape"),
    ({"input_shape": (64, 64)}, ValueError, "input_shape"),
    ({"pooling": "avg"}, ValueError, "pooling"),
    ({"classes": 0}, ValueError, "classes"),
]


@pytest.mark.parametrize("network", REFERENCES)
@pytest.mark.parametrize("kwargs, error, argument", BAD,
                         ids=[f"{k}={v!r}" for kw, _, _ in BAD for k, v in kw.items()])
def test_bad_options_are_explained(network, kwargs, error, argument):
    with pytest.raises(error) as raised:
        REFERENCES[network][0](**kwargs)
    message = str(raised.value)
    assert argument in message and "got" in message and "Hint:" in message, message
