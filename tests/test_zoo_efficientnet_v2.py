"""EfficientNetV2, proven: B0 to B3, S, M and L equal to keras.applications.EfficientNetV2B0 to
EfficientNetV2L layer for layer (names, types, shapes, parameters, MACs, outputs) for every
argument they take with weights=None, and the generic builder equal to Keras's generic
EfficientNetV2 for a configuration of its own; every layer's configuration at the default
sizes (momentum, initializers, stochastic-depth rates); the stage layout read off the built
models equal to the configuration (Table 4 for S; Keras's block arguments for all); v2's
rounding rule, its preprocessing and its two blocks (Tan and Le 2021)."""

import re

import keras
import numpy as np
import pytest
from keras.src.applications.efficientnet_v2 import DEFAULT_BLOCKS_ARGS
from keras.src.applications.efficientnet_v2 import EfficientNetV2 as KerasEfficientNetV2
from reference_identity import assert_identical, layer_config

from course_utils.inspection import structure_only
from course_utils.zoo import efficientnet as v1
from course_utils.zoo.efficientnet_v2 import (
    KERAS_VARIANTS,
    LAYOUTS,
    Layout,
    Stage,
    efficientnet_v2,
    efficientnet_v2_b0,
    efficientnet_v2_b1,
    efficientnet_v2_b2,
    efficientnet_v2_b3,
    efficientnet_v2_l,
    efficientnet_v2_m,
    efficientnet_v2_s,
    fused_mbconv_block,
    mbconv_block,
    preprocessing,
    round_filters,
    round_repeats,
    scale_layout,
)

KEYS = ["b0", "b1", "b2", "b3", "s", "m", "l"]
OURS = dict(zip(KEYS, (efficientnet_v2_b0, efficientnet_v2_b1, efficientnet_v2_b2,
                       efficientnet_v2_b3, efficientnet_v2_s, efficientnet_v2_m,
                       efficientnet_v2_l), strict=True))
REFERENCES = {key: (OURS[key], getattr(keras.applications, f"EfficientNetV2{key.upper()}"))
              for key in KEYS}


def _keras_blocks_args(layout):
    """A :class:`Layout` as Keras's ``blocks_args``: one dict per stage, its input channels
    the previous stage's output (the stem's for the first), ``conv_type`` 1 for fused."""
    args, channels = [], layout.stem_filters
    for stage in layout.stages:
        args.append({"kernel_size": stage.kernel_size, "num_repeat": stage.repeats,
                     "input_filters": channels, "output_filters": stage.filters,
                     "expand_ratio": stage.expand_ratio, "se_ratio": stage.se_ratio,
                     "strides": stage.strides, "conv_type": int(stage.fused)})
        channels = stage.filters
    return args


# A configuration no released variant has: fused blocks with squeeze-and-excitation, 5x5
# MBConv, an MBConv without expansion or SE; widths that round down; other options.
GENERIC = Layout(16, (Stage(True, 1, 3, 1, 16, 1, 0.0), Stage(True, 2, 3, 2, 24, 2, 0.25),
                      Stage(False, 3, 5, 2, 40, 2, 0.25), Stage(False, 1, 3, 1, 40, 1, 0.0)))
GENERIC_OPTIONS = {"width": 0.75, "depth": 1.5, "resolution": 64, "dropout": 0.0,
                   "drop_connect_rate": 0.1, "activation": "relu"}
REFERENCES["generic"] = (
    lambda **kwargs: efficientnet_v2(layout=GENERIC, imagenet_statistics=False,
                                     **GENERIC_OPTIONS, **kwargs),
    lambda **kwargs: KerasEfficientNetV2(0.75, 1.5, 64, dropout_rate=0.0, drop_connect_rate=0.1,
                                         activation="relu",
                                         blocks_args=_keras_blocks_args(GENERIC), **kwargs))
# Every variant at small sizes: drawing the weights is what costs (L: about 16 s of CPU for
# both networks at any input size, M about 9 s, S about 6 s, a B about 3 s), so M and L
# appear once each and B0, the cheapest, carries most of the options.
VARIANTS = [
    ("b0", {"include_top": False, "input_shape": (65, 97, 3)}),
    # one channel: no ImageNet statistics to apply, Keras rescales to [-1, 1) instead
    ("b0", {"include_top": False, "input_shape": (33, 40, 1), "pooling": "avg"}),
    ("b0", {"include_top": False, "pooling": "max"}),  # any size (run at 96x96)
    ("b0", {"input_shape": (48, 48, 3), "classes": 10, "classifier_activation": None,
            "include_preprocessing": False}),
    ("b1", {"input_shape": (64, 64, 3)}),
    ("b2", {"include_top": False, "input_shape": (64, 64, 3), "pooling": "avg"}),
    ("b3", {"input_shape": (48, 48, 3), "classes": 7}),
    ("s", {"input_shape": (32, 32, 3), "classifier_activation": None}),
    ("m", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"}),
    ("l", {"input_shape": (32, 32, 3), "classes": 10}),
    ("generic", {"input_shape": (50, 35, 3)}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


# keras.applications' parameter counts at the default sizes (weights=None), and the Keras
# documentation's table in millions.
PARAMS = {"b0": 7_200_312, "b1": 8_212_124, "b2": 10_178_374, "b3": 14_467_622,
          "s": 21_612_360, "m": 54_431_388, "l": 119_027_848}
DOCS_MILLIONS = {"b0": 7.2, "b1": 8.2, "b2": 10.2, "b3": 14.5, "s": 21.6, "m": 54.4,
                 "l": 119.0}


def _read_layout(model):
    """The :class:`Layout` a built model has, read off its layers: per stage the blocks
    (``block{n}?_project_conv``), their output channels, whether they are fused (no
    depthwise ``dwconv2``), the first block's expansion, kernel, stride and SE ratio."""
    layer = {x.name: x for x in model.layers}
    stages, number = [], 1
    while f"block{number}a_project_conv" in layer:
        first = f"block{number}a_"
        blocks = [n for n in layer if re.fullmatch(rf"block{number}[a-z]_project_conv", n)]
        fused = f"{first}dwconv2" not in layer
        expand = layer.get(f"{first}expand_conv")
        # the layer with the stage's kernel and stride, and the first to see its input
        spatial = (layer[f"{first}dwconv2"] if not fused else
                   expand if expand is not None else layer[f"{first}project_conv"])
        channels = (spatial if expand is None else expand).input.shape[-1]
        reduce = layer.get(f"{first}se_reduce")
        stages.append(Stage(fused, 1 if expand is None else expand.filters // channels,
                            spatial.kernel_size[0], spatial.strides[0],
                            layer[f"{first}project_conv"].filters, len(blocks),
                            0.0 if reduce is None else reduce.filters / channels))
        number += 1
    return Layout(layer["stem_conv"].filters, tuple(stages), layer["top_conv"].filters)


@pytest.mark.parametrize("key", KEYS)
def test_counts_configs_and_layout_equal_keras_at_the_default_size(key):
    layout, width, depth, resolution, _ = KERAS_VARIANTS[key]
    ours_fn, reference_fn = REFERENCES[key]
    with structure_only():
        ours, reference = ours_fn(), reference_fn(weights=None)
        counts = (ours.count_params(), reference.count_params())
        assert counts == (PARAMS[key], PARAMS[key]), (
            f"EfficientNetV2-{key}: parameters (ours, Keras's) {counts}, expected "
            f"{PARAMS[key]:,} for both. Hint: a wrong channel count or a missing bias.")
        assert round(PARAMS[key] / 1e6, 1) == DOCS_MILLIONS[key]
        assert ours.name == reference.name == f"efficientnetv2-{key}"
        assert ours.input_shape == reference.input_shape == (None, resolution, resolution, 3)
        # Every layer's options: momentum 0.9 and epsilon, strides, paddings, initializers,
        # stochastic-depth rates and noise shapes, the preprocessing's statistics.
        for mine, theirs in zip(ours.layers[1:], reference.layers[1:], strict=True):
            assert layer_config(mine) == layer_config(theirs), (
                f"{mine.name}: its configuration differs from Keras's {theirs.name}")
        assert reference.get_layer("top_dropout").rate == 0.2  # every variant, in Keras
        # The stages read off both models: the configuration, scaled.
        expected = scale_layout(layout, width, depth)
        for model in (ours, reference):
            assert _read_layout(model) == expected, (
                f"{model.name}: the stages read off the model differ from "
                f"scale_layout(LAYOUTS, {width}, {depth})")
        # Keras's stochastic-depth rate: block b of n drops with 0.2 * b over the number of
        # blocks *before* depth scaling, so B1 to B3's last blocks go past 0.2.
        blocks = sum(stage.repeats for stage in expected.stages)
        unscaled = sum(stage.repeats for stage in layout.stages)
        stages = expected.stages
        last = reference.get_layer(f"block{len(stages)}{chr(ord('a') + stages[-1].repeats - 1)}"
                                   f"_drop")
        assert last.rate == pytest.approx(0.2 * (blocks - 1) / unscaled), (
            f"{last.name}: rate {last.rate}, expected 0.2 * {blocks - 1} / {unscaled}")
        assert ours.get_layer(last.name).rate == last.rate


def test_the_layouts_are_table_4_and_keras_block_arguments():
    # Table 4, EfficientNetV2-S: (operator, stride, channels, layers) after the 3x3 stem
    # of 24 channels; all kernels 3x3; SE 0.25 in the MBConv stages.
    table_4 = [("Fused-MBConv1", 1, 24, 2), ("Fused-MBConv4", 2, 48, 4),
               ("Fused-MBConv4", 2, 64, 4), ("MBConv4", 2, 128, 6),
               ("MBConv6", 1, 160, 9), ("MBConv6", 2, 256, 15)]
    s = LAYOUTS["s"]
    assert (s.stem_filters, s.top_filters) == (24, 1280)
    assert [(f"{'Fused-' if st.fused else ''}MBConv{st.expand_ratio}", st.strides,
             st.filters, st.repeats) for st in s.stages] == table_4
    assert {(st.kernel_size, st.se_ratio) for st in s.stages if st.fused} == {(3, 0.0)}
    assert {(st.kernel_size, st.se_ratio) for st in s.stages if not st.fused} == {(3, 0.25)}
    # Keras's own block arguments, stage by stage.
    for key in KEYS:
        keras_args = DEFAULT_BLOCKS_ARGS[f"efficientnetv2-{key}"]
        assert _keras_blocks_args(KERAS_VARIANTS[key].layout) == keras_args, key
    # B1 to B3 are B0 scaled, as EfficientNet v1's B1 to B3 (same coefficients and sizes).
    for key in ("b1", "b2", "b3"):
        _, width, depth, resolution, _ = KERAS_VARIANTS[key]
        assert (width, depth, resolution) == v1.KERAS_COEFFICIENTS[key][:3]


def test_the_rounding_rules():
    b3 = scale_layout(LAYOUTS["b0"], 1.2, 1.4)
    assert (b3.stem_filters, b3.top_filters) == (40, 1536)
    assert [s.filters for s in b3.stages] == [16, 40, 56, 112, 136, 232]
    assert [s.repeats for s in b3.stages] == [2, 3, 3, 5, 7, 12]
    assert round_repeats is v1.round_repeats  # v1's rule, rounded up: reused
    # v2 rounds to the nearest multiple of 8 without v1's "never 10% down" guard.
    assert round_filters(32, 1.12) == 32 and v1.round_filters(32, 1.12) == 40
    assert round_filters(16, 0.25) == 8  # at least 8
    # In the released variants the two rules part once: B3's first stage (16 x 1.2 = 19.2)
    # keeps 16 channels, as in Keras's B3 (above); v1's rule would give 24.
    parted = [(key, filters, round_filters(filters, width), v1.round_filters(filters, width))
              for key, (layout, width, *_) in KERAS_VARIANTS.items()
              for filters in (layout.stem_filters, layout.top_filters,
                              *(s.filters for s in layout.stages))
              if round_filters(filters, width) != v1.round_filters(filters, width)]
    assert parted == [("b3", 16, 16, 24)], (
        f"(variant, channels, v2's rule, v1's rule) where the rules differ: {parted}")


def test_the_preprocessing():
    pixels = np.array([0.0, 127.5, 255.0], dtype="float32")
    x = np.broadcast_to(pixels, (1, 2, 2, 3)).copy()
    inputs = keras.Input((2, 2, 3))
    standardised = keras.Model(inputs, preprocessing(inputs, imagenet_statistics=True))
    assert standardised.count_params() == 0  # fixed statistics, unlike v1's weights
    expected = (pixels / 255 - np.array(v1.IMAGENET_MEAN)) / np.sqrt(v1.IMAGENET_VARIANCE)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(standardised(x))[0, 0, 0],
                               expected, rtol=1e-5)
    # S, M and L, and any image without 3 channels: x / 128 - 1, from -1 up to 0.992.
    for channels, statistics in ((3, False), (1, True)):
        inputs = keras.Input((2, 2, channels))
        rescaled = keras.Model(inputs, preprocessing(inputs, imagenet_statistics=statistics))
        assert [layer.name for layer in rescaled.layers[1:]] == ["rescaling"]
        got = keras.ops.convert_to_numpy(rescaled(x[..., :channels]))[0, 0, 0]
        np.testing.assert_allclose(got, (pixels / 128 - 1)[:channels], rtol=1e-6)


def test_the_two_blocks():
    inputs = keras.Input((8, 8, 48))

    def names_and_params(outputs):
        block = keras.Model(inputs, outputs)
        return [x.name for x in block.layers[1:]], block.count_params()

    # Fused-MBConv1: one 3x3 convolution, batch norm, activation; then the residual.
    names, _ = names_and_params(fused_mbconv_block(inputs, 48, "f_", expand_ratio=1,
                                                   drop_rate=0.1))
    assert names == ["f_project_conv", "f_project_bn", "f_project_activation", "f_drop",
                     "f_add"]
    # Fused-MBConv4 with stride 2: a strided 3x3 expansion, a 1x1 projection, no residual.
    fused = fused_mbconv_block(inputs, 64, "g_", strides=2)
    assert names_and_params(fused)[0] == ["g_expand_conv", "g_expand_bn",
                                          "g_expand_activation", "g_project_conv",
                                          "g_project_bn"]
    assert tuple(fused.shape) == (None, 4, 4, 64)
    # MBConv4 with SE: 1x1 expansion, depthwise 3x3, squeeze-and-excitation, projection.
    names, mbconv = names_and_params(mbconv_block(inputs, 48, "m_"))
    assert names == ["m_expand_conv", "m_expand_bn", "m_expand_activation", "m_dwconv2",
                     "m_bn", "m_activation", "m_se_squeeze", "m_se_reshape", "m_se_reduce",
                     "m_se_expand", "m_se_excite", "m_project_conv", "m_project_bn", "m_add"]
    # Weights (batch norm: 4 per channel; SE squeezes to a quarter of the 48 inputs).
    assert mbconv == (48 * 192 + 4 * 192 + 9 * 192 + 4 * 192 + (192 * 12 + 12)
                      + (12 * 192 + 192) + 192 * 48 + 4 * 48)
    # The price of fusing: the 3x3 expansion has 9 times the 1x1's weights, so the fused
    # block holds 3.5 times the MBConv's; where the maps are large (the early stages) it
    # still runs faster on accelerators than the depthwise convolution (section 3.2).
    _, fused4 = names_and_params(fused_mbconv_block(inputs, 48, "h_"))
    assert fused4 == 9 * 48 * 192 + 4 * 192 + 192 * 48 + 4 * 48
    assert fused4 > 3 * mbconv


def _stage(**changes):
    return LAYOUTS["s"]._replace(stages=(LAYOUTS["s"].stages[0]._replace(**changes),))


BAD = [
    (efficientnet_v2_b0, {"input_shape": (31, 64, 3)}, ValueError, "input_shape"),
    (efficientnet_v2_m, {"include_top": False, "pooling": "mean"}, ValueError, "pooling"),
    (efficientnet_v2_l, {"classes": 0}, ValueError, "classes"),
    (efficientnet_v2_s, {"include_preprocessing": "yes"}, TypeError, "include_preprocessing"),
    (efficientnet_v2, {"imagenet_statistics": 1}, TypeError, "imagenet_statistics"),
    (efficientnet_v2, {"width": 0}, ValueError, "width"),
    (efficientnet_v2, {"depth": -1.0}, ValueError, "depth"),
    (efficientnet_v2, {"resolution": 16}, ValueError, "resolution"),
    (efficientnet_v2, {"dropout": 1.0}, ValueError, "dropout"),
    # 6 times deeper: the last block's stochastic-depth rate would pass 1
    (efficientnet_v2, {"depth": 6.0}, ValueError, "drop_connect_rate"),
    (efficientnet_v2, {"layout": LAYOUTS["s"].stages}, ValueError, "layout"),
    (efficientnet_v2, {"layout": Layout(24, ())}, ValueError, "layout"),
    (efficientnet_v2, {"layout": _stage(repeats=0)}, ValueError, "repeats"),
    (efficientnet_v2, {"layout": _stage(strides=3)}, ValueError, "strides"),
    (efficientnet_v2, {"layout": _stage(se_ratio=1.5)}, ValueError, "se_ratio"),
    (round_filters, {"filters": 32, "width": "wide"}, ValueError, "width"),
    (scale_layout, {"layout": LAYOUTS["b0"], "depth": 0}, ValueError, "depth"),
]


@pytest.mark.parametrize("function, kwargs, error, argument", BAD,
                         ids=[f"{f.__name__}-{a}-{i}" for i, (f, _, _, a) in enumerate(BAD)])
def test_bad_values_are_explained(function, kwargs, error, argument):
    with pytest.raises(error, match=argument) as raised:
        function(**kwargs)
    assert "got" in str(raised.value) and "Hint:" in str(raised.value)
