"""RegNet, proven against what was published (Keras 3 has no RegNet to compare with layer
for layer): the stages section 3.3's rule generates equal tf.keras 2.x's table of all 24
models; the parameter counts equal torchvision's exactly for its 14 models (with its
rounding of widths to the group width) and pycls's model zoo (the paper's released models)
for all 24; the layer table's MACs are the paper's FLOPs within 5%; the blocks are wired
as section 4 says (grouped 3x3 convolutions, the shortcut, the squeeze-and-excitation
width); small inputs run; wrong numbers are explained."""

import keras
import numpy as np
import pytest
from reference_identity import built_then_drawn

from course_utils.inspection import layer_table, structure_only
from course_utils.transfer import count_weights
from course_utils.zoo import regnet as regnet_module
from course_utils.zoo.regnet import (
    DESIGNS,
    Stage,
    linear_widths,
    paper_name,
    regnet,
    regnet_block,
    regnet_widths,
    regnetx_002,
    regnety_002,
    regnety_004,
)

KEYS = list(DESIGNS)


def builder(key):
    """``regnetx_016`` for ``"x016"``."""
    return getattr(regnet_module, f"regnet{key[0]}_{key[1:]}")


# tf.keras 2.x's keras/applications/regnet.py MODEL_CONFIGS: (widths, depths, group_width).
TF_KERAS = {
    "x002": ((24, 56, 152, 368), (1, 1, 4, 7), 8),
    "x004": ((32, 64, 160, 384), (1, 2, 7, 12), 16),
    "x006": ((48, 96, 240, 528), (1, 3, 5, 7), 24),
    "x008": ((64, 128, 288, 672), (1, 3, 7, 5), 16),
    "x016": ((72, 168, 408, 912), (2, 4, 10, 2), 24),
    "x032": ((96, 192, 432, 1008), (2, 6, 15, 2), 48),
    "x040": ((80, 240, 560, 1360), (2, 5, 14, 2), 40),
    "x064": ((168, 392, 784, 1624), (2, 4, 10, 1), 56),
    "x080": ((80, 240, 720, 1920), (2, 5, 15, 1), 120),
    "x120": ((224, 448, 896, 2240), (2, 5, 11, 1), 112),
    "x160": ((256, 512, 896, 2048), (2, 6, 13, 1), 128),
    "x320": ((336, 672, 1344, 2520), (2, 7, 13, 1), 168),
    "y002": ((24, 56, 152, 368), (1, 1, 4, 7), 8),
    "y004": ((48, 104, 208, 440), (1, 3, 6, 6), 8),
    "y006": ((48, 112, 256, 608), (1, 3, 7, 4), 16),
    "y008": ((64, 128, 320, 768), (1, 3, 8, 2), 16),
    "y016": ((48, 120, 336, 888), (2, 6, 17, 2), 24),
    "y032": ((72, 216, 576, 1512), (2, 5, 13, 1), 24),
    "y040": ((128, 192, 512, 1088), (2, 6, 12, 2), 64),
    "y064": ((144, 288, 576, 1296), (2, 7, 14, 2), 72),
    "y080": ((168, 448, 896, 2016), (2, 4, 10, 1), 56),
    "y120": ((224, 448, 896, 2240), (2, 5, 11, 1), 112),
    "y160": ((224, 448, 1232, 3024), (2, 4, 11, 1), 112),
    "y320": ((232, 696, 1392, 3712), (2, 5, 12, 1), 232),
}
# torchvision.models.regnet_*: num_params of its weights (BN running statistics are
# buffers there, not parameters: compared with our trainable weights).
TORCHVISION = {"x004": 5_495_976, "x008": 7_259_656, "x016": 9_190_136, "x032": 15_296_552,
               "x080": 39_572_648, "x160": 54_278_536, "x320": 107_811_560,
               "y004": 4_344_144, "y008": 6_432_512, "y016": 11_202_430, "y032": 19_436_338,
               "y080": 39_381_472, "y160": 83_590_140, "y320": 145_046_770}
# pycls's MODEL_ZOO.md (the paper's models as released): (GFLOPs, million parameters).
PYCLS = {"x002": (0.2, 2.7), "x004": (0.4, 5.2), "x006": (0.6, 6.2), "x008": (0.8, 7.3),
         "x016": (1.6, 9.2), "x032": (3.2, 15.3), "x040": (4.0, 22.1), "x064": (6.5, 26.2),
         "x080": (8.0, 39.6), "x120": (12.1, 46.1), "x160": (15.9, 54.3),
         "x320": (31.7, 107.8), "y002": (0.2, 3.2), "y004": (0.4, 4.3), "y006": (0.6, 6.1),
         "y008": (0.8, 6.3), "y016": (1.6, 11.2), "y032": (3.2, 19.4), "y040": (4.0, 20.6),
         "y064": (6.4, 30.6), "y080": (8.0, 39.2), "y120": (12.1, 51.8),
         "y160": (15.9, 83.6), "y320": (32.3, 145.0)}
# Where torchvision's rounding to the group width gives other widths than the paper's.
TORCHVISION_WIDTHS = {"x004": (32, 64, 160, 400), "y008": (64, 144, 320, 784),
                      "y080": (224, 448, 896, 2016)}
# The models whose MACs are counted (the layer table costs about a second each).
MACS_CHECKED = ("x002", "x016", "x320", "y004", "y032", "y160")


def trainable(model):
    """The number of trainable weights (what PyTorch counts as parameters)."""
    return count_weights(model)["trainable"]


def test_section_3_3_by_hand_for_regnetx_200mf():
    """d = 13, w0 = 24, wa = 36.44, wm = 2.49: u_1 = 60.44 is 24 * 2.49**1.012, rounded
    to 24 * 2.49 = 59.8, then to 56 (a multiple of 8); u_2 = 96.88 is 24 * 2.49**1.53,
    rounded to 24 * 2.49**2 = 148.8, then 152."""
    line = linear_widths(13, 24, 36.44, 2.49)
    np.testing.assert_allclose(line.continuous[:3], [24, 60.44, 96.88])
    np.testing.assert_allclose(line.exponents[:3], [0, 1.0124, 1.5296], atol=1e-4)
    assert line.quantized.tolist() == [24, 56] + [152] * 4 + [368] * 7
    assert regnet_widths(13, 24, 36.44, 2.49, 8) == (
        Stage(24, 1, 8), Stage(56, 1, 8), Stage(152, 4, 8), Stage(368, 7, 8))


@pytest.mark.parametrize("key", KEYS)
def test_the_rule_gives_tf_keras_stages(key):
    design = DESIGNS[key]
    stages = regnet_widths(*design[:5])
    widths, depths, group_width = TF_KERAS[key]
    assert tuple(s.width for s in stages) == widths, (
        f"{paper_name(key)}: section 3.3's rule gave widths {[s.width for s in stages]}, "
        f"tf.keras's table says {widths}. Hint: round s_j, then w0 * wm**s_j to a multiple "
        f"of 8, then each width to a multiple of the group width (pycls: to the nearest).")
    assert tuple(s.depth for s in stages) == depths, (
        f"{paper_name(key)}: blocks per stage {[s.depth for s in stages]}, tf.keras's "
        f"table says {depths}. Hint: a stage is the run of blocks of one width.")
    assert design.group_width == group_width
    assert sum(depths) == design.depth
    # A stage narrower than g gets groups of its whole width: RegNetX-8.0GF's first stage
    # (80 channels, g = 120) is one group, where tf.keras's table keeps 120.
    assert [s.group_width for s in stages] == [min(group_width, w) for w in widths]
    for stage in stages:
        assert stage.width % 8 == 0 and stage.width % stage.group_width == 0


def test_where_torchvision_rounds_otherwise():
    """pycls rounds 392 / 16 = 24.5 to 24 (halves to even): RegNetX-400MF ends in 384
    channels; torchvision rounds it up to 400, so its regnet_x_400mf is (32, 64, 160, 400),
    not the paper's (32, 64, 160, 384)."""
    for key in TORCHVISION:
        design = DESIGNS[key]
        ours = [s.width for s in regnet_widths(*design[:5], rounding="torchvision")]
        expected = TORCHVISION_WIDTHS.get(key, TF_KERAS[key][0])
        assert tuple(ours) == expected, (
            f"{paper_name(key)}: rounding='torchvision' gave {tuple(ours)}, torchvision's "
            f"model has {expected}. Hint: halves round up and never more than 10% down.")
    assert regnet_widths(22, 24, 24.48, 2.54, 16)[-1] == Stage(384, 12, 16)
    assert regnet_widths(22, 24, 24.48, 2.54, 16, rounding="torchvision")[-1] == Stage(
        400, 12, 16)


@pytest.mark.parametrize("key", KEYS)
def test_parameter_counts_and_macs_equal_the_published_ones(key):
    build = builder(key)
    flops, millions = PYCLS[key]
    keras.backend.clear_session()
    with structure_only():
        model = build()
        params = trainable(model)
        assert model.name == f"regnet{key}" and model.input_shape == (None, 224, 224, 3)
        assert round(params / 1e6, 1) == millions, (
            f"{paper_name(key)} has {params:,} trainable parameters; pycls's model zoo says "
            f"{millions}M")
        # Keras counts the batch norms' moving mean and variance too: 2 per channel.
        moving = count_weights(model)["frozen"]
        assert model.count_params() == params + moving
        if key in MACS_CHECKED:
            macs = layer_table(model).attrs["totals"]["macs"]
            nominal = int(key[1:]) / 10  # the name: hundreds of MF
            for reference in (flops, nominal):
                assert macs / 1e9 == pytest.approx(reference, rel=0.05), (
                    f"{paper_name(key)}: {macs / 1e9:.3f} GMACs in the layer table, the "
                    f"paper's FLOPs (multiply-adds) are {reference}G")
    if key not in TORCHVISION:
        return
    if key in TORCHVISION_WIDTHS:
        keras.backend.clear_session()
        with structure_only():
            params = trainable(build(rounding="torchvision"))
    else:  # the same widths either way: the same network
        design = DESIGNS[key]
        assert regnet_widths(*design[:5]) == regnet_widths(*design[:5], rounding="torchvision")
    assert params == TORCHVISION[key], (
        f"{paper_name(key)}: {params:,} parameters, torchvision's has {TORCHVISION[key]:,}. "
        f"Hint: its SE squeeze is round(0.25 * the block's input width).")


def test_names_groups_and_the_squeeze_width():
    keras.backend.clear_session()
    with structure_only():
        model = regnety_004()
        names = {layer.name for layer in model.layers}
        for name in ("regnety004_prestem_rescaling", "regnety004_stem_conv",
                     "regnety004_Stage_0_YBlock_0_skip_1x1",
                     "regnety004_Stage_0_YBlock_0_squeeze_and_excite_excite",
                     "regnety004_Stage_3_YBlock_5_exit_relu", "avg_pool", "predictions"):
            assert name in names, f"no layer {name!r}"
        assert "regnety004_Stage_3_YBlock_6_exit_relu" not in names  # 6 blocks: 0 to 5
        assert "regnety004_Stage_1_YBlock_1_skip_1x1" not in names  # identity shortcut
        # The squeeze is a quarter of the block's *input*: 32 channels from the stem, then
        # 48 within stage 0, 48 into stage 1, 104 within it.
        squeeze = {(stage, block): model.get_layer(
            f"regnety004_Stage_{stage}_YBlock_{block}_squeeze_and_excite_squeeze").filters
            for stage, block in ((0, 0), (1, 0), (1, 1))}
        assert squeeze == {(0, 0): 8, (1, 0): 12, (1, 1): 26}
        conv = model.get_layer("regnety004_Stage_3_YBlock_0_conv_3x3")
        assert (conv.filters, conv.groups, conv.strides) == (440, 55, (2, 2))  # 440 / 8
        table = layer_table(model).set_index("layer")
        # A grouped 3x3 convolution: each output sees g = 8 channels, not all 440.
        assert table.loc["regnety004_Stage_3_YBlock_0_conv_3x3", "macs"] == 7 * 7 * 440 * 9 * 8
        assert table.loc["regnety004_Stage_3_YBlock_0_conv_3x3", "params"] == 440 * 9 * 8
    keras.backend.clear_session()
    with structure_only():
        plain = regnetx_002(include_top=False, include_preprocessing=False)
        assert plain.layers[1].name == "regnetx002_stem_conv"
        assert not any("squeeze" in layer.name for layer in plain.layers)
        assert plain.output_shape == (None, None, None, 368)


def test_small_inputs_run_and_rescaling_is_the_only_preprocessing():
    keras.backend.clear_session()
    kwargs = {"input_shape": (64, 48, 3), "classes": 5}
    with_rescaling = built_then_drawn(regnety_002, **kwargs)
    without = built_then_drawn(regnety_002, include_preprocessing=False, **kwargs)
    without.set_weights(with_rescaling.get_weights())
    pixels = np.random.default_rng(0).uniform(0, 255, size=(2, 64, 48, 3)).astype("float32")
    probabilities = keras.ops.convert_to_numpy(with_rescaling(pixels))
    assert probabilities.shape == (2, 5)
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(without(pixels / 255)),
                               probabilities, rtol=1e-5, atol=1e-6)
    keras.backend.clear_session()
    features = built_then_drawn(regnetx_002, include_top=False, input_shape=(33, 40, 1),
                                pooling="max")
    assert features(np.ones((1, 33, 40, 1), "float32")).shape == (1, 368)
    # A RegNet of one's own: d = 6, w0 = 16, wa = 12, wm = 2 gives 16, 32, 32, 64, 64, 64.
    assert regnet_widths(6, 16, 12, 2.0, 8) == (Stage(16, 1, 8), Stage(32, 2, 8),
                                                Stage(64, 3, 8))
    maps = built_then_drawn(regnet, 6, w0=16, wa=12, wm=2.0, group_width=8, include_top=False,
                            input_shape=(32, 32, 3))
    names = {layer.name for layer in maps.layers}
    assert "regnet_Stage_2_XBlock_2_exit_relu" in names
    assert not any(name.startswith("regnet_Stage_3") for name in names)
    assert maps.output_shape == (None, 2, 2, 64)  # the stem and three stages: 32 / 16


BAD = [
    (regnet_widths, (13, 20, 36.44, 2.49, 8), {}, "w0"),
    (regnet_widths, (13, 24, -1.0, 2.49, 8), {}, "wa"),
    (regnet_widths, (13, 24, 36.44, 1.0, 8), {}, "wm"),
    (regnet_widths, (0, 24, 36.44, 2.49, 8), {}, "depth"),
    (regnet_widths, (13, 24, 36.44, 2.49, 0), {}, "group_width"),
    (regnet_widths, (13, 24, 36.44, 2.49, 8, 0.0), {}, "bottleneck_ratio"),
    (regnet_widths, (13, 24, 36.44, 2.49, 8), {"rounding": "up"}, "rounding"),
    (linear_widths, (13, 24, 36.44, 2.49, 0), {}, "quantum"),
    (regnet, (), {"se_ratio": 2}, "se_ratio"),
    (regnet, (), {"wm": 0.5}, "wm"),
    (regnety_002, (), {"input_shape": (16, 64, 3)}, "input_shape"),
    (regnetx_002, (), {"classes": 0}, "classes"),
    (regnetx_002, (), {"rounding": "ceil"}, "rounding"),
]


@pytest.mark.parametrize("function, args, kwargs, argument", BAD,
                         ids=[f"{f.__name__}-{a}" for f, _, _, a in BAD])
def test_bad_values_are_explained(function, args, kwargs, argument):
    keras.backend.clear_session()
    with pytest.raises(ValueError, match=argument) as raised:
        function(*args, **kwargs)
    assert "got" in str(raised.value) and "Hint:" in str(raised.value)


def test_a_group_width_that_does_not_divide_the_block_is_explained():
    keras.backend.clear_session()
    with pytest.raises(ValueError, match="group_width") as raised:
        regnet_block(keras.Input((8, 8, 24)), 24, 16, "b")
    assert "divisor of the bottleneck width 24" in str(raised.value)
