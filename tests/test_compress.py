"""Making a CNN small and fast (course_utils.compress): the pruning schedule worked out by
hand, magnitude pruning during fit, what gzip makes of the zeros, filter pruning that keeps
the function and cuts the MACs, and the distillation loss against a NumPy computation."""

import math

import keras
import numpy as np
import pytest

from course_utils import compress
from course_utils.arithmetic import conv_params, dense_params
from course_utils.cost import model_forward_macs

# --- the schedule --------------------------------------------------------------------------


def test_polynomial_sparsity_follows_equation_1():
    s = lambda t: compress.polynomial_sparsity(t, 10, 110, initial=0.1, final=0.9)  # noqa: E731
    assert s(10) == pytest.approx(0.1) and s(110) == pytest.approx(0.9)
    assert s(0) == pytest.approx(0.1) and s(10**6) == pytest.approx(0.9)  # held outside
    # A quarter of the way: 0.9 + (0.1 - 0.9) * 0.75**3 = 0.5625
    assert s(35) == pytest.approx(0.9 - 0.8 * 0.421875)
    steps = np.arange(0, 200)
    values = compress.polynomial_sparsity(steps, 10, 110, initial=0.1, final=0.9)
    assert values.shape == steps.shape
    assert np.all(np.diff(values) >= 0) and np.all(np.diff(values[10:111]) > 0)
    # fast first, slow last: the first 10 steps prune more than the last 10
    assert values[20] - values[10] > 10 * (values[110] - values[100])
    assert compress.polynomial_sparsity(60, 10, 110, final=0.5, power=1) == pytest.approx(0.25)


@pytest.mark.parametrize("kwargs, name", [
    ({"begin_step": 5, "end_step": 5}, "end_step"),
    ({"begin_step": -1, "end_step": 5}, "begin_step"),
    ({"begin_step": 0, "end_step": 5, "final": 1.0}, "final"),
    ({"begin_step": 0, "end_step": 5, "initial": -0.1}, "initial"),
])
def test_polynomial_sparsity_explains_bad_arguments(kwargs, name):
    with pytest.raises(ValueError, match=rf"polynomial_sparsity: {name} should be .*Hint: "):
        compress.polynomial_sparsity(0, **kwargs)


def test_magnitude_mask_removes_exactly_the_smallest():
    w = np.array([[0.5, -0.1, 2.0], [-3.0, 0.05, -0.2]], "float32")
    mask = compress.magnitude_mask(w, 0.5)
    np.testing.assert_array_equal(mask, [[1, 0, 1], [1, 0, 0]])
    assert compress.magnitude_mask(w, 0.0).all()


# --- magnitude pruning ---------------------------------------------------------------------


def small_cnn(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(8, 3, name="conv"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.ReLU(),
        keras.layers.DepthwiseConv2D(3, name="depthwise"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(4, name="dense"),
    ])


@pytest.fixture(scope="module")
def pruned():
    """A small CNN trained 12 steps while pruning to 75% (masks every 2 steps to step 8)."""
    model = small_cnn()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 4, size=64)
    model.compile(keras.optimizers.Adam(0.01), keras.losses.SparseCategoricalCrossentropy(
        from_logits=True))
    before = {layer.name: [w.copy() for w in layer.get_weights()] for layer in model.layers}
    callback = compress.MagnitudePruning(0.75, begin_step=0, end_step=8, frequency=2)
    model.fit(x[:64], y[:64], batch_size=16, epochs=1, shuffle=False, verbose=0,
              callbacks=[callback])  # 4 steps: masks at 65.6%
    mid = {name: mask.copy() for name, mask in callback.masks.items()}
    model.fit(x[:32], y[:32], batch_size=16, epochs=4, shuffle=False, verbose=0,
              callbacks=[callback])
    return model, callback, before, mid


def test_kernels_reach_the_target_sparsity(pruned):
    model, callback = pruned[:2]
    assert int(model.optimizer.iterations) == 12
    got = compress.sparsity(model)
    assert set(got) == {"conv", "depthwise", "dense"}
    for layer in compress.prunable_layers(model):
        size = math.prod(layer.kernel.shape)
        zeros = int(np.sum(keras.ops.convert_to_numpy(layer.kernel) == 0))
        assert abs(zeros - 0.75 * size) <= 1, layer.name
        assert got[layer.name] == pytest.approx(zeros / size)


def test_pruned_weights_stay_zero_and_the_rest_train(pruned):
    model, callback, before, _ = pruned
    for layer in compress.prunable_layers(model):
        kernel = keras.ops.convert_to_numpy(layer.kernel)
        mask = callback.masks[layer.name]
        assert np.all(kernel[mask == 0] == 0)
        # the survivors kept training after the last mask update (step 8, we are at 12)
        assert np.all(kernel[mask == 1] != 0)
        assert not np.allclose(kernel[mask == 1], before[layer.name][0][mask == 1])


def test_masks_only_grow(pruned):
    _, callback, _, mid = pruned
    for name, mask in callback.masks.items():
        assert np.all(callback.masks[name][mid[name] == 0] == 0)  # pruned once, pruned for good
        size = mask.size
        assert np.sum(mid[name] == 0) == round(compress.polynomial_sparsity(4, 0, 8, final=0.75)
                                               * size)
        assert mid[name].mean() > mask.mean()


def test_the_smallest_weights_are_the_ones_pruned():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(10, name="d")])
    model.compile(keras.optimizers.SGD(0.0), "mse")  # lr 0: the weights do not move
    kernel = model.layers[0].kernel.numpy().copy()
    bias = np.linspace(-1, 1, 10).astype("float32")
    model.layers[0].bias.assign(bias)
    callback = compress.MagnitudePruning(0.6, begin_step=0, end_step=1, frequency=1)
    model.fit(np.ones((4, 20), "float32"), np.zeros((4, 10), "float32"), batch_size=4,
              verbose=0, callbacks=[callback])
    after = model.layers[0].kernel.numpy()
    pruned = after == 0
    assert pruned.sum() == 120
    assert np.abs(kernel[pruned]).max() < np.abs(kernel[~pruned]).min()
    np.testing.assert_array_equal(after[~pruned], kernel[~pruned])
    np.testing.assert_array_equal(model.layers[0].bias.numpy(), bias)  # biases untouched


def test_biases_and_batch_norm_are_never_pruned(pruned):
    model = pruned[0]
    for name in ("conv", "depthwise", "dense"):
        assert np.all(model.get_layer(name).bias.numpy() != 0)
    assert all(np.all(w != 0) for w in model.get_layer("bn").get_weights()[:2])


def test_only_the_named_layers_are_pruned():
    model = small_cnn()
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    callback = compress.MagnitudePruning(0.5, 0, 1, frequency=1, layers=["conv"])
    model.fit(np.ones((2, 8, 8, 3), "float32"), np.zeros(2), verbose=0, callbacks=[callback])
    got = compress.sparsity(model)
    assert got["conv"] == pytest.approx(0.5, abs=1 / 216) and got["dense"] == 0
    with pytest.raises(ValueError, match=r"MagnitudePruning: each of layers .*'bn'.*Hint"):
        model.fit(np.ones((2, 8, 8, 3)), np.zeros(2), verbose=0,
                  callbacks=[compress.MagnitudePruning(0.5, 0, 1, layers=["bn"])])


# --- compressed size -----------------------------------------------------------------------


def wide_mlp(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((256,)), keras.layers.Dense(256, name="hidden"),
                             keras.layers.Dense(10, name="out")])


def test_sparse_weights_gzip_much_smaller(tmp_path):
    dense, sparse = wide_mlp(0), wide_mlp(0)
    for layer in sparse.layers:
        kernel = layer.kernel.numpy()
        layer.kernel.assign(kernel * compress.magnitude_mask(kernel, 0.8))
    assert compress.sparsity(sparse) == pytest.approx({"hidden": 0.8, "out": 0.8}, abs=1e-4)
    paths = [tmp_path / "dense.weights.h5", tmp_path / "sparse.weights.h5"]
    dense.save_weights(paths[0])
    sparse.save_weights(paths[1])
    raw = paths[0].stat().st_size
    assert raw == paths[1].stat().st_size > 4 * 256 * 256  # the same file size uncompressed
    dense_gz, sparse_gz = (compress.gzipped_size(p) for p in paths)
    assert dense_gz / raw > 0.85  # random float32 barely compresses
    assert sparse_gz / dense_gz < 0.5  # 80% zeros: well under half
    assert compress.gzipped_size(str(paths[1])) == sparse_gz == compress.gzipped_size(
        paths[1].read_bytes())
    assert compress.gzipped_size(sparse) < 0.5 * compress.gzipped_size(dense)


def test_gzipped_size_of_bytes_and_bad_input():
    assert compress.gzipped_size(bytes(100_000)) < 1_000
    noise = np.random.default_rng(0).integers(0, 256, 100_000, dtype=np.uint8).tobytes()
    assert compress.gzipped_size(noise) > 100_000
    with pytest.raises(TypeError, match="gzipped_size: expected .*; got list. Hint"):
        compress.gzipped_size([1, 2])


# --- channel pruning -----------------------------------------------------------------------


def chain_cnn(seed=0, functional=False):
    keras.utils.set_random_seed(seed)
    layers = [
        keras.layers.Conv2D(16, 3, padding="same", name="conv1"),
        keras.layers.BatchNormalization(name="bn1"),
        keras.layers.ReLU(name="relu1"),
        keras.layers.MaxPooling2D(name="pool1"),
        keras.layers.Conv2D(8, 3, name="conv2"),
        keras.layers.ReLU(name="relu2"),
        keras.layers.Flatten(name="flat"),
        keras.layers.Dense(5, name="dense"),
    ]
    if not functional:
        return keras.Sequential([keras.Input((10, 10, 3)), *layers], name="chain")
    x = inputs = keras.Input((10, 10, 3))
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs, x, name="chain")


def randomise_batch_norm(bn, rng):
    channels = bn.gamma.shape[0]
    bn.set_weights([rng.uniform(0.5, 1.5, channels), rng.normal(size=channels),
                    rng.normal(size=channels), rng.uniform(0.5, 2, channels)])


def test_channel_importance_is_the_l1_norm_per_filter():
    kernel = np.arange(2 * 2 * 3 * 4, dtype="float32").reshape(2, 2, 3, 4) - 20
    np.testing.assert_allclose(compress.channel_importance(kernel),
                               [np.abs(kernel[..., i]).sum() for i in range(4)])
    np.testing.assert_allclose(compress.channel_importance(-np.eye(3)), [1, 1, 1])


def test_slim_keeps_the_largest_filters_and_counts_match_the_formula():
    model = chain_cnn()
    kernel = model.get_layer("conv1").kernel.numpy()
    kernel[..., [2, 9]] *= 100  # the two most important filters, whatever the rest
    model.get_layer("conv1").kernel.assign(kernel)
    slim = compress.slim_sequential_cnn(model, "conv1", 10)
    order = np.argsort(-compress.channel_importance(kernel), kind="stable")
    kept = np.sort(order[:10])
    assert {2, 9} <= set(kept.tolist())
    np.testing.assert_array_equal(slim.get_layer("conv1").kernel.numpy(), kernel[..., kept])
    np.testing.assert_array_equal(slim.get_layer("conv2").kernel.numpy(),
                                  model.get_layer("conv2").kernel.numpy()[:, :, kept, :])
    k = 10
    expected = (conv_params(3, 3, k) + 4 * k + conv_params(3, k, 8)
                + dense_params(3 * 3 * 8, 5))
    assert slim.count_params() == expected
    assert model.count_params() == expected + conv_params(3, 3, 6) + 4 * 6 + 3 * 3 * 6 * 8


@pytest.mark.parametrize("functional", [False, True])
def test_dropping_zero_filters_keeps_the_function_and_cuts_macs(functional):
    model = chain_cnn(functional=functional)
    rng = np.random.default_rng(0)
    randomise_batch_norm(model.get_layer("bn1"), rng)
    dropped = [1, 4, 5, 11, 15]
    conv1, bn1 = model.get_layer("conv1"), model.get_layer("bn1")
    kernel, bias = conv1.kernel.numpy(), rng.normal(size=16).astype("float32")
    kernel[..., dropped], bias[dropped] = 0, 0
    conv1.set_weights([kernel, bias])
    gamma, beta, mean, var = bn1.get_weights()
    beta[dropped], mean[dropped] = 0, 0  # BN maps the dead channels' 0 to 0
    bn1.set_weights([gamma, beta, mean, var])
    slim = compress.slim_sequential_cnn(model, "conv1", 11)
    assert slim.get_layer("conv1").filters == 11
    x = rng.normal(size=(4, 10, 10, 3)).astype("float32")
    np.testing.assert_allclose(slim.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    # conv1 loses 5 of 16 filters (10*10 outputs, 3*3*3 weights), conv2 5 of 16 input
    # channels (3*3 outputs, 3*3*5 weights per filter, 8 filters); BN's and ReLU's share too
    saved = model_forward_macs(model) - model_forward_macs(slim)
    assert saved >= 10 * 10 * 5 * 27 + 3 * 3 * 8 * 9 * 5
    assert model_forward_macs(slim) < 0.8 * model_forward_macs(model)


def test_slim_before_global_pooling_and_with_indices():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(6, 3, name="c"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(3)])
    slim = compress.slim_sequential_cnn(model, "c", [0, 5, 3])
    np.testing.assert_array_equal(slim.layers[-1].kernel.numpy(),
                                  model.layers[-1].kernel.numpy()[[0, 5, 3]])
    assert slim.count_params() == conv_params(3, 2, 3) + dense_params(3, 3)


def test_slim_explains_what_it_cannot_do():
    model = chain_cnn()
    with pytest.raises(ValueError, match=r"layer_name should be a Conv2D.*'bn1'.*Hint"):
        compress.slim_sequential_cnn(model, "bn1", 4)
    with pytest.raises(ValueError, match=r"layer_name should be the name .*'nope'.*Hint"):
        compress.slim_sequential_cnn(model, "nope", 4)
    with pytest.raises(ValueError, match=r"keep should be a number of filters in 1..16"):
        compress.slim_sequential_cnn(model, "conv1", 17)
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    branched = keras.Model(inputs, keras.layers.Add()([a, keras.layers.Conv2D(4, 1)(a)]))
    with pytest.raises(ValueError, match=r"model should be a plain chain.*Hint"):
        compress.slim_sequential_cnn(branched, branched.layers[1].name, 2)
    mixing = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(4, 3, name="c"),
                               keras.layers.Softmax(), keras.layers.Conv2D(2, 1)])
    with pytest.raises(ValueError, match=r"each channel on its own; got a softmax.*Hint"):
        compress.slim_sequential_cnn(mixing, "c", 2)
    unbuilt = keras.Sequential([keras.layers.Conv2D(4, 3, name="c")])
    with pytest.raises(ValueError, match=r"model should be a built model .*Hint"):
        compress.slim_sequential_cnn(unbuilt, "c", 2)


# --- distillation --------------------------------------------------------------------------


def np_log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def np_distillation(student, teacher, y, alpha, t):
    ce = -np_log_softmax(student)[np.arange(len(y)), y]
    p_t, log_p_t = np.exp(np_log_softmax(teacher / t)), np_log_softmax(teacher / t)
    kl = (p_t * (log_p_t - np_log_softmax(student / t))).sum(axis=-1)
    return float(np.mean(alpha * ce + (1 - alpha) * t**2 * kl)), float(np.mean(kl))


def mlp(units, seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(units, activation="relu"),
                             keras.layers.Dense(4)])


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 6)).astype("float32"), rng.integers(0, 4, size=8)


def loss_of(distiller, x, y, **kwargs):
    y_pred = distiller(x)
    return float(keras.ops.convert_to_numpy(distiller.compute_loss(x, y, y_pred, **kwargs)))


@pytest.mark.parametrize("alpha, t", [(0.1, 3.0), (0.5, 1.0), (0.0, 7.0)])
def test_distillation_loss_matches_numpy(batch, alpha, t):
    x, y = batch
    distiller = compress.Distiller(mlp(8, 0), mlp(32, 1), alpha=alpha, temperature=t)
    s, te = (keras.ops.convert_to_numpy(m(x)) for m in (distiller.student, distiller.teacher))
    expected, mean_kl = np_distillation(s, te, y, alpha, t)
    # 1e-4: the KL of two close softmaxes is a difference of float32 logs (PyTorch's
    # log_softmax rounds differently from TensorFlow's and JAX's by ~1e-5 of it); a wrong
    # alpha, T or T**2 is off by far more
    rel = 1e-4
    assert loss_of(distiller, x, y) == pytest.approx(expected, rel=rel)
    if alpha == 0.0:  # the T**2 is there: the loss is T**2 times the mean KL
        assert loss_of(distiller, x, y) == pytest.approx(t**2 * mean_kl, rel=rel)
    one_hot = np.eye(4, dtype="float32")[y]
    assert loss_of(distiller, x, one_hot) == pytest.approx(expected, rel=rel)
    w = np.array([1, 0] * 4, "float32")
    half, _ = np_distillation(s[::2], te[::2], y[::2], alpha, t)
    assert loss_of(distiller, x, y, sample_weight=w) == pytest.approx(half / 2, rel=rel)


def test_alpha_one_is_plain_cross_entropy(batch):
    x, y = batch
    distiller = compress.Distiller(mlp(8, 0), mlp(32, 1), alpha=1.0, temperature=5.0)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(y, distiller.student(x))
    assert loss_of(distiller, x, y) == pytest.approx(float(ce), rel=1e-6)


def test_fit_trains_the_student_only_and_evaluate_works(batch):
    x, y = batch
    student, teacher = mlp(8, 0), mlp(32, 1)
    distiller = compress.Distiller(student, teacher, alpha=0.1, temperature=3.0)
    distiller.compile(keras.optimizers.SGD(0.1),
                      metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    teacher_before = [w.copy() for w in teacher.get_weights()]
    student_before = [w.copy() for w in student.get_weights()]
    expected, _ = np_distillation(keras.ops.convert_to_numpy(student(x)),
                                  keras.ops.convert_to_numpy(teacher(x)), y, 0.1, 3.0)
    result = distiller.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    assert result["loss"] == pytest.approx(expected, rel=1e-5)
    assert set(result) == {"loss", "acc"}
    history = distiller.fit(x, y, batch_size=8, epochs=3, verbose=0)
    for a, b in zip(teacher_before, teacher.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b)
               for a, b in zip(student_before, student.get_weights(), strict=True))
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(distiller.trainable_weights) == len(student.trainable_weights)
    np.testing.assert_allclose(distiller.predict(x, verbose=0),
                               keras.ops.convert_to_numpy(student(x)), rtol=1e-6)


def test_distiller_saves_and_loads_and_explains_bad_arguments(batch, tmp_path):
    x, y = batch
    distiller = compress.Distiller(mlp(8, 0), mlp(32, 1), alpha=0.3, temperature=4.0)
    distiller.compile("sgd")
    before = loss_of(distiller, x, y)  # calling it builds it
    path = tmp_path / "distiller.keras"
    distiller.save(path)
    again = keras.models.load_model(path)
    assert isinstance(again, compress.Distiller) and not again.teacher.trainable
    assert (again.alpha, again.temperature) == (0.3, 4.0)
    assert loss_of(again, x, y) == pytest.approx(before, rel=1e-6)
    with pytest.raises(ValueError, match=r"Distiller: alpha should be .*; got 1.5.*Hint"):
        compress.Distiller(mlp(8, 0), mlp(8, 1), alpha=1.5)
    with pytest.raises(ValueError, match=r"Distiller: temperature should be .*Hint"):
        compress.Distiller(mlp(8, 0), mlp(8, 1), temperature=0)
