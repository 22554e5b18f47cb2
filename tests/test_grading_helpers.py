"""The checks students see: each failure says what, expected, got, and a hint."""

import keras
import pytest
from keras import layers

from course_utils import grading, zoo
from course_utils.grading import CheckFailed


def _message(call):
    with pytest.raises(CheckFailed) as info:
        call()
    text = str(info.value)
    assert text.startswith("Checked:") and "\nExpected:" in text and "\nGot:" in text
    assert isinstance(info.value, AssertionError)
    return text


def test_value_checks_explain_and_pass_quietly():
    assert grading.check_value("x", 28, 28) is None  # nothing nbgrader could read as points
    text = _message(lambda: grading.check_value("conv_output_size(32, 5)", 32, 28,
                                                hint="no padding"))
    assert "Expected: 28" in text and "Got:      32" in text and "Hint:     no padding" in text
    assert "integer division" in _message(lambda: grading.check_value("n", 28.0, 28))
    assert "return" in _message(lambda: grading.check_value("n", None, 28))
    _message(lambda: grading.check_value("flag", True, 1))


def test_close_checks_scalars_and_arrays():
    grading.check_close("pi", 3.14159265, 3.141592653589793, rtol=1e-6)
    _message(lambda: grading.check_close("pi", 3.2, 3.14159))
    text = _message(lambda: grading.check_close("v", [1.0, 2.0, 5.0], [1.0, 2.0, 3.0]))
    assert "worst element #2" in text
    assert "(shape)" in _message(lambda: grading.check_close("v", [1.0, 2.0], [1.0, 2.0, 3.0]))


def test_check_model_catches_what_builders_get_wrong():
    model = grading.check_model(lambda: zoo.lenet5())
    assert isinstance(model, keras.Model)
    assert "return" in _message(lambda: grading.check_model(lambda: None))
    assert "single Dense layer" in _message(lambda: grading.check_model(layers.Dense(3)))
    assert "keras.Input" in _message(
        lambda: grading.check_model(keras.Sequential([layers.Dense(3)])))


@pytest.mark.parametrize("expected, got, phrase", [
    ((28, 28, 6), (32, 32, 6), "padding='valid'"),
    ((32, 32, 6), (28, 28, 6), "padding='same'"),
    ((14, 14, 6), (28, 28, 6), "pooling layer or a stride of 2 missing"),
    ((28, 28, 6), (14, 14, 6), "extra pooling"),
    ((28, 28, 6), (28, 28, 16), "number of filters"),
    ((400,), (5, 5, 16), "Flatten"),
])
def test_shape_hints(expected, got, phrase):
    assert phrase in grading.shape_hint(expected, got)


def _lenet_with(**changes):
    inputs = keras.Input((32, 32, 1))
    x = layers.Conv2D(6, 5, activation=changes.get("activation", "tanh"),
                      padding=changes.get("padding", "valid"),
                      use_bias=changes.get("use_bias", True), name="c1_conv")(inputs)
    x = layers.AveragePooling2D(2, name="s2_pool")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(10, name="predictions")(x)
    return keras.Model(inputs, x)


def test_layer_shape_params_and_config_checks_name_the_layer():
    model = _lenet_with(padding="same")
    text = _message(lambda: grading.check_output_shapes(model, {"c1_conv": (28, 28, 6)}))
    assert "layer 'c1_conv'" in text and "padding='valid'" in text
    text = _message(lambda: grading.check_params(_lenet_with(use_bias=False),
                                                 per_layer={"c1_conv": 156}))
    assert "Expected: 156" in text and "should have a bias" in text
    text = _message(lambda: grading.check_params(model, per_layer={"predictions": 11_770}))
    assert "sees 1,536 inputs" in text and "layers before" in text
    text = _message(lambda: grading.check_params(model, total=61_706))
    assert "total parameters" in text and "c1_conv=156" in text
    text = _message(lambda: grading.check_layer(_lenet_with(activation="relu"), "c1_conv",
                                                layers.Conv2D, activation="tanh"))
    assert "activation of layer 'c1_conv'" in text and "activation='tanh'" in text
    text = _message(lambda: grading.check_layer(model, "s2_pool", layers.MaxPooling2D))
    assert "Expected: MaxPooling2D" in text and "Got:      AveragePooling2D" in text
    text = _message(lambda: grading.check_output_shapes(model, {"c3_conv": (10, 10, 16)}))
    assert "name='c3_conv'" in text


def test_same_structure_names_the_first_difference():
    reference = zoo.lenet5("classic")
    grading.check_same_structure(zoo.lenet5("classic"), reference, compare_names=True)
    text = _message(lambda: grading.check_same_structure(zoo.lenet5("modern"), reference))
    assert "layer #1 ('c1_conv')" in text
    short = keras.Model(reference.input, reference.get_layer("f6_dense").output)
    assert "number of layers" in _message(lambda: grading.check_same_structure(short,
                                                                               reference))


def test_own_work_rejects_ready_made_networks():
    def honest():
        return keras.Model(keras.Input((2,)), layers.Dense(1)(keras.Input((2,))))

    def shortcut():
        return zoo.lenet5()

    def sneaky():
        return keras.applications.VGG16(weights=None)

    grading.check_own_work(honest)
    assert "zoo" in _message(lambda: grading.check_own_work(shortcut))
    assert "applications" in _message(lambda: grading.check_own_work(sneaky))
    assert "course_utils.zoo.lenet" in _message(lambda: grading.check_own_work(aliased))


from course_utils.zoo.lenet import lenet5 as _ready_made  # noqa: E402


def aliased():
    return _ready_made()
