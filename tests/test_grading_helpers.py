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


def test_params_hints_know_depthwise_convolutions():
    x = keras.Input((8, 8, 32))
    model = keras.Model(x, layers.DepthwiseConv2D(3, name="dw")(x))  # with a bias: 320
    text = _message(lambda: grading.check_params(model, per_layer={"dw": 288}))
    assert "one extra parameter per output channel" in text and "use_bias=False" in text
    text = _message(lambda: grading.check_params(model, per_layer={"dw": 144}))
    assert "one 3x3 filter per input channel" in text and "C_out" not in text


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


# ------------------------------------------------------------------ check_same_outputs


def _bottleneck(x, filters, stride, name, epsilon=1.001e-5, stride_on_3x3=False,
                shortcut_first=True, relu_before_add=False, out=True, filters_3x3=None):
    """A student's projection block, right by default, wrong in the way each test asks."""
    def bn(t, suffix):
        return layers.BatchNormalization(epsilon=epsilon, name=f"{name}_{suffix}")(t)

    skip = bn(layers.Conv2D(4 * filters, 1, strides=stride, name=f"{name}_0_conv")(x), "0_bn")
    first, second = (1, stride) if stride_on_3x3 else (stride, 1)
    y = layers.Conv2D(filters, 1, strides=first, name=f"{name}_1_conv")(x)
    y = layers.Activation("relu", name=f"{name}_1_relu")(bn(y, "1_bn"))
    y = layers.Conv2D(filters_3x3 or filters, 3, strides=second, padding="same",
                      name=f"{name}_2_conv")(y)
    y = layers.Activation("relu", name=f"{name}_2_relu")(bn(y, "2_bn"))
    y = bn(layers.Conv2D(4 * filters, 1, name=f"{name}_3_conv")(y), "3_bn")
    if relu_before_add:
        y = layers.Activation("relu", name=f"{name}_3_relu")(y)
    y = layers.Add(name=f"{name}_add")([skip, y] if shortcut_first else [y, skip])
    return layers.Activation("relu", name=f"{name}_out")(y) if out else y


def _block_model(**wrong):
    x = keras.Input((9, 11, 16))
    return keras.Model(x, _bottleneck(x, 8, 2, "b", **wrong))


def _keras_block():
    from keras.src.applications.resnet import residual_block_v1

    x = keras.Input((9, 11, 16))
    return keras.Model(x, residual_block_v1(x, 8, stride=2, name="b"))


def test_same_outputs_passes_for_the_same_computation():
    grading.check_same_outputs(_block_model(), _keras_block())
    # The branches may meet in either order: Keras then lists the layers differently.
    grading.check_same_outputs(_block_model(shortcut_first=False), _keras_block())
    grading.check_same_structure(_block_model(shortcut_first=False), _keras_block(),
                                 compare_names=True)
    # Models without meaningful names are paired layer by layer.
    grading.check_same_outputs(zoo.lenet5(), zoo.lenet5(), batch=3)


def test_same_outputs_copies_the_weights():
    model, reference = _block_model(), _keras_block()
    grading.check_same_outputs(model, reference)
    for layer in reference.layers[1:]:
        for a, b in zip(model.get_layer(layer.name).get_weights(), layer.get_weights()):
            assert (a == b).all()


def test_same_outputs_names_a_wrong_epsilon():
    text = _message(lambda: grading.check_same_outputs(_block_model(epsilon=1e-3),
                                                       _keras_block()))
    assert "output of layer 'b_1_bn'" in text and "differ by up to" in text
    assert "epsilon" in text and "1.001e-05" not in text  # the setting, not its value


def test_same_outputs_names_a_misplaced_stride():
    text = _message(lambda: grading.check_same_outputs(_block_model(stride_on_3x3=True),
                                                       _keras_block()))
    assert "output shape of layer 'b_1_conv'" in text
    assert "Expected: (5, 6, 8)" in text and "Got:      (9, 11, 8)" in text
    assert "strides" in text


def test_same_outputs_names_a_missing_layer_and_a_wrong_wiring():
    text = _message(lambda: grading.check_same_outputs(_block_model(out=False),
                                                       _keras_block()))
    assert "a layer named 'b_out'" in text and "no layer of that name" in text
    text = _message(lambda: grading.check_same_outputs(_block_model(relu_before_add=True),
                                                       _keras_block()))
    assert "output of layer 'b_add'" in text and "fed by" in text and "'b_3_relu'" in text
    assert "before the ReLU" in text


def test_same_outputs_checks_the_weights_line_up_first():
    text = _message(lambda: grading.check_same_outputs(_block_model(filters_3x3=4),
                                                       _keras_block()))
    assert "weight shapes of layer 'b_2_conv'" in text and "kernel" in text
    x = keras.Input((9, 11, 16))
    bigger = keras.Model(x, layers.Dense(3, name="extra")(_bottleneck(x, 8, 2, "b")))
    text = _message(lambda: grading.check_same_outputs(bigger, _keras_block()))
    assert "not in the reference: extra" in text
    text = _message(lambda: grading.check_same_outputs(zoo.lenet5(input_shape=(28, 28, 1)),
                                                       zoo.lenet5()))
    assert "input shape" in text


def test_own_work_sees_ready_made_builders_however_they_are_kept():
    def by_default(_build=keras.applications.ResNet50):
        return _build(weights=None)

    def by_keyword(*, _build=zoo.resnet50):
        return _build()

    def by_import_inside():
        from keras.src.applications import resnet as r
        return r.ResNet50(weights=None)

    def kept(builder):
        def resnet50():
            return builder()
        return resnet50

    for cheat in (by_default, by_keyword, by_import_inside, kept(keras.applications.ResNet50),
                  through_partial, through_dict, through_class, through_module_alias,
                  through_private_block, through_zoo_block):
        text = _message(lambda cheat=cheat: grading.check_own_work(cheat))
        assert "zoo" in text or "applications" in text, cheat.__name__


import functools  # noqa: E402

from keras.src.applications import resnet as _keras_resnet  # noqa: E402
from keras.src.applications.resnet import residual_block_v1 as _block_v1  # noqa: E402

from course_utils.zoo.resnet import bottleneck_block as _zoo_block  # noqa: E402

_PARTIAL = functools.partial(keras.applications.ResNet50, weights=None)
_BUILDERS = {"resnet50": keras.applications.ResNet50}


class _Builders:
    build = staticmethod(keras.applications.ResNet50)


def through_partial():
    return _PARTIAL()


def through_dict():
    return _BUILDERS["resnet50"](weights=None)


def through_class():
    return _Builders.build(weights=None)


def through_module_alias():
    return _keras_resnet.ResNet50(weights=None)


def through_private_block(x):
    return _block_v1(x, 64, name="conv2_block1")


def through_zoo_block(x):
    return _zoo_block(x, 64, 1, "projection", "conv2_block1")
