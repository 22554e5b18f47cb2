"""course_utils.scale: the formats of mixed precision, which layers keep float32, a measured
training step, and data parallelism (MirroredStrategy, Keras's DataParallel on JAX) giving
the same training as one device, each in a fresh process."""

import os

import keras
import numpy as np
import pytest

from course_utils import scale


@pytest.fixture
def mixed_bfloat16():
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_global_policy(before)


def test_float_ranges_match_the_formats():
    table = scale.float_ranges()
    assert table.loc["float16", "max"] == 65504
    assert table.loc["float16", "smallest subnormal"] == 2.0 ** -24
    assert table.loc["float16", "eps"] == 2.0 ** -10
    assert table.loc["bfloat16", "eps"] == 2.0 ** -7  # fewer digits than float16 ...
    assert table.loc["bfloat16", "smallest normal"] == table.loc["float32", "smallest normal"]
    assert table.loc["bfloat16", "max"] == pytest.approx(table.loc["float32", "max"], rel=0.01)
    assert list(table["bits"]) == [32, 16, 16]
    assert list(table["exponent bits"]) == [8, 5, 8]  # ... and float32's range


def test_mixed_policy_computes_in_bfloat16_and_keeps_float32_variables(mixed_bfloat16):
    table = scale.dtype_table(scale.timing_cnn())
    assert table.loc["conv1", "computes in"] == "bfloat16"
    assert table.loc["conv1", "variables"] == "float32"
    assert table.loc["conv1", "output"] == "bfloat16"
    assert table.loc["pool1", "variables"] == "-"
    assert table.loc["softmax_float32", "computes in"] == "float32"
    assert table.loc["softmax_float32", "output"] == "float32"


def test_small_cnn_shape_and_width():
    model = scale.timing_cnn(input_shape=(16, 16, 3), classes=5, width=4)
    assert model.output_shape == (None, 5)
    assert model.get_layer("conv2").filters == 8 and model.get_layer("dense").units == 16
    with pytest.raises(ValueError, match="timing_cnn: width should be a positive integer"):
        scale.timing_cnn(width=0)


def test_train_throughput_measures_and_restores_the_policy():
    result = scale.train_throughput(policy="mixed_bfloat16", batch_size=4,
                                    input_shape=(8, 8, 1), steps=1, repeats=3)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert len(result["runs"]) == 3 and all(r > 0 for r in result["runs"])
    assert result["images_per_s"] == pytest.approx(np.median(result["runs"]))
    assert result["policy"] == "mixed_bfloat16" and result["jit_compile"] is False
    with pytest.raises(ValueError, match="repeats, steps, batch_size should be at least 3"):
        scale.train_throughput(repeats=1)
    with pytest.raises(ValueError, match="network should be one of"):
        scale.train_throughput("vgg16")
    with pytest.raises(ValueError, match="configs should be a non-empty list of dicts"):
        scale.throughputs([])


def test_throughputs_time_every_configuration_in_turn():
    found = scale.throughputs([{"policy": "float32"}, {"policy": "mixed_bfloat16",
                                                       "jit_compile": True}],
                              batch_size=4, input_shape=(8, 8, 1), steps=1, repeats=3)
    assert [(r["policy"], r["jit_compile"]) for r in found] == [("float32", False),
                                                                ("mixed_bfloat16", True)]
    assert all(len(r["runs"]) == 3 and r["first_step_s"] > 0 for r in found)


@pytest.mark.tensorflow("tf.distribute's MirroredStrategy")
def test_mirrored_strategy_averages_the_replicas_gradients_into_the_whole_batchs():
    found = scale.in_subprocess("mirrored_demo", batch_size=8, images=16, epochs=1)
    assert found["replicas"] == 2 and len(found["devices"]) == 2
    assert found["replica_batches"] == [[4, 28, 28, 1], [4, 28, 28, 1]]
    assert found["replica_gradients_differ_by"] > 1e-3  # each replica sees other images
    assert found["all_reduce_vs_mean"] < 1e-6
    assert found["all_reduce_vs_whole_batch"] < 1e-5
    np.testing.assert_allclose(found["loss"]["mirrored"], found["loss"]["one device"],
                               rtol=1e-5)
    assert found["weights_differ_by"] < 1e-5


@pytest.mark.skipif(not scale.jax_available(), reason="JAX is not installed")
def test_keras_data_parallel_on_two_jax_devices_trains_as_one_device():
    found = scale.in_subprocess("data_parallel_demo", env=scale.jax_cpu_devices(2),
                                batch_size=8, images=16, epochs=1)
    assert found["mesh_shape"] == [2] and found["mesh_axes"] == ["batch"]
    assert [shape for _, shape in found["shards"]] == [[4, 28, 28, 1], [4, 28, 28, 1]]
    assert found["batch_layout"][0] == "batch"
    np.testing.assert_allclose(found["loss"]["data parallel"], found["loss"]["one device"],
                               rtol=1e-5)
    assert found["weights_differ_by"] < 1e-5


def test_mirrored_demo_on_another_backend_says_it_needs_tensorflow(monkeypatch):
    from course_utils.env import TensorFlowRequired

    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(TensorFlowRequired, match=r"mirrored_demo needs TensorFlow itself "
                                                 r"\(MirroredStrategy is tf.distribute's.*"
                                                 r"backend here is jax.*KERAS_BACKEND=tensorflow"):
        scale.mirrored_demo()


def test_gradients_are_those_of_the_loss_on_every_backend():
    layer = keras.layers.Dense(2, use_bias=True, kernel_initializer="ones")
    x = np.array([[1.0, 2.0, 3.0], [0.5, -1.0, 4.0]], "float32")
    layer.build(x.shape)
    # loss = sum((x W + b)^2): d/dW = x^T 2(xW + b), d/db = sum over rows of 2(xW + b)
    kernel, bias = scale.gradients(lambda: keras.ops.sum(layer(x) ** 2),
                                   [layer.kernel, layer.bias])
    outputs = x @ np.ones((3, 2), "float32")
    np.testing.assert_allclose(kernel, x.T @ (2 * outputs), rtol=1e-6)
    np.testing.assert_allclose(bias, (2 * outputs).sum(axis=0), rtol=1e-6)
    unused = keras.Variable(np.ones(3, "float32"))
    _, nothing = scale.gradients(lambda: keras.ops.sum(layer(x)), [layer.bias, unused])
    np.testing.assert_array_equal(nothing, 0)  # a variable the loss does not read: zero


def test_a_float16_gradient_underflows_and_loss_scaling_keeps_it():
    """Lesson 17's demonstration: 1e-5 x 1e-3 = 1e-8 is below float16's smallest number."""

    def one_gradient(optimizer=None):
        layer = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros",
                                   dtype="mixed_float16")
        x = np.full((1, 4), 1e-3, "float32")
        layer.build(x.shape)

        def loss():
            value = 1e-5 * keras.ops.sum(keras.ops.cast(layer(x), "float32"))
            return optimizer.scale_loss(value) if optimizer else value

        [gradient] = scale.gradients(loss, [layer.kernel])
        if optimizer:
            scale.apply_gradients(optimizer, [gradient], [layer.kernel])
        return gradient, keras.ops.convert_to_numpy(layer.kernel)

    plain, _ = one_gradient()
    assert np.all(plain == 0), f"expected the float16 gradient to underflow to 0, got {plain}"
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1.0))
    scaled, kernel = one_gradient(optimizer)
    np.testing.assert_allclose(scaled, 1e-8 * float(optimizer.dynamic_scale), rtol=2e-3)
    np.testing.assert_allclose(kernel, -1e-8, rtol=2e-3)  # unscaled in float32, then SGD


def test_apply_gradients_skips_a_step_with_inf_or_nan_and_halves_the_scale():
    weight = keras.Variable(np.zeros(2, "float32"))
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1),
                                                    dynamic_growth_steps=2)
    scales, moved = [], []
    for gradient in ([np.inf, 1.0], [np.nan, 1.0], [1.0, 1.0], [1.0, 1.0]):
        before = keras.ops.convert_to_numpy(weight).copy()
        scale.apply_gradients(optimizer, [np.array(gradient, "float32")], [weight])
        moved.append(not np.array_equal(before, keras.ops.convert_to_numpy(weight)))
        scales.append(float(optimizer.dynamic_scale))
    assert moved == [False, False, True, True], moved
    assert scales == [2.0 ** 14, 2.0 ** 13, 2.0 ** 13, 2.0 ** 14], scales
    # the gradients given are the scaled ones: each finite step moves by 0.1 x 1 / scale
    np.testing.assert_allclose(keras.ops.convert_to_numpy(weight),
                               -0.1 * 2 * 2.0 ** -13, rtol=1e-5)


def test_gradients_and_apply_gradients_say_what_they_expected():
    weight = keras.Variable(np.zeros(2, "float32"))
    with pytest.raises(ValueError, match="gradients: variables should be a non-empty list"):
        scale.gradients(lambda: keras.ops.sum(weight), [])
    with pytest.raises(ValueError, match="gradients: loss should be a function"):
        scale.gradients(0.0, [weight])
    with pytest.raises(ValueError, match="apply_gradients: grads, variables should be one "
                                         "gradient per variable"):
        scale.apply_gradients(keras.optimizers.SGD(), [], [weight])


def test_in_subprocess_says_what_failed():
    with pytest.raises(ValueError, match="in_subprocess: task should be one of"):
        scale.in_subprocess("train_faster")
    with pytest.raises(RuntimeError, match=r"(?s)exit status 1; its last lines:.*configs should"):
        scale.in_subprocess("throughputs", configs=[{"precision": "float16"}])
    assert scale.jax_cpu_devices(4)["XLA_FLAGS"] == "--xla_force_host_platform_device_count=4"


def test_goyal_learning_rate_scales_linearly_after_warm_up():
    assert scale.linear_scaled_rate(256) == pytest.approx(0.1)
    assert scale.linear_scaled_rate(8192) == pytest.approx(3.2)  # k = 32
    assert scale.linear_scaled_rate(512, base_rate=0.2, base_batch=128) == pytest.approx(0.8)
    rate = lambda epoch: scale.goyal_rate(epoch, batch_size=8192)  # noqa: E731
    assert rate(0) == pytest.approx(0.1)  # warm-up starts at the small-batch rate
    assert rate(2.5) == pytest.approx((0.1 + 3.2) / 2)
    assert [rate(e) for e in (5, 29.9, 30, 60, 80, 89)] == pytest.approx(
        [3.2, 3.2, 0.32, 0.032, 0.0032, 0.0032])
    assert scale.goyal_rate(0, batch_size=256, warmup_epochs=0) == pytest.approx(0.1)
    with pytest.raises(ValueError, match="linear_scaled_rate: batch_size should be a positive"):
        scale.linear_scaled_rate(0)
    with pytest.raises(ValueError, match="goyal_rate: epoch should be zero or more"):
        scale.goyal_rate(-1, batch_size=256)


def test_device_name_names_this_machine():
    name = scale.device_name()
    assert name and isinstance(name, str)
    if not scale.device_is_gpu():
        assert name.endswith(f"({os.cpu_count()} cores)")


def test_resnet50_for_throughput_keeps_its_softmax_in_float32(mixed_bfloat16):
    from course_utils.inspection import structure_only

    with structure_only():
        model = scale._network("resnet50", (32, 32, 3), 10)
    assert model.output.dtype == "float32" and model.layers[-2].compute_dtype == "bfloat16"
    assert model.output_shape == (None, 10)
