"""course_utils.deploy: the table's rows, ratios and Pareto front, the LiteRT path measured
like the Keras one, the network surgery (input size, channel pruning) and the teaching
errors."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from course_utils import deploy, env, quantise
from course_utils.inspection import layer_table

ROW = deploy.Row


def _rows():
    return [ROW("base", "LiteRT", 1000, 900, 2.0, 0.1, 0.90),
            ROW("small", "LiteRT", 250, 200, 1.0, 0.1, 0.89),   # smaller, faster, worse
            ROW("beaten", "LiteRT", 500, 450, 1.5, 0.1, 0.88),  # small beats it on all three
            ROW("accurate", "LiteRT", 1000, 900, 2.5, 0.1, 0.92)]  # best accuracy


def _tiny(seed=0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", use_bias=False, name="conv_a")(inputs)
    x = keras.layers.BatchNormalization(name="bn_a")(x)
    x = keras.layers.ReLU(name="relu_a")(x)
    x = keras.layers.Conv2D(4, 3, padding="same", name="conv_b")(x)
    r = keras.layers.Conv2D(4, 3, padding="same", name="conv_r")(x)
    x = keras.layers.Add(name="add")([x, r])
    x = keras.layers.GlobalMaxPooling2D(name="pool")(x)
    x = keras.layers.Dense(3, name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="probs")(x)
    model = keras.Model(inputs, outputs, name="tiny")
    for layer in model.layers:  # BN statistics that are not the identity
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.set_weights([np.linspace(0.5, 1.5, 6), np.linspace(-0.2, 0.2, 6),
                               np.linspace(-0.1, 0.1, 6), np.linspace(0.8, 1.2, 6)])
    return model


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (40, 8, 8, 1)).astype("float32"), rng.integers(0, 3, 40)


def test_table_ratios_are_to_the_baseline():
    frame = deploy.table(_rows(), baseline="base")
    assert list(frame.index) == ["base", "small", "beaten", "accurate"]
    assert frame.loc["small", "x smaller"] == pytest.approx(4.0)
    assert frame.loc["small", "x smaller gzipped"] == pytest.approx(4.5)
    assert frame.loc["small", "x faster"] == pytest.approx(2.0)
    assert frame.loc["small", "accuracy change (points)"] == pytest.approx(-1.0)
    assert frame.loc["base", ["x smaller", "x faster"]].tolist() == [1.0, 1.0]


def test_pareto_front_keeps_rows_no_other_beats_on_all_three():
    front = deploy.pareto_front(deploy.table(_rows(), baseline="base"))
    assert front.to_dict() == {"base": True, "small": True, "beaten": False, "accurate": True}


def test_pareto_front_drops_an_exact_tie_only_when_strictly_beaten():
    rows = [ROW("a", "LiteRT", 100, 90, 1.0, 0.0, 0.9), ROW("b", "LiteRT", 100, 90, 1.0, 0.0, 0.9),
            ROW("c", "LiteRT", 100, 90, 1.0, 0.0, 0.8)]
    front = deploy.pareto_front(deploy.table(rows, baseline="a"))
    assert front.tolist() == [True, True, False]


def test_goals_say_met_or_not_from_the_ratios():
    frame = deploy.table(_rows(), baseline="base")
    by_goal = {g.goal: g for g in deploy.goals(frame, "small")}
    assert by_goal["x smaller"].met and by_goal["x faster"].met
    assert by_goal["accuracy points lost"].measured == pytest.approx(1.0)
    assert not by_goal["accuracy points lost"].met
    assert not {g.goal: g for g in deploy.goals(frame, "beaten")}["x smaller"].met


def test_plot_pareto_fills_the_front_of_all_three_columns_in_both_panels():
    fig = deploy.plot_pareto(deploy.table(_rows(), baseline="base"))
    assert len(fig.axes) == 2
    assert [ax.get_xscale() for ax in fig.axes] == ["log", "log"]
    for ax in fig.axes:
        front = [c for c in ax.collections if c.get_label().startswith("Pareto front")]
        assert len(front) == 1 and len(front[0].get_offsets()) == 3  # all but "beaten"
        assert sorted(t.get_text() for t in ax.texts) == ["accurate", "base", "beaten", "small"]
        assert not ax.lines  # a front of three columns is not a staircase in two
    size_ax, latency_ax = fig.axes
    assert len(latency_ax.collections) == 3 and len(size_ax.collections) == 2  # spread bars


def test_table_and_front_errors_teach():
    with pytest.raises(ValueError, match=r"table: baseline should be one of the variants.*"
                                         r"got 'float32'.*Hint"):
        deploy.table(_rows(), baseline="float32")
    with pytest.raises(ValueError, match=r"table: rows should be distinct variant names.*Hint"):
        deploy.table(_rows() + _rows()[:1], baseline="base")
    with pytest.raises(ValueError, match=r"pareto_front: frame should be .*columns.*got "
                                         r"\['test accuracy'\].*Hint"):
        deploy.pareto_front(deploy.table(_rows(), "base").drop(columns="test accuracy"))
    with pytest.raises(ValueError, match=r"goals: variant should be one of .*got 'int8'"):
        deploy.goals(deploy.table(_rows(), "base"), "int8")


def test_downsample_is_bicubic_in_range_and_checks_its_input():
    x = np.random.default_rng(0).uniform(0, 1, (3, 28, 28, 1)).astype("float32")
    small = deploy.downsample(x, 14)
    assert small.shape == (3, 14, 14, 1)
    assert small.min() >= 0.0 and small.max() <= 1.0
    flat = np.full((1, 28, 28, 1), 0.25, "float32")
    np.testing.assert_allclose(deploy.downsample(flat, 20), 0.25, atol=1e-5)
    with pytest.raises(ValueError, match=r"downsample: images should be a batch.*got "
                                         r"\(28, 28\).*Hint"):
        deploy.downsample(x[0, ..., 0], 14)
    with pytest.raises(ValueError, match=r"downsample: size should be .*got 2.*Hint"):
        deploy.downsample(x, 2)


@pytest.mark.tensorflow("LiteRT's converter")
def test_litert_rows_match_keras_on_a_tiny_model(tiny_data):
    x, y = tiny_data
    model = _tiny()
    flatbuffer = quantise.to_litert(model, "float32")
    np.testing.assert_allclose(quantise.litert_predict(flatbuffer, x, 8),
                               model.predict(x, verbose=0), atol=1e-5)
    keras_row = deploy.measure_keras("keras", model, x, y, repeats=5)
    lite_row = deploy.measure_litert("lite", flatbuffer, x, y, repeats=5)
    assert keras_row.accuracy == lite_row.accuracy == deploy.keras_accuracy(model, x, y)
    assert lite_row.size_bytes == len(flatbuffer)
    assert 0 < lite_row.gzipped_bytes < lite_row.size_bytes
    for row in (keras_row, lite_row):
        assert row.latency_ms > 0 and row.spread_ms >= 0
    int8 = quantise.to_litert(model, "int8", representative=x)
    assert deploy.measure_litert("int8", int8, x, y, repeats=3).size_bytes < len(flatbuffer)


@pytest.mark.tensorflow("LiteRT's converter")
def test_litert_latency_times_the_requested_repeats(tiny_data):
    flatbuffer = quantise.to_litert(_tiny(), "float32")
    latency = deploy.litert_latency(flatbuffer, repeats=7, threads=1)
    assert len(latency.runs_ms) == 7 and min(latency.runs_ms) > 0
    assert min(latency.runs_ms) <= latency.median_ms <= max(latency.runs_ms)
    with pytest.raises(ValueError, match=r"litert_latency: repeats should be .*got 2.*Hint"):
        deploy.litert_latency(flatbuffer, repeats=2)
    with pytest.raises(ValueError, match=r"litert_latency: threads should be .*got 0.*Hint"):
        deploy.litert_latency(flatbuffer, threads=0)


def test_measure_errors_teach(tiny_data):
    x, y = tiny_data
    with pytest.raises(ValueError, match=r"measure_litert: flatbuffer should be the bytes.*"
                                         r"got 'Functional'.*Hint"):
        deploy.measure_litert("x", _tiny(), x, y)
    with pytest.raises(ValueError, match=r"measure_keras: x_test, y_test should be the same "
                                         r"number.*got \(40, 39\)"):
        deploy.measure_keras("x", _tiny(), x, y[:-1])


@pytest.mark.tensorflow("LiteRT's converter")
def test_measure_variant_on_tensorflow_is_the_litert_row(tiny_data):
    x, y = tiny_data
    model = _tiny()
    row = deploy.measure_variant("lite", model, x, y, repeats=3)
    assert row.runtime == "LiteRT" and row.size_bytes == len(quantise.to_litert(model))
    assert row.accuracy == deploy.keras_accuracy(model, x, y)
    int8 = deploy.measure_variant("int8", model, x, y, mode="int8", representative=x, repeats=3)
    assert int8.runtime == "LiteRT" and int8.size_bytes < row.size_bytes


def test_measure_variant_elsewhere_measures_keras_float32_and_refuses_quantised(tiny_data,
                                                                                monkeypatch):
    x, y = tiny_data
    model = _tiny()
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")  # as on JAX, whatever runs
    row = deploy.measure_variant("keras", model, x, y, repeats=3)
    assert row.runtime == "Keras" and row.accuracy == deploy.keras_accuracy(model, x, y)
    assert row.size_bytes > 0 and row.latency_ms > 0
    with pytest.raises(env.TensorFlowRequired,
                       match=r"measure_variant needs TensorFlow itself \(LiteRT int8 "
                             r"quantisation.*backend here is jax.*KERAS_BACKEND=tensorflow"):
        deploy.measure_variant("int8", model, x, y, mode="int8", representative=x)
    with pytest.raises(ValueError, match="measure_variant: mode should be one of"):
        deploy.measure_variant("x", model, x, y, mode="int4")


def test_litert_conversion_on_another_backend_says_it_needs_tensorflow(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(env.TensorFlowRequired,
                       match=r"to_litert needs TensorFlow itself \(Keras exports LiteRT "
                             r"through a TensorFlow SavedModel.*backend here is torch.*Hint: "
                             r"run with KERAS_BACKEND=tensorflow"):
        quantise.to_litert(_tiny(), "float32")


def test_litert_interpreter_without_litert_or_tensorflow_says_what_to_install(monkeypatch):
    import sys

    for name in ("ai_edge_litert", "ai_edge_litert.interpreter", "tensorflow"):
        monkeypatch.setitem(sys.modules, name, None)  # import fails, as where not installed
    with pytest.raises(env.TensorFlowRequired,
                       match=r"litert_predict needs a LiteRT interpreter.*neither "
                             r"ai_edge_litert nor TensorFlow.*pip install ai-edge-litert"):
        quantise.litert_predict(b"not read", np.zeros((1, 8, 8, 1)))
    with pytest.raises(env.TensorFlowRequired, match="litert_latency needs a LiteRT"):
        deploy.litert_latency(b"not read")


def test_cpu_threads_counts_the_backends_threads():
    threads = deploy.cpu_threads()
    assert isinstance(threads, int) and 1 <= threads <= max(os.cpu_count() or 1, 64), threads


def test_copy_and_at_input_size_keep_the_weights():
    model = _tiny()
    copy = deploy.copy_model(model)
    x = np.random.default_rng(1).uniform(0, 1, (4, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(copy.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6)
    bigger = deploy.at_input_size(model, 12)
    assert bigger.input_shape == (None, 12, 12, 1)
    assert layer_table(bigger).attrs["totals"]["macs"] > layer_table(model).attrs["totals"]["macs"]
    for a, b in zip(model.get_weights(), bigger.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_slim_conv_keeps_the_largest_filters_and_cuts_macs():
    model = _tiny()
    kernel = model.get_layer("conv_a").kernel.numpy()
    kernel[..., [1, 4]] *= 1e-3  # two weak filters
    model.get_layer("conv_a").kernel.assign(kernel)
    slim = deploy.slim_conv(model, "conv_a", 4)
    assert slim.get_layer("conv_a").filters == 4
    kept = [0, 2, 3, 5]
    np.testing.assert_array_equal(slim.get_layer("conv_a").kernel.numpy(), kernel[..., kept])
    np.testing.assert_array_equal(slim.get_layer("bn_a").gamma.numpy(),
                                  model.get_layer("bn_a").gamma.numpy()[kept])
    np.testing.assert_array_equal(slim.get_layer("conv_b").kernel.numpy(),
                                  model.get_layer("conv_b").kernel.numpy()[:, :, kept, :])
    assert layer_table(slim).attrs["totals"]["macs"] < layer_table(model).attrs["totals"]["macs"]


def test_slim_conv_of_zero_filters_computes_the_same_function():
    model = _tiny()
    conv, bn = model.get_layer("conv_a"), model.get_layer("bn_a")
    kernel = conv.kernel.numpy()
    kernel[..., [1, 4]] = 0.0
    conv.kernel.assign(kernel)
    gamma, beta, mean, var = (w.copy() for w in bn.get_weights())
    beta[[1, 4]], mean[[1, 4]] = -1.0, 0.0  # BN maps 0 to a negative: ReLU makes it 0
    bn.set_weights([gamma, beta, mean, var])
    slim = deploy.slim_conv(model, "conv_a", 4)
    x = np.random.default_rng(2).uniform(0, 1, (5, 8, 8, 1)).astype("float32")
    np.testing.assert_allclose(slim.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_slim_conv_refuses_a_convolution_that_feeds_an_addition():
    with pytest.raises(ValueError, match=r"slim_conv: pruning 'conv_b' should leave .*Hint.*"
                                         r"Add"):
        deploy.slim_conv(_tiny(), "conv_b", 2)
    with pytest.raises(ValueError, match=r"slim_conv: layer_name should be an ordinary Conv2D.*"
                                         r"got 'BatchNormalization'"):
        deploy.slim_conv(_tiny(), "bn_a", 2)
    with pytest.raises(ValueError, match=r"slim_conv: keep should be a number of filters in "
                                         r"1..6; got 7"):
        deploy.slim_conv(_tiny(), "conv_a", 7)


def test_logits_model_and_fit_recipe_train_a_distiller(tiny_data):
    from course_utils.compress import Distiller

    x, y = tiny_data
    teacher, student = _tiny(0), _tiny(1)
    logits = deploy.logits_model(student)
    assert logits.output_shape == (None, 3)
    before = [w.copy() for w in student.get_layer("conv_a").get_weights()]
    distiller = Distiller(logits, deploy.logits_model(teacher))
    deploy.fit_recipe(distiller, x, y, epochs=1, batch_size=20, classes=3)
    after = student.get_layer("conv_a").get_weights()
    assert not np.allclose(before[0], after[0]), "the student shares the distiller's layers"
    with pytest.raises(ValueError, match=r"logits_model: layer_name should be a layer of"):
        deploy.logits_model(student, "nope")
