import keras
import matplotlib
import numpy as np
import pytest

from course_utils import landscape, plots

matplotlib.use("Agg")


def conv_model(seed=0):
    """Every kind of weight the directions treat differently: a convolution kernel and
    bias, batch norm (trainable gamma and beta, non-trainable moving statistics), a
    depthwise kernel and a dense kernel."""
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((6, 6, 2)),
        keras.layers.Conv2D(3, 3, padding="same", name="conv"),
        keras.layers.BatchNormalization(name="bn"),
        keras.layers.ReLU(),
        keras.layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise"),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(4, activation="softmax", name="dense"),
    ])
    bn = model.get_layer("bn")  # moving statistics unlike a batch's, so modes differ
    bn.moving_mean.assign(np.full(3, 0.5, "float32"))
    bn.moving_variance.assign(np.full(3, 3.0, "float32"))
    return model


def data(n=24, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 6, 6, 2)).astype("float32"), rng.integers(0, 4, n)


def _logistic_regression_minimum(x, y, classes, steps=3000, rate=0.5):
    """Weights and biases at the minimum of the mean cross-entropy, by gradient descent."""
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    targets = np.eye(classes)[y]
    for _ in range(steps):
        logits = x @ w + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        w -= rate * x.T @ (p - targets) / len(x)
        b -= rate * (p - targets).mean(axis=0)
    return w, b


@pytest.fixture(scope="module")
def trained():
    """Multinomial logistic regression on three overlapping blobs, set to its (single,
    finite) minimum: the loss is convex, so it must grow along every line away from it."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 1.0], [1.0, -0.5], [-1.0, -0.5]])
    y = np.repeat(np.arange(3), 30)
    x = (centres[y] + rng.normal(scale=0.8, size=(90, 2))).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights([v.astype("float32") for v in _logistic_regression_minimum(x, y, 3)])
    model.compile(loss="sparse_categorical_crossentropy")
    return model, x, y


def _filter_norms(array, filter_axes=1):
    return np.linalg.norm(array.reshape(-1, int(np.prod(array.shape[-filter_axes:]))), axis=0)


def _weights_bytes(model):
    return [w.tobytes() for w in model.get_weights()]


# --------------------------------------------------------------------------- directions


def test_direction_is_filter_normalised_and_skips_biases_and_batch_norm():
    model = conv_model()
    direction = landscape.random_direction(model, seed=3)
    weights = model.trainable_weights
    assert len(direction) == len(weights) == 8  # moving mean and variance are not in it
    for d, v in zip(direction, weights):
        w = keras.ops.convert_to_numpy(v)
        assert d.shape == w.shape
        if w.ndim <= 1:  # conv and dense biases, gamma, beta
            assert not d.any(), v.path
            continue
        axes = 2 if v is model.get_layer("depthwise").kernel else 1
        np.testing.assert_allclose(_filter_norms(d, axes), _filter_norms(w, axes),
                                   rtol=1e-5, err_msg=v.path)
    # Depthwise kernel (3, 3, C=3, multiplier=2): six 3x3 filters, each normalised.
    depthwise = model.get_layer("depthwise").kernel
    i = next(k for k, v in enumerate(weights) if v is depthwise)
    assert _filter_norms(direction[i], 2).shape == (6,)


def test_direction_depends_only_on_the_seed():
    model = conv_model()
    a, b = landscape.random_direction(model, 0), landscape.random_direction(model, 0)
    c = landscape.random_direction(model, 1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[0], c[0])


# --------------------------------------------------------------------------- evaluation


def test_loss_at_zero_is_the_evaluated_loss_in_inference_mode():
    model, (x, y) = conv_model(), data()
    model.compile(loss="sparse_categorical_crossentropy")
    evaluated = model.evaluate(x, y, batch_size=7, verbose=0)
    line = landscape.loss_line(model, x, y, landscape.random_direction(model), [0.0, 0.5],
                               batch_size=10)
    assert line[0] == pytest.approx(evaluated, rel=1e-5)
    assert line[1] != pytest.approx(line[0])
    loss = keras.losses.SparseCategoricalCrossentropy()
    training_mode = float(loss(y, model(x, training=True)))
    assert training_mode != pytest.approx(line[0], rel=1e-3)  # batch statistics differ


def test_a_keras_loss_can_replace_the_default():
    model, (x, y) = conv_model(), data()
    one_hot = keras.ops.convert_to_numpy(keras.ops.one_hot(y, 4))
    d = landscape.random_direction(model)
    sparse = landscape.loss_line(model, x, y, d, [0.0, 1.0])
    categorical = landscape.loss_line(model, x, one_hot, d, [0.0, 1.0],
                                      loss=keras.losses.CategoricalCrossentropy())
    np.testing.assert_allclose(sparse, categorical, rtol=1e-5)
    by_name = landscape.loss_line(model, x, one_hot, d, [0.0, 1.0],
                                  loss="categorical_crossentropy")
    np.testing.assert_allclose(by_name, categorical, rtol=1e-6)


def test_weights_come_back_byte_identical():
    model, (x, y) = conv_model(), data()
    before = _weights_bytes(model)
    d1, d2 = landscape.random_direction(model, 0), landscape.random_direction(model, 1)
    landscape.loss_surface(model, x, y, d1, d2, [-1.0, 0.3], [0.7, 2.0])
    assert _weights_bytes(model) == before  # trainable and moving statistics alike


def test_weights_come_back_even_when_the_loss_fails_midway():
    model, (x, y) = conv_model(), data()
    before = _weights_bytes(model)
    calls = []

    def failing_loss(y_true, y_pred):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("loss failed")
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred)

    with pytest.raises(RuntimeError, match="loss failed"):
        landscape.loss_line(model, x, y, landscape.random_direction(model),
                            [0.5, 1.0, 1.5, 2.0], loss=failing_loss)
    assert len(calls) == 3
    assert _weights_bytes(model) == before


def test_surface_rows_follow_alphas_and_columns_betas():
    model, (x, y) = conv_model(), data()
    d1, d2 = landscape.random_direction(model, 0), landscape.random_direction(model, 1)
    alphas, betas = [-0.5, 0.0, 0.5], [-1.0, -0.5, 0.0, 0.5, 1.0]
    surface = landscape.loss_surface(model, x, y, d1, d2, alphas, betas)
    assert surface.shape == (3, 5)
    np.testing.assert_allclose(surface[:, 2], landscape.loss_line(model, x, y, d1, alphas),
                               rtol=1e-5)
    np.testing.assert_allclose(surface[1, :], landscape.loss_line(model, x, y, d2, betas),
                               rtol=1e-5)
    centre = landscape.loss_line(model, x, y, d1, [0.0])[0]
    assert surface[1, 2] == pytest.approx(centre, rel=1e-6)


def test_loss_grows_away_from_a_trained_minimum(trained):
    model, x, y = trained
    alphas = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]
    for seed in range(3):
        line = landscape.loss_line(model, x, y, landscape.random_direction(model, seed),
                                   alphas)
        assert np.all(np.diff(line[:4]) < 0) and np.all(np.diff(line[3:]) > 0), line
    steps = np.linspace(-1, 1, 5)
    surface = landscape.loss_surface(model, x, y, landscape.random_direction(model, 0),
                                     landscape.random_direction(model, 1), steps, steps)
    assert np.unravel_index(surface.argmin(), surface.shape) == (2, 2)


def test_straight_line_between_two_models(trained):
    model, x, y = trained
    start = keras.models.clone_model(model)  # fresh weights: the "initial" model
    direction = landscape.direction_towards(start, model)
    line = landscape.loss_line(start, x, y, direction, [0.0, 1.0])
    assert line[1] == pytest.approx(model.evaluate(x, y, verbose=0), rel=1e-5)
    assert line[0] > line[1]
    as_arrays = landscape.direction_towards(start, model.get_weights())
    assert all(np.array_equal(a, b) for a, b in zip(direction, as_arrays))


# --------------------------------------------------------------------------- bad input


def test_bad_inputs_say_what_was_expected():
    model, (x, y) = conv_model(), data()
    d = landscape.random_direction(model)
    with pytest.raises(ValueError, match="24 images and 23 labels"):
        landscape.loss_line(model, x, y[:-1], d, [0.0])
    with pytest.raises(ValueError, match="alphas must be a non-empty"):
        landscape.loss_line(model, x, y, d, [])
    with pytest.raises(ValueError, match="betas must be a non-empty"):
        landscape.loss_surface(model, x, y, d, d, [0.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="NaN"):
        landscape.loss_line(model, x, y, d, [0.0, np.nan])
    with pytest.raises(ValueError, match="has 7 arrays but .* has 8 trainable weights"):
        landscape.loss_line(model, x, y, d[:-1], [0.0])
    wrong = list(d)
    wrong[2] = np.zeros(5)
    with pytest.raises(ValueError, match=r"direction\[2\] has shape \(5,\) but the model's "
                                         r"trainable weight 2, '\w+/bn/gamma', has shape "
                                         r"\(3,\)"):
        landscape.loss_line(model, x, y, wrong, [0.0])
    with pytest.raises(ValueError, match="d2 must be a list of arrays"):
        landscape.loss_surface(model, x, y, d, np.zeros(3), [0.0], [0.0])
    with pytest.raises(ValueError, match="CategoricalCrossentropy"):
        landscape.loss_line(model, x, np.eye(4)[y], d, [0.0])
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        landscape.loss_line(model, x, y, d, [0.0], batch_size=0)
    with pytest.raises(ValueError, match="loss must be None"):
        landscape.loss_line(model, x, y, d, [0.0], loss=3)


# --------------------------------------------------------------------------- plots


def test_line_plot_one_curve_per_label():
    alphas = np.linspace(-1, 1, 5)
    fig = plots.plot_loss_line(alphas, {"a": alphas**2, "b": 2 * alphas**2}, logy=True)
    (ax,) = fig.axes
    assert len(ax.lines) == 3  # two curves and the dotted alpha = 0 marker
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), 2 * alphas**2)
    assert len(plots.plot_loss_line(alphas, alphas**2).axes) == 1
    with pytest.raises(ValueError, match="one loss per alpha"):
        plots.plot_loss_line(alphas, {"a": [1.0, 2.0]})


def test_surface_plot_contours_above_3d_surfaces():
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)
    a, b = np.meshgrid(alphas, betas, indexing="ij")
    surfaces = {"sharp": 0.1 + 3 * a**2 + b**2, "flat": 0.1 + 0.3 * (a**2 + b**2)}
    fig = plots.plot_loss_surface(alphas, betas, surfaces)
    assert len(fig.axes) == 4
    assert [ax.name for ax in fig.axes] == ["rectilinear", "rectilinear", "3d", "3d"]
    assert [ax.get_title() for ax in fig.axes] == ["sharp", "flat", "sharp", "flat"]
    assert len(plots.plot_loss_surface(alphas, betas, surfaces, kind="contour").axes) == 2
    only_3d = plots.plot_loss_surface(alphas, betas, surfaces["flat"], kind="surface")
    assert [ax.name for ax in only_3d.axes] == ["3d"]
    clipped = plots.plot_loss_surface(alphas, betas, surfaces, max_loss=1.0, kind="surface")
    assert clipped.axes[0].get_zlim()[1] == pytest.approx(1.0)


def test_surface_plot_rejects_mismatched_grids():
    alphas, betas = np.linspace(-1, 1, 5), np.linspace(-1, 1, 4)
    with pytest.raises(ValueError, match=r"expected \(len\(alphas\), len\(betas\)\) = "
                                         r"\(5, 4\)"):
        plots.plot_loss_surface(alphas, betas, {"x": np.ones((4, 5))})
    with pytest.raises(ValueError, match="kind must be"):
        plots.plot_loss_surface(alphas, betas, np.ones((5, 4)), kind="3d")
    with pytest.raises(ValueError, match="at least 2 alphas"):
        plots.plot_loss_surface([0.0], betas, np.ones((1, 4)))
