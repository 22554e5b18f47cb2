"""The zoo at a glance (course_utils.glance) and its Pareto chart (plots.plot_pareto)."""

import math
import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from course_utils import glance, plots, zoo
from course_utils.inspection import layer_table, structure_only
from course_utils.zoo.efficientnet import KERAS_COEFFICIENTS
from course_utils.zoo.fashion import VERSIONS

matplotlib.use("Agg")

SMALL = ["LeNet-5", "SqueezeNet 1.1", "MobileNetV3-Small"]


def test_every_entry_names_a_builder_a_lesson_and_a_source():
    for name, entry in glance.ZOO.items():
        assert callable(getattr(zoo, entry.builder)), name
        assert re.fullmatch(r"\d\d", entry.lesson), name
        assert entry.min_size <= entry.size, name
        reported = entry.reported
        assert reported.link.startswith("https://"), name
        assert reported.paper and reported.note, f"{name}: say how it was measured or why not"
        if reported.top1 is None:
            assert reported.where == "-", name
        else:
            assert 50 < reported.top1 < 90 and reported.where != "-", name


def test_accuracies_given_as_errors_are_100_minus_the_error():
    converted = 0
    for name, entry in glance.ZOO.items():
        error = re.search(r"top-1 error ([\d.]+)%", entry.reported.note)
        if error:
            converted += 1
            assert math.isclose(entry.reported.top1, 100 - float(error.group(1))), name
    assert converted >= 9  # AlexNet, VGG, Inception v3 and the ResNets report errors


def test_efficientnets_take_keras_resolutions_and_the_paper_rises_with_them():
    sizes = [glance.ZOO[f"EfficientNet-B{n}"].size for n in range(8)]
    assert sizes == [KERAS_COEFFICIENTS[f"b{n}"].resolution for n in range(8)]
    top1 = [glance.ZOO[f"EfficientNet-B{n}"].reported.top1 for n in range(8)]
    assert top1 == sorted(top1) and top1[0] == 77.1 and top1[-1] == 84.3


def test_costs_are_layer_table_counts_at_the_networks_own_size():
    costs = glance.costs(SMALL + ["EfficientNet-B0"])
    assert list(costs.index) == SMALL + ["EfficientNet-B0"]
    assert costs.loc["LeNet-5", "parameters"] == 61_706
    assert costs.loc["EfficientNet-B0", "parameters"] == 5_330_571
    assert costs.loc["EfficientNet-B0", "input"] == "224x224x3"
    with structure_only():
        model = zoo.mobilenet_v3_small(input_shape=(224, 224, 3))
        macs = layer_table(model).attrs["totals"]["macs"]
    assert costs.loc["MobileNetV3-Small", "MACs"] == macs
    assert costs.loc["MobileNetV3-Small", "GMACs"] == pytest.approx(macs / 1e9)


def test_latencies_time_each_network_alike_and_say_at_what_size():
    timed = glance.latencies(["LeNet-5", "NiN", "SqueezeNet 1.1", "VGG-16"], side=32,
                             repeats=3, warmup=0, max_parameters=8_000_000)
    assert list(timed.columns) == ["latency (ms)", "spread (ms)", "timed at"]
    assert timed.loc["LeNet-5", "timed at"] == "32x32"
    assert timed.loc["NiN", "timed at"] == "67x67"  # the smallest NiN accepts
    assert timed.loc["SqueezeNet 1.1", "latency (ms)"] > 0
    assert timed.loc["VGG-16", "timed at"] == "not timed"
    assert np.isnan(timed.loc["VGG-16", "latency (ms)"])


def test_table_joins_costs_sources_latency_and_fashion_accuracy():
    latency = pd.DataFrame({"latency (ms)": [1.0], "spread (ms)": [0.1],
                            "timed at": ["32x32"]}, index=["LeNet-5"])
    frame = glance.table(SMALL, latency=latency, fashion={"LeNet-5": 0.9})
    assert list(frame.index) == SMALL
    assert frame.loc["LeNet-5", "Fashion-MNIST accuracy"] == 0.9
    assert np.isnan(frame.loc["SqueezeNet 1.1", "Fashion-MNIST accuracy"])
    assert np.isnan(frame.loc["LeNet-5", "ImageNet top-1 (%)"])
    assert frame.loc["MobileNetV3-Small", "ImageNet top-1 (%)"] == 67.4
    assert "Table 3" in frame.loc["MobileNetV3-Small", "reported in"]
    assert pd.isna(frame.loc["SqueezeNet 1.1", "timed at"])
    with pytest.raises(ValueError, match="not among the table's networks"):
        glance.table(["SqueezeNet 1.1"], latency=latency)
    with pytest.raises(ValueError, match="glance.fashion_networks"):
        glance.table(["SqueezeNet 1.1"], fashion={"LeNet-5": 0.9})


def test_citations_and_fashion_networks():
    cited = glance.citations(["AlexNet", "GoogLeNet"])
    assert cited.loc["AlexNet", "ImageNet top-1 (%)"] == pytest.approx(59.3)
    assert "top-5" in cited.loc["GoogLeNet", "note"]
    names = glance.fashion_networks()
    assert "LeNet-5" in names and "ResNet-50" not in names
    assert all(glance.ZOO[name].fashion in VERSIONS for name in names)


def test_unknown_names_and_sizes_are_explained():
    with pytest.raises(KeyError, match="Expected one of: LeNet-5"):
        glance.network("ResNet-51")
    with pytest.raises(KeyError, match="ResNet-51"):
        glance.costs(["ResNet-51"])
    with pytest.raises(ValueError, match="side must be a positive whole number"):
        glance.build("LeNet-5", side=0)


def test_pareto_front_keeps_what_nothing_beats():
    cost = [1, 2, 3, 4, 2, np.nan]
    value = [50, 60, 55, 70, 60, 99]
    # 3 is beaten by 2 (cheaper, more accurate); the two equal points both stay; NaN is out
    np.testing.assert_array_equal(glance.pareto_front(cost, value),
                                  [True, True, False, True, True, False])
    with pytest.raises(ValueError, match="one cost and one value per point"):
        glance.pareto_front([1, 2], [1])


def test_plot_pareto_draws_one_panel_per_cost_and_fills_the_front():
    frame = pd.DataFrame({"GMACs": [1.0, 2.0, 3.0, 4.0], "latency (ms)": [5, np.nan, 1, 2],
                          "top-1": [50.0, 60.0, 55.0, np.nan]}, index=list("abcd"))
    fig = plots.plot_pareto(frame, "top-1", ["GMACs", "latency (ms)"])
    macs_ax, latency_ax = fig.axes
    assert macs_ax.get_xscale() == "log"
    assert len(macs_ax.collections[1].get_offsets()) == 2  # a and b on the front
    assert len(latency_ax.collections[0].get_offsets()) == 2  # b and d have no point
    assert sorted(t.get_text() for t in macs_ax.texts) == ["a", "b", "c"]
    with pytest.raises(ValueError, match="missing"):
        plots.plot_pareto(frame, "top-5", "GMACs")


NEW_FAMILIES = {
    "18": ["DenseNet-121", "DenseNet-169", "DenseNet-201"],
    "19": ["ResNeXt-50 32x4d", "ResNeXt-101 32x8d", "Xception", "Inception-ResNet v2"],
    "20": ["EfficientNetV2-B0", "EfficientNetV2-S", "EfficientNetV2-M", "EfficientNetV2-L",
           "RegNetX-400MF", "RegNetX-1.6GF", "RegNetX-8.0GF", "RegNetY-400MF",
           "RegNetY-1.6GF", "RegNetY-8.0GF", "RegNetY-16GF",
           "ConvNeXt-T", "ConvNeXt-S", "ConvNeXt-B", "ConvNeXt-L", "ConvNeXt-XL"],
}


def test_new_families_name_the_lesson_that_builds_them_and_come_in_order():
    for lesson, names in NEW_FAMILIES.items():
        assert glance.select(lessons=[lesson]) == names, (
            f"glance.select(lessons=[{lesson!r}]) should list {names}. Hint: each Network's "
            f"first field is the lesson that builds it.")
    lessons = [int(entry.lesson) for entry in glance.ZOO.values()]
    assert lessons == sorted(lessons), "ZOO must list the networks in the order of the lessons"
    assert glance.select() == list(glance.ZOO)
    seen_by_12 = glance.select(until="12")
    assert "EfficientNet-B7" in seen_by_12 and "ConvNeXt-T" not in seen_by_12
    assert seen_by_12 == [name for name, entry in glance.ZOO.items() if int(entry.lesson) <= 12]
    assert glance.select(lessons=["18", "19"], until="18") == NEW_FAMILIES["18"]
    with pytest.raises(ValueError, match="list of lessons"):
        glance.select(lessons="18")
    with pytest.raises(ValueError, match="two-digit"):
        glance.select(until="8")


def test_new_networks_take_their_keras_sizes_and_builders():
    from course_utils.zoo.efficientnet_v2 import KERAS_VARIANTS
    from course_utils.zoo.regnet import paper_name

    for key in ("b0", "s", "m", "l"):
        entry = glance.ZOO[f"EfficientNetV2-{key.upper()}"]
        assert (entry.builder, entry.size) == (f"efficientnet_v2_{key}",
                                              KERAS_VARIANTS[key].resolution)
    assert (glance.ZOO["Xception"].size, glance.ZOO["Xception"].min_size) == (299, 71)
    assert (glance.ZOO["Inception-ResNet v2"].size,
            glance.ZOO["Inception-ResNet v2"].min_size) == (299, 75)
    for name in glance.select(lessons=["20"]):
        builder = glance.ZOO[name].builder
        if builder.startswith("regnet"):  # regnetx_016 -> "x016" -> RegNetX-1.6GF
            assert paper_name(builder[6] + builder.split("_")[1]) == name


def test_new_accuracies_rise_within_each_family_and_gaps_say_why():
    def top1(names):
        return [glance.ZOO[name].reported.top1 for name in names]

    for family in (NEW_FAMILIES["18"], ["ConvNeXt-T", "ConvNeXt-S", "ConvNeXt-B", "ConvNeXt-L"],
                   ["RegNetX-400MF", "RegNetX-1.6GF", "RegNetX-8.0GF"],
                   ["RegNetY-400MF", "RegNetY-1.6GF", "RegNetY-8.0GF", "RegNetY-16GF"],
                   ["EfficientNetV2-S", "EfficientNetV2-M", "EfficientNetV2-L"]):
        assert top1(family) == sorted(top1(family)), f"{family}: {top1(family)}"
    assert top1(["ConvNeXt-T", "DenseNet-121", "Xception"]) == [82.1, 74.98, 79.0]
    empty = {name for names in NEW_FAMILIES.values() for name in names
             if glance.ZOO[name].reported.top1 is None}
    assert empty == {"ResNeXt-101 32x8d", "Inception-ResNet v2", "EfficientNetV2-B0",
                     "ConvNeXt-XL"}
    assert "ImageNet-22K" in glance.ZOO["ConvNeXt-XL"].reported.note


def test_new_families_are_counted_like_the_others():
    names = ["RegNetY-400MF", "EfficientNetV2-B0"]
    costs = glance.costs(names)
    assert list(costs.index) == names and costs.loc["RegNetY-400MF", "input"] == "224x224x3"
    with structure_only():
        macs = layer_table(zoo.regnety_004(input_shape=(224, 224, 3))).attrs["totals"]["macs"]
    assert costs.loc["RegNetY-400MF", "MACs"] == macs
    assert costs.loc["RegNetY-400MF", "GMACs"] == pytest.approx(0.4, rel=0.05)  # pycls 0.4
    assert costs.loc["EfficientNetV2-B0", "parameters"] == 7_200_312  # Keras's count
