import keras
import numpy as np
import pytest

from course_utils import quantise

pytestmark = pytest.mark.tensorflow("LiteRT's converter and interpreter")


def _blobs(n, rng):
    """Images of one Gaussian blob on noise; the label is the column band (0-9) of its
    centre: a task a small CNN learns in a few epochs, so that its outputs are confident,
    as a deployed model's are (an untrained softmax gives ~0.1 everywhere, where int8
    rounding flips the argmax by chance)."""
    yy, xx = np.mgrid[:28, :28]
    centres = rng.uniform(4, 24, size=(n, 2, 1, 1))
    blobs = np.exp(-((yy - centres[:, 0]) ** 2 + (xx - centres[:, 1]) ** 2) / 20.0)
    x = (blobs + 0.2 * rng.uniform(size=blobs.shape))[..., None].astype("float32")
    return x, np.clip(((centres[:, 1, 0, 0] - 4) / 2).astype(int), 0, 9)


@pytest.fixture(scope="module")
def images():
    """64 images for checking and 32 others for calibrating int8, with their labels."""
    return _blobs(96, np.random.default_rng(1))


@pytest.fixture(scope="module")
def cnn(images):
    """conv-BN-ReLU-pool twice, then a softmax: 20,634 weights, enough that the flatbuffer's
    own overhead (a few kB) does not hide the compression. Trained 10 short epochs (~5 s);
    BN's momentum 0.8 so that its moving statistics catch up within them."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((28, 28, 1))
    x = inputs
    for filters in (16, 32):
        x = keras.layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = keras.layers.BatchNormalization(momentum=0.8)(x)
        x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.Flatten()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="head")(x))
    model.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    model.fit(*images, epochs=10, batch_size=32, verbose=0)
    return model


@pytest.fixture(scope="module")
def converted(cnn, images):
    calibration = images[0][64:]
    return {mode: quantise.to_litert(cnn, mode, representative=calibration)
            for mode in ("float32", "float16", "dynamic", "int8")}


@pytest.fixture(scope="module")
def reference(cnn, images):
    return cnn.predict(images[0][:64], verbose=0)


def test_float32_flatbuffer_gives_the_keras_outputs(converted, images, reference):
    out = quantise.litert_predict(converted["float32"], images[0][:64], batch_size=8)
    assert out.dtype == np.float32 and out.shape == reference.shape
    np.testing.assert_allclose(out, reference, atol=1e-5)


def test_batch_size_does_not_change_the_outputs(converted, images):
    # 64 = 5 * 13 - 1: the last batch is smaller, so the input is resized again.
    one = quantise.litert_predict(converted["float32"], images[0][:64], batch_size=1)
    thirteen = quantise.litert_predict(converted["float32"], images[0][:64], batch_size=13)
    np.testing.assert_allclose(one, thirteen, atol=1e-6)


def test_float16_is_close_and_half_the_size(converted, images, reference):
    out = quantise.litert_predict(converted["float16"], images[0][:64], batch_size=64)
    np.testing.assert_allclose(out, reference, atol=1e-2)
    ratio = len(converted["float32"]) / len(converted["float16"])
    assert 1.7 < ratio < 2.1


def test_dynamic_range_is_over_three_times_smaller(converted, images, reference):
    assert len(converted["float32"]) / len(converted["dynamic"]) > 3
    out = quantise.litert_predict(converted["dynamic"], images[0][:64], batch_size=64)
    assert (out.argmax(1) == reference.argmax(1)).mean() >= 0.9


def test_full_integer_int8_is_small_and_agrees_with_keras(converted, images, reference):
    assert len(converted["float32"]) / len(converted["int8"]) > 3
    out = quantise.litert_predict(converted["int8"], images[0][:64], batch_size=64)
    assert out.dtype == np.float32  # float I/O: quantise/dequantise ops at the ends
    assert (out.argmax(1) == reference.argmax(1)).mean() >= 0.9
    # Measured with seeds 0-2: max |difference| 0.012-0.067, mean 0.001. The int8 softmax
    # output has a fixed step of 1/256 (~0.004) and each layer before it rounds to 1/255 of
    # its calibrated range; on average that costs a quarter of a step, but where the softmax
    # is steep (an image near a class boundary) a small logit error moves a probability
    # several steps. Hence a loose bound on the worst image and a tight one on the mean.
    error = np.abs(out - reference)
    assert error.max() < 0.15 and error.mean() < 0.01


def test_int8_without_representative_data_says_what_it_needs(cnn, images):
    with pytest.raises(ValueError, match="representative.*mode='dynamic'"):
        quantise.to_litert(cnn, "int8")
    with pytest.raises(ValueError, match=r"\(n, 28, 28, 1\)"):
        quantise.to_litert(cnn, "int8", representative=images[0][64:, :14])


def test_unknown_mode_is_refused(cnn):
    with pytest.raises(ValueError, match="mode should be one of"):
        quantise.to_litert(cnn, "int4")


def test_keras_quantize_takes_the_dense_layer_and_skips_the_convolutions(cnn):
    weights = [w.copy() for w in cnn.get_weights()]
    report = quantise.keras_int8_quantize_report(cnn)
    assert [(size.name, size.kind) for size in report.quantised] == [("head", "Dense")]
    head = report.quantised[0]
    # float32 kernel + bias -> int8 kernel + float32 bias + one float32 scale per unit
    assert head.bytes_before == (1568 * 10 + 10) * 4
    assert head.bytes_after == 1568 * 10 + 10 * 4 + 10 * 4
    kinds = [size.kind for size in report.skipped]
    assert kinds.count("Conv2D") == 2 and kinds.count("BatchNormalization") == 2
    assert all(size.bytes_before == size.bytes_after for size in report.skipped)
    assert report.bytes_after == report.bytes_before - head.bytes_before + head.bytes_after
    assert any("Conv2D" in message for message in report.warnings)
    for before, after in zip(weights, cnn.get_weights()):  # the original is untouched
        np.testing.assert_array_equal(before, after)
