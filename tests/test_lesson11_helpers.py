"""Lesson 11 (SqueezeNet): the Fashion-MNIST version of SqueezeNet, the two training
options of ``zoo.squeezenet`` it uses, and the lesson's exercise answers."""

import keras
import numpy as np
import pytest

from course_utils import arithmetic, exercises, zoo
from course_utils.inspection import layer_table, structure_only


def _convs(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]


def test_the_training_options_change_no_count_and_default_to_the_papers_network():
    with structure_only():
        plain = zoo.squeezenet("1.0")
        changed = zoo.squeezenet("1.0", class_map_relu=False, kernel_initializer="he_uniform")
        assert plain.count_params() == changed.count_params() == 1_248_424
    assert plain.get_layer("conv10").activation.__name__ == "relu"
    assert changed.get_layer("conv10").activation.__name__ == "linear"
    assert {type(c.kernel_initializer).__name__ for c in _convs(plain)} == {"GlorotUniform"}
    assert {type(c.kernel_initializer).__name__ for c in _convs(changed)} == {"HeUniform"}
    assert len(_convs(changed)) == 1 + 3 * 8 + 1  # conv1, eight fire modules, conv10


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_fashion_mnist_squeezenet_is_the_whole_network_on_padded_images(version):
    model = zoo.fashion_mnist_version("SqueezeNet", version=version)
    assert model.input_shape == (None, 32, 32, 1) and model.output_shape == (None, 10)
    inner = model.get_layer(f"squeezenet{version.replace('.', '_')}")
    assert "resize" not in [layer.name for layer in model.layers]  # runs at 32x32
    assert inner.get_layer("conv10").activation.__name__ == "linear"
    assert {type(c.kernel_initializer).__name__ for c in _convs(inner)} == {"HeUniform"}
    assert inner.get_layer("conv10").input.shape[1:3] == (1, 1)  # 32 pixels pooled away
    # nothing cut: ImageNet's network, less conv1's two other input channels and 990 classes
    with structure_only():
        imagenet = zoo.squeezenet(version).count_params()
    conv1 = inner.get_layer("conv1")
    k = conv1.kernel_size[0]
    conv = arithmetic.conv_params
    fewer = (conv(k, 3, conv1.filters) - conv(k, 1, conv1.filters)
             + conv(1, 512, 1000) - conv(1, 512, 10))
    assert model.count_params() == imagenet - fewer
    out = keras.ops.convert_to_numpy(model(np.zeros((2, 32, 32, 1), "float32")))
    np.testing.assert_allclose(out.sum(axis=1), 1, rtol=1e-5)
    totals = layer_table(model).attrs["totals"]
    assert totals["params"] == model.count_params() and totals["macs"] > 0


def test_fashion_mnist_squeezenet_trains_under_the_gpu_profiles_mixed_precision():
    from course_utils.profiles import PROFILES
    from course_utils.training import fit_and_evaluate

    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = zoo.fashion_mnist_version("SqueezeNet", version="1.1")
        x = np.random.default_rng(0).uniform(size=(16, 32, 32, 1)).astype("float32")
        y = np.arange(16) % 10
        run = fit_and_evaluate(model, (x, y), (x, y), epochs=1, batch_size=8,
                               validation_split=0.25, profile=PROFILES["gpu"])
        assert np.isfinite(run.history["loss"][0]) and 0.0 <= run.test_accuracy <= 1.0
        assert model.get_layer("squeezenet1_1").get_layer("conv1").compute_dtype == "float16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_lesson_11_answers_agree_with_the_formulas():
    conv = arithmetic.conv_params
    assert exercises._expected("11.fire9_sr_quarter_params") == (
        conv(1, 512, 128) + conv(1, 128, 256) + conv(3, 128, 256))
    side = arithmetic.conv_output_size(256, 7, 2)
    for _ in range(3):  # ceil-mode 3x3 poolings with stride 2
        side = -(-(side - 3) // 2) + 1
    assert exercises._expected("11.conv10_side_256") == side == 15
    per_pixel = {"squeeze": 96 * 16, "expand1x1": 16 * 64, "expand3x3": 9 * 16 * 64}
    assert exercises._expected("11.expand3x3_macs_share") == pytest.approx(
        per_pixel["expand3x3"] / sum(per_pixel.values()))
