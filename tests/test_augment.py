"""Lesson 14's helpers: AlexNet's ten crops are the right windows in the right order,
averaged predictions are the mean over networks and views, the photo and the grid have the
promised shapes, random crops and mirrors are drawn per image (in NumPy and as a
PyDataset for fit on any backend), and wrong inputs fail with a message that says what was
expected."""

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils.augment import (
    CropAndMirror,
    augmentation_grid,
    predict_averaged,
    random_crop_and_mirror,
    square_photo,
    ten_crop,
    transformed,
)


def _numbered(n=2, height=6, width=7, channels=1):
    """Images whose every pixel holds a different number, so a crop tells where it came from."""
    return np.arange(n * height * width * channels, dtype="float32").reshape(
        n, height, width, channels)


def test_ten_crop_takes_the_four_corners_the_centre_and_their_mirrors():
    images = _numbered()
    views = ten_crop(images, 4)
    assert views.shape == (10, 2, 4, 4, 1)
    np.testing.assert_array_equal(views[0], images[:, :4, :4])      # top left
    np.testing.assert_array_equal(views[1], images[:, :4, 3:])      # top right
    np.testing.assert_array_equal(views[2], images[:, 2:, :4])      # bottom left
    np.testing.assert_array_equal(views[3], images[:, 2:, 3:])      # bottom right
    np.testing.assert_array_equal(views[4], images[:, 1:5, 1:5])    # centre
    for i in range(5):
        np.testing.assert_array_equal(views[5 + i], views[i][:, :, ::-1])


def test_ten_crop_of_padded_fashion_mnist_keeps_the_image_in_its_centre_view():
    image = np.random.default_rng(0).uniform(size=(3, 28, 28, 1)).astype("float32")
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2), (0, 0)))
    views = ten_crop(padded, 28)
    np.testing.assert_array_equal(views[4], image)
    assert len({v.tobytes() for v in views}) == 10, "the ten views must all differ"


def test_ten_crop_of_the_full_size_gives_the_image_and_its_mirror():
    images = _numbered(channels=3, width=6)
    views = ten_crop(images, 6)
    for i in range(5):
        np.testing.assert_array_equal(views[i], images)
        np.testing.assert_array_equal(views[5 + i], images[:, :, ::-1])


@pytest.mark.parametrize("images, size, match", [
    (np.zeros((6, 6, 1)), 4, "shaped \\(N, H, W, C\\)"),
    (np.zeros((1, 6, 6, 1)), 7, "from 1 to 6"),
    (np.zeros((1, 6, 6, 1)), 2.5, "must be an int"),
])
def test_ten_crop_says_what_it_expected(images, size, match):
    with pytest.raises(ValueError, match=match):
        ten_crop(images, size)


def _constant_model(probabilities):
    """A model that ignores its input and answers ``probabilities`` for every image."""
    probabilities = np.asarray(probabilities, "float32")
    inputs = keras.Input((4, 4, 1))
    logits = keras.layers.Dense(len(probabilities), kernel_initializer="zeros",
                                bias_initializer=keras.initializers.Constant(
                                    np.log(probabilities)))(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def test_predict_averaged_is_the_mean_over_networks_and_views():
    a, b = _constant_model([0.7, 0.2, 0.1]), _constant_model([0.1, 0.1, 0.8])
    x = np.random.default_rng(0).uniform(size=(5, 4, 4, 1)).astype("float32")
    both = predict_averaged([a, b], [x, x[:, ::-1]])
    assert both.shape == (5, 3)
    np.testing.assert_allclose(both, np.tile([0.4, 0.15, 0.45], (5, 1)), atol=1e-6)
    np.testing.assert_allclose(predict_averaged(a, [x]), np.tile([0.7, 0.2, 0.1], (5, 1)),
                               atol=1e-6)


def test_predict_averaged_of_one_view_is_a_plain_prediction():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(1).uniform(size=(6, 4, 4, 1)).astype("float32")
    np.testing.assert_allclose(predict_averaged([model], [x]), model.predict(x, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("models, views, match", [
    ([], [np.zeros((2, 4, 4, 1))], "at least one model"),
    (None, [], "at least one model and one view"),
    (None, [np.zeros((2, 4, 4, 1)), np.zeros((3, 4, 4, 1))], "same number"),
])
def test_predict_averaged_says_what_it_expected(models, views, match):
    models = [_constant_model([0.5, 0.5])] if models is None else models
    with pytest.raises(ValueError, match=match):
        predict_averaged(models, views)


def test_square_photo_is_a_square_colour_image_in_the_unit_range():
    photo = square_photo("chelsea", 64)
    assert photo.shape == (64, 64, 3) and photo.dtype == np.float32
    assert 0.0 <= photo.min() and photo.max() <= 1.0 and photo.std() > 0.05
    assert square_photo("camera", 32).shape == (32, 32, 1)
    with pytest.raises(ValueError, match="int >= 8"):
        square_photo("chelsea", 4)


def test_augmentation_grid_has_a_row_per_augmentation_and_the_original_first():
    images = np.random.default_rng(0).uniform(size=(3, 8, 8, 1)).astype("float32")
    fig = augmentation_grid(images, {"mirror": keras.layers.RandomFlip("horizontal"),
                                     "brighter": lambda x, training: x + 0.5})
    axes = np.array(fig.axes).reshape(3, 3)
    assert [ax.get_ylabel() for ax in axes[:, 0]] == ["original", "mirror", "brighter"]
    np.testing.assert_allclose(axes[0, 1].images[0].get_array(), images[1, ..., 0])
    np.testing.assert_allclose(axes[2, 0].images[0].get_array(),
                               np.clip(images[0, ..., 0] + 0.5, 0, 1), rtol=1e-6)
    plt.close(fig)


@pytest.mark.parametrize("images, augmentations, match", [
    (np.zeros((8, 8, 3)), {"id": lambda x, training: x}, "shaped \\(N, H, W, 1 or 3\\)"),
    (np.zeros((1, 8, 8, 3)), {}, "at least one augmentation"),
])
def test_augmentation_grid_says_what_it_expected(images, augmentations, match):
    with pytest.raises(ValueError, match=match):
        augmentation_grid(images, augmentations)


def _where_from(crops, images, size):
    """(top, left, mirrored) of each crop in its image: the numbered pixels tell."""
    width = images.shape[2]
    found = []
    for crop, image in zip(crops, images):
        corner = crop[0, 0, 0] - image[0, 0, 0]
        top, left = divmod(int(corner), width)
        mirrored = crop[0, 1, 0] < crop[0, 0, 0]
        if mirrored:
            left -= size - 1
        window = image[top:top + size, left:left + size]
        expected = window[:, ::-1] if mirrored else window
        assert np.array_equal(crop, expected), (
            f"a crop should be one window of its own image (mirrored or not); it is not "
            f"(top {top}, left {left}, mirrored {mirrored}). Hint: check the fancy indexing.")
        found.append((top, left, bool(mirrored)))
    return found


def test_random_crop_and_mirror_draws_every_place_and_both_sides_per_image():
    images = _numbered(n=400, height=8, width=8)
    crops = random_crop_and_mirror(images, 5, rng=np.random.default_rng(0))
    assert crops.shape == (400, 5, 5, 1) and crops.dtype == images.dtype
    where = _where_from(crops, images, 5)
    places = {(top, left) for top, left, _ in where}
    assert places == {(t, c) for t in range(4) for c in range(4)}, (
        f"expected all 16 crop positions of 5 in 8 among 400 draws; got {sorted(places)}")
    mirrored = np.mean([m for *_, m in where])
    assert 0.4 < mirrored < 0.6, f"expected about half mirrored, got {mirrored:.0%}"
    again = random_crop_and_mirror(images, 5, rng=np.random.default_rng(0))
    np.testing.assert_array_equal(crops, again)  # the seed decides everything


def test_random_crop_and_mirror_of_the_full_size_is_the_image_or_its_mirror():
    images = _numbered(n=6, height=4, width=4)
    crops = random_crop_and_mirror(images, 4, rng=np.random.default_rng(1))
    for crop, image in zip(crops, images):
        assert np.array_equal(crop, image) or np.array_equal(crop, image[:, ::-1])


@pytest.mark.parametrize("images, size, rng, match", [
    (np.zeros((6, 6, 1)), 4, np.random.default_rng(0), r"\(N, H, W, C\)"),
    (np.zeros((2, 6, 6, 1)), 7, np.random.default_rng(0), "size must be an int from 1 to 6"),
    (np.zeros((2, 6, 6, 1)), 4, 0, "rng should be a numpy.random.Generator"),
])
def test_random_crop_and_mirror_says_what_it_expected(images, size, rng, match):
    with pytest.raises(ValueError, match=match):
        random_crop_and_mirror(images, size, rng=rng)


def test_crop_and_mirror_batches_cover_every_image_once_per_epoch_in_a_new_order():
    images = _numbered(n=10, height=6, width=6)
    labels = np.arange(10)
    batches = CropAndMirror(images, labels, size=4, batch_size=4, seed=3)
    assert len(batches) == 3
    epochs = []
    for _ in range(2):
        seen = []
        for index in range(len(batches)):
            x, y = batches[index]
            assert x.shape == (len(y), 4, 4, 1) and len(y) == (2 if index == 2 else 4)
            _where_from(x, images[y], 4)  # each crop comes from its own label's image
            seen += list(y)
        assert sorted(seen) == list(range(10)), f"an epoch should see every image once: {seen}"
        epochs.append(seen)
        batches.on_epoch_end()
    assert epochs[0] != epochs[1], "expected a new order every epoch"
    batches.epoch = 0
    first = batches[0]
    np.testing.assert_array_equal(first[1], epochs[0][:4])  # a batch is a function of
    np.testing.assert_array_equal(first[0], batches[0][0])  # seed, epoch and index only
    with pytest.raises(IndexError):
        batches[3]


def test_crop_and_mirror_trains_a_model_with_fit():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    images = np.random.default_rng(0).uniform(size=(12, 6, 6, 1)).astype("float32")
    history = model.fit(CropAndMirror(images, np.arange(12) % 3, size=4, batch_size=5),
                        epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))


@pytest.mark.parametrize("x, y, options, match", [
    (np.zeros((4, 6, 6, 1)), np.zeros(3), {"size": 4}, "same number"),
    (np.zeros((4, 6, 6, 1)), np.zeros(4), {"size": 4, "batch_size": 0}, "batch_size should"),
    (np.zeros((4, 6, 6, 1)), np.zeros(4), {"size": 8}, "size must be an int from 1 to 6"),
])
def test_crop_and_mirror_says_what_it_expected(x, y, options, match):
    with pytest.raises(ValueError, match=match):
        CropAndMirror(x, y, **options)


def test_transformed_applies_the_layer_in_training_mode_batch_by_batch():
    images = np.random.default_rng(0).uniform(size=(7, 5, 5, 1)).astype("float32")
    calls = []

    def record(batch, training):
        calls.append((len(batch), training))
        return batch * 2

    np.testing.assert_allclose(transformed(images, record, batch_size=3), images * 2)
    assert calls == [(3, True), (3, True), (1, True)]
    flipped = transformed(images, keras.layers.RandomFlip("horizontal", seed=0), batch_size=4)
    for out, image in zip(flipped, images):
        assert np.allclose(out, image) or np.allclose(out, image[:, ::-1])
    with pytest.raises(ValueError, match="batch_size should be a positive int"):
        transformed(images, record, batch_size=0)
