import keras
import numpy as np
import pytest

from course_utils import zoo
from course_utils.inspection import layer_table

LENET_PARAMS = {  # (k*k*c_in + 1) * c_out, by hand
    "c1_conv": (5 * 5 * 1 + 1) * 6,
    "c3_conv": (5 * 5 * 6 + 1) * 16,
    "c5_dense": (400 + 1) * 120,
    "f6_dense": (120 + 1) * 84,
    "predictions": (84 + 1) * 10,
}
LENET_SHAPES = {
    "c1_conv": (28, 28, 6), "s2_pool": (14, 14, 6), "c3_conv": (10, 10, 16),
    "s4_pool": (5, 5, 16), "flatten": (400,), "c5_dense": (120,), "f6_dense": (84,),
    "predictions": (10,),
}


@pytest.mark.parametrize("variant", ["classic", "modern"])
def test_lenet5_matches_the_paper(variant):
    model = zoo.lenet5(variant)
    assert model.count_params() == sum(LENET_PARAMS.values()) == 61_706
    for name, params in LENET_PARAMS.items():
        assert model.get_layer(name).count_params() == params
    for name, shape in LENET_SHAPES.items():
        assert tuple(model.get_layer(name).output.shape[1:]) == shape
    assert model.input_shape == (None, 32, 32, 1)


def test_classic_and_modern_differ_only_in_activation_and_pooling():
    classic, modern = zoo.lenet5("classic"), zoo.lenet5("modern")
    assert isinstance(classic.get_layer("s2_pool"), keras.layers.AveragePooling2D)
    assert isinstance(modern.get_layer("s2_pool"), keras.layers.MaxPooling2D)
    assert classic.get_layer("c1_conv").activation.__name__ == "tanh"
    assert modern.get_layer("c1_conv").activation.__name__ == "relu"
    assert [layer.name for layer in classic.layers] == [layer.name for layer in modern.layers]


def test_lenet5_options():
    model = zoo.lenet5("modern", input_shape=(28, 28, 3), classes=5, classifier_activation=None)
    assert model.output_shape == (None, 5)
    assert model.get_layer("predictions").activation.__name__ == "linear"
    assert model.name == "lenet5_modern"
    out = model(np.zeros((2, 28, 28, 3), "float32"))
    assert tuple(out.shape) == (2, 5)


def test_lenet5_bad_input_is_explained():
    with pytest.raises(ValueError, match="Choose one of: classic, modern"):
        zoo.lenet5("vintage")
    with pytest.raises(ValueError, match="pad 28x28 images"):
        zoo.lenet5(input_shape=(12, 12, 1))


def test_lenet5_is_built_from_keras_only():
    import inspect as pyinspect

    import course_utils.zoo.lenet as module

    source = pyinspect.getsource(module)
    assert "tensorflow" not in source and "tf." not in source


def test_lenet5_table_is_what_the_seeds_describe():
    table = layer_table(zoo.lenet5("classic"), totals=False).set_index("layer")
    assert table.loc["s4_pool", "output_shape"] == (5, 5, 16)
    assert table.loc["c5_dense", "params"] / table["params"].sum() > 0.75
