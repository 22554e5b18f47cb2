"""ConvNeXt, proven: T, S, B, L and XL equal to keras.applications.ConvNeXtTiny to XLarge
layer for layer (names, types, shapes, parameters, MACs, configurations, weight paths,
outputs), the generic builder equal to Keras's ``ConvNeXt`` with stochastic depth and without
layer scale, the parameter counts of the variants (Liu et al. 2022, section 3), layer scale
multiplying by its factors, stochastic depth dropping whole examples in training only, the
roadmap options of the block, and the errors."""


import keras
import numpy as np
import pytest
from keras.src.applications.convnext import ConvNeXt as KerasConvNeXt
from reference_identity import assert_identical

from course_utils.inspection import IDENTITY_COLUMNS, layer_table, structure_only
from course_utils.profiles import clear_session
from course_utils.zoo.convnext import (
    KERAS_NAMES,
    VARIANTS,
    LayerScale,
    StochasticDepth,
    convnext,
    convnext_base,
    convnext_block,
    convnext_large,
    convnext_small,
    convnext_tiny,
    convnext_xlarge,
    downsampling_block,
    drop_path_rates,
    patchify_stem,
)

OURS = {"tiny": convnext_tiny, "small": convnext_small, "base": convnext_base,
        "large": convnext_large, "xlarge": convnext_xlarge}
REFERENCES = {key: (OURS[key], getattr(keras.applications, KERAS_NAMES[key]))
              for key in VARIANTS}
# Networks no released variant is, small enough to build in a blink: Keras's generic
# ConvNeXt with stochastic depth (and no layer scale), and with layer scales starting at 0.5.
SMALL = {"depths": (1, 2, 1, 2), "projection_dims": (8, 16, 24, 32), "default_size": 64}
REFERENCES["generic"] = (
    lambda **kwargs: convnext(**SMALL, drop_path_rate=0.2, layer_scale_init_value=None,
                              **kwargs),
    lambda **kwargs: KerasConvNeXt([1, 2, 1, 2], [8, 16, 24, 32], drop_path_rate=0.2,
                                   layer_scale_init_value=None, default_size=64, **kwargs))
REFERENCES["generic_layer_scale"] = (
    lambda **kwargs: convnext(**SMALL, layer_scale_init_value=0.5, **kwargs),
    lambda **kwargs: KerasConvNeXt([1, 2, 1, 2], [8, 16, 24, 32], layer_scale_init_value=0.5,
                                   default_size=64, **kwargs))
# keras.applications' parameter counts at 224x224 with the classifier (weights=None).
PARAMS = {"tiny": 28_589_128, "small": 50_223_688, "base": 88_591_464,
          "large": 197_767_336, "xlarge": 350_196_968}
# Every variant with its weights drawn, at small sizes (drawing the weights is what costs:
# Large's 198 million and XLarge's 350 million take most of this list's time).
VARIANTS_TO_RUN = [
    ("tiny", {"include_top": False, "input_shape": (32, 32, 3)}),
    ("tiny", {"include_top": False, "input_shape": (45, 64, 1), "pooling": "avg"}),
    ("tiny", {"input_shape": (40, 33, 3), "classes": 7, "classifier_activation": None}),
    ("tiny", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max",
              "include_preprocessing": False}),
    ("tiny", {"include_top": False}),
    ("small", {"input_shape": (64, 64, 3)}),
    ("base", {"include_top": False, "input_shape": (32, 48, 3), "pooling": "avg"}),
    ("large", {"input_shape": (32, 32, 3), "classes": 10}),
    # 350 million weights drawn twice: about 20 s of CPU and 5 GB of memory, the dearest
    # identity check of the course; it stays, since every twin's outputs are proven.
    ("xlarge", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "avg"}),
    ("generic", {"input_shape": (50, 35, 3)}),
    ("generic", {"include_top": False, "pooling": "max"}),
    ("generic_layer_scale", {"input_shape": (64, 64, 3), "classifier_activation": None}),
]


def _ids(cases):
    return [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
            for n, kw in cases]


@pytest.mark.parametrize("network, kwargs", VARIANTS_TO_RUN, ids=_ids(VARIANTS_TO_RUN))
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def _config(layer):
    """A layer's configuration without its name (and without the seed of our stochastic
    depth, which Keras's layer does not have)."""
    config = layer.get_config()
    config.pop("name")
    if isinstance(layer, StochasticDepth):
        config.pop("seed")
    return config


# The default size of every variant (the released networks), XLarge at a small size with
# the other options, and the generic builder: everything read without drawing a weight.
STRUCTURES = [(key, {}) for key in VARIANTS] + [
    ("xlarge", {"include_top": False, "input_shape": (48, 40, 1), "pooling": "avg",
                "include_preprocessing": False}),
    ("generic", {"include_top": False}),
]


@pytest.mark.parametrize("network, kwargs", STRUCTURES, ids=_ids(STRUCTURES))
def test_layer_tables_configs_and_weights_equal_keras(network, kwargs):
    ours_fn, reference_fn = REFERENCES[network]
    clear_session()  # Keras numbers unnamed layers (add_17, layer_normalization) per session
    with structure_only():
        reference = reference_fn(weights=None, **kwargs)
        theirs = layer_table(reference)[IDENTITY_COLUMNS]
        configs = [(x.name, type(x).__name__, _config(x)) for x in reference.layers]
        operations = [(x.name, type(x).__name__) for x in reference.operations]
        weights = [(w.path, tuple(w.shape)) for w in reference.weights]
        name, count = reference.name, reference.count_params()
    with structure_only():  # a fresh session: unnamed layers numbered as in Keras's
        model = ours_fn(**kwargs)
        mine = layer_table(model)[IDENTITY_COLUMNS]
        assert mine.equals(theirs), (
            f"{network} {kwargs}: the layer tables differ; ours then Keras's:\n"
            f"{mine.compare(theirs) if mine.shape == theirs.shape else (mine, theirs)}")
        # Every layer's options (epsilons, initializers, activations, stochastic-depth
        # rates) and every weight's path and shape: Keras's weight files load by them.
        assert [(x.name, type(x).__name__, _config(x)) for x in model.layers] == configs
        # The residual additions are operations, not layers, in both (keras.ops.add).
        assert [(x.name, type(x).__name__) for x in model.operations] == operations
        assert [(w.path, tuple(w.shape)) for w in model.weights] == weights
        assert (model.name, model.count_params()) == (name, count)
    if network in PARAMS and not kwargs:
        assert count == PARAMS[network], (
            f"{network}: Keras's {KERAS_NAMES[network]} has {count:,} parameters at "
            f"224x224; Keras's documentation says {PARAMS[network]:,}")
        assert model.input_shape == (None, 224, 224, 3) and model.name == f"convnext_{network}"


def test_the_variants_are_section_3s():
    assert VARIANTS["tiny"].depths == (3, 3, 9, 3)
    for key in ("small", "base", "large", "xlarge"):
        assert VARIANTS[key].depths == (3, 3, 27, 3), key
    for key, width in (("tiny", 96), ("small", 96), ("base", 128), ("large", 192),
                       ("xlarge", 256)):
        assert VARIANTS[key].projection_dims == (width, 2 * width, 4 * width, 8 * width), key


def test_the_stochastic_depth_schedule_grows_linearly():
    rates = drop_path_rates((1, 2, 1, 2), 0.2)
    assert len(rates) == 6 and rates[0] == 0.0 and rates[-1] == pytest.approx(0.2)
    np.testing.assert_allclose(np.diff(rates), 0.04)
    assert drop_path_rates((3, 3, 9, 3), 0.0) == [0.0] * 18


def test_layer_scale_multiplies_by_its_factors():
    layer = LayerScale(1e-6, 4, name="scale")
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 4)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), 1e-6 * x, rtol=1e-6)
    # One trainable weight: a factor per channel, as Keras's layer has.
    assert [tuple(w.shape) for w in layer.trainable_weights] == [(4,)]
    assert not layer.non_trainable_weights
    gamma = np.array([0.5, -1.0, 2.0, 0.0], dtype="float32")
    layer.set_weights([gamma])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x)), x * gamma, rtol=1e-6)
    assert LayerScale.from_config(layer.get_config()).projection_dim == 4


def test_stochastic_depth_drops_whole_examples_in_training_only():
    keras.backend.clear_session()
    inputs = keras.Input((4, 4, 16))
    out = convnext_block(inputs, 16, "t", drop_path_rate=0.5, layer_scale_init_value=1.0)
    block = keras.Model(inputs, out)
    assert isinstance(block.get_layer("t_stochastic_depth"), StochasticDepth)
    two = keras.Model(inputs, [block.get_layer("t_layer_scale").output, out])
    x = np.random.default_rng(2).normal(size=(64, 4, 4, 16)).astype("float32")
    branch, y = (keras.ops.convert_to_numpy(t) for t in two(x, training=True))
    # Kept: the branch divided by the keeping probability 0.5; dropped: the input alone.
    kept = [np.allclose(y[i] - x[i], 2 * branch[i], atol=1e-4) for i in range(64)]
    dropped = [np.allclose(y[i], x[i]) for i in range(64)]
    assert all(k != d for k, d in zip(kept, dropped, strict=True)), "one or the other, whole"
    assert 8 < sum(dropped) < 56, f"about half of 64 dropped; got {sum(dropped)}"
    branch, y = (keras.ops.convert_to_numpy(t) for t in two(x, training=False))
    np.testing.assert_allclose(y, x + branch, rtol=1e-5, atol=1e-5)
    # The layer alone: each example all zeros or all doubled; the identity in inference.
    layer = StochasticDepth(0.5, seed=1)
    out = keras.ops.convert_to_numpy(layer(np.ones((64, 2, 2, 3), "float32"), training=True))
    assert set(np.unique(out.reshape(64, -1), axis=0).ravel()) <= {0.0, 2.0}
    assert np.array_equal(keras.ops.convert_to_numpy(layer(x)), x)
    # A rate of 0 keeps every branch, even in training.
    assert np.array_equal(keras.ops.convert_to_numpy(StochasticDepth(0.0)(x, training=True)), x)


def test_the_custom_layers_save_and_load(tmp_path):
    keras.backend.clear_session()
    model = convnext(**SMALL, drop_path_rate=0.1, include_top=False, input_shape=(32, 32, 3),
                     pooling="avg")
    x = np.random.default_rng(3).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    model.save(tmp_path / "convnext.keras")
    loaded = keras.saving.load_model(tmp_path / "convnext.keras")  # no custom_objects needed
    assert type(loaded.get_layer("convnext_stage_3_block_1_layer_scale")) is LayerScale
    assert type(loaded.get_layer("convnext_stage_3_block_1_stochastic_depth")) is StochasticDepth
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x)),
                               keras.ops.convert_to_numpy(model(x)), rtol=1e-5, atol=1e-5)


def test_the_roadmap_options_of_the_parts():
    """Section 2's intermediate steps from the same parts: a ResNeXt-like block (3x3
    grouped convolution, batch norm, ReLU, expansion 2) and batch-normalised stem and
    downsampling; the defaults stay ConvNeXt's."""
    keras.backend.clear_session()
    inputs = keras.Input((16, 16, 3))
    x = patchify_stem(inputs, 64, "r", patch_size=2, norm="batch")
    x = convnext_block(x, 64, "r_block", kernel_size=3, groups=32, expand_ratio=2,
                       norm="batch", activation="relu", layer_scale_init_value=None)
    x = downsampling_block(x, 128, "r", 0, norm="batch")
    model = keras.Model(inputs, x)
    assert model.output_shape == (None, 4, 4, 128)
    convolution = model.get_layer("r_block_depthwise_conv")
    assert (convolution.kernel_size, convolution.groups) == ((3, 3), 32)
    assert tuple(convolution.kernel.shape) == (3, 3, 2, 64)  # 64 channels in 32 groups of 2
    assert model.get_layer("r_block_pointwise_conv_1").units == 128
    assert isinstance(model.get_layer("r_block_batchnorm"), keras.layers.BatchNormalization)
    assert model.get_layer("r_block_relu").activation is keras.activations.relu
    assert [x.name for x in model.get_layer("r_downsampling_block_0").layers] == [
        "r_downsampling_batchnorm_0", "r_downsampling_conv_0"]
    assert [x.name for x in model.get_layer("r_stem").layers] == ["r_stem_conv", "r_stem_batchnorm"]
    # The defaults: a 7x7 depthwise convolution, LayerNorm, 4x expansion, GELU, layer scale.
    block = keras.Model(inputs, convnext_block(inputs, 3, "d"))
    assert block.get_layer("d_depthwise_conv").groups == 3
    assert block.get_layer("d_depthwise_conv").kernel_size == (7, 7)
    assert block.get_layer("d_layernorm").epsilon == 1e-6
    assert block.get_layer("d_pointwise_conv_1").units == 12
    assert block.get_layer("d_gelu").activation is keras.activations.gelu
    assert isinstance(block.get_layer("d_layer_scale"), LayerScale)
    assert isinstance(block.get_layer("d_identity"), keras.layers.Activation)


BAD = [
    (convnext_tiny, {"input_shape": (31, 64, 3)}, "input_shape"),
    (convnext_small, {"input_shape": (None, None, 3)}, "input_shape"),
    (convnext_base, {"include_top": True, "pooling": "avg"}, "pooling"),
    (convnext_large, {"classes": 0}, "classes"),
    (convnext_xlarge, {"classifier_activation": "softmaxx"}, "classifier_activation"),
    (convnext, {"depths": (3, 3, 9)}, "depths"),
    (convnext, {"depths": 3}, "depths"),
    (convnext, {"projection_dims": (96, 192, 384, 0)}, "projection_dims"),
    (convnext, {"drop_path_rate": 1.0}, "drop_path_rate"),
    (convnext, {"layer_scale_init_value": "small"}, "layer_scale_init_value"),
    (convnext, {"default_size": 16}, "default_size"),
    (convnext, {"name": ""}, "name"),
    (convnext_block, {"x": keras.KerasTensor((None, 8, 8, 32)), "projection_dim": 16,
                      "name": "b"}, "projection_dim"),
    (convnext_block, {"x": keras.KerasTensor((None, 8, 8, 16)), "projection_dim": 16,
                      "name": "b", "norm": "group"}, "norm"),
    (StochasticDepth, {"drop_path_rate": -0.1}, "drop_path_rate"),
    (LayerScale, {"init_values": 1e-6, "projection_dim": 0}, "projection_dim"),
]


@pytest.mark.parametrize("function, kwargs, argument", BAD,
                         ids=[f"{getattr(f, '__name__', f)}-{a}" for f, _, a in BAD])
def test_bad_values_are_explained(function, kwargs, argument):
    with pytest.raises(ValueError, match=argument) as raised:
        function(**kwargs)
    assert "got" in str(raised.value) and "Hint:" in str(raised.value)


def test_a_wrong_switch_and_a_wrong_layer_scale_width_are_explained():
    with pytest.raises(TypeError, match="include_preprocessing.*got 'yes'.*Hint:"):
        convnext_tiny(include_preprocessing="yes")
    with pytest.raises(ValueError, match="projection_dim.*got.*Hint:"):
        LayerScale(1e-6, 8)(np.zeros((1, 2, 2, 4), "float32"))
