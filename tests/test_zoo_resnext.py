"""ResNeXt, proven (Keras has no twin): the parameter counts of torchvision's ResNeXt-50
32x4d, ResNeXt-101 32x8d and 64x4d to the parameter, the multiply-adds of the paper's Table 1
(and the authors' or torchvision's) within 5%, the grouped convolution's MACs counted by hand,
ResNeXt with one path being ResNet-50 (stride on the 3x3) layer for layer, and the three
forms of Figure 3 computing one function once they share their weights."""

import keras
import numpy as np
import pytest

from course_utils.inspection import IDENTITY_COLUMNS, layer_table, structure_only
from course_utils.transfer import count_weights
from course_utils.zoo.resnet import bottleneck_block, resnet
from course_utils.zoo.resnext import (
    aggregated_form,
    concatenated_form,
    copy_grouped_weights,
    figure3_forms,
    grouped_form,
    resnext,
    resnext50_32x4d,
    resnext101_32x8d,
)


def _trainable(model):
    return count_weights(model)["trainable"]


def _macs(model):
    return layer_table(model).attrs["totals"]["macs"]


def _numpy(x):
    return keras.ops.convert_to_numpy(x)


# torchvision's num_params and "GFLOPS" (multiply-adds) at 224x224; the paper's Table 1
# (ResNeXt-50 32x4d: 4.2e9) and the authors' README (ResNeXt-101 64x4d: ~15.6e9, twice
# ResNet-101's cost) where they have the net; ResNeXt-101 32x8d is torchvision's alone.
NETWORKS = {
    "resnext50_32x4d": (resnext50_32x4d, 25_028_904, 4.2),
    "resnext101_32x8d": (resnext101_32x8d, 88_791_336, 16.41),  # not in the paper
    "resnext101_64x4d": (lambda: resnext(101, cardinality=64, bottleneck_width=4),
                         83_455_272, 15.6),
}


@pytest.mark.parametrize("network", NETWORKS)
def test_parameters_are_torchvisions_and_multiply_adds_the_papers(network):
    build, torchvision, gmacs = NETWORKS[network]
    with structure_only():
        model = build()
        trainable, total, macs = _trainable(model), model.count_params(), _macs(model)
        batch_norms = [layer for layer in model.layers
                       if isinstance(layer, keras.layers.BatchNormalization)]
        convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert trainable == torchvision, (
        f"{network}: {trainable:,} trainable parameters, torchvision has {torchvision:,}. "
        f"Hint: bias-free convolutions, and the inner width C * d * filters / 64.")
    # The moving mean and variance are weights in Keras, buffers in torchvision.
    assert total == torchvision + sum(2 * bn.gamma.shape[0] for bn in batch_norms)
    assert not any(conv.use_bias for conv in convs)
    assert macs / 1e9 == pytest.approx(gmacs, rel=0.05), (
        f"{network}: {macs / 1e9:.2f} billion multiply-adds at 224x224, expected {gmacs} "
        f"(within 5%)")


def test_table_1_resnext50_against_resnet50():
    """Table 1: the same stages and shapes as ResNet-50, conv2's blocks
    [1x1, 128; 3x3, 128, C=32; 1x1, 256], the widths doubling stage by stage, about the
    same cost: 25.0M parameters and 4.2 GFLOPs against ResNet-50's 25.5M and 4.1."""
    with structure_only():
        model = resnext50_32x4d()
        baseline = resnet(50, use_bias=False, stride_on="3x3")  # the paper's ResNet-50
        for stage, (size, width, out) in enumerate(
                [(56, 128, 256), (28, 256, 512), (14, 512, 1024), (7, 1024, 2048)], start=2):
            first, grouped, last = (model.get_layer(f"conv{stage}_block1_{i}_conv")
                                    for i in (1, 2, 3))
            assert (first.filters, grouped.filters, grouped.groups, last.filters) == (
                width, width, 32, out), f"conv{stage}"
            assert grouped.kernel.shape == (3, 3, width // 32, width)  # each path sees d
            assert tuple(last.output.shape[1:]) == (size, size, out)
            # The stride sits on the 3x3 (fb.resnet.torch, the authors' code, torchvision).
            assert first.strides == (1, 1)
            assert grouped.strides == ((2, 2) if stage > 2 else (1, 1))
        ours, theirs = _macs(model), _macs(baseline)
        assert _trainable(baseline) == 25_557_032
    assert theirs / 1e9 == pytest.approx(4.1, rel=0.05)
    assert ours / 1e9 == pytest.approx(4.2, rel=0.05)
    assert theirs < ours < 1.05 * theirs  # "similar complexity"


def test_the_grouped_convolution_counts_its_groups():
    """conv2_block1_2_conv by hand: 56x56 outputs, 128 filters, each 3x3 over the d = 4
    channels of its own group, not all 128; 32 times fewer than an ordinary 3x3."""
    with structure_only():
        table = layer_table(resnext50_32x4d()).set_index("layer")
    row = table.loc["conv2_block1_2_conv"]
    assert row["macs"] == 56 * 56 * 128 * 3 * 3 * 4 == 14_450_688
    assert row["params"] == 3 * 3 * 4 * 128
    assert row["type"] == "Conv2D"


def test_one_path_of_64_is_resnet50_with_the_stride_on_the_3x3():
    """Cardinality 1, width 64: the ResNeXt block is ResNet's bottleneck block, so the
    networks' layer tables agree row for row (names, types, shapes, parameters, MACs)."""
    with structure_only():  # each in a fresh session, as both input layers are unnamed
        ours = layer_table(resnext(50, cardinality=1, bottleneck_width=64))
    with structure_only():
        theirs = layer_table(resnet(50, use_bias=False, stride_on="3x3"))
    ours, theirs = (t[IDENTITY_COLUMNS].reset_index(drop=True) for t in (ours, theirs))
    assert ours.equals(theirs)


def test_runs_on_small_inputs():
    model = resnext50_32x4d(input_shape=(32, 32, 3), classes=5)
    assert model.name == "resnext50_32x4d" and model.output_shape == (None, 5)
    images = np.random.default_rng(0).uniform(0, 255, size=(2, 32, 32, 3)).astype("float32")
    probabilities = _numpy(model(images, training=False))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    with structure_only():
        features = resnext50_32x4d(include_top=False, input_shape=(45, 77, 1), pooling="avg")
        maps = resnext(50, cardinality=8, bottleneck_width=2, include_top=False)
    assert features.output_shape == (None, 2048)
    assert maps.input_shape == (None, None, None, 3) and maps.output_shape[-1] == 2048
    assert maps.get_layer("conv5_block3_2_conv").filters == 8 * 2 * 8  # C * d * 512 / 64


FORMS = [(32, 4, (6, 7, 256)), (4, 3, (5, 5, 10))]  # Figure 3's block, and a small one


@pytest.mark.parametrize("cardinality, bottleneck_width, shape", FORMS,
                         ids=[f"{c}x{d}d-{s[-1]}" for c, d, s in FORMS])
def test_the_three_forms_of_figure_3_compute_the_same_function(cardinality, bottleneck_width,
                                                                shape):
    a, b, c = figure3_forms(shape, cardinality=cardinality, bottleneck_width=bottleneck_width)
    assert a.input is b.input is c.input
    # The same parameters and multiply-adds in three different layouts.
    assert a.count_params() == b.count_params() == c.count_params()
    channels, d = shape[-1], bottleneck_width
    assert c.count_params() == cardinality * (channels * d + 9 * d * d + d * channels)
    assert _macs(a) == _macs(b) == _macs(c)
    convs = [sum(isinstance(layer, keras.layers.Conv2D) for layer in m.layers)
             for m in (a, b, c)]
    assert convs == [3 * cardinality, 2 * cardinality + 1, 3]

    x = np.random.default_rng(1).normal(size=(3, *shape)).astype("float32")
    expected = _numpy(c(x))
    assert not np.allclose(_numpy(a(x)), expected, atol=1e-3)  # their own random weights
    copy_grouped_weights(c, a)
    copy_grouped_weights(c, b)
    scale = np.abs(expected).max()
    for form in (a, b):
        np.testing.assert_allclose(_numpy(form(x)), expected, rtol=1e-5, atol=1e-5 * scale,
                                   err_msg=f"{form.name} differs from the grouped form")


def test_copying_between_forms_that_do_not_match_is_explained():
    x = keras.Input((4, 4, 16))
    grouped = grouped_form(x, 4, 2)
    with pytest.raises(ValueError, match="same cardinality.*4 groups of 2.*8 paths.*"
                                         "figure3_forms"):
        copy_grouped_weights(grouped, aggregated_form(x, 8, 2))
    with pytest.raises(ValueError, match="same cardinality.*4 groups of 2.*4 paths of 3"):
        copy_grouped_weights(grouped, concatenated_form(x, 4, 3))
    with pytest.raises(ValueError, match="grouped must be a model from grouped_form"):
        copy_grouped_weights(aggregated_form(x, 4, 2), grouped)
    with pytest.raises(ValueError, match="target must be a model from aggregated_form"):
        copy_grouped_weights(grouped, grouped_form(x, 4, 2, name="other"))


def test_wrong_arguments_are_explained():
    with pytest.raises(ValueError, match="depth must be one of \\[50, 101, 152\\].*34.*Hint"):
        resnext(34)
    with pytest.raises(ValueError, match="cardinality must be a whole number.*got 0"):
        resnext(50, cardinality=0)
    with pytest.raises(ValueError, match="bottleneck_width must be .*got 2.5"):
        resnext(50, bottleneck_width=2.5)
    with pytest.raises(ValueError, match="pooling"):
        resnext50_32x4d(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="at least 32x32"):
        resnext101_32x8d(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="groups must divide.*width=12, groups=8"):
        bottleneck_block(keras.Input((8, 8, 16)), 4, width=12, groups=8)
    with pytest.raises(ValueError, match="cardinality"):
        grouped_form(keras.Input((4, 4, 8)), -1)
