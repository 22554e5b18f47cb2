import keras
import numpy as np
import pytest

from course_utils import cost, zoo
from course_utils.inspection import layer_table


@pytest.fixture(scope="module")
def resnet50_tables():
    """layer_table of ResNet-50 for colour and grayscale 224x224 input (about 2 s)."""
    return {channels: layer_table(zoo.resnet50(input_shape=(224, 224, channels),
                                               include_top=True, classes=1000))
            for channels in (3, 1)}


def test_training_flops_formula_by_hand():
    # 2 FLOPs per MAC * 10 MACs * (1 forward + 2 backward) * 5 images * 2 epochs
    assert cost.training_flops(10, 5, 2) == 600
    assert cost.training_flops(10, 5, 2, backward_factor=0) == 200  # inference only
    assert cost.training_flops(10, 4, 0.5) == 2 * 10 * 3 * 4 * 0.5
    assert cost.training_flops(np.int64(10), np.int64(5), 2) == 600


def test_days_and_implied_utilisation_invert_each_other():
    one_day_at_peak = 7e12 * 86_400
    assert cost.training_days(one_day_at_peak, "Tesla M40") == pytest.approx(1)
    assert cost.training_days(one_day_at_peak, "tesla m40", utilisation=0.25) == \
        pytest.approx(4)
    assert cost.training_days(one_day_at_peak, 14e12) == pytest.approx(0.5)
    assert cost.implied_utilisation(one_day_at_peak, 4, "Tesla M40") == pytest.approx(0.25)
    assert set(cost.DEVICES) >= {"Tesla M40", "Tesla V100", "A100", "Tesla T4"}
    assert cost.DEVICES["Tesla M40"] == 7e12


def test_model_forward_macs_of_a_tiny_model_by_hand():
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(4, 3),   # 6*6 outputs * 4 filters * 3*3*1 weights = 1,296
        keras.layers.Flatten(),      # 144 features
        keras.layers.Dense(10),      # 144 * 10 = 1,440
    ])
    assert cost.model_forward_macs(model) == 1_296 + 1_440


def test_model_forward_macs_needs_a_fixed_input_size():
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3)])
    with pytest.raises(ValueError, match="fixed input_shape"):
        cost.model_forward_macs(model)


def test_grayscale_saves_two_thirds_of_conv1_and_nothing_else(resnet50_tables):
    rgb, gray = (t[t["type"] != "InputLayer"].reset_index(drop=True)
                 for t in (resnet50_tables[3], resnet50_tables[1]))
    assert list(rgb["layer"]) == list(gray["layer"])
    differ = rgb["layer"][rgb["macs"] != gray["macs"]].tolist()
    assert differ == ["conv1_conv", "total"]
    conv1 = lambda t: int(t.loc[t["layer"] == "conv1_conv", "macs"].iloc[0])  # noqa: E731
    assert conv1(gray) * 3 == conv1(rgb)  # exactly a third is left
    saved = rgb.attrs["totals"]["macs"] - gray.attrs["totals"]["macs"]
    assert saved == conv1(rgb) * 2 // 3
    assert cost.resnet50_forward_macs((224, 224, 1)) == gray.attrs["totals"]["macs"]
    assert cost.resnet50_forward_macs() == rgb.attrs["totals"]["macs"]


def test_halving_the_image_side_divides_the_work_by_about_four(resnet50_tables):
    full = resnet50_tables[3].attrs["totals"]["macs"]
    half = cost.resnet50_forward_macs((112, 112, 3))
    # Exactly 4 down to conv4; conv5 works on 4x4 maps, not 3.5x3.5 (strides round up),
    # and the classifier's 2,048 x 1,000 MACs do not shrink at all.
    assert 3.7 < full / half <= 4


def test_resnet50_reference_run_is_of_order_1e18_and_about_4_days_on_an_m40():
    scenarios = cost.resnet50_scenarios()
    reference = next(iter(scenarios.values()))
    assert reference["images"] == 1_281_167 and reference["epochs"] == 90
    flops = cost.training_flops(**reference)
    assert 1e18 < flops < 1e19
    days = cost.training_days(flops, "Tesla M40")
    assert 3 < days < 6  # at peak; the reported 14 days means about a third of it
    assert 0.2 < cost.implied_utilisation(flops, 14, "Tesla M40") < 0.4


def test_cost_table_rows_follow_the_formula():
    scenarios = {
        "reference": {"forward_macs": 100, "images": 1000, "epochs": 10},
        "fewer images": {"forward_macs": 100, "images": 10, "epochs": 10},
        "half the epochs": {"forward_macs": 100, "images": 1000, "epochs": 5},
    }
    table = cost.training_cost_table(scenarios, device_flops_per_s=6e5, utilisation=0.5)
    assert list(table.index) == list(scenarios)
    assert table.loc["reference", "flops"] == 2 * 100 * 3 * 1000 * 10
    assert table.loc["reference", "days"] == pytest.approx(6e6 / 3e5 / 86_400)
    np.testing.assert_allclose(table["less_work"], [1, 100, 2])
    assert table.attrs["utilisation"] == 0.5 and table.attrs["device_flops_per_s"] == 6e5
    assert table.loc["reference", "time"] == "20 s"


def test_resnet50_scenarios_change_one_thing_at_a_time():
    table = cost.training_cost_table(cost.resnet50_scenarios())
    reference, gray, half, small, few, together = table.itertuples()
    assert gray.less_work == pytest.approx(1.02, abs=0.01)  # grayscale: ~2% less work
    assert 3.7 < half.less_work <= 4
    assert small.images == 128 and small.forward_macs == reference.forward_macs
    assert few.less_work == pytest.approx(3)
    assert together.less_work > 1e5
    assert reference.time == "4.4 days"


def test_readable_duration():
    assert cost.readable_duration(14) == "14.0 days"
    assert cost.readable_duration(0.5) == "12.0 h"
    assert cost.readable_duration(120 / 86_400) == "2.0 min"
    assert cost.readable_duration(38 / 86_400) == "38 s"


@pytest.mark.parametrize("call, message", [
    (lambda: cost.training_flops(0, 5, 2), "forward_macs must be a finite number more"),
    (lambda: cost.training_flops(10, 2.5, 2), "images must be a whole number"),
    (lambda: cost.training_flops(10, 5, -1), "epochs must be a finite number more"),
    (lambda: cost.training_flops(10, 5, 2, backward_factor=-1), "backward_factor"),
    (lambda: cost.training_flops("10", 5, 2), "forward_macs must be a number; got str"),
    (lambda: cost.training_flops(10, True, 2), "images must be a number; got bool"),
    (lambda: cost.training_flops(float("nan"), 5, 2), "finite"),
    (lambda: cost.training_days(1e18, "Tesla M4"), "Unknown device 'Tesla M4'. Known:"),
    (lambda: cost.training_days(1e18, 7e12, utilisation=30), "Hint: 30% is 0.3"),
    (lambda: cost.training_days(1e18, -7e12), "device_flops_per_s must be a finite"),
    (lambda: cost.implied_utilisation(1e18, 0, "A100"), "days must be a finite number"),
    (lambda: cost.training_cost_table({}), "non-empty dict"),
    (lambda: cost.training_cost_table({"a": {"forward_macs": 1, "images": 1, "epoch": 1}}),
     r"missing: \['epochs'\], unknown: \['epoch'\]"),
    (lambda: cost.training_cost_table({"a": [1, 2, 3]}), "must be a dict with keys"),
])
def test_bad_inputs_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --------------------------------------------------------------------------- many devices


def test_speedup_is_linear_at_efficiency_one_and_one_device_is_one():
    assert [cost.speedup(n, 1.0) for n in (1, 2, 8, 256)] == [1, 2, 8, 256]
    assert cost.speedup(1, 0.5) == 1  # efficiency is measured against one device
    assert cost.speedup(256, 0.9) == pytest.approx(230.4)
    assert cost.speedup(8) == pytest.approx(8 * cost.GOYAL_SCALING_EFFICIENCY)


def test_multi_device_days_divides_the_single_device_days():
    one_day_at_peak = 7e12 * 86_400
    assert cost.multi_device_days(one_day_at_peak, "Tesla M40", 1) == pytest.approx(1)
    assert cost.multi_device_days(one_day_at_peak, "Tesla M40", 8, scaling_efficiency=1) == \
        pytest.approx(1 / 8)
    assert cost.multi_device_days(one_day_at_peak, "Tesla M40", 10, scaling_efficiency=0.5,
                                  utilisation=0.25) == pytest.approx(4 / 5)


def test_reported_runs_imply_goyals_efficiency_and_you_et_als_throughput():
    runs = list(cost.REPORTED_RUNS.values())
    m40, goyal_8, goyal_256 = runs[:3]
    assert cost.implied_scaling_efficiency(goyal_8, goyal_256) == pytest.approx(29 / 32)
    assert abs(cost.implied_scaling_efficiency(goyal_8, goyal_256)
               - cost.GOYAL_SCALING_EFFICIENCY) < 0.01  # "~90%"
    # 14 days on one M40: 90 epochs x 1,281,167 images / 1,209,600 s
    assert cost.images_per_second(m40["seconds"]) == pytest.approx(90 * 1_281_167 / 1_209_600)
    assert cost.images_per_second(3600, devices=256) == pytest.approx(
        90 * 1_281_167 / 3600 / 256)
    assert cost.images_per_second(10, devices=2, images=100, epochs=1) == 5


def test_scaling_table_of_the_m40_run_is_14_days_on_one_and_monotonic():
    table = cost.scaling_table(cost.images_per_second(14 * 86_400))
    assert list(table.index) == [1, 8, 256]
    assert table.loc[1, "days"] == pytest.approx(14)
    assert table.loc[1, "time"] == "14.0 days"
    assert table.loc[256, "days"] == pytest.approx(14 / (256 * 0.9))
    assert list(table["days"]) == sorted(table["days"], reverse=True)
    np.testing.assert_allclose(table["speedup"], [1, 7.2, 230.4])
    linear = cost.scaling_table(100, devices=(1, 2, 4), scaling_efficiency=1, images=8_640,
                                epochs=1000)
    np.testing.assert_allclose(linear["days"], [1, 0.5, 0.25])
    assert linear.attrs["scaling_efficiency"] == 1


@pytest.mark.parametrize("call, message", [
    (lambda: cost.speedup(8, 1.5), r"scaling_efficiency should be .*in \(0, 1\]; got 1.5"),
    (lambda: cost.speedup(8, 0), "scaling_efficiency must be a finite number more"),
    (lambda: cost.speedup(2.5), "devices must be a whole number"),
    (lambda: cost.speedup(0), "devices must be a finite number more than zero"),
    (lambda: cost.multi_device_days(1e18, "Tesla M4", 8), "Unknown device"),
    (lambda: cost.images_per_second(0), "seconds must be a finite number more"),
    (lambda: cost.implied_scaling_efficiency({"devices": 8}, {"devices": 256, "seconds": 1}),
     "few must be a dict with the keys devices and seconds"),
    (lambda: cost.scaling_table(100, devices=8), "devices must be a non-empty list"),
    (lambda: cost.scaling_table(100, devices=()), "devices must be a non-empty list"),
    (lambda: cost.scaling_table(-1), "images_per_second_per_device must be a finite"),
])
def test_many_device_inputs_say_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()
