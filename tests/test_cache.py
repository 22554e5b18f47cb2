"""The trained-weights and feature cache (course_utils.cache): trains or computes once, loads
after, never loads a stale, damaged or half-written file, and keeps out of the home folder."""

import keras
import numpy as np
import pytest

from course_utils import cache
from course_utils.cache import CacheError, CacheWarning


@pytest.fixture(autouse=True)
def cache_folder(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(folder))
    return folder


def build(units=4):
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(units),
                             keras.layers.Dense(2)])


class Trainer:
    """``train(model)`` that counts its calls and moves the weights (one SGD epoch)."""

    def __init__(self, fail=False):
        self.calls, self.fail = 0, fail

    def __call__(self, model):
        self.calls += 1
        if self.fail:
            raise KeyboardInterrupt("the student stopped the cell")
        model.compile(optimizer="sgd", loss="mse")
        rng = np.random.default_rng(self.calls)
        model.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 2)), epochs=1, verbose=0)


def weights_equal(a, b):
    return all(np.array_equal(u, v) for u, v in zip(a.get_weights(), b.get_weights(),
                                                     strict=True))


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_the_second_call_loads_instead_of_training(cache_folder):
    train = Trainer()
    first = cache.trained("net", build, train, recipe={"epochs": 1}, verbose=False)
    second = cache.trained("net", build, train, recipe={"epochs": 1}, verbose=False)
    assert train.calls == 1
    assert weights_equal(first, second)
    assert not weights_equal(second, build())
    [name] = files(cache_folder)
    assert name.startswith("smoke/net@") and name.endswith(".weights.h5")


def test_another_profile_or_recipe_trains_again(cache_folder):
    train = Trainer()
    cache.trained("net", build, train, recipe={"epochs": 1}, verbose=False)
    cache.trained("net", build, train, recipe={"epochs": 1}, profile="cpu", verbose=False)
    assert train.calls == 2
    cache.trained("net", build, train, recipe={"epochs": 2}, verbose=False)
    assert train.calls == 3
    cache.trained("net", build, train, verbose=False)  # no recipe: its own file
    assert train.calls == 4
    assert len(files(cache_folder / "smoke")) == 3 and len(files(cache_folder / "cpu")) == 1


def test_a_truncated_file_is_reported_and_trained_again(cache_folder):
    train = Trainer()
    cache.trained("net", build, train, verbose=False)
    path = cache_folder / "smoke" / "net.weights.h5"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.warns(CacheWarning, match="damaged or truncated"):
        model = cache.trained("net", build, train, verbose=False)
    assert train.calls == 2
    assert weights_equal(model, cache.trained("net", build, train, verbose=False))
    assert train.calls == 2


@pytest.mark.parametrize("other", [lambda: build(units=5),
                                   lambda: keras.Sequential([keras.Input((3,)),
                                                             keras.layers.Dense(2)])])
def test_a_file_of_another_architecture_trains_again(other):
    train = Trainer()
    cache.trained("net", build, train, verbose=False)
    with pytest.warns(CacheWarning, match="do not fit"):
        cache.trained("net", other, train, verbose=False)
    assert train.calls == 2
    cache.trained("net", other, train, verbose=False)
    assert train.calls == 2


def test_a_failed_training_or_save_leaves_no_file(cache_folder, monkeypatch):
    with pytest.raises(KeyboardInterrupt):
        cache.trained("net", build, Trainer(fail=True), verbose=False)
    assert files(cache_folder) == []

    def half_then_fail(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"\x89HDF half a file")
        raise OSError("disk full")

    monkeypatch.setattr(keras.Model, "save_weights", half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        cache.trained("net", build, Trainer(), verbose=False)
    assert files(cache_folder) == []


def test_clear_by_key_and_profile(cache_folder):
    train = Trainer()
    for key, profile in [("a", "smoke"), ("a", "cpu"), ("b", "smoke"), ("ab", "smoke")]:
        cache.trained(key, build, train, recipe={"k": 1}, profile=profile, verbose=False)
    removed = cache.clear("a", profile="smoke")
    assert [p.name.split("@")[0] for p in removed] == ["a"]
    assert len(files(cache_folder)) == 3
    assert len(cache.clear("a")) == 1  # the cpu one; "ab" is another key
    assert len(cache.clear()) == 2
    assert files(cache_folder) == []


def test_the_folder_comes_from_the_environment_and_keys_are_checked(cache_folder, tmp_path,
                                                                    monkeypatch):
    assert cache.cache_dir() == cache_folder.resolve()
    assert cache.cache_dir(tmp_path / "x") == (tmp_path / "x").resolve()
    monkeypatch.delenv("COURSE_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == (tmp_path / "xdg" / "convnet-classics").resolve()
    with pytest.raises(CacheError, match="inside the course's repository"):
        cache.cache_dir(cache._REPO / "build" / "cache")
    with pytest.raises(CacheError, match="letters, digits"):
        cache.trained("../escape", build, Trainer(), folder=tmp_path, verbose=False)


# --------------------------------------------------------------------------- features


class CountingBase:
    """A frozen base whose ``predict`` calls are counted."""

    def __init__(self, model):
        self.model, self.calls = model, 0

    @property
    def weights(self):
        return self.model.weights

    def predict(self, x, **kwargs):
        self.calls += 1
        return self.model.predict(x, **kwargs)


@pytest.fixture
def base():
    keras.utils.set_random_seed(0)
    return CountingBase(build())


def test_features_are_computed_once_and_reloaded_equal(base, cache_folder):
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    first = cache.features("f", base, x, batch_size=4, verbose=False)
    second = cache.features("f", base, x, batch_size=4, verbose=False)
    assert base.calls == 1
    assert first.shape == (10, 2) and np.array_equal(first, second)
    assert np.allclose(first, base.model.predict(x, verbose=0), atol=1e-6)
    [name] = files(cache_folder)
    assert name.startswith("smoke/f@") and name.endswith(".features.npy")


def test_features_are_computed_again_for_a_changed_base_or_x(base):
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    cache.features("f", base, x, batch_size=4, verbose=False)
    x2 = x.copy()
    x2[7, 1] += 1e-3  # one value in one row
    cache.features("f", base, x2, batch_size=4, verbose=False)
    assert base.calls == 2
    kernel = base.model.layers[0].kernel
    kernel.assign(kernel.numpy() + 1e-3)
    changed = cache.features("f", base, x, batch_size=4, verbose=False)
    assert base.calls == 3
    assert np.allclose(changed, base.model.predict(x, verbose=0), atol=1e-6)


def test_a_truncated_feature_file_is_reported_and_computed_again(base, cache_folder):
    x = np.ones((10, 3), "float32")
    first = cache.features("f", base, x, batch_size=4, verbose=False)
    [path] = cache_folder.rglob("*.npy")
    path.write_bytes(path.read_bytes()[:100])
    with pytest.warns(CacheWarning, match="damaged or truncated"):
        again = cache.features("f", base, x, batch_size=4, verbose=False)
    assert base.calls == 2 and np.array_equal(first, again)
    assert len(cache.clear("f")) == 1
