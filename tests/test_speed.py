import os

import keras
import numpy as np
import pytest

from course_utils import speed


def _tiny(side=None, filters=4):
    inputs = keras.Input((side, side, 3))
    x = keras.layers.Conv2D(filters, 3, name="conv")(inputs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def test_latency_is_a_median_of_the_runs_with_its_quartile_spread():
    result = speed.cpu_latency(_tiny(16), repeats=7, warmup=1)
    runs = np.array(result.runs_ms)
    assert len(runs) == 7 and (runs > 0).all()
    assert result.median_ms == pytest.approx(np.median(runs))
    q1, q3 = np.percentile(runs, [25, 50, 75])[[0, 2]]
    assert result.spread_ms == pytest.approx(q3 - q1)


def test_latency_grows_with_the_work():
    # 64 times the pixels and 16 times the filters: clearly slower whatever the noise.
    small = speed.cpu_latency(_tiny(16), repeats=9)
    large = speed.cpu_latency(_tiny(256, filters=64), repeats=9)
    assert large.median_ms > small.median_ms


def test_latency_needs_a_size_and_enough_runs():
    with pytest.raises(ValueError, match="input_shape=.*Hint|Hint.*input_shape"):
        speed.cpu_latency(_tiny(None))
    assert speed.cpu_latency(_tiny(None), input_shape=(8, 8, 3), repeats=3).median_ms > 0
    with pytest.raises(ValueError, match="repeats") as info:
        speed.cpu_latency(_tiny(8), repeats=1)
    assert "Hint" in str(info.value)


def test_size_on_disk_is_the_saved_weights_file():
    for filters in (4, 4000):
        model = _tiny(8, filters=filters)
        # float32 weights: 4 bytes each, plus some 13 kB of HDF5 bookkeeping (names, layout) per file
        assert 0 <= speed.size_on_disk(model) - 4 * model.count_params() <= 16_384
    assert not any(name.endswith(".weights.h5") for name in os.listdir("."))


def test_size_on_disk_leaves_the_optimizer_out():
    model = _tiny(8, filters=400)
    before = speed.size_on_disk(model)
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 8, 8, 3)), np.zeros((4, 400)), verbose=0)
    assert speed.size_on_disk(model) == before


def test_time_call_times_every_repeat_after_the_warmup():
    calls = []
    latency = speed.time_call(calls.append, 1, repeats=5, warmup=2)
    assert len(calls) == 7 and len(latency.runs_ms) == 5
    assert min(latency.runs_ms) <= latency.median_ms <= max(latency.runs_ms)
    assert latency.spread_ms >= 0
    with pytest.raises(ValueError, match=r"(?s)repeats.*got.*Hint"):
        speed.time_call(calls.append, 1, repeats=2)
