"""EfficientNet, proven: B0 to B7 equal to keras.applications.EfficientNetB0 to B7 layer for
layer (names, types, shapes, parameters, configurations, outputs), the ``normalization``
layer's statistics carried over, the rounding rules equal to the channels and blocks of
Keras's models, stochastic depth dropping whole examples, and equation 3's phi rule
(Tan and Le 2019, section 3.3)."""

import re

import keras
import numpy as np
import pytest
from keras.src.applications.efficientnet import EfficientNet as KerasEfficientNet
from reference_identity import assert_identical, built_then_drawn, layer_config

from course_utils import zoo
from course_utils.inspection import structure_only
from course_utils.zoo.efficientnet import (
    ALPHA,
    B0_STAGES,
    BETA,
    GAMMA,
    IMAGENET_MEAN,
    IMAGENET_VARIANCE,
    KERAS_COEFFICIENTS,
    Scaled,
    compound_scale,
    efficientnet,
    mbconv_block,
    phi_coefficients,
    round_filters,
    round_repeats,
)

KEYS = [f"b{n}" for n in range(8)]
REFERENCES = {key: (getattr(zoo, f"efficientnet_{key}"),
                    getattr(keras.applications, f"EfficientNet{key.upper()}")) for key in KEYS}
# A scaling no released variant has, with the generic builders' other options.
SMALL = {"width": 0.5, "depth": 0.5, "resolution": 96, "dropout": 0.0,
         "drop_connect_rate": 0.1, "activation": "relu"}
REFERENCES["generic"] = (
    lambda **kwargs: efficientnet(**SMALL, **kwargs),
    lambda **kwargs: KerasEfficientNet(0.5, 0.5, 96, 0.0, drop_connect_rate=0.1,
                                       activation="relu", **kwargs))
# keras.applications' parameter counts at the default sizes (weights=None).
PARAMS = {"b0": 5_330_571, "b1": 7_856_239, "b2": 9_177_569, "b3": 12_320_535,
          "b4": 19_466_823, "b5": 30_562_527, "b6": 43_265_143, "b7": 66_658_687}
# The big variants at small sizes: building and drawing their weights is what costs.
VARIANTS = [
    ("b0", {}),
    ("b0", {"include_top": False, "input_shape": (65, 97, 3)}),
    ("b0", {"include_top": False, "input_shape": (65, 97, 1), "pooling": "avg"}),
    ("b0", {"include_top": False, "input_shape": (33, 40, 3), "pooling": "max"}),
    ("b0", {"include_top": False}),
    ("b0", {"input_shape": (64, 64, 3), "classes": 10, "classifier_activation": None}),
    ("b1", {"input_shape": (64, 64, 3)}),
    ("b2", {"include_top": False, "input_shape": (64, 64, 3), "pooling": "avg"}),
    ("b3", {"input_shape": (48, 48, 3), "classes": 7}),
    ("b4", {"include_top": False, "input_shape": (64, 64, 3)}),
    ("b5", {"input_shape": (64, 64, 3), "classifier_activation": None}),
    ("b6", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"}),
    ("b7", {"input_shape": (64, 64, 3), "classes": 10}),
    ("generic", {"input_shape": (50, 35, 3)}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def _keras_layout(model):
    """Stem channels, (output channels, blocks) per stage, top channels: read off Keras."""
    stages = []
    for stage in range(1, 8):
        names = [x.name for x in model.layers
                 if re.fullmatch(rf"block{stage}[a-z]_project_conv", x.name)]
        stages.append((model.get_layer(names[0]).filters, len(names)))
    return model.get_layer("stem_conv").filters, stages, model.get_layer("top_conv").filters


@pytest.mark.parametrize("key", KEYS)
def test_counts_rounding_and_configs_equal_keras_at_the_default_size(key):
    width, depth, resolution, dropout = KERAS_COEFFICIENTS[key]
    ours_fn, reference_fn = REFERENCES[key]
    with structure_only():
        ours, reference = ours_fn(), reference_fn(weights=None)
        assert ours.count_params() == reference.count_params() == PARAMS[key]
        assert ours.name == reference.name == f"efficientnet{key}"
        assert ours.input_shape == reference.input_shape == (None, resolution, resolution, 3)
        # Every layer's options: activations, strides, paddings, initializers, the
        # stochastic-depth rates and noise shapes, the top dropout.
        for mine, theirs in zip(ours.layers[1:], reference.layers[1:], strict=True):
            assert layer_config(mine) == layer_config(theirs), mine.name
        assert reference.get_layer("top_dropout").rate == dropout
        stem, stages, top = _keras_layout(reference)
    assert stem == round_filters(32, width) and top == round_filters(1280, width)
    assert stages == [(round_filters(s.filters, width), round_repeats(s.repeats, depth))
                      for s in B0_STAGES]
    assert compound_scale(width, depth, resolution) == Scaled(
        stem, tuple(s._replace(filters=f, repeats=n) for s, (f, n) in zip(B0_STAGES, stages)),
        top, resolution)


def test_b0_is_table_1_and_the_rounding_rules():
    b0 = compound_scale()
    assert (b0.stem_filters, b0.top_filters, b0.size) == (32, 1280, 224)
    assert [s.filters for s in b0.stages] == [16, 24, 40, 80, 112, 192, 320]
    assert [s.repeats for s in b0.stages] == [1, 2, 2, 3, 3, 4, 1]
    assert [s.kernel_size for s in b0.stages] == [3, 3, 5, 3, 5, 5, 3]
    assert [s.expand_ratio for s in b0.stages] == [1, 6, 6, 6, 6, 6, 6]
    # Multiples of 8, to the nearest, never 10% down; repeats rounded up.
    assert [round_filters(f, 1.1) for f in (16, 32, 40, 1280)] == [16, 32, 48, 1408]
    assert round_filters(16, 0.25) == 8 and round_filters(24, 0.3) == 8
    assert round_repeats(2, 1.1) == 3 and round_repeats(4, 3.1) == 13


def test_the_normalization_statistics_carry_over(tmp_path):
    """Keras's ImageNet weights set the ``normalization`` layer's mean and variance; a fresh
    one holds 0 and 1. Copying the weights must carry them, and the outputs must agree."""
    kwargs = {"include_top": False, "input_shape": (64, 64, 3), "pooling": "avg"}
    keras.backend.clear_session()
    reference = built_then_drawn(keras.applications.EfficientNetB0, weights=None, **kwargs)
    keras.backend.clear_session()
    ours = built_then_drawn(zoo.efficientnet_b0, **kwargs)
    x = np.random.default_rng(1).uniform(0, 255, size=(2, 64, 64, 3)).astype("float32")
    ours.set_weights(reference.get_weights())
    fresh = keras.ops.convert_to_numpy(ours(x))
    statistics = [np.array(IMAGENET_MEAN), np.array(IMAGENET_VARIANCE), np.array(1000)]
    layer = reference.get_layer("normalization")
    layer.set_weights(statistics)
    layer.finalize_state()  # what load_weights does after setting the variables
    expected = keras.ops.convert_to_numpy(reference(x))
    # The statistics matter: the features move by far more than round-off.
    assert np.abs(expected - fresh).max() > 0.1 * np.abs(expected).max()
    ours.set_weights(reference.get_weights())
    for got, want in zip(ours.get_layer("normalization").get_weights(), statistics,
                         strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    ours.get_layer("normalization").finalize_state()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x)), expected, rtol=1e-5, atol=1e-5)
    # The way pretrained weights arrive: a weights file, loaded by layer name.
    reference.save_weights(tmp_path / "b0.weights.h5")
    keras.backend.clear_session()
    loaded = built_then_drawn(zoo.efficientnet_b0, **kwargs)
    loaded.load_weights(tmp_path / "b0.weights.h5")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)), expected, rtol=1e-5, atol=1e-5)


def test_stochastic_depth_drops_whole_examples():
    keras.backend.clear_session()
    inputs = keras.Input((4, 4, 16))
    out = mbconv_block(inputs, 16, "t_", drop_rate=0.5)
    block = keras.Model(inputs, out)
    assert block.get_layer("t_drop").noise_shape == (None, 1, 1, 1)
    two = keras.Model(inputs, [block.get_layer("t_project_bn").output, out])
    x = np.random.default_rng(2).normal(size=(64, 4, 4, 16)).astype("float32")
    residual, y = (keras.ops.convert_to_numpy(t) for t in two(x, training=True))
    kept = [np.allclose(y[i] - x[i], 2 * residual[i], atol=1e-4) for i in range(64)]
    dropped = [np.allclose(y[i], x[i]) for i in range(64)]
    assert all(k != d for k, d in zip(kept, dropped, strict=True))  # one or the other
    assert 8 < sum(dropped) < 56  # about half of them
    residual, y = (keras.ops.convert_to_numpy(t) for t in two(x, training=False))
    np.testing.assert_allclose(y, x + residual, rtol=1e-5, atol=1e-5)


def test_the_phi_rule():
    assert ALPHA * BETA ** 2 * GAMMA ** 2 == pytest.approx(2, rel=0.05)  # 1.92
    assert phi_coefficients(0) == (1, 1, 1)
    assert phi_coefficients(1) == pytest.approx((1.1, 1.2, 1.15))
    for phi in range(1, 8):  # FLOPS grow as depth * width**2 * resolution**2
        width, depth, resolution = phi_coefficients(phi)
        assert depth * width ** 2 * resolution ** 2 == pytest.approx(1.92 ** phi, rel=0.01)
    # The released variants were picked near the rule, not on it: B1 is deeper and larger
    # than B0 but not wider, where phi = 1 would widen it 1.1 times.
    assert KERAS_COEFFICIENTS["b1"][:3] == (1.0, 1.1, 240)
    assert phi_coefficients(1, alpha=1.1, beta=1.0, gamma=240 / 224) == pytest.approx(
        (1.0, 1.1, 240 / 224))


BAD = [
    (zoo.efficientnet_b0, {"input_shape": (31, 64, 3)}, "input_shape"),
    (zoo.efficientnet_b3, {"include_top": False, "pooling": "mean"}, "pooling"),
    (zoo.efficientnet_b7, {"classes": 0}, "classes"),
    (efficientnet, {"width": 0}, "width"),
    (efficientnet, {"depth": -1.0}, "depth"),
    (efficientnet, {"depth": True}, "depth"),
    (efficientnet, {"resolution": 16}, "resolution"),
    (efficientnet, {"resolution": 224.5}, "resolution"),
    (efficientnet, {"dropout": 1.0}, "dropout"),
    (efficientnet, {"drop_connect_rate": -0.1}, "drop_connect_rate"),
    (phi_coefficients, {"phi": "1"}, "phi"),
    (phi_coefficients, {"phi": 1, "gamma": 0}, "gamma"),
    (round_filters, {"filters": 32, "width": -2}, "width"),
    (round_repeats, {"repeats": 2, "depth": "deep"}, "depth"),
]


@pytest.mark.parametrize("function, kwargs, argument", BAD,
                         ids=[f"{f.__name__}-{a}" for f, _, a in BAD])
def test_bad_values_are_explained(function, kwargs, argument):
    with pytest.raises(ValueError, match=argument) as raised:
        function(**kwargs)
    assert "got" in str(raised.value) and "Hint:" in str(raised.value)
