"""DenseNet, proven: DenseNet-121/169/201 (and the generic DenseNet of any four blocks) equal
to keras.applications layer for layer (names, types, shapes, parameters, configurations,
outputs), the parameter counts Keras's documentation gives, Table 1's layout (sizes and
depths), and the channel arithmetic of growth rate and compression (Huang et al. 2017,
section 3) equal to the shapes of the built networks."""

import keras
import numpy as np
import pytest
from keras.src.applications.densenet import DenseNet as KerasDenseNet
from reference_identity import assert_identical, layer_config

from course_utils.inspection import structure_only
from course_utils.zoo.densenet import (
    DEPTHS,
    Step,
    channels_after,
    conv_block,
    densenet,
    densenet121,
    densenet169,
    densenet201,
    parameter_count,
    transition_block,
    weighted_layers,
)

SMALL_BLOCKS = (2, 3, 4, 2)  # a DenseNet no one released: the generic builders, cheaply
REFERENCES = {
    "densenet121": (densenet121, keras.applications.DenseNet121),
    "densenet169": (densenet169, keras.applications.DenseNet169),
    "densenet201": (densenet201, keras.applications.DenseNet201),
    "generic": (lambda **kwargs: densenet(SMALL_BLOCKS, **kwargs),
                lambda **kwargs: KerasDenseNet(list(SMALL_BLOCKS), **kwargs)),
}
# keras.applications' documentation (the "Parameters" column), with the classifier.
KERAS_DOCS_PARAMS = {121: 8_062_504, 169: 14_307_880, 201: 20_242_984}
# Building DenseNet-201 with weights costs seconds: small inputs, each option once. The
# first variant of each network with an input shape of its own (the one the JAX and PyTorch
# runs sample) is 32x32x3 for all: JAX compiles each operation once per shape, and the
# three networks share most of theirs at one size.
VARIANTS = [
    ("densenet121", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"}),
    ("densenet121", {"include_top": False, "input_shape": (45, 77, 1), "pooling": "avg"}),
    ("densenet121", {"input_shape": (64, 64, 3), "classes": 10}),
    ("densenet169", {"input_shape": (32, 32, 3), "classifier_activation": None}),
    ("densenet169", {"include_top": False}),  # any size; run at 96x96
    ("densenet201", {"input_shape": (32, 32, 3), "classes": 5}),
    ("generic", {"input_shape": (32, 32, 3)}),
    ("generic", {"include_top": False, "input_shape": (40, 56, 3)}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


@pytest.mark.parametrize("depth", DEPTHS)
def test_counts_and_configs_equal_keras_at_the_default_size(depth):
    ours_fn, reference_fn = REFERENCES[f"densenet{depth}"]
    with structure_only():
        ours, reference = ours_fn(), reference_fn(weights=None)
        assert ours.count_params() == reference.count_params() == KERAS_DOCS_PARAMS[depth], (
            f"DenseNet-{depth}: {ours.count_params():,} parameters here, "
            f"{reference.count_params():,} in keras.applications, "
            f"{KERAS_DOCS_PARAMS[depth]:,} in Keras's documentation")
        assert ours.name == reference.name == f"densenet{depth}"
        assert ours.input_shape == reference.input_shape == (None, 224, 224, 3)
        # Every layer's options: epsilons, paddings, strides, biases, activations.
        for mine, theirs in zip(ours.layers[1:], reference.layers[1:], strict=True):
            assert layer_config(mine) == layer_config(theirs), (
                f"{mine.name}: its configuration differs from keras.applications'")
    # The hand count (test_other_growth_rates_... counts one without the classifier).
    assert parameter_count(DEPTHS[depth]) == KERAS_DOCS_PARAMS[depth]


def _channels(model, name):
    return model.get_layer(name).output.shape[-1]


def _side(model, name):
    return tuple(model.get_layer(name).output.shape[1:3])


@pytest.mark.parametrize("depth", DEPTHS)
def test_table_1_layout_and_the_channel_arithmetic(depth):
    """Table 1: 112 after the stem's convolution, 56 after its pooling and in dense block
    1, then 28, 14, 7, each transition halving the size; the depth in the name counts the
    convolutions and the classifier; the channels match channels_after step by step."""
    blocks = DEPTHS[depth]
    with structure_only():
        model = densenet(blocks, name=f"densenet{depth}")
        stem = (_side(model, "conv1_conv"), _side(model, "pool1"))
        assert stem == ((112, 112), (56, 56)), (
            f"DenseNet-{depth}: the stem's convolution and pooling give {stem}, Table 1 "
            f"112x112 and 56x56. Hint: 3 pixels of zeros before the 7x7 stride-2 "
            f"convolution, 1 before the 3x3 stride-2 pooling.")
        steps = channels_after(blocks)
        for step in steps:
            if step.name.startswith("conv"):
                n = blocks[int(step.name[4:]) - 2]
                first, last = f"{step.name}_block1_0_bn", f"{step.name}_block{n}_concat"
            else:
                first, last = f"{step.name}_bn", f"{step.name}_pool"
            got = (model.get_layer(first).input.shape[-1], _channels(model, last))
            assert got == (step.channels_in, step.channels_out), (
                f"DenseNet-{depth}, {step.name}: channels in and out {got} in the model, "
                f"{step[1:]} from channels_after. Hint: a dense block adds n * k channels, "
                f"a transition keeps floor(theta * m).")
        sides = [_side(model, f"conv{i}_block{blocks[i - 2]}_concat") for i in range(2, 6)]
        assert sides == [(56, 56), (28, 28), (14, 14), (7, 7)], (
            f"DenseNet-{depth}: dense blocks 1 to 4 at {sides}, Table 1 at 56, 28, 14, 7. "
            f"Hint: each transition ends in 2x2 average pooling with stride 2.")
        weighted = sum(isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
                       for layer in model.layers)
    assert weighted == weighted_layers(blocks) == depth, (
        f"DenseNet-{depth}: {weighted} convolutions and dense layers built, "
        f"weighted_layers says {weighted_layers(blocks)}. Hint: 1 stem convolution, 2 per "
        f"layer of a dense block, 1 per transition, 1 classifier.")
    # Table 1's columns share dense blocks 1 and 2; the features they end with differ.
    k = 32
    assert [s.channels_out for s in steps] == [
        64 + 6 * k, 128, 128 + 12 * k, 256, 256 + blocks[2] * k, 128 + blocks[2] * k // 2,
        {121: 1024, 169: 1664, 201: 1920}[depth]]


def test_channels_after_spells_out_growth_and_compression():
    assert channels_after(DEPTHS[121]) == (
        Step("conv2", 64, 256), Step("pool2", 256, 128), Step("conv3", 128, 512),
        Step("pool3", 512, 256), Step("conv4", 256, 1024), Step("pool4", 1024, 512),
        Step("conv5", 512, 1024))
    # DenseNet-BC for CIFAR, k = 12 with 2k = 24 stem channels: three blocks of 16 layers.
    assert [s.channels_out for s in channels_after((16, 16, 16), 12, 0.5, 24)] == [
        216, 108, 300, 150, 342]
    # Without compression (DenseNet-B) a transition keeps every channel; theta rounds down.
    assert channels_after((1, 1), 32, 1.0, 64)[1] == Step("pool2", 96, 96)
    assert channels_after((1, 1), 5, 0.3, 10)[1] == Step("pool2", 15, 4)


@pytest.mark.parametrize("options", [
    {"growth_rate": 12, "compression": 0.5},  # stem 2k = 24
    {"growth_rate": 7, "compression": 0.3, "stem_filters": 10, "input_shape": (40, 40, 1),
     "classes": 3},
    {"growth_rate": 32, "compression": 1.0, "include_top": False},
])
def test_other_growth_rates_and_compressions_build_what_the_arithmetic_says(options):
    """The generic builder with numbers Keras never uses: the helpers and the model agree."""
    blocks = (3, 2, 4)
    with structure_only():
        model = densenet(blocks, **options)
        stem = options.get("stem_filters", 2 * options["growth_rate"])
        steps = channels_after(blocks, options["growth_rate"], options["compression"], stem)
        assert _channels(model, "conv1_conv") == stem
        for step in steps:
            last = (f"{step.name}_pool" if step.name.startswith("pool")
                    else f"{step.name}_block{blocks[int(step.name[4:]) - 2]}_concat")
            assert _channels(model, last) == step.channels_out, step
        shape = options.get("input_shape", (224, 224, 3))
        expected = parameter_count(
            blocks, growth_rate=options["growth_rate"], compression=options["compression"],
            stem=stem, channels=shape[-1], classes=options.get("classes", 1000),
            include_top=options.get("include_top", True))
        assert model.count_params() == expected, (
            f"{options}: {model.count_params():,} parameters built, {expected:,} counted by "
            f"hand")


def test_a_dense_layer_passes_its_input_on_and_adds_k_maps():
    """Equation 2: a layer's output is its input with k new maps concatenated, so
    everything before it reaches every later layer unchanged."""
    inputs = keras.Input((6, 6, 10))
    block = keras.Model(inputs, conv_block(inputs, 4, "t"))
    assert [layer.name for layer in block.layers[1:]] == [
        "t_0_bn", "t_0_relu", "t_1_conv", "t_1_bn", "t_1_relu", "t_2_conv", "t_concat"]
    assert block.get_layer("t_1_conv").filters == 16  # the bottleneck: 4k
    assert block.output.shape[-1] == 14
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 10)).astype("float32")
    y = keras.ops.convert_to_numpy(block(x))
    np.testing.assert_array_equal(y[..., :10], x)
    inputs = keras.Input((9, 9, 7))
    out = transition_block(inputs, 0.5, "t")
    assert tuple(out.shape[1:]) == (4, 4, 3)  # floor(9 / 2) pixels, floor(7 * 0.5) maps


BAD = [
    (densenet, {"blocks": 121}, "blocks"),
    (densenet, {"blocks": (6, 0, 24, 16)}, "blocks"),
    (densenet, {"blocks": ()}, "blocks"),
    (densenet, {"blocks": (6, 12.5, 24, 16)}, "blocks"),
    (densenet, {"blocks": (2, 2), "growth_rate": 0}, "growth_rate"),
    (densenet, {"blocks": (2, 2), "growth_rate": 12.0}, "growth_rate"),
    (densenet, {"blocks": (2, 2), "compression": 0}, "compression"),
    (densenet, {"blocks": (2, 2), "compression": 1.5}, "compression"),
    (densenet, {"blocks": (2, 2), "stem_filters": -4}, "stem_filters"),
    (channels_after, {"blocks": (2, 2), "stem": 0}, "stem"),
    (densenet, {"blocks": (2, 2), "compression": 0.01, "stem_filters": 4,
                "growth_rate": 2}, "compression"),
    (densenet, {"blocks": (2, 2, 2), "include_top": False, "input_shape": (15, 64, 3)},
     "input_shape"),
    (densenet121, {"input_shape": (31, 64, 3)}, "input_shape"),
    (densenet121, {"input_shape": (None, None, 3)}, "input_shape"),
    (densenet169, {"include_top": False, "pooling": "mean"}, "pooling"),
    (densenet201, {"classes": 0}, "classes"),
    (densenet201, {"classifier_activation": "softmaxx"}, "classifier_activation"),
    (channels_after, {"blocks": (6, 12), "compression": -0.5}, "compression"),
    (weighted_layers, {"blocks": "121"}, "blocks"),
]


@pytest.mark.parametrize("function, kwargs, argument", BAD,
                         ids=[f"{f.__name__}-{'-'.join(f'{k}={v!r}' for k, v in kw.items())}"
                              for f, kw, _ in BAD])
def test_bad_values_are_explained(function, kwargs, argument):
    with pytest.raises(ValueError, match=argument) as raised:
        function(**kwargs)
    message = str(raised.value)
    assert "got" in message and "Hint:" in message, (
        f"the message should say what it got and give a hint: {message}")


def test_include_top_must_be_a_switch():
    with pytest.raises(TypeError, match="include_top"):
        densenet121(include_top="yes")


def test_the_smallest_inputs_build():
    """Keras's smallest input with four blocks is 32x32 (one pixel left after the stem and
    three transitions); three blocks take 16x16."""
    with structure_only():
        assert densenet121(include_top=False, input_shape=(32, 32, 3)).output_shape == (
            None, 1, 1, 1024)
        assert densenet((2, 2, 2), include_top=False,
                        input_shape=(16, 16, 3)).output_shape[1:3] == (1, 1)
