"""Residual networks, proven: ResNet-50/101/152 and ResNet-50 v2 equal to keras.applications,
ResNet-18/34 equal to Table 1 of the paper and to torchvision's parameter counts, ResNet-D
with its tricks, and the small CIFAR networks of section 4.2."""

import inspect
import sys

import keras
import numpy as np
import pytest
from reference_identity import assert_identical

from course_utils import zoo
from course_utils.inspection import layer_table, structure_only
from course_utils.zoo.cifar_resnet import cifar_resnet
from course_utils.zoo.resnet import DEPTHS, basic_block, bottleneck_block, resnet, shortcut

REFERENCES = {
    "resnet50": (zoo.resnet50, keras.applications.ResNet50),
    "resnet101": (zoo.resnet101, keras.applications.ResNet101),
    "resnet152": (zoo.resnet152, keras.applications.ResNet152),
    "resnet50_v2": (zoo.resnet50_v2, keras.applications.ResNet50V2),
    "resnet101_v2": (zoo.resnet101_v2, keras.applications.ResNet101V2),
    "resnet152_v2": (zoo.resnet152_v2, keras.applications.ResNet152V2),
}
VARIANTS = [
    ("resnet50", {}),
    ("resnet50", {"include_top": False, "input_shape": (64, 64, 3)}),
    ("resnet50", {"include_top": False, "input_shape": (45, 77, 3), "pooling": "avg"}),
    ("resnet50", {"input_shape": (96, 96, 3), "classes": 10, "classifier_activation": None}),
    ("resnet101", {"include_top": False, "input_shape": (64, 64, 3), "pooling": "max"}),
    ("resnet152", {"input_shape": (64, 64, 3), "classes": 5}),
    ("resnet50_v2", {}),
    ("resnet50_v2", {"include_top": False, "input_shape": (75, 75, 3), "pooling": "avg"}),
    ("resnet101_v2", {"input_shape": (64, 48, 3), "classes": 7, "classifier_activation": None}),
    ("resnet152_v2", {"include_top": False, "input_shape": (32, 32, 1), "pooling": "max"}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


@pytest.mark.parametrize("depth, params", [(50, 25_613_800), (101, 44_675_560),
                                           (152, 60_380_648)])
def test_the_v2_family_has_keras_parameter_counts(depth, params):
    ours_fn, reference_fn = REFERENCES["resnet50_v2" if depth == 50 else f"resnet{depth}_v2"]
    with structure_only():
        ours, reference = ours_fn(), reference_fn(weights=None)
        got = (ours.count_params(), reference.count_params(), ours.name)
    assert got == (params, params, reference.name), (
        f"ResNet-{depth} v2 at 224x224 with the classifier: expected {params:,} parameters "
        f"as keras.applications' (the Keras docs' figure) and its name; got (ours, Keras's, "
        f"our name) = {got}. Hint: the blocks per stage come from resnet.DEPTHS[{depth}].")


def _trainable(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


@pytest.mark.parametrize("depth, torchvision", [(18, 11_689_512), (34, 21_797_672),
                                                (50, 25_557_032)])
def test_bias_free_convention_counts_what_the_paper_and_torchvision_count(depth, torchvision):
    bias_free = getattr(zoo, f"resnet{depth}")(use_bias=False)
    assert _trainable(bias_free) == torchvision
    # Keras's convention adds a bias to every convolution, and every batch norm keeps a
    # moving mean and variance that are weights but not trained.
    keras_style = getattr(zoo, f"resnet{depth}")()
    conv_biases = sum(layer.filters for layer in keras_style.layers
                      if isinstance(layer, keras.layers.Conv2D))
    moving_stats = sum(2 * layer.gamma.shape[0] for layer in keras_style.layers
                       if isinstance(layer, keras.layers.BatchNormalization))
    assert keras_style.count_params() == torchvision + conv_biases + moving_stats


@pytest.mark.parametrize("depth, last_channels, gmacs", [
    (18, 512, 1.8), (34, 512, 3.6), (50, 2048, 3.8), (101, 2048, 7.6), (152, 2048, 11.3)])
def test_table_1_shapes_and_flops(depth, last_channels, gmacs):
    """Table 1: output sizes 112, 56, 28, 14, 7 and the "FLOPs" row (multiply-adds)."""
    model = getattr(zoo, f"resnet{depth}")(use_bias=False)
    blocks = DEPTHS[depth][1]
    expected = {"conv1_conv": (112, 112, 64), "pool1_pool": (56, 56, 64)}
    widths = (64, 128, 256, 512) if depth < 50 else (256, 512, 1024, 2048)
    for stage, (n, size, width) in enumerate(zip(blocks, (56, 28, 14, 7), widths), start=2):
        expected[f"conv{stage}_block{n}_out"] = (size, size, width)
    for name, shape in expected.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape, name
    assert expected[f"conv5_block{blocks[-1]}_out"][-1] == last_channels
    macs = layer_table(model).attrs["totals"]["macs"]
    assert macs / 1e9 == pytest.approx(gmacs, rel=0.05)


def test_basic_and_bottleneck_blocks():
    x = keras.Input((56, 56, 64))
    basic = keras.Model(x, basic_block(x, 64, name="b"))
    assert basic.count_params() == 2 * (3 * 3 * 64 * 64 + 64) + 2 * 4 * 64  # no projection
    x = keras.Input((56, 56, 256))
    bottleneck = keras.Model(x, bottleneck_block(x, 64, name="b"))
    convs = 256 * 64 + 64 + 9 * 64 * 64 + 64 + 64 * 256 + 256
    assert bottleneck.count_params() == convs + 4 * (64 + 64 + 256)
    assert tuple(bottleneck.output.shape[1:]) == (56, 56, 256)


@pytest.mark.parametrize("kind, layer_names", [
    ("identity", []), ("projection", ["s_0_conv", "s_0_bn"]),
    ("subsample", ["s_0_subsample", "s_0_conv", "s_0_bn"]),
    ("avgpool", ["s_0_pool", "s_0_conv", "s_0_bn"])])
def test_shortcut_kinds(kind, layer_names):
    x = keras.Input((16, 16, 32))
    stride, channels = (1, 32) if kind == "identity" else (2, 64)
    model = keras.Model(x, shortcut(x, channels, stride, kind, "s"))
    assert [layer.name for layer in model.layers[1:]] == layer_names
    assert tuple(model.output.shape[1:]) == ((16, 16, 32) if kind == "identity" else (8, 8, 64))


def test_an_identity_shortcut_that_cannot_fit_is_explained():
    x = keras.Input((16, 16, 32))
    with pytest.raises(ValueError, match="same shape.*32 channels.*64 channels.*projection"):
        shortcut(x, 64, 2, "identity", "conv3_block1")
    with pytest.raises(ValueError, match="shortcut must be one of"):
        shortcut(x, 32, 1, "zero_pad", "s")


def test_average_pooling_shortcut_sees_every_pixel():
    """A strided 1x1 projection reads one pixel in four; the ResNet-D shortcut averages all."""
    x = keras.Input((4, 4, 1))
    model = keras.Model(x, shortcut(x, 1, 2, "avgpool", "s"))
    model.get_layer("s_0_conv").set_weights([np.ones((1, 1, 1, 1)), np.zeros(1)])
    image = np.zeros((1, 4, 4, 1), "float32")
    image[0, 1, 1, 0] = 4.0  # a pixel a strided 1x1 convolution would skip
    bn = model.get_layer("s_0_bn")
    out = keras.ops.convert_to_numpy(model(image, training=False))[0, 0, 0, 0]
    assert out == pytest.approx(1.0 / np.sqrt(1 + bn.epsilon), rel=1e-5)


def test_resnet_d_has_the_bag_of_tricks():
    model = zoo.resnet_d(50)
    assert _trainable(model) == 25_576_264  # timm's resnet50d
    names = {layer.name for layer in model.layers}
    assert {"conv1_1_conv", "conv1_2_conv", "conv1_3_conv"} <= names  # ResNet-C deep stem
    assert "conv1_conv" not in names
    assert model.get_layer("conv3_block1_1_conv").strides == (1, 1)  # ResNet-B
    assert model.get_layer("conv3_block1_2_conv").strides == (2, 2)
    assert isinstance(model.get_layer("conv3_block1_0_pool"), keras.layers.AveragePooling2D)
    assert model.get_layer("conv3_block1_0_conv").strides == (1, 1)  # ResNet-D
    for layer in model.layers:
        if "_block" in layer.name and layer.name.endswith("_3_bn"):
            assert not np.any(layer.gamma.numpy()), layer.name  # zero-initialised gamma
    # So at initialisation every block passes its input through: block 2 = relu(block 1).
    model = zoo.resnet_d(50, include_top=False, input_shape=(64, 64, 3))
    probe = keras.Model(model.input, [model.get_layer("conv2_block1_out").output,
                                      model.get_layer("conv2_block2_out").output])
    a, b = probe(np.random.default_rng(0).uniform(size=(1, 64, 64, 3)).astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_wrong_arguments_are_explained():
    with pytest.raises(ValueError, match="depth must be one of"):
        resnet(42)
    with pytest.raises(ValueError, match="at least 32x32"):
        zoo.resnet18(input_shape=(16, 16, 3))
    with pytest.raises(ValueError, match="pooling"):
        zoo.resnet34(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="stride_on"):
        bottleneck_block(keras.Input((8, 8, 16)), 4, stride_on="5x5")


@pytest.mark.parametrize("depth, paper", [(20, 0.27e6), (32, 0.46e6), (44, 0.66e6),
                                          (56, 0.85e6), (110, 1.7e6)])
def test_cifar_networks_have_the_papers_sizes(depth, paper):
    """Section 4.2 (Table 6): the paper rounds; the projection shortcuts add ~3k."""
    model = cifar_resnet(depth)
    assert model.input_shape == (None, 32, 32, 3)  # the default input, as CIFAR's images
    weighted = [layer for layer in model.layers
                if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
                and not layer.name.endswith("_0_conv")]
    assert len(weighted) == depth
    assert model.count_params() == pytest.approx(paper, rel=0.03)


def test_plain_residual_and_highway_differ_only_in_their_shortcuts():
    plain, residual, highway = (cifar_resnet(20, kind=kind)
                                  for kind in ("plain", "residual", "highway"))
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    adds = [layer for layer in residual.layers if isinstance(layer, keras.layers.Add)]
    assert len(adds) == 9
    extra = residual.count_params() - plain.count_params()
    projections = sum(layer.count_params() for layer in residual.layers
                      if layer.name.endswith(("_0_conv", "_0_bn")))
    assert extra == projections
    gates = [layer for layer in highway.layers if layer.name.endswith("_gate")]
    assert len(gates) == 9
    assert np.allclose(gates[0].bias.numpy(), -2.0)  # starts by carrying its input
    with pytest.raises(ValueError, match="6n \\+ 2"):
        cifar_resnet(21)
    with pytest.raises(ValueError, match="kind"):
        cifar_resnet(20, kind="dense")


def test_a_highway_block_with_a_closed_gate_carries_its_input():
    model = cifar_resnet(8, kind="highway", input_shape=(8, 8, 16), widths=(16, 32, 64))
    gate = model.get_layer("conv2_block1_gate")
    kernel, _ = gate.get_weights()
    gate.set_weights([np.zeros_like(kernel), np.full(16, -50.0)])  # T = 0
    probe = keras.Model(model.input, [model.get_layer("conv1_relu").output,
                                      model.get_layer("conv2_block1_highway").output])
    x, y = probe(np.random.default_rng(1).normal(size=(2, 8, 8, 16)).astype("float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(x), keras.ops.convert_to_numpy(y), atol=1e-6)


def test_global_average_pooling_takes_any_input_size():
    model = cifar_resnet(8, input_shape=(None, None, 1), widths=(4, 8, 16))
    for size in (28, 32, 41):
        assert model(np.zeros((1, size, size, 1), "float32")).shape == (1, 10)


def test_the_subsampling_projection_computes_the_strided_projection():
    x = keras.Input((9, 10, 8))
    strided = keras.Model(x, shortcut(x, 16, 2, "projection", "s"))
    split = keras.Model(x, shortcut(x, 16, 2, "subsample", "s"))
    assert isinstance(split.get_layer("s_0_subsample"), keras.layers.MaxPooling2D)
    split.set_weights(strided.get_weights())
    images = np.random.default_rng(0).normal(size=(3, 9, 10, 8)).astype("float32")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(split(images)), keras.ops.convert_to_numpy(strided(images)), rtol=1e-5,
                               atol=1e-6)


def test_cifar_networks_train_and_evaluate_on_batches_of_changing_size():
    """TF 2.21's oneDNN kernels corrupt memory when a strided 1x1 convolution meets a short
    last batch; the CIFAR networks, trained on CPUs, take their projections in two steps.
    (A regression here kills the test process rather than failing politely.)"""
    from course_utils.profiles import PROFILES
    from course_utils.training import fit_and_evaluate

    rng = np.random.default_rng(0)
    x = rng.uniform(size=(300, 28, 28, 1)).astype("float32")
    y = rng.integers(0, 10, 300)
    for kind in ("residual", "highway"):
        model = cifar_resnet(8, kind=kind, widths=(4, 8, 16), input_shape=(None, None, 1))
        assert not any(isinstance(layer, keras.layers.Conv2D) and layer.kernel_size == (1, 1)
                       and layer.strides != (1, 1) for layer in model.layers)
        for _ in range(2):
            run = fit_and_evaluate(model, (x, y), (x[:103], y[:103]), epochs=1, batch_size=64,
                                   profile=PROFILES["cpu"])  # compiled, as on a laptop
            assert np.isfinite(run.test_loss)


@pytest.mark.parametrize("kind", ["plain", "residual", "highway"])
def test_cifar_networks_train_under_the_gpu_profiles_mixed_precision(kind):
    """The gpu profiles of notebooks 08 and 09 train these under mixed_float16, and 09 walks
    their loss landscape; one step of each, and a short line through the weights, tell."""
    from course_utils.landscape import loss_line, random_direction
    from course_utils.profiles import PROFILES
    from course_utils.training import fit_and_evaluate

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = cifar_resnet(8, kind=kind, widths=(4, 8, 16), input_shape=(None, None, 1))
        x = np.random.default_rng(0).uniform(size=(64, 28, 28, 1)).astype("float32")
        y = np.arange(64) % 10
        run = fit_and_evaluate(model, (x, y), (x, y), epochs=1, batch_size=32,
                               profile=PROFILES["gpu"])
        assert np.isfinite(run.history["loss"][0])
        assert model.get_layer("conv1_conv").compute_dtype == "float16"
        losses = loss_line(model, x, y, random_direction(model), [-0.1, 0.0, 0.1])
        assert np.all(np.isfinite(losses))
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_cifar_batch_norm_momentum_is_given_to_the_layers_as_they_are_built():
    """0.9, not Keras's 0.99 (see cifar_resnet's docstring); an argument, not a patch."""
    for kind in ("plain", "residual", "highway"):
        model = cifar_resnet(8, kind=kind, widths=(4, 8, 16))
        momenta = {layer.get_config()["momentum"] for layer in model.layers
                   if isinstance(layer, keras.layers.BatchNormalization)}
        assert momenta == {0.9}, kind
    keras_default = cifar_resnet(8, widths=(4, 8, 16), bn_momentum=0.99)
    assert {layer.momentum for layer in keras_default.layers
            if isinstance(layer, keras.layers.BatchNormalization)} == {0.99}
    source = inspect.getsource(sys.modules["course_utils.zoo.cifar_resnet"])
    assert ".momentum =" not in source
