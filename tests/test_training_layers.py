"""The training-practice layers (PCA colour augmentation, DropConnect, stochastic pooling),
tested the way Keras tests its own layers: shapes, dtypes, training against inference, seeds,
the statistics each paper promises, a training step inside a model, the config round trip and
errors that name the bad argument."""

import ast
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from course_utils import layers as course_layers
from course_utils.layers import DropConnect, PCAColorAugmentation, StochasticPooling2D

# An orthonormal basis of RGB space (eigenvectors as columns) and a spectrum with a zero.
BASIS = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]
SPECTRUM = np.array([4.0, 1.0, 0.0])


def _np(x):
    return np.asarray(ops.convert_to_numpy(ops.cast(x, "float32")))


def _images(n=4, size=8, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=(n, size, size, 3)).astype("float32")


def _pca(**kwargs):
    return PCAColorAugmentation(eigenvalues=SPECTRUM, eigenvectors=BASIS, **kwargs)


# (factory, input shape) for the tests every layer shares.
LAYERS = {
    "pca": (lambda **kw: _pca(**kw), (2, 6, 5, 3)),
    "dropconnect": (lambda **kw: DropConnect(7, activation="relu", **kw), (2, 10)),
    "stochastic_pooling": (lambda **kw: StochasticPooling2D((2, 3), **kw), (2, 7, 9, 4)),
}
CASES = sorted(LAYERS)


def _input(shape, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, size=shape).astype("float32")


# ---------------------------------------------------------------- shared behaviour

@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("training", [False, True])
def test_output_shape_agrees_with_compute_output_shape(case, training):
    make, shape = LAYERS[case]
    layer = make(seed=1)
    out = layer(_input(shape), training=training)
    assert tuple(out.shape) == tuple(layer.compute_output_shape(shape))
    symbolic = layer(keras.Input(shape[1:]))
    assert tuple(symbolic.shape) == (None, *tuple(layer.compute_output_shape(shape))[1:])


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("policy, dtype", [("float32", "float32"), ("mixed_bfloat16", "bfloat16"),
                                           ("float16", "float16")])
def test_output_dtype_is_the_compute_dtype(case, policy, dtype):
    make, shape = LAYERS[case]
    layer = make(seed=1, dtype=policy)
    for training in (False, True):
        out = layer(_input(shape).astype(dtype if dtype != "bfloat16" else "float32"),
                    training=training)
        assert keras.backend.standardize_dtype(out.dtype) == dtype
        assert np.isfinite(_np(out)).all()
        assert tuple(out.shape) == tuple(layer.compute_output_shape(shape))
    assert all(keras.backend.standardize_dtype(w.dtype) == ("float16" if policy == "float16"
                                                            else "float32")
               for w in layer.weights)


@pytest.mark.parametrize("case", CASES)
def test_random_in_training_only_and_seeded(case):
    make, shape = LAYERS[case]
    x = _input(shape)
    layer = make(seed=3)
    np.testing.assert_array_equal(_np(layer(x)), _np(layer(x, training=False)))  # default
    first, second = _np(layer(x, training=True)), _np(layer(x, training=True))
    assert not np.array_equal(first, second), "a fresh draw on every call"
    same_seed = make(seed=3)
    if case == "dropconnect":  # same seed, same weights: copy them over
        same_seed.build(shape)
        same_seed.set_weights(layer.get_weights())
    np.testing.assert_array_equal(_np(same_seed(x, training=True)), first)
    other = make(seed=4)
    if case == "dropconnect":
        other.build(shape)
        other.set_weights(layer.get_weights())
    assert not np.array_equal(_np(other(x, training=True)), first)


@pytest.mark.parametrize("case", CASES)
def test_config_round_trip(case):
    make, shape = LAYERS[case]
    layer = make(seed=5, name=f"my_{case}")
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    x = _input(shape)
    if case == "dropconnect":
        layer.build(shape)
        clone.build(shape)
        clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(_np(clone(x, training=True)), _np(layer(x, training=True)))
    # and through Keras's own serialisation, registered under the course's package
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(again) is type(layer) and again.get_config() == config


def test_model_with_all_three_trains_a_step_and_reloads(tmp_path):
    images = _images(n=8, size=12)
    labels = np.arange(8) % 3
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        PCAColorAugmentation(seed=1).adapt(images),
        keras.layers.Conv2D(4, 3, activation="relu"),
        StochasticPooling2D(2, seed=2),
        keras.layers.Flatten(),
        DropConnect(3, rate=0.5, seed=3),
    ])
    model.compile("sgd", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(images, labels, batch_size=8, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(images, verbose=0), model.predict(images, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_the_layers_use_keras_only():
    """No ``tf.*``: the layers run on every backend (the GPU machines run JAX); the course's
    own modules only for argument checks."""
    tree = ast.parse(Path(course_layers.__file__).read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in (node.names if isinstance(node, ast.Import)
                              else [ast.alias(node.module or "")])}
    assert imported <= {"__future__", "math", "keras", "numpy", "course_utils"}, imported


# ---------------------------------------------------------------- PCA colour augmentation

def test_pca_adapt_is_the_eigen_decomposition_of_the_rgb_covariance():
    rng = np.random.default_rng(1)
    mixing = np.array([[1.0, 0.5, 0.2], [0.0, 0.8, 0.3], [0.0, 0.0, 0.4]])
    images = (rng.normal(size=(20, 6, 6, 3)) @ mixing + 0.5).astype("float32")
    expected_values, expected_vectors = np.linalg.eigh(np.cov(images.reshape(-1, 3).T))
    layer = PCAColorAugmentation().adapt(images)
    np.testing.assert_allclose(layer.eigenvalues, expected_values, rtol=1e-5)
    # eigenvectors up to sign
    np.testing.assert_allclose(np.abs(layer.eigenvectors), np.abs(expected_vectors), atol=1e-5)
    # batches (e.g. a dataset of (images, labels)) give the same decomposition
    batched = PCAColorAugmentation().adapt([(images[:7], None), (images[7:], None)])
    np.testing.assert_allclose(batched.eigenvalues, expected_values, rtol=1e-5)


def test_pca_shift_is_one_colour_per_image_in_the_span_of_the_scaled_eigenvectors():
    n, std = 4000, 0.1
    layer = _pca(std=std, seed=7)
    x = np.zeros((n, 2, 2, 3), "float32")
    shift = _np(layer(x, training=True))
    np.testing.assert_allclose(shift, np.broadcast_to(shift[:, :1, :1, :], shift.shape))
    coords = shift[:, 0, 0, :] @ BASIS  # alpha_i * sqrt(lambda_i) along each eigenvector
    np.testing.assert_allclose(coords[:, 2], 0, atol=1e-6)  # lambda_3 = 0: no shift along p3
    np.testing.assert_allclose(coords[:, :2].std(axis=0), std * np.sqrt(SPECTRUM[:2]), rtol=0.05)
    assert (np.abs(coords[:, :2].mean(axis=0)) < 4 * std * np.sqrt(SPECTRUM[:2]) / np.sqrt(n)).all()
    assert abs(np.corrcoef(coords[:, 0], coords[:, 1])[0, 1]) < 0.06, "alphas are independent"


def test_pca_eigenvalue_power_one_is_the_formula_as_printed():
    layer = _pca(std=0.1, eigenvalue_power=1, seed=7)
    coords = _np(layer(np.zeros((4000, 1, 1, 3), "float32"), training=True))[:, 0, 0] @ BASIS
    np.testing.assert_allclose(coords[:, :2].std(axis=0), 0.1 * SPECTRUM[:2], rtol=0.05)


def test_pca_works_in_any_value_range():
    images = _images(n=6)
    unit = PCAColorAugmentation(seed=2).adapt(images)
    bytes_ = PCAColorAugmentation(seed=2).adapt(images * 255)
    shift_unit = _np(unit(images, training=True)) - images
    shift_bytes = _np(bytes_(images * 255, training=True)) - images * 255
    np.testing.assert_allclose(shift_bytes, 255 * shift_unit, rtol=1e-3, atol=1e-3)
    as_uint8 = (images * 255).astype("uint8")
    out = bytes_(as_uint8, training=False)
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    np.testing.assert_array_equal(_np(out), as_uint8.astype("float32"))


def test_pca_inference_is_the_identity_even_before_adapt():
    x = _images()
    np.testing.assert_array_equal(_np(PCAColorAugmentation()(x)), x)
    with pytest.raises(ValueError, match="adapt.*Hint"):
        PCAColorAugmentation()(x, training=True)


def test_pca_config_carries_the_adapted_decomposition():
    layer = PCAColorAugmentation(seed=1).adapt(_images())
    clone = PCAColorAugmentation.from_config(layer.get_config())
    np.testing.assert_allclose(clone.eigenvalues, layer.eigenvalues)
    np.testing.assert_allclose(clone.eigenvectors, layer.eigenvectors)


@pytest.mark.parametrize("make, named", [
    (lambda: PCAColorAugmentation()(np.zeros((2, 4, 4, 1), "float32")), "input"),
    (lambda: PCAColorAugmentation().adapt(np.zeros((2, 4, 4, 4))), "adapt"),
    (lambda: PCAColorAugmentation(eigenvalues=[1, 2], eigenvectors=np.eye(3)), "eigenvalues"),
    (lambda: PCAColorAugmentation(eigenvalues=[1, 2, 3]), "eigenvectors"),
    (lambda: PCAColorAugmentation(eigenvalues=[1, -2, 3], eigenvectors=np.eye(3)),
     "eigenvalues"),
    (lambda: PCAColorAugmentation(std=-0.1), "std"),
])
def test_pca_bad_arguments(make, named):
    with pytest.raises(ValueError, match=rf"(?s){named}.*got.*Hint"):
        make()


# ---------------------------------------------------------------- DropConnect

def _dropconnect(rate=0.5, n_in=64, units=64, seed=1, **kwargs):
    layer = DropConnect(units, rate=rate, seed=seed, bias_initializer="zeros", **kwargs)
    layer.build((None, n_in))
    return layer


def test_dropconnect_inference_is_the_plain_dense_layer():
    layer = DropConnect(5, activation="relu", rate=0.5, bias_initializer="ones")
    layer.build((None, 4))
    x = _input((3, 4))
    kernel, bias = _np(layer.kernel), _np(layer.bias)
    np.testing.assert_allclose(_np(layer(x)), np.maximum(x @ kernel + bias, 0), rtol=1e-5)


def test_dropconnect_drops_weights_at_the_rate_and_scales_the_rest():
    rate = 0.3
    layer = _dropconnect(rate)
    kernel = _np(layer.kernel)
    # one-hot rows read the (masked) kernel out row by row; two copies: one mask per batch
    masked = _np(layer(np.concatenate([np.eye(64), np.eye(64)]).astype("float32"),
                       training=True))
    np.testing.assert_array_equal(masked[:64], masked[64:])
    masked = masked[:64]
    dropped = masked == 0
    assert abs(dropped.mean() - rate) < 0.03  # 4096 weights: 4 standard errors
    np.testing.assert_allclose(masked[~dropped], kernel[~dropped] / (1 - rate), rtol=1e-5)


def test_dropconnect_mean_over_masks_is_the_inference_output():
    layer = _dropconnect(0.5, n_in=16, units=8, seed=2)
    x = _input((4, 16))
    draws = np.stack([_np(layer(x, training=True)) for _ in range(400)])
    se = draws.std(axis=0) / np.sqrt(len(draws))
    assert (np.abs(draws.mean(axis=0) - _np(layer(x))) < 4.5 * se + 1e-6).all()


def test_dropconnect_rate_zero_is_dense_in_training_too():
    layer = _dropconnect(0.0)
    x = _input((2, 64))
    np.testing.assert_allclose(_np(layer(x, training=True)), _np(layer(x)))


@pytest.mark.parametrize("rate", [-0.1, 1, 1.5, "0.5", None])
def test_dropconnect_bad_rate(rate):
    with pytest.raises(ValueError, match=r"(?s)rate.*\[0, 1\).*got.*Hint"):
        DropConnect(4, rate=rate)


# ---------------------------------------------------------------- stochastic pooling

def test_stochastic_pooling_picks_in_proportion_to_the_activations():
    n = 6000
    window = np.array([[1.0, 2.0], [3.0, 0.0]], "float32")
    x = np.broadcast_to(window[None, :, :, None], (n, 2, 2, 1)).copy()
    picks = _np(StochasticPooling2D(2, seed=11)(x, training=True)).ravel()
    assert set(np.unique(picks)) <= {1.0, 2.0, 3.0}, "a zero is never picked beside positives"
    frequencies = np.array([(picks == v).mean() for v in (1.0, 2.0, 3.0)])
    np.testing.assert_allclose(frequencies, [1 / 6, 2 / 6, 3 / 6], atol=0.025)  # ~4 s.e.


def test_stochastic_pooling_inference_is_the_probability_weighted_average():
    x = _input((3, 7, 8, 2), seed=4)
    x[0, :3, :2, 0] = 0  # an all-zero 3x2 window
    out = _np(StochasticPooling2D((3, 2))(x))
    windows = x[:, :6].reshape(3, 2, 3, 4, 2, 2).transpose(0, 1, 3, 5, 2, 4).reshape(3, 2, 4, 2, 6)
    total = windows.sum(-1)
    expected = np.where(total > 0, (windows ** 2).sum(-1) / np.where(total > 0, total, 1), 0)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    assert out[0, 0, 0, 0] == 0


def test_stochastic_pooling_training_picks_a_member_of_each_window():
    x = _input((2, 6, 6, 3), seed=5)
    x[1, :2, :2, 2] = 0
    x[0, 2:4, 2:4, 1] = -1  # negatives count as zero: an all-"zero" window
    picks = _np(StochasticPooling2D(2, seed=1)(x, training=True))
    windows = np.maximum(x, 0).reshape(2, 3, 2, 3, 2, 3).transpose(0, 1, 3, 5, 2, 4)
    windows = windows.reshape(2, 3, 3, 3, 4)
    assert (np.abs(windows - picks[..., None]).min(-1) == 0).all()
    assert picks[1, 0, 0, 2] == 0 and picks[0, 1, 1, 1] == 0


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="reads gradients with TF")
def test_stochastic_pooling_gradient_reaches_only_the_picked_activation():
    import tensorflow as tf  # only to read the gradient; the layer itself does not need TF

    x = tf.constant(_input((2, 4, 4, 3), seed=6))
    layer = StochasticPooling2D(2, seed=2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        total = ops.sum(layer(x, training=True))
    grad = tape.gradient(total, x).numpy()
    per_window = grad.reshape(2, 2, 2, 2, 2, 3).transpose(0, 1, 3, 5, 2, 4).reshape(2, 2, 2, 3, 4)
    np.testing.assert_array_equal(np.sort(per_window, -1), [0, 0, 0, 1] * np.ones_like(per_window))


@pytest.mark.parametrize("kwargs, named", [
    ({"pool_size": 0}, "pool_size"), ({"pool_size": -2}, "pool_size"),
    ({"pool_size": (2, 0)}, "pool_size"), ({"pool_size": 2.0}, "pool_size"),
    ({"pool_size": 3, "strides": 2}, "strides"), ({"padding": "same"}, "padding"),
])
def test_stochastic_pooling_bad_arguments(kwargs, named):
    with pytest.raises(ValueError, match=rf"(?s){named}.*got.*Hint"):
        StochasticPooling2D(**kwargs)


def test_stochastic_pooling_output_shape_drops_the_leftover_rows_and_unknown_sizes_stay():
    assert StochasticPooling2D(3).compute_output_shape((None, 8, None, 5)) == (None, 2, None, 5)
    out = StochasticPooling2D(3)(keras.Input((None, 8, 5)))
    assert tuple(out.shape) == (None, None, 2, 5)
