import keras
import numpy as np
import pandas as pd
import pytest
from keras import layers

from course_utils import zoo
from course_utils.inspection import (
    ModelInspectionError,
    copy_weights,
    feature_maps,
    layer_macs,
    layer_table,
    structure_only,
    trace,
)


def _rows(model, **kwargs):
    return layer_table(model, totals=False, **kwargs).set_index("layer")


# ------------------------------------------------------------------ hand-computed values


def test_lenet5_by_hand():
    rows = _rows(zoo.lenet5("classic"))
    by_hand = {  # (params, MACs, receptive field, jump)
        "c1_conv": (156, 28 * 28 * 6 * 5 * 5 * 1, 5, 1),
        "s2_pool": (0, 14 * 14 * 6 * 2 * 2, 6, 2),
        "c3_conv": (2_416, 10 * 10 * 16 * 5 * 5 * 6, 14, 2),
        "s4_pool": (0, 5 * 5 * 16 * 2 * 2, 16, 4),
        "flatten": (0, 0, 32, 4),
        "c5_dense": (48_120, 400 * 120, 32, 4),
        "f6_dense": (10_164, 120 * 84, 32, 4),
        "predictions": (850, 84 * 10, 32, 4),
    }
    for name, (params, macs, field, jump) in by_hand.items():
        row = rows.loc[name]
        assert (row.params, row.macs, row.receptive_field, row.jump) == (params, macs, field,
                                                                          jump), name
    assert rows["params"].sum() == 61_706


def test_totals_row_and_attrs():
    model = zoo.lenet5("modern")
    table = layer_table(model)
    total = table.iloc[-1]
    assert total.layer == "total" and total.params == model.count_params() == 61_706
    assert total.macs == table.iloc[:-1].macs.sum()
    assert table.attrs["totals"]["params"] == 61_706
    assert list(table.columns[:7]) == ["layer", "type", "output_shape", "params", "macs",
                                       "receptive_field", "jump"]
    assert "total" not in set(layer_table(model, totals=False).layer)


def test_bottleneck_example_from_the_seeds():
    def model(*convs):
        x = inputs = keras.Input((28, 28, 192))
        for filters, k in convs:
            x = layers.Conv2D(filters, k, padding="same")(x)
        return keras.Model(inputs, x)

    direct = layer_table(model((32, 5))).attrs["totals"]["macs"]
    bottleneck = layer_table(model((16, 1), (32, 5))).attrs["totals"]["macs"]
    assert direct == 120_422_400
    assert bottleneck == 12_443_648
    assert round(direct / 1e6, 1) == 120.4 and round(bottleneck / 1e6, 1) == 12.4


VGG16_FIELDS = {  # receptive field, jump (hand-computed with r += (k-1) j, j *= s)
    "block1_conv1": (3, 1), "block1_conv2": (5, 1), "block1_pool": (6, 2),
    "block2_conv1": (10, 2), "block2_conv2": (14, 2), "block2_pool": (16, 4),
    "block3_conv1": (24, 4), "block3_conv2": (32, 4), "block3_conv3": (40, 4),
    "block3_pool": (44, 8), "block4_conv1": (60, 8), "block4_conv2": (76, 8),
    "block4_conv3": (92, 8), "block4_pool": (100, 16), "block5_conv1": (132, 16),
    "block5_conv2": (164, 16), "block5_conv3": (196, 16), "block5_pool": (212, 32),
}


def test_structure_only_builds_the_same_table_without_drawing():
    drawn = layer_table(zoo.lenet5("classic"))
    with structure_only():
        model = zoo.vgg16()
        table = layer_table(model)
        not_drawn = layer_table(zoo.lenet5("classic"))
    assert drawn.equals(not_drawn)
    assert model.count_params() == table.attrs["totals"]["params"] == 138_357_544
    fresh = keras.layers.Dense(1)  # the session was cleared: names are numbered afresh
    assert fresh.name == "dense"


def test_vgg16_receptive_fields_params_and_macs():
    with structure_only():
        model = keras.applications.VGG16(weights=None)
        rows = _rows(model)
    for name, (field, jump) in VGG16_FIELDS.items():
        assert (rows.loc[name, "receptive_field"], rows.loc[name, "jump"]) == (field, jump), name
    assert rows["params"].sum() == model.count_params() == 138_357_544
    assert rows.loc["block1_conv1", "macs"] == 224 * 224 * 64 * 3 * 3 * 3
    assert rows.loc["fc1", "macs"] == 25_088 * 4096
    # Most parameters sit in the dense layers, most work in the convolutions.
    dense = rows[rows.type == "Dense"]
    assert dense.params.sum() / rows.params.sum() > 0.85
    assert dense.macs.sum() / rows.macs.sum() < 0.01


@pytest.mark.parametrize("name, kwargs, published, source", [
    ("MobileNet", {}, 569e6, "Howard et al. 2017, Table 8: 569 million mult-adds"),
    ("MobileNetV2", {}, 300e6, "Sandler et al. 2018, Table 4: 300 million multiply-adds"),
    ("ResNet50", {}, 3.8e9, "He et al. 2016, Table 1: 3.8 x 10^9 FLOPs (multiply-adds)"),
    ("EfficientNetB0", {}, 0.39e9, "Tan and Le 2019, Table 2: 0.39B FLOPs"),
])
def test_mac_counts_match_published_figures(name, kwargs, published, source):
    with structure_only():
        rows = _rows(getattr(keras.applications, name)(weights=None, **kwargs))
    core = rows[rows.type.isin(["Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense"])]
    assert core.macs.sum() == pytest.approx(published, rel=0.02), source


# ------------------------------------------------------------------ layer kinds


def test_mac_rules_for_every_counted_kind():
    x = inputs = keras.Input((16, 16, 8))
    x = layers.Conv2D(12, 3, padding="same", groups=4, name="grouped")(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise")(x)
    x = layers.SeparableConv2D(10, 3, name="separable")(x)
    x = layers.BatchNormalization(name="bn")(x)
    x = layers.AveragePooling2D(2, name="avg")(x)
    x = layers.MaxPooling2D(2, name="max")(x)
    x = layers.Conv2DTranspose(4, 2, strides=2, name="transposed")(x)
    x = layers.Dense(6, name="dense_on_maps")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    rows = _rows(keras.Model(inputs, x))
    assert rows.loc["grouped", "macs"] == 16 * 16 * 12 * 3 * 3 * (8 // 4)
    assert rows.loc["depthwise", "macs"] == 14 * 14 * 24 * 3 * 3
    assert rows.loc["separable", "macs"] == 12 * 12 * 24 * 3 * 3 + 12 * 12 * 24 * 10
    assert rows.loc["bn", "macs"] == 12 * 12 * 10
    assert rows.loc["avg", "macs"] == 6 * 6 * 10 * 4
    assert rows.loc["max", "macs"] == 0
    assert rows.loc["transposed", "macs"] == 3 * 3 * 10 * 2 * 2 * 4
    assert rows.loc["dense_on_maps", "macs"] == 6 * 6 * 4 * 6
    assert rows.loc["gap", "macs"] == 6 * 6 * 6


def test_a_layer_can_declare_its_own_macs():
    class Scale(layers.Layer):
        def call(self, x):
            return 2 * x

        def count_macs(self, input_shapes, output_shapes):
            return int(np.prod(output_shapes[0]))

    inputs = keras.Input((4, 5, 3))
    rows = _rows(keras.Model(inputs, Scale(name="scale")(inputs)))
    assert rows.loc["scale", "macs"] == 60
    assert layer_macs(layers.ReLU(), [(4, 4, 3)], [(4, 4, 3)]) == 0


def test_branches_take_the_largest_field():
    inputs = keras.Input((32, 32, 16))
    b1 = layers.Conv2D(8, 1, name="b1")(inputs)
    b3 = layers.Conv2D(8, 3, padding="same", name="b3")(layers.Conv2D(4, 1, name="r3")(inputs))
    b5 = layers.Conv2D(8, 5, padding="same", name="b5")(layers.Conv2D(4, 1, name="r5")(inputs))
    bp = layers.Conv2D(8, 1, name="bp")(layers.MaxPooling2D(3, 1, padding="same")(inputs))
    out = layers.Concatenate(name="concat")([b1, b3, b5, bp])
    res = layers.Add(name="add")([layers.Conv2D(32, 3, padding="same", name="c3")(out), out])
    rows = _rows(keras.Model(inputs, res))
    assert rows.loc["concat", "receptive_field"] == 5
    assert rows.loc["concat", "output_shape"] == (32, 32, 32)
    assert rows.loc["add", "receptive_field"] == 7


def test_asymmetric_kernels_report_both_axes():
    inputs = keras.Input((17, 17, 8))
    x = layers.Conv2D(8, (1, 7), padding="same", name="c1x7")(inputs)
    x = layers.Conv2D(8, (7, 1), padding="same", name="c7x1")(x)
    rows = _rows(keras.Model(inputs, x))
    assert rows.loc["c1x7", "receptive_field"] == (1, 7)
    assert rows.loc["c7x1", "receptive_field"] == 7


def test_nested_models_one_row_or_expanded():
    block = keras.Sequential([keras.Input((16, 16, 8)), layers.Conv2D(8, 3, name="inner_a"),
                              layers.Conv2D(8, 3, name="inner_b")], name="block")
    inputs = keras.Input((16, 16, 8))
    x = layers.Conv2D(8, 1, name="before")(inputs)
    x = block(x)
    x = layers.Conv2D(8, 3, name="after")(x)
    model = keras.Model(inputs, x)
    flat = _rows(model)
    assert flat.loc["block", "params"] == block.count_params()
    assert flat.loc["block", "macs"] == 14 * 14 * 8 * 9 * 8 + 12 * 12 * 8 * 9 * 8
    assert flat.loc["block", "receptive_field"] == 5
    assert flat.loc["after", "receptive_field"] == 7
    expanded = _rows(model, expand_nested=True)
    assert {"block/inner_a", "block/inner_b"} <= set(expanded.index)
    assert "block" not in expanded.index
    assert expanded.loc["block/inner_b", "receptive_field"] == 5
    assert expanded.params.sum() == flat.params.sum() == model.count_params()
    assert expanded.macs.sum() == flat.macs.sum()


def test_shared_layer_counts_params_once_and_work_twice():
    shared = layers.Dense(4, name="shared")
    a, b = keras.Input((3,)), keras.Input((3,))
    model = keras.Model([a, b], layers.Add()([shared(a), shared(b)]))
    rows = _rows(model)
    assert rows.loc["shared", "params"] == 16
    assert rows.loc["shared", "macs"] == 2 * 12
    assert rows.params.sum() == model.count_params()


def test_unknown_sizes_leave_macs_empty_but_keep_fields():
    inputs = keras.Input((None, None, 3))
    x = layers.Conv2D(4, 3, name="conv")(inputs)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    table = layer_table(keras.Model(inputs, x))
    rows = table.set_index("layer")
    assert rows.loc["conv", "macs"] is pd.NA
    assert rows.loc["conv", "receptive_field"] == 3
    assert rows.loc["gap", "receptive_field"] is None
    assert table.attrs["totals"]["macs"] is None


def test_models_without_images_have_no_receptive_field():
    inputs = keras.Input((10,))
    rows = _rows(keras.Model(inputs, layers.Dense(3, name="d")(inputs)))
    assert rows.loc["d", "receptive_field"] is None and rows.loc["d", "macs"] == 30


# ------------------------------------------------------------------ errors and display


def test_wrong_input_is_explained():
    with pytest.raises(ModelInspectionError, match="expects a keras.Model"):
        layer_table(layers.Dense(3))
    with pytest.raises(ModelInspectionError, match="not built yet"):
        layer_table(keras.Sequential([layers.Dense(3)]))

    class Subclassed(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, x):
            return self.d(x)

    model = Subclassed()
    model(np.zeros((1, 3)))
    with pytest.raises(ModelInspectionError, match="subclassed model"):
        layer_table(model)


def test_prints_whole_with_separators_in_a_terminal():
    with structure_only():
        table = layer_table(keras.applications.VGG16(weights=None))
    text = repr(table)
    assert "138,357,544" in text and "block5_pool" in text and "..." not in text
    assert "<table" in table._repr_html_()
    # A selection without layer names prints as an ordinary DataFrame.
    shares = table.set_index("layer")[["params"]] / 2
    assert "block1_conv1" in repr(shares)


# ------------------------------------------------------------------ trace and maps


def test_trace_builds_an_unbuilt_sequential_step_by_step(capsys):
    net = keras.Sequential([layers.Conv2D(6, 5, name="c1"), layers.MaxPooling2D(2, name="p"),
                            layers.Flatten(name="f"), layers.Dense(10, name="d")])
    out = trace(net, (1, 32, 32, 1))
    printed = capsys.readouterr().out
    assert "(1, 28, 28, 6)" in printed and "(1, 14, 14, 6)" in printed
    assert "(1, 1176)" in printed and tuple(out.shape) == (1, 10)


def test_trace_accepts_layer_lists_and_functional_models(capsys):
    trace([layers.Dense(4), layers.Dense(2)], np.zeros((1, 3), "float32"))
    assert "(1, 2)" in capsys.readouterr().out
    out = trace(zoo.lenet5(), np.zeros((1, 32, 32, 1), "float32"))
    printed = capsys.readouterr().out
    assert "c3_conv" in printed and "(1, 10, 10, 16)" in printed
    assert tuple(out.shape) == (1, 10)


def test_trace_names_the_layer_that_cannot_take_the_input():
    with pytest.raises(ValueError, match="trace stopped at layer 'too_big'"):
        trace([layers.Conv2D(1, 7, name="too_big")], (1, 5, 5, 1))
    with pytest.raises(ModelInspectionError):
        trace("not a model", (1, 3))


def test_feature_maps():
    model = zoo.lenet5()
    maps = feature_maps(model, np.zeros((2, 32, 32, 1), "float32"), "c3_conv")
    assert maps.shape == (2, 10, 10, 16)
    with pytest.raises(ValueError, match="No layer named 'conv9'"):
        feature_maps(model, np.zeros((1, 32, 32, 1)), "conv9")


# ------------------------------------------------------------------ copying weights


def test_copy_weights_is_set_weights_without_numpy():
    source, target, via_numpy = (zoo.lenet5() for _ in range(3))
    copy_weights(source, target)
    via_numpy.set_weights(source.get_weights())
    for copied, expected in zip(target.get_weights(), via_numpy.get_weights()):
        np.testing.assert_array_equal(copied, expected)
    x = np.random.default_rng(0).uniform(0, 1, size=(2, 32, 32, 1)).astype("float32")
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(target(x)),
                                  keras.ops.convert_to_numpy(source(x)))
    # a copy, not a shared buffer: training one leaves the other alone
    target.weights[0].assign(target.weights[0] + 1.0)
    assert not np.array_equal(target.get_weights()[0], source.get_weights()[0])


def test_copy_weights_names_the_weight_that_does_not_fit():
    with pytest.raises(ValueError, match=r"c1_conv/kernel has shape \(5, 5, 3, 6\), "
                                         r"expected \(5, 5, 1, 6\).*Hint"):
        copy_weights(zoo.lenet5(), zoo.lenet5(input_shape=(32, 32, 3)))
    with pytest.raises(ValueError, match="holds .* weights.*Hint"):
        copy_weights(zoo.lenet5(), zoo.alexnet(input_shape=(67, 67, 3)))
