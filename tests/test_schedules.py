"""The one-cycle schedule and the learning-rate finder (course_utils.schedules) and their
plots: values at the known points worked out by hand, the optimizer really training at the
scheduled rate, and the finder on a small linear regression that it must leave untouched."""

import math

import keras
import matplotlib
import numpy as np
import pytest

from course_utils import plots
from course_utils.schedules import LRFinder, OneCycle, find_learning_rate

matplotlib.use("Agg")


def values(schedule, steps):
    return np.asarray(keras.ops.convert_to_numpy(schedule(np.asarray(steps))), dtype=float)


# --- OneCycle ------------------------------------------------------------------------------


@pytest.mark.parametrize("anneal", ["cos", "linear"])
def test_one_cycle_at_start_peak_end_and_beyond(anneal):
    # 200 steps, 20% rising: the peak is step 40; start 0.1/25, end 0.1/1e4.
    s = OneCycle(0.1, 200, warmup=0.2, div_factor=25, final_div=1e4, anneal=anneal)
    start, peak, end = values(s, [0, 40, 200])
    assert start == pytest.approx(0.004, rel=1e-6)
    assert peak == pytest.approx(0.1, rel=1e-6)
    assert end == pytest.approx(1e-5, rel=1e-5)
    assert values(s, [201, 1000, 10**6]) == pytest.approx([1e-5] * 3, rel=1e-5)  # holds
    # A quarter of the way up (step 10) the start keeps weight (1 + cos(pi / 4)) / 2 = 0.8536
    # on a cosine, 0.75 on a line; halfway down (step 120) both are at the midpoint.
    w = 0.8535534 if anneal == "cos" else 0.75
    quarter, halfway_down = values(s, [10, 120])
    assert quarter == pytest.approx(0.004 * w + 0.1 * (1 - w), rel=1e-5)
    assert halfway_down == pytest.approx((0.1 + 1e-5) / 2, rel=1e-5)
    assert float(s(0)) == pytest.approx(0.004, rel=1e-6)  # one step at a time, as Keras calls it


def test_one_cycle_rises_then_falls():
    lrs = values(OneCycle(1.0, 300, warmup=0.3), np.arange(301))
    assert int(np.argmax(lrs)) == 90
    assert np.all(np.diff(lrs[:91]) > 0) and np.all(np.diff(lrs[90:]) < 0)
    no_warmup = values(OneCycle(1.0, 10, warmup=0.0), np.arange(11))
    assert no_warmup[0] == pytest.approx(1.0) and np.all(np.diff(no_warmup) < 0)


def test_one_cycle_serialises_alone_and_inside_an_optimizer():
    s = OneCycle(0.05, 123, warmup=0.1, div_factor=10, final_div=100, anneal="linear")
    again = OneCycle.from_config(s.get_config())
    assert again.get_config() == s.get_config()
    restored = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(s))
    assert isinstance(restored, OneCycle) and restored.get_config() == s.get_config()
    opt = keras.optimizers.deserialize(keras.optimizers.serialize(keras.optimizers.SGD(s)))
    assert float(opt.learning_rate) == pytest.approx(0.005)  # step 0: 0.05 / 10


@pytest.mark.parametrize("run_eagerly", [False, True])
def test_the_optimizer_trains_at_the_scheduled_rate(run_eagerly):
    # One weight w (from 0) and the loss |w + 1000|: its gradient is exactly 1, so plain SGD
    # moves w by -lr each step and after n steps w = -(lr_0 + ... + lr_{n-1}).
    s = OneCycle(0.1, 10, warmup=0.3)
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(learning_rate=s), "mae", run_eagerly=run_eagerly)
    n = 7
    model.fit(np.ones((4 * n, 1), "float32"), np.full((4 * n, 1), -1000.0, "float32"),
              batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert int(model.optimizer.iterations) == n
    assert float(model.optimizer.learning_rate) == pytest.approx(float(s(n)), rel=1e-6)
    w = float(model.layers[0].kernel.numpy()[0, 0])
    assert w == pytest.approx(-values(s, np.arange(n)).sum(), rel=1e-5)


@pytest.mark.parametrize("kwargs, name", [
    ({"max_lr": -1, "total_steps": 10}, "max_lr"),
    ({"max_lr": 0.1, "total_steps": 0}, "total_steps"),
    ({"max_lr": 0.1, "total_steps": 10.5}, "total_steps"),
    ({"max_lr": 0.1, "total_steps": 10, "warmup": 1}, "warmup"),
    ({"max_lr": 0.1, "total_steps": 10, "div_factor": 0.5}, "div_factor"),
    ({"max_lr": 0.1, "total_steps": 10, "final_div": 0}, "final_div"),
    ({"max_lr": 0.1, "total_steps": 10, "anneal": "cosine"}, "anneal"),
])
def test_one_cycle_explains_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=rf"OneCycle: {name} should be .*; got .*Hint: ") as e:
        OneCycle(**kwargs)
    assert repr(kwargs[name]) in str(e.value)


# --- LRFinder ------------------------------------------------------------------------------


def regression(n=512, seed=0):
    """y = x . w + a little noise: a rule a Dense(1) learns."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = x @ rng.normal(size=(8, 1)).astype("float32")
    return x, y + 0.1 * rng.normal(size=(n, 1)).astype("float32")


def linear_model(optimizer):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])
    model.compile(optimizer, "mse")
    return model


def snapshot(model):
    return ([v.numpy().copy() for v in model.weights],
            [keras.ops.convert_to_numpy(v).copy() for v in model.optimizer.variables])


def assert_same(before, after):
    for a, b in zip(before, after, strict=True):
        assert len(a) == len(b)
        for u, v in zip(a, b, strict=True):
            np.testing.assert_array_equal(u, v)


@pytest.fixture(scope="module")
def searched():
    """A finder run to divergence on SGD, and the model before and after."""
    x, y = regression()
    model = linear_model(keras.optimizers.SGD(learning_rate=0.01))
    model.optimizer.build(model.trainable_variables)
    before = snapshot(model)
    finder = find_learning_rate(model, x, y, min_lr=1e-4, max_lr=100.0, steps=60,
                                batch_size=16)
    return finder, model, before, (x, y)


def test_finder_raises_the_rate_geometrically(searched):
    finder = searched[0]
    lrs = np.array(finder.lrs)
    assert lrs[0] == pytest.approx(1e-4)
    ratio = (100.0 / 1e-4) ** (1 / 59)  # 60 steps from 1e-4 to 100
    np.testing.assert_allclose(lrs[1:] / lrs[:-1], ratio, rtol=1e-9)
    assert len(finder.losses) == len(finder.smoothed) == len(lrs)


def test_finder_stops_when_the_loss_diverges(searched):
    finder = searched[0]
    smoothed = np.array(finder.smoothed)
    assert finder.diverged and 5 < len(smoothed) < 60
    last = smoothed[-1]
    assert not math.isfinite(last) or last > 4 * smoothed[:-1].min()  # why it stopped
    assert np.all(smoothed[:-1] <= 4 * np.minimum.accumulate(smoothed[:-1]))  # not earlier
    # The first smoothed value is the first batch's loss itself (bias correction).
    assert smoothed[0] == pytest.approx(finder.losses[0], rel=1e-9)


def test_finder_leaves_the_model_and_its_learning_rate_as_they_were(searched):
    _, model, before, _ = searched
    assert_same(before, snapshot(model))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01, rel=1e-7)
    assert int(model.optimizer.iterations) == 0


def test_the_suggestion_is_in_range_below_divergence_and_trains(searched):
    finder, _, _, (x, y) = searched
    best = finder.lrs[int(np.argmin(finder.smoothed))]
    suggestion = finder.suggestion()
    assert suggestion == pytest.approx(best / 10)
    assert 1e-4 <= suggestion < finder.lrs[-1] / 10
    # Training at it works: the loss falls by an order of magnitude within two epochs.
    model = linear_model(keras.optimizers.SGD(learning_rate=suggestion))
    start = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model.evaluate(x, y, verbose=0) < start / 10


def test_finder_restores_a_trained_optimizer_and_stops_after_its_steps():
    x, y = regression(n=256)
    model = linear_model(keras.optimizers.Adam(learning_rate=0.003))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # Adam now has moments and a step
    before = snapshot(model)
    finder = LRFinder(min_lr=1e-5, max_lr=1e-3, steps=5)  # too low a rate to diverge
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[finder])
    assert len(finder.lrs) == 5 and not finder.diverged  # 16 batches of data, 5 used
    assert finder.lrs[-1] == pytest.approx(1e-3)
    assert_same(before, snapshot(model))
    assert float(model.optimizer.learning_rate) == pytest.approx(0.003)


def test_finder_refuses_an_optimizer_on_a_schedule():
    x, y = regression(n=64)
    model = linear_model(keras.optimizers.SGD(OneCycle(0.1, 100)))
    with pytest.raises(TypeError, match=r"learning rate should be a number.*schedule.*Hint"):
        model.fit(x, y, batch_size=16, verbose=0, callbacks=[LRFinder(steps=3)])


@pytest.mark.parametrize("kwargs, name", [
    ({"min_lr": 0}, "min_lr"),
    ({"min_lr": 1e-2, "max_lr": 1e-3}, "max_lr"),
    ({"steps": 1}, "steps"),
    ({"beta": 1.0}, "beta"),
    ({"diverge": 1}, "diverge"),
])
def test_finder_explains_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=rf"LRFinder: {name} should be .*; got .*Hint: "):
        LRFinder(**kwargs)


def test_find_learning_rate_explains_too_little_data_and_an_unrun_finder():
    x, y = regression(n=8)
    with pytest.raises(ValueError, match=r"batch_size should be a whole number from 1 to "
                                         r"len\(x\) = 8; got 32\. Hint: "):
        find_learning_rate(linear_model("sgd"), x, y, batch_size=32)
    with pytest.raises(ValueError, match=r"y should be as many labels as inputs \(8\); got 7"):
        find_learning_rate(linear_model("sgd"), x, y[:7])
    with pytest.raises(RuntimeError, match="fewer than 3 batches.*Hint"):
        LRFinder().suggestion()


# --- Plots ---------------------------------------------------------------------------------


def test_plot_lr_finder_log_x_and_the_suggestion_marked(searched):
    finder = searched[0]
    fig = plots.plot_lr_finder(finder)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and "learning rate" in ax.get_xlabel()
    assert ax.get_ylabel() == "loss"
    raw, smooth, mark = ax.lines
    np.testing.assert_array_equal(smooth.get_xdata(), finder.lrs)
    np.testing.assert_array_equal(smooth.get_ydata(), finder.smoothed)
    assert list(mark.get_xdata()) == [finder.suggestion()] * 2  # a vertical line
    assert ax.get_ylim()[1] <= 1.05 * 4 * finder.smoothed[0] + 1e-9  # the blow-up cut off
    with pytest.raises(ValueError, match="LRFinder that has run.*Hint"):
        plots.plot_lr_finder(LRFinder())


def test_plot_schedule_draws_every_step():
    s = OneCycle(0.1, 50, warmup=0.2)
    fig = plots.plot_schedule(s, 50)
    (ax,) = fig.axes
    (line,) = ax.lines
    assert ax.get_xscale() == "linear" and ax.get_ylabel() == "learning rate"
    assert "step" in ax.get_xlabel() and ax.get_title() == "OneCycle"
    np.testing.assert_array_equal(line.get_xdata(), np.arange(51))
    np.testing.assert_allclose(line.get_ydata(), values(s, np.arange(51)))
    assert max(line.get_ydata()) == pytest.approx(0.1)
    keras_schedule = keras.optimizers.schedules.CosineDecay(1.0, 20)
    y = plots.plot_schedule(keras_schedule, 20).axes[0].lines[0].get_ydata()
    assert y[0] == pytest.approx(1.0) and y[-1] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="plot_schedule.*Hint"):
        plots.plot_schedule(s, 0)
