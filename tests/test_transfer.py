"""course_utils.transfer: the lesson's base and head, freezing and unfreezing from the top,
class subsets, rendered digits, and the ImageNet path tested offline with a weights file
saved here."""

import keras
import numpy as np
import pytest

from course_utils import transfer


def _bn_statistics(model):
    return [keras.ops.convert_to_numpy(w).copy() for layer in model.layers
            if isinstance(layer, transfer.BATCH_NORM) for w in layer.non_trainable_weights]


# --------------------------------------------------------------------------- the network


@pytest.mark.parametrize("width", [4, 16])
def test_convnet_base_gives_four_width_features(width):
    base = transfer.convnet_base(width)
    assert base.output_shape == (None, 4 * width)
    assert [layer.name for layer in transfer.weighted_layers(base)] == \
        ["conv1", "conv2", "conv3", "conv4"]


def test_convnet_base_rejects_a_bad_width():
    with pytest.raises(ValueError, match=r"width should be .*got 0.*Hint"):
        transfer.convnet_base(0)


def _fit_once(model):
    x = np.random.default_rng(0).uniform(size=(16, 28, 28, 1)).astype("float32")
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(x, np.arange(16) % 3, epochs=1, batch_size=16, verbose=0)


@pytest.mark.parametrize("base_inference", [True, False])
def test_frozen_batch_norm_keeps_its_statistics_while_fine_tuning(base_inference):
    base = transfer.convnet_base(4)
    model = transfer.add_head(base, 3, base_inference=base_inference)
    assert model.output_shape == (None, 3)
    transfer.unfreeze_top(base, 4)  # every convolution trains, batch norm stays frozen
    before = _bn_statistics(base)
    _fit_once(model)
    for a, b in zip(before, _bn_statistics(base), strict=True):
        np.testing.assert_array_equal(a, b)


def test_trainable_batch_norm_follows_fit_into_training_mode():
    base = transfer.convnet_base(4)
    model = transfer.add_head(base, 3, base_inference=False)
    before = _bn_statistics(base)
    _fit_once(model)
    assert any(not np.allclose(a, b) for a, b in zip(before, _bn_statistics(base)))


def test_base_inference_marks_the_base_for_inference_outside_fit():
    x = np.random.default_rng(1).uniform(size=(4, 28, 28, 1)).astype("float32")
    model = transfer.add_head(transfer.convnet_base(4), 3)
    batch_stats = keras.ops.convert_to_numpy(model(x, training=True))
    default = keras.ops.convert_to_numpy(model(x))
    np.testing.assert_allclose(default, model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(default, batch_stats, atol=1e-4)


def test_add_head_needs_feature_vectors_and_classes():
    with pytest.raises(ValueError, match="classes should be"):
        transfer.add_head(transfer.convnet_base(4), 1)
    maps = keras.Model(*(lambda i: (i, keras.layers.Conv2D(2, 3)(i)))(keras.Input((8, 8, 1))))
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        transfer.add_head(maps, 3)


# --------------------------------------------------------------------------- freezing


def test_freeze_leaves_only_the_head_to_train():
    base = transfer.freeze(transfer.convnet_base(16))
    model = transfer.add_head(base, 5)
    counts = transfer.count_weights(model)
    assert counts["trainable"] == 64 * 5 + 5
    assert counts["trainable"] + counts["frozen"] == model.count_params()


def test_unfreeze_top_opens_the_top_layers_and_keeps_batch_norm_frozen():
    base = transfer.freeze(transfer.convnet_base(16))
    assert transfer.unfreeze_top(base, 1) == ["conv4"]
    assert transfer.count_weights(base)["trainable"] == 3 * 3 * 32 * 64
    assert all(not layer.trainable for layer in base.layers
               if isinstance(layer, transfer.BATCH_NORM))
    assert transfer.unfreeze_top(base, 2) == ["conv3", "conv4"]
    assert transfer.unfreeze_top(base, 0) == []
    assert transfer.count_weights(base)["trainable"] == 0


def test_unfreeze_top_can_open_batch_norm_above_the_cut():
    base = transfer.convnet_base(4)
    names = transfer.unfreeze_top(base, 2, keep_batch_norm_frozen=False)
    assert names == ["conv3", "bn3", "conv4", "bn4"]


def test_unfreeze_top_says_how_many_layers_there_are():
    with pytest.raises(ValueError, match=r"from 0 to 4 .*got 5.*Hint: the top layers"):
        transfer.unfreeze_top(transfer.convnet_base(4), 5)


# --------------------------------------------------------------------------- data


def test_take_classes_relabels_in_the_order_given():
    x, y = np.arange(10), np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    xs, ys = transfer.take_classes(x, y, [7, 5])
    assert xs.tolist() == [5, 7] and ys.tolist() == [1, 0]
    with pytest.raises(ValueError, match=r"\[11\] never occur"):
        transfer.take_classes(x, y, [1, 11])


def test_per_class_draws_n_of_every_class():
    x, y = np.arange(30), np.arange(30) % 3
    xs, ys = transfer.per_class(x, y, 4, seed=1)
    assert np.bincount(ys).tolist() == [4, 4, 4]
    assert (xs % 3 == ys).all()
    assert transfer.per_class(x, y, 4, seed=1)[0].tolist() == xs.tolist()
    with pytest.raises(ValueError, match="at most 10"):
        transfer.per_class(x, y, 11)


def test_rendered_digits_are_balanced_repeatable_and_differ_by_seed():
    x, y = transfer.rendered_digits(40, seed=3)
    assert x.shape == (40, 28, 28) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [4] * 10
    assert x.max() > 200 and np.median(x) < 40  # white strokes on a dark ground
    again, _ = transfer.rendered_digits(40, seed=3)
    other, _ = transfer.rendered_digits(40, seed=4)
    assert np.array_equal(x, again) and not np.array_equal(x, other)


# --------------------------------------------------------------------------- ImageNet bases


def _mobilenet(**options):
    return keras.applications.MobileNetV2(include_top=False, pooling="avg", weights=None,
                                          input_shape=(96, 96, 3), alpha=0.35, **options)


@pytest.mark.parametrize("suffix", [".weights.h5", ".h5"])
def test_imagenet_base_loads_a_weights_file_saved_here(tmp_path, suffix):
    """The path ``weights="imagenet"`` takes, offline: the same builder and options, the
    weights read from a file (Keras 3's ``.weights.h5``, or a legacy ``.h5`` like the
    files keras.applications downloads)."""
    keras.utils.set_random_seed(0)
    saved = _mobilenet()
    path = tmp_path / f"mobilenet_v2_0.35_96{suffix}"
    if suffix == ".weights.h5":
        saved.save_weights(path)
    else:
        import h5py
        from keras.src.legacy.saving import legacy_h5_format

        with h5py.File(path, "w") as f:
            legacy_h5_format.save_weights_to_hdf5_group(f, saved)
    keras.utils.set_random_seed(1)
    loaded = transfer.imagenet_base("MobileNetV2", (96, 96, 3), weights=str(path), alpha=0.35)
    assert loaded.output_shape == (None, 1280)
    for a, b in zip(saved.weights, loaded.weights, strict=True):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a),
                                      keras.ops.convert_to_numpy(b))
    x = np.random.default_rng(0).uniform(-1, 1, size=(2, 96, 96, 3)).astype("float32")
    np.testing.assert_allclose(saved.predict(x, verbose=0), loaded.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_imagenet_base_explains_a_failed_download(monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure: [Errno -2] Name or service not known")

    monkeypatch.setattr(file_utils, "get_file", offline)
    with pytest.raises(transfer.WeightsUnavailableError,
                       match=r"expected the 'imagenet' weights of MobileNetV2; got Exception "
                             r"while downloading .*Name or service.*Hint: run once"):
        transfer.imagenet_base("MobileNetV2", (96, 96, 3), alpha=0.35)


def test_imagenet_base_explains_a_damaged_file(tmp_path):
    path = tmp_path / "damaged.weights.h5"
    path.write_bytes(b"not an HDF5 file")
    with pytest.raises(transfer.WeightsUnavailableError, match="while reading"):
        transfer.imagenet_base("MobileNetV2", (96, 96, 3), weights=str(path), alpha=0.35)


def test_imagenet_base_rejects_unknown_names_and_keeps_keras_own_errors(tmp_path):
    with pytest.raises(ValueError, match=r"a network of keras.applications; got 'mobilenetv2'"):
        transfer.imagenet_base("mobilenetv2")
    with pytest.raises(ValueError, match="weights"):  # Keras's: a path that does not exist
        transfer.imagenet_base("MobileNetV2", weights=str(tmp_path / "nowhere.h5"))
