"""ConvNeXt's roadmap (course_utils.roadmap): every step of Liu et al. 2022, section 2, built
from the zoo's ResNet and ConvNeXt parts, with the multiply-accumulates of the paper's
Table 10; the first step is torchvision's ResNet-50 (the paper's baseline) and the last
ConvNeXt-T, layer for layer keras.applications' (the generic ConvNeXt, proven on a narrow
copy; ConvNeXtTiny's layer table at full size); the middle blocks are wired as section 2.5
and 2.6 say; the depthwise twin used for training computes the same function."""

import keras
import numpy as np
import pytest
from keras import layers
from keras.src.applications.convnext import ConvNeXt as KerasConvNeXt
from reference_identity import assert_identical

from course_utils import roadmap
from course_utils.diagrams import block_model
from course_utils.inspection import IDENTITY_COLUMNS, layer_table, structure_only
from course_utils.transfer import count_weights
from course_utils.zoo.convnext import convnext_block, convnext_tiny

STEPS = roadmap.designs()
NAMES = list(STEPS)
# torchvision's resnet50 (bias-free, stride on the 3x3), the paper's 25.6M (Table 9), and
# keras.applications.ConvNeXtTiny, the paper's 28.6M: trainable weights.
RESNET50_TRAINABLE = 25_557_032
CONVNEXT_T_TRAINABLE = 28_589_128
# Table 10's FLOPs rise by 0.31 G at BN -> LN and no convolution changes there; the course
# counts a norm as one multiply-accumulate per value, batch or layer, so its count stays.
UNCOUNTED = {"BN -> LN"}


def built(design, **options):
    """``roadmap_network(design)`` in structure_only: its layer table and trainable size."""
    with structure_only():
        model = roadmap.roadmap_network(design, **options)
        return layer_table(model), count_weights(model)["trainable"]


def test_each_step_changes_what_the_paper_says_and_nothing_else():
    assert NAMES == [step.name for step in roadmap.ROADMAP]
    assert STEPS[NAMES[0]] == roadmap.RESNET50 == roadmap.Design()
    before = roadmap.RESNET50
    for step in roadmap.ROADMAP[1:]:
        design = STEPS[step.name]
        changed = {f for f in roadmap.Design._fields if getattr(design, f) != getattr(before, f)}
        assert changed == set(step.change), (
            f"{step.name}: changed {sorted(changed)}, the step names {sorted(step.change)}")
        before = design
    last = STEPS[NAMES[-1]]
    assert last == roadmap.Design((3, 3, 9, 3), "patchify", 96, "moved_up", True, 7, "gelu",
                                  "one", "one", "layer", "separate", True)
    with pytest.raises(ValueError, match="does not have"):
        roadmap.designs([roadmap.Step("typo", "2.2", {"depth": 3}, 1.0, 1.0, 0.0)])


@pytest.mark.parametrize("step", roadmap.ROADMAP, ids=lambda s: s.name)
def test_macs_are_table_10s(step):
    table, _ = built(STEPS[step.name])
    gmacs = table.attrs["totals"]["macs"] / 1e9
    if step.name in UNCOUNTED:
        previous = roadmap.ROADMAP[NAMES.index(step.name) - 1]
        assert gmacs == pytest.approx(built(STEPS[previous.name])[0].attrs["totals"]["macs"]
                                      / 1e9, rel=1e-9)
        return
    assert gmacs == pytest.approx(step.gflops, rel=0.01), (
        f"{step.name}: the layer table counts {gmacs:.3f} GMACs at 224x224, Table 10 says "
        f"{step.gflops} GFLOPs (multiply-adds). Hint: check the block's hidden width (four "
        f"times its output channels) and where the stride sits.")


def test_first_step_is_the_papers_resnet50_and_last_is_convnext_tiny():
    _, first = built(STEPS[NAMES[0]])
    assert first == RESNET50_TRAINABLE, (
        f"the first step has {first:,} trainable weights; torchvision's ResNet-50 (the "
        f"paper's) has {RESNET50_TRAINABLE:,}. Hint: bias-free convolutions, stride on 3x3.")
    ours, last = built(STEPS[NAMES[-1]], name="convnext_tiny")
    assert last == CONVNEXT_T_TRAINABLE
    with structure_only():
        theirs = layer_table(convnext_tiny())
    assert ours[IDENTITY_COLUMNS].equals(theirs[IDENTITY_COLUMNS]), (
        "the last step's layer table differs from zoo.convnext_tiny's")


NARROW = roadmap.narrow(STEPS[NAMES[-1]])  # ConvNeXt-T with a quarter of the channels
NARROW_DIMS = list(roadmap.stage_widths(NARROW))
REFERENCES = {"roadmap_last_step_narrow": (
    lambda **kwargs: roadmap.roadmap_network(NARROW, name="convnext", **kwargs),
    lambda **kwargs: KerasConvNeXt([3, 3, 9, 3], NARROW_DIMS, **kwargs))}


@pytest.mark.parametrize("network, kwargs", [
    ("roadmap_last_step_narrow", {"input_shape": (32, 32, 3)}),
    ("roadmap_last_step_narrow", {"include_top": False, "pooling": "avg",
                                  "input_shape": (40, 33, 1)}),
    ("roadmap_last_step_narrow", {"input_shape": (32, 32, 3), "classes": 7,
                                  "classifier_activation": None,
                                  "include_preprocessing": False}),
], ids=lambda v: v if isinstance(v, str) else "-".join(f"{k}={v[k]}" for k in v))
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def test_middle_blocks_follow_sections_2_5_and_2_6():
    every = block_model(roadmap.moved_up_block, (8, 8, 16), 32, "b", strides=2, kernel_size=7,
                        activation="gelu")
    kinds = [type(layer).__name__ for layer in every.layers]
    assert kinds.count("BatchNormalization") == 4  # three in the branch, one on the shortcut
    assert kinds.count("Activation") == 3  # after the depthwise, the expanding 1x1, the sum
    dw = every.get_layer("b_depthwise_conv")
    assert dw.groups == 16 and dw.strides == (2, 2) and dw.kernel_size == (7, 7)
    assert every.get_layer("b_pointwise_conv_1").units == 4 * 32  # four times its output
    assert not every.get_layer("b_pointwise_conv_2").use_bias  # a norm follows it
    assert every.output.shape[1:] == (4, 4, 32)
    one = block_model(roadmap.moved_up_block, (8, 8, 16), 16, "b", norms="one",
                      activations="one", norm="layer", activation="gelu")
    same = block_model(convnext_block, (8, 8, 16), 16, "b", layer_scale_init_value=None)
    assert [layer.name for layer in one.layers] == [layer.name for layer in same.layers]
    assert one.count_params() == same.count_params()


def test_designs_that_cannot_be_built_are_explained():
    with pytest.raises(ValueError, match="moved_up"):
        roadmap.check_design(roadmap.RESNET50._replace(kernel_size=7))
    with pytest.raises(ValueError, match="width must be a multiple of 4"):
        roadmap.check_design(roadmap.RESNET50._replace(width=18))
    with pytest.raises(ValueError, match="depthwise"):
        roadmap.check_design(STEPS["move up depthwise conv"]._replace(depthwise=False))
    with pytest.raises(ValueError, match="factor"):
        roadmap.narrow(roadmap.RESNET50, 3)
    assert roadmap.narrow(roadmap.RESNET50).width == 16
    assert roadmap.stage_widths(roadmap.RESNET50) == (256, 512, 1024, 2048)
    assert roadmap.stage_widths(STEPS["inverting dimensions"]) == (96, 192, 384, 768)


def test_resnet_parts_use_pytorchs_batch_norm_momentum():
    with structure_only():
        model = roadmap.roadmap_network(roadmap.narrow(roadmap.RESNET50), input_shape=(32, 32, 1))
        momenta = {layer.momentum for layer in model.layers
                   if isinstance(layer, layers.BatchNormalization)}
    assert momenta == {roadmap.BN_MOMENTUM} == {0.9}


def test_depthwise_twin_computes_the_same_function():
    model = roadmap.roadmap_network(NARROW, input_shape=(32, 32, 1), classes=10,
                                    include_preprocessing=False)
    twin = roadmap.with_depthwise_layers(model)
    grouped = [layer for layer in model.layers if type(layer) is layers.Conv2D
               and layer.groups > 1]
    assert len(grouped) == sum(NARROW.depths)  # one per block
    assert not any(type(layer) is layers.Conv2D and layer.groups > 1 for layer in twin.layers)
    assert sum(isinstance(layer, layers.DepthwiseConv2D) for layer in twin.layers) == len(grouped)
    assert twin.count_params() == model.count_params()
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(twin(x)),
                               keras.ops.convert_to_numpy(model(x)), atol=1e-5)
