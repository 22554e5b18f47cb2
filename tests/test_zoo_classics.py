"""The classic line, proven: equal to keras.applications where Keras has the network,
equal to the paper's numbers where it does not."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from reference_identity import assert_identical

from course_utils import zoo
from course_utils.inspection import layer_table, structure_only
from course_utils.layers import LocalResponseNormalization
from course_utils.zoo.googlenet import MODULES
from course_utils.zoo.vgg import CONVS_PER_BLOCK

REFERENCES = {
    "vgg16": (zoo.vgg16, keras.applications.VGG16),
    "vgg19": (zoo.vgg19, keras.applications.VGG19),
    "inception_v3": (zoo.inception_v3, keras.applications.InceptionV3),
    "mobilenet": (zoo.mobilenet, keras.applications.MobileNet),
    "mobilenet_v2": (zoo.mobilenet_v2, keras.applications.MobileNetV2),
}
VARIANTS = [
    ("vgg16", {}),
    ("vgg16", {"include_top": False, "input_shape": (64, 64, 3)}),
    ("vgg16", {"include_top": False, "input_shape": (48, 80, 3), "pooling": "avg"}),
    ("vgg16", {"input_shape": (64, 64, 3), "classes": 10, "classifier_activation": None}),
    ("vgg19", {}),
    ("vgg19", {"include_top": False, "input_shape": (32, 32, 3), "pooling": "max"}),
    ("inception_v3", {}),
    ("inception_v3", {"include_top": False, "input_shape": (75, 75, 3)}),
    ("inception_v3", {"include_top": False, "input_shape": (139, 139, 3), "pooling": "avg"}),
    ("inception_v3", {"input_shape": (150, 150, 3), "classes": 7,
                      "classifier_activation": None}),
    ("mobilenet", {}),
    ("mobilenet", {"alpha": 0.25, "input_shape": (128, 128, 3)}),
    ("mobilenet", {"alpha": 0.5, "include_top": False, "input_shape": (33, 47, 3)}),
    ("mobilenet", {"alpha": 0.75, "depth_multiplier": 2, "include_top": False,
                   "input_shape": (96, 96, 1), "pooling": "avg"}),
    ("mobilenet", {"alpha": 1.3, "input_shape": (160, 160, 3), "classes": 10,
                   "classifier_activation": None, "dropout": 0.2}),
    ("mobilenet", {"include_top": False, "pooling": "max"}),
    ("mobilenet_v2", {}),
    ("mobilenet_v2", {"alpha": 0.35, "input_shape": (96, 96, 3)}),
    ("mobilenet_v2", {"alpha": 0.5, "include_top": False, "input_shape": (33, 48, 3)}),
    ("mobilenet_v2", {"alpha": 1.4, "include_top": False, "input_shape": (64, 64, 1),
                      "pooling": "avg"}),
    ("mobilenet_v2", {"alpha": 1.3, "input_shape": (160, 160, 3), "classes": 10,
                      "classifier_activation": None}),
    ("mobilenet_v2", {"include_top": False, "pooling": "max"}),
    ("mobilenet_v2", {"include_top": False, "input_shape": (None, 33, 3)}),
]


@pytest.mark.parametrize("network, kwargs", VARIANTS,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'default'}"
                              for n, kw in VARIANTS])
def test_identical_to_keras_applications(network, kwargs):
    assert_identical(*REFERENCES[network], kwargs)


def test_mobilenet_counts_and_bad_options():
    with structure_only():
        assert zoo.mobilenet().count_params() == 4_253_864  # Keras's MobileNet 1.0 at 224
        for build, reference in [(zoo.mobilenet, keras.applications.MobileNet),
                                 (zoo.mobilenet_v2, keras.applications.MobileNetV2)]:
            assert build(alpha=0.5).name == reference(weights=None, alpha=0.5).name
        assert zoo.mobilenet_v2().count_params() == 3_538_984  # Keras's MobileNetV2 1.0
    with pytest.raises(ValueError, match="alpha"):
        zoo.mobilenet_v2(alpha=-1)
    for kwargs, argument in [({"alpha": 0}, "alpha"), ({"alpha": 0.01}, "alpha"),
                             ({"depth_multiplier": 0}, "depth_multiplier"),
                             ({"dropout": 1.0}, "dropout")]:
        with pytest.raises(ValueError, match=argument) as info:
            zoo.mobilenet(**kwargs)
        assert "Hint" in str(info.value)


# Iandola et al. 2016, Table 1, "# parameter before pruning" (biases included).
SQUEEZENET_TABLE_1 = {"conv1": 14_208, "fire2": 11_920, "fire3": 12_432, "fire4": 45_344,
                      "fire5": 49_440, "fire6": 104_880, "fire7": 111_024, "fire8": 188_992,
                      "fire9": 197_184, "conv10": 513_000}
# torchvision's feature-map sides at 224x224 (ceil-mode poolings), and its totals.
SQUEEZENET_SIDES = {"1.0": {"conv1": 109, "pool1": 54, "pool4": 27, "pool8": 13},
                    "1.1": {"conv1": 111, "pool1": 55, "pool3": 27, "pool5": 13}}
SQUEEZENET_PARAMS = {"1.0": 1_248_424, "1.1": 1_235_496}


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_squeezenet_matches_table_1_and_torchvision(version):
    with structure_only():
        model = zoo.squeezenet(version)
        rows = layer_table(model, totals=False).set_index("layer")
    assert model.count_params() == SQUEEZENET_PARAMS[version]
    for layer, side in SQUEEZENET_SIDES[version].items():
        assert rows.loc[layer, "output_shape"][:2] == (side, side), layer
    if version == "1.0":
        per_module = rows.groupby(rows.index.str.split("_").str[0])["params"].sum()
        assert {k: int(per_module[k]) for k in SQUEEZENET_TABLE_1} == SQUEEZENET_TABLE_1


@pytest.mark.parametrize("side", [12, 13])
def test_ceil_pool_keeps_the_last_partial_window(side):
    from course_utils.zoo.squeezenet import ceil_pool

    x = np.random.default_rng(side).uniform(0, 1, size=(1, side, side, 2)).astype("float32")
    inputs = keras.Input((side, side, 2))
    got = keras.ops.convert_to_numpy(keras.Model(inputs, ceil_pool(inputs, "p"))(x))
    n_out = -(-(side - 3) // 2) + 1  # ceil((side - 3) / 2) + 1, PyTorch's ceil_mode
    expected = np.array([[[x[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, c].max() for c in range(2)]
                          for j in range(n_out)] for i in range(n_out)])
    np.testing.assert_allclose(got[0], expected)


def test_squeezenet_refuses_what_it_cannot_build():
    for kwargs, argument in [({"input_shape": (None, None, 3), "include_top": False},
                              "input_shape"), ({"input_shape": (28, 28, 3)}, "input_shape")]:
        with pytest.raises(ValueError, match=argument) as info:
            zoo.squeezenet(**kwargs)
        assert "Hint" in str(info.value)
    with pytest.raises(ValueError, match="version"):
        zoo.squeezenet("1.2")


def test_vgg_parameter_counts_from_the_seeds():
    assert zoo.vgg16().count_params() == 138_357_544  # "about 138M"
    assert zoo.vgg19().count_params() == 143_667_240  # "144M"


def test_alexnet_as_the_seeds_describe_it():
    model = zoo.alexnet()
    assert model.count_params() == 62_378_344
    shapes = {"conv1_conv": (55, 55, 96), "conv1_pool": (27, 27, 96),
              "conv2_conv": (27, 27, 256), "conv2_pool": (13, 13, 256),
              "conv3_conv": (13, 13, 384), "conv4_conv": (13, 13, 384),
              "conv5_conv": (13, 13, 256), "conv5_pool": (6, 6, 256), "flatten": (9216,),
              "fc6": (4096,), "fc7": (4096,), "predictions": (1000,)}
    for name, shape in shapes.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape, name
    assert zoo.alexnet(activation="tanh").get_layer("conv3_conv").activation.__name__ == "tanh"
    assert "conv1_lrn" not in [x.name for x in zoo.alexnet(lrn=False).layers]
    assert zoo.alexnet(input_shape=(67, 67, 3)).output_shape == (None, 1000)
    with pytest.raises(ValueError, match="at least 67x67"):
        zoo.alexnet(input_shape=(66, 66, 3))


# Szegedy et al. 2015, Table 1: output size after each stage.
GOOGLENET_SHAPES = {
    "conv1_7x7": (112, 112, 64), "pool1": (56, 56, 64), "conv2_3x3": (56, 56, 192),
    "pool2": (28, 28, 192), "inception_3a_output": (28, 28, 256),
    "inception_3b_output": (28, 28, 480), "pool3": (14, 14, 480),
    "inception_4a_output": (14, 14, 512), "inception_4b_output": (14, 14, 512),
    "inception_4c_output": (14, 14, 512), "inception_4d_output": (14, 14, 528),
    "inception_4e_output": (14, 14, 832), "pool4": (7, 7, 832),
    "inception_5a_output": (7, 7, 832), "inception_5b_output": (7, 7, 1024),
    "avg_pool": (1024,), "predictions": (1000,),
}


def test_googlenet_matches_table_1():
    model = zoo.googlenet()
    for name, shape in GOOGLENET_SHAPES.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape, name
    rows = layer_table(model, totals=False)
    for module, (f1, r3, f3, r5, f5, fp) in MODULES.items():
        c_in = model.get_layer(f"inception_{module}_1x1").input.shape[-1]
        by_hand = ((c_in + 1) * f1 + (c_in + 1) * r3 + (9 * r3 + 1) * f3 + (c_in + 1) * r5
                   + (25 * r5 + 1) * f5 + (c_in + 1) * fp)
        assert rows[rows.layer.str.startswith(f"inception_{module}_")].params.sum() == by_hand
    # The paper's own parameter column (Table 1) sums to about 6.8M.
    assert model.count_params() == pytest.approx(6.8e6, rel=0.05)


def test_googlenet_auxiliary_classifiers():
    model = zoo.googlenet(aux_classifiers=True, classes=10)
    assert [o.shape[-1] for o in model.outputs] == [10, 10, 10]
    assert model.get_layer("aux1_pool").output.shape[1:] == (4, 4, 512)
    assert model.get_layer("aux2_pool").output.shape[1:] == (4, 4, 528)
    assert len(zoo.googlenet(aux_classifiers=True, include_top=False).outputs) == 1


def test_nin_mlpconv_and_global_average_pooling():
    model = zoo.nin(classes=10)
    assert not any(isinstance(x, keras.layers.Dense) for x in model.layers)
    assert model.get_layer("block4_mlp2").output.shape[1:] == (5, 5, 10)
    assert model.output_shape == (None, 10)
    big = zoo.nin()
    assert big.count_params() == 7_595_176  # the ImageNet model: about 7.6M
    assert zoo.nin(include_top=False, pooling="avg").output_shape == (None, 1024)
    any_size = zoo.nin(input_shape=(None, None, 3), classes=10)  # no dense layer to fix it
    for side in ((67, 67), (100, 131)):
        images = np.zeros((1, *side, 3), "float32")
        assert any_size.predict(images, verbose=0).shape == (1, 10)
    assert any_size.count_params() == model.count_params()


@pytest.mark.tensorflow("tf.nn.local_response_normalization is the reference")
def test_lrn_matches_tensorflow():
    import tensorflow as tf

    x = np.random.default_rng(1).normal(0, 30, size=(2, 5, 5, 12)).astype("float32")
    ours = keras.ops.convert_to_numpy(LocalResponseNormalization()(x))
    ref = tf.nn.local_response_normalization(x, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    np.testing.assert_allclose(ours, ref.numpy(), rtol=1e-5, atol=1e-6)
    layer = LocalResponseNormalization.from_config(LocalResponseNormalization(3).get_config())
    assert layer.depth_radius == 3


def test_lrn_matches_the_formula_on_every_backend():
    """AlexNet's section 3.3, written out in NumPy: each channel divided by
    (bias + alpha * sum of squares over the 2r + 1 channels around it) ** beta."""
    x = np.random.default_rng(2).normal(0, 30, size=(2, 3, 4, 9)).astype("float32")
    r, bias, alpha, beta = 2, 2.0, 1e-4, 0.75
    squares = np.pad(x.astype("float64") ** 2, [(0, 0)] * 3 + [(r, r)])
    sums = sum(squares[..., k:k + x.shape[-1]] for k in range(2 * r + 1))
    expected = x / (bias + alpha * sums) ** beta
    ours = keras.ops.convert_to_numpy(LocalResponseNormalization(r)(x))
    np.testing.assert_allclose(ours, expected, rtol=1e-5, atol=1e-6)


BACKEND_FREE = sorted(Path(zoo.__file__).parent.glob("*.py")) + [
    Path(zoo.__file__).parent.parent / name for name in ("landscape.py", "cost.py")]


@pytest.mark.parametrize("path", BACKEND_FREE, ids=[p.name for p in BACKEND_FREE])
def test_builders_use_keras_only(path):
    """The GPU machines run Keras on JAX: the zoo and the landscape must not need TF."""
    tree = ast.parse(path.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert "tensorflow" not in imported
    assert not any(isinstance(node, ast.Name) and node.id == "tf" for node in ast.walk(tree))


@pytest.mark.parametrize("builder", [zoo.alexnet, zoo.vgg16, zoo.nin, zoo.googlenet,
                                     zoo.inception_v3])
def test_wrong_arguments_are_explained(builder):
    with pytest.raises(ValueError, match="pooling must be"):
        builder(include_top=False, pooling="mean")
    with pytest.raises(ValueError, match="input_shape must be"):
        builder(input_shape=(224, 224))
    if builder is not zoo.nin:  # NiN's classifier averages class maps: any size will do
        with pytest.raises(ValueError, match="fixed input size"):
            builder(input_shape=(None, None, 3))


def test_scratch_batch_norm_matches_keras_in_training_and_inference():
    from course_utils.layers import ScratchBatchNorm

    rng = np.random.default_rng(2)
    x = rng.normal(3.0, 2.0, size=(16, 6, 6, 5)).astype("float32")
    ours, theirs = ScratchBatchNorm(), keras.layers.BatchNormalization()
    ours.build(x.shape)
    theirs.build(x.shape)
    weights = [rng.normal(size=5).astype("float32"), rng.normal(size=5).astype("float32"),
               np.zeros(5, "float32"), np.ones(5, "float32")]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    for _ in range(3):  # training mode, and the running statistics it leaves behind
        np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x, training=True)),
                                   keras.ops.convert_to_numpy(theirs(x, training=True)),
                                   rtol=1e-4, atol=1e-4)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(ours(x, training=False)),
                               keras.ops.convert_to_numpy(theirs(x, training=False)),
                               rtol=1e-4, atol=1e-4)
    assert [w.name for w in ours.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]


@pytest.mark.parametrize("network", ["LeNet-5", "AlexNet", "VGG-16", "NiN", "GoogLeNet"])
def test_fashion_mnist_versions_take_padded_fashion_mnist(network):
    model = zoo.fashion_mnist_version(network)
    assert model.input_shape == (None, 32, 32, 1) and model.output_shape == (None, 10)
    out = model(np.zeros((2, 32, 32, 1), "float32"))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out).sum(axis=1), 1, rtol=1e-5)
    totals = layer_table(model).attrs["totals"]
    assert totals["params"] == model.count_params() and totals["macs"] > 0


def test_fashion_mnist_versions_pass_options_and_refuse_unknown_names():
    model = zoo.fashion_mnist_version("GoogLeNet", aux_classifiers=True)
    assert model.output_names == ["predictions", "aux1_predictions", "aux2_predictions"]
    with pytest.raises(ValueError, match="Choose one of"):
        zoo.fashion_mnist_version("ResNet-50")


def test_nin_class_maps_can_do_without_their_relu():
    assert zoo.nin(classes=10).get_layer("block4_mlp2").activation.__name__ == "relu"
    plain = zoo.nin(classes=10, class_map_relu=False)
    assert plain.get_layer("block4_mlp2").activation.__name__ == "linear"
    fashion = zoo.fashion_mnist_version("NiN")
    assert fashion.get_layer("nin").get_layer("block4_mlp2").activation.__name__ == "linear"


@pytest.mark.parametrize("network", ["LeNet-5", "AlexNet", "VGG-16", "NiN", "GoogLeNet"])
def test_fashion_versions_train_under_the_gpu_profiles_mixed_precision(network):
    """The gpu profile turns mixed_float16 on; every layer of the course (LRN, the
    auxiliary heads, batch norm) must train under it, compiled as the gpu profile
    compiles it. One step on a tiny batch tells."""
    from course_utils.profiles import PROFILES
    from course_utils.training import fit_and_evaluate

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        extra = {"aux_classifiers": True} if network == "GoogLeNet" else {}
        if network == "VGG-16":
            extra = {"batch_norm": True}
        model = zoo.fashion_mnist_version(network, **extra)
        x = np.random.default_rng(0).uniform(size=(16, 32, 32, 1)).astype("float32")
        y = np.arange(16) % 10
        weights = [1.0, 0.3, 0.3] if network == "GoogLeNet" else None
        run = fit_and_evaluate(model, (x, y), (x, y), epochs=1, batch_size=8,
                               validation_split=0.25, loss_weights=weights,
                               profile=PROFILES["gpu"])
        assert np.isfinite(run.history["loss"][0]) and 0.0 <= run.test_accuracy <= 1.0
        inner = next(layer for layer in model.layers if isinstance(layer, keras.Model))
        assert inner.layers[1].compute_dtype == "float16"  # mixed precision was really on
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_vgg_bn_momentum_reaches_every_batch_norm():
    default = zoo.vgg16(input_shape=(32, 32, 1), classes=10, alpha=0.25, batch_norm=True)
    short = zoo.fashion_mnist_version("VGG-16", batch_norm=True, bn_momentum=0.9)
    inner = short.get_layer("vgg16")
    convs = sum(CONVS_PER_BLOCK[16])  # one batch norm after each convolution
    for model, want in [(default, 0.99), (inner, 0.9)]:
        norms = [x for x in model.layers if isinstance(x, keras.layers.BatchNormalization)]
        assert len(norms) == convs and {x.momentum for x in norms} == {want}, (
            f"{model.name}: every one of the {convs} batch norms should have momentum {want}")
