import gzip
import hashlib
import os
import socket
from pathlib import Path

import numpy as np
import pytest

from course_utils import data

NAMES = list(data.FASHION_MNIST_MD5)


def _idx_bytes(name, fill):
    """A tiny but well-formed IDX file: 3 images of 28x28 or 3 labels."""
    if "images" in name:
        header = (2051).to_bytes(4, "big") + (3).to_bytes(4, "big") + (28).to_bytes(4, "big") * 2
        return header + bytes([fill]) * (3 * 28 * 28)
    return (2049).to_bytes(4, "big") + (3).to_bytes(4, "big") + bytes([fill % 10, 1, 2])


def _md5(b):
    return hashlib.md5(b).hexdigest()


@pytest.fixture
def fake_dataset(monkeypatch, tmp_path):
    """Point every place at tmp dirs and make the 'published' sums those of fake files
    whose pixels are all 7. Returns a function that writes a copy into a directory."""
    monkeypatch.delenv(data.ENV_VAR, raising=False)
    monkeypatch.setattr(data, "keras_cache_dir", lambda: tmp_path / "keras")
    monkeypatch.setattr(data, "DEBIAN_DIR", tmp_path / "debian")
    published = {}
    for name in NAMES:
        raw = _idx_bytes(name, 7)
        gz = gzip.compress(raw, mtime=0)
        published[name] = (_md5(gz), _md5(raw))
    monkeypatch.setattr(data, "FASHION_MNIST_MD5", published)

    def write(directory, fill=7, compress="published"):
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in NAMES:
            raw = _idx_bytes(name, fill)
            if compress == "published":
                (directory / f"{name}.gz").write_bytes(gzip.compress(raw, mtime=0))
            elif compress == "recompressed":  # other header, other bytes, same contents
                (directory / f"{name}.gz").write_bytes(gzip.compress(raw, 9, mtime=123456))
            else:
                (directory / name).write_bytes(raw)
        return directory

    write.tmp = tmp_path
    return write


def _download_must_not_happen(*args, **kwargs):
    raise AssertionError("the loader tried to download although an offline copy exists")


def test_debian_copy_is_used_when_it_is_the_only_one(fake_dataset, monkeypatch):
    fake_dataset(data.DEBIAN_DIR)
    monkeypatch.setattr(data, "_download", _download_must_not_happen)
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (3, 28, 28) and x_train.dtype == np.uint8
    assert y_test.shape == (3,)
    assert data.find_fashion_mnist()[0].startswith("Debian")


def test_search_order_is_env_var_then_keras_cache_then_debian(fake_dataset, monkeypatch):
    tmp = fake_dataset.tmp
    monkeypatch.setattr(data, "_download", _download_must_not_happen)
    fake_dataset(data.DEBIAN_DIR)
    assert data.find_fashion_mnist()[1] == data.DEBIAN_DIR
    fake_dataset(tmp / "keras" / "datasets" / "fashion-mnist")
    assert data.find_fashion_mnist()[0] == "Keras cache"
    mine = fake_dataset(tmp / "mine")
    monkeypatch.setenv(data.ENV_VAR, str(mine))
    assert data.find_fashion_mnist() == (f"${data.ENV_VAR}", mine)
    assert [label for label, _ in data.search_places()] == [
        f"${data.ENV_VAR}", "Keras cache", f"Debian package {data.DEBIAN_PACKAGE}"]


def test_recompressed_and_uncompressed_copies_pass_the_check(fake_dataset):
    for how in ("recompressed", "raw"):
        directory = fake_dataset(fake_dataset.tmp / how, compress=how)
        if how == "recompressed":
            blob = (directory / f"{NAMES[0]}.gz").read_bytes()
            assert _md5(blob) != data.FASHION_MNIST_MD5[NAMES[0]][0]
        for name in NAMES:
            assert data._read_checked(directory, name)


def test_damaged_copy_in_the_cache_is_skipped_with_a_warning(fake_dataset, monkeypatch):
    fake_dataset(fake_dataset.tmp / "keras" / "datasets" / "fashion-mnist", fill=9)
    fake_dataset(data.DEBIAN_DIR)
    monkeypatch.setattr(data, "_download", _download_must_not_happen)
    with pytest.warns(UserWarning, match="damaged copy in the Keras cache"):
        (x_train, _), _ = data.load_fashion_mnist()
    assert x_train[0, 0, 0] == 7  # the good (Debian) copy


def test_damaged_copy_named_by_the_env_var_is_an_error_that_explains(fake_dataset, monkeypatch):
    bad = fake_dataset(fake_dataset.tmp / "mine", fill=9)
    monkeypatch.setenv(data.ENV_VAR, str(bad))
    with pytest.raises(data.DatasetCorruptError) as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert "expected the published" in message and "got" in message
    assert str(bad) in message and "Hint" in message


def test_truncated_gzip_is_reported_not_crashed(fake_dataset, monkeypatch):
    directory = fake_dataset(fake_dataset.tmp / "mine")
    path = directory / f"{NAMES[0]}.gz"
    path.write_bytes(path.read_bytes()[:20])
    monkeypatch.setenv(data.ENV_VAR, str(directory))
    with pytest.raises(data.DatasetCorruptError, match="not a readable gzip file"):
        data.load_fashion_mnist()


def test_env_var_pointing_at_nothing_fails_at_once(fake_dataset, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(fake_dataset.tmp / "empty"))
    monkeypatch.setattr(data, "_download", _download_must_not_happen)
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert data.ENV_VAR in message and "train-images-idx3-ubyte.gz" in message
    assert "Hint" in message


def test_no_copy_and_no_network_fails_at_once_with_instructions(fake_dataset, no_network):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_fashion_mnist()
    message = str(info.value)
    assert "could not be downloaded" in message
    assert "Keras cache" in message and "Debian package" in message
    assert f"apt-get install {data.DEBIAN_PACKAGE}" in message
    assert data.ENV_VAR in message and "network" in message
    assert "Traceback" not in message


def test_download_comes_last_and_lands_in_the_keras_cache(fake_dataset, monkeypatch):
    calls = []

    def fake_download(fname, origin, cache_subdir, **kwargs):
        calls.append(fname)
        assert origin.startswith(data.KERAS_ORIGIN)
        fake_dataset(fake_dataset.tmp / "keras" / cache_subdir)
        return fake_dataset.tmp / "keras" / cache_subdir / fname

    monkeypatch.setattr(data, "_download", fake_download)
    (x_train, _), _ = data.load_fashion_mnist()
    assert sorted(calls) == sorted(f"{n}.gz" for n in NAMES)
    assert x_train.shape == (3, 28, 28)


def test_download_waits_a_bounded_time_and_restores_the_socket_default(monkeypatch, tmp_path):
    import keras

    seen = {}

    def fake_get_file(fname, origin, cache_subdir, cache_dir, **kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        return os.path.join(cache_dir, cache_subdir, fname)

    monkeypatch.setattr(data, "keras_cache_dir", lambda: tmp_path)
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    before = socket.getdefaulttimeout()
    data._download("x.gz", "https://example.invalid/x.gz", "datasets")
    assert seen["timeout"] == data.DOWNLOAD_TIMEOUT_S
    assert socket.getdefaulttimeout() == before


def test_mnist_offline_without_a_copy_explains(fake_dataset, no_network):
    with pytest.raises(data.DatasetNotFoundError) as info:
        data.load_mnist()
    message = str(info.value)
    assert "MNIST is not on this machine" in message and data.ENV_VAR in message
    assert "online" in message


def test_mnist_from_the_env_var_directory(fake_dataset, monkeypatch, tmp_path):
    arrays = {"x_train": np.zeros((2, 28, 28), np.uint8), "y_train": np.arange(2, dtype=np.uint8),
              "x_test": np.ones((1, 28, 28), np.uint8), "y_test": np.arange(1, dtype=np.uint8)}
    path = tmp_path / "mnist.npz"
    np.savez(path, **arrays)
    monkeypatch.setattr(data, "MNIST_SHA256", hashlib.sha256(path.read_bytes()).hexdigest())
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))
    monkeypatch.setattr(data, "_download", _download_must_not_happen)
    (x_train, y_train), (x_test, _) = data.load_mnist()
    assert x_train.shape == (2, 28, 28) and x_test.shape == (1, 28, 28)
    np.testing.assert_array_equal(y_train, [0, 1])


def _require_real_copy():
    if data.find_fashion_mnist() is None:
        if os.environ.get("COURSE_REQUIRE_DATA"):
            pytest.fail("COURSE_REQUIRE_DATA is set but no Fashion-MNIST copy was found; "
                        "`make setup` should have installed dataset-fashion-mnist.")
        pytest.skip("no offline Fashion-MNIST copy on this machine")


def test_the_real_dataset_loads_like_keras():
    _require_real_copy()
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert x_train.max() == 255 and x_train.min() == 0


def test_prepare_pads_scales_and_adds_a_channel():
    x = np.full((2, 28, 28), 255, np.uint8)
    out = data.prepare(x, pad=2)
    assert out.shape == (2, 32, 32, 1) and out.dtype == np.float32
    assert out[0, 0, 0, 0] == 0.0 and out[0, 2, 2, 0] == 1.0
    with pytest.raises(ValueError, match=r"\(N, H, W\)"):
        data.prepare(np.zeros((28, 28)))


def test_sample_photos_need_no_download(no_network):
    astronaut = data.sample_photo("astronaut")
    assert astronaut.shape == (512, 512, 3) and astronaut.dtype == np.float32
    assert 0.0 <= astronaut.min() and astronaut.max() <= 1.0
    assert data.sample_photo("astronaut", gray=True).shape == (512, 512)
    for name in data.SAMPLE_PHOTOS:
        assert data.sample_photo(name).ndim in (2, 3)
    with pytest.raises(ValueError, match="not a scikit-image sample photo"):
        data.sample_photo("lena")


def test_online_is_false_without_a_network(no_network):
    assert data.online() is False
