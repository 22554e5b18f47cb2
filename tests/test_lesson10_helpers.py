"""The helper lesson 10 added: ``inspection.compare_with_reference``, the proof that a course
builder is the ``keras.applications`` network, as one row of a table."""

import math

import keras
import pytest

from course_utils import zoo
from course_utils.inspection import compare_with_reference, layer_table, structure_only


def test_the_same_network_gives_the_same_table_and_the_same_outputs():
    row = compare_with_reference(zoo.mobilenet, keras.applications.MobileNet,
                                 input_shape=(32, 32, 3), alpha=0.25)
    reference = keras.applications.MobileNet(weights=None, input_shape=(32, 32, 3), alpha=0.25)
    assert row == {"network": reference.name, "input": "32x32x3",
                   "parameters": reference.count_params(), "same layer table": True,
                   "largest output difference": 0.0, "largest output": row["largest output"],
                   "first difference": ""}
    assert 0 < row["largest output"] <= 1  # softmax


def test_options_reach_both_builders():
    wide = compare_with_reference(zoo.mobilenet_v2, keras.applications.MobileNetV2,
                                  input_shape=(32, 32, 3), alpha=0.35, include_top=False,
                                  pooling="avg")
    assert wide["same layer table"] and wide["largest output difference"] < 1e-5
    assert wide["parameters"] == keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), alpha=0.35, include_top=False,
        pooling="avg").count_params()


def test_a_different_network_is_told_apart_without_copying_weights():
    def thinner(**options):  # MobileNet at another width: same layers, other shapes
        return zoo.mobilenet(alpha=0.5, **options)

    row = compare_with_reference(thinner, keras.applications.MobileNet,
                                 input_shape=(32, 32, 3))
    assert row["same layer table"] is False
    assert math.isnan(row["largest output difference"])
    # the first layer whose shape differs, named with both shapes
    assert row["first difference"] == (  # conv1, MobileNet's first convolution
        "row 1: output_shape (16, 16, 16) here, (16, 16, 32) in the reference; params 432 "
        "here, 864 in the reference; macs 110592 here, 221184 in the reference")


def test_an_unknown_input_size_is_run_at_224():
    row = compare_with_reference(zoo.mobilenet_v3_small, keras.applications.MobileNetV3Small,
                                 include_top=False, minimalistic=True)
    assert row["input"] == "224x224x3" and row["same layer table"]
    assert row["largest output difference"] < 1e-4


@pytest.mark.parametrize("key", ["10.separable_ratio", "10.half_width_params",
                                 "10.macs_at_128", "10.block_weights"])
def test_lesson_10_answers_match_what_the_lesson_says(key):
    from course_utils import exercises

    expected = exercises._expected(key)
    if key == "10.separable_ratio":
        assert expected == pytest.approx(1 / 256 + 1 / 9)
    elif key == "10.block_weights":
        assert expected == 24 * 144 + 9 * 144 + 144 * 24
    elif key == "10.macs_at_128":  # MACs follow the map area: (128/224)^2 of the 224 count
        with structure_only():
            at_224 = layer_table(zoo.mobilenet()).attrs["totals"]["macs"]
        assert expected == pytest.approx(at_224 * (128 / 224) ** 2, rel=0.03)
    else:  # between alpha^2 and alpha of the full network: the classifier shrinks with alpha
        with structure_only():
            full = keras.applications.MobileNet(weights=None).count_params()
        assert full / 4 < expected < full / 2
