"""Datasets, offline first.

``load_fashion_mnist()`` returns ``((x_train, y_train), (x_test, y_test))`` exactly like
``keras.datasets.fashion_mnist.load_data()``, but looks for the files without a network
first, in this order:

1. the directory named by ``$COURSE_DATA_DIR`` (if set, it must hold a good copy);
2. Keras's own cache (``~/.keras/datasets/fashion-mnist``, or under ``$KERAS_HOME``);
3. Debian's package ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist``);
4. Keras's download (Colab, or any machine online), with a bounded wait.

Every file is checked against the published MD5 sums: of the ``.gz`` file, or, for a
copy that was re-compressed (Debian's is), of its decompressed contents. With no good
copy anywhere the loader fails at once with a message that says how to get one.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import warnings
from pathlib import Path

import numpy as np

ENV_VAR = "COURSE_DATA_DIR"
DEBIAN_PACKAGE = "dataset-fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DOWNLOAD_TIMEOUT_S = 30

FASHION_MNIST_CLASSES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# name -> (MD5 of the published .gz, MD5 of its decompressed contents); from the
# Fashion-MNIST README (github.com/zalandoresearch/fashion-mnist) and torchvision.
FASHION_MNIST_MD5 = {
    "train-images-idx3-ubyte": ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    "train-labels-idx1-ubyte": ("25c81989df183df01b3e8a0aad5dffbe", "9018921c3c673c538a1fc5bad174d6f9"),
    "t10k-images-idx3-ubyte": ("bef4ecab320f06d8554ea6380940ec79", "8181f5470baa50b63fa0f6fddb340f0a"),
    "t10k-labels-idx1-ubyte": ("bb300cfdad3c16e7a12a480ee83cd310", "15d484375f8d13e6eb1aabb0c3f46965"),
}

# Keras's own checksum for mnist.npz (keras/src/datasets/mnist.py).
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"


class DatasetNotFoundError(FileNotFoundError):
    """No good copy of a dataset was found and it could not be downloaded."""


class DatasetCorruptError(ValueError):
    """A copy was found but its checksum is not the published one."""


# --------------------------------------------------------------------------- places


def keras_cache_dir() -> Path:
    """Keras's cache directory (``$KERAS_HOME`` or ``~/.keras``)."""
    from keras.src.backend import config  # the only place Keras exposes it

    return Path(config.keras_home())


def search_places(subdir: str = "fashion-mnist") -> list[tuple[str, Path]]:
    """The offline places searched, in order, as ``(label, directory)`` pairs."""
    places = []
    if os.environ.get(ENV_VAR):
        places.append((f"${ENV_VAR}", Path(os.environ[ENV_VAR]).expanduser()))
    places.append(("Keras cache", keras_cache_dir() / "datasets" / subdir))
    if subdir == "fashion-mnist":
        places.append((f"Debian package {DEBIAN_PACKAGE}", DEBIAN_DIR))
    return places


def _how_to_get_one(what: str) -> str:
    return (
        f"How to get {what}: (1) on Debian/Ubuntu, `sudo apt-get install {DEBIAN_PACKAGE}` "
        f"(this is what `make setup` tries); (2) copy the four files from any machine into a "
        f"directory and set {ENV_VAR} to it; or (3) run once with a network connection so "
        f"Keras can download them (Colab always can)."
    )


def online(host: str = "storage.googleapis.com", timeout: float = 3.0) -> bool:
    """Whether Keras's download server answers within ``timeout`` seconds. Notebooks use it
    to skip, with a message, what needs a download (ImageNet weights) when offline."""
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------- checks


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _read_checked(directory: Path, name: str) -> bytes:
    """Return the decompressed bytes of ``name`` from ``directory`` after checking MD5.

    Accepts ``name.gz`` (published or re-compressed) or the decompressed ``name``.
    Raises FileNotFoundError when absent and DatasetCorruptError when wrong.
    """
    gz_md5, raw_md5 = FASHION_MNIST_MD5[name]
    gz_path, raw_path = directory / f"{name}.gz", directory / name
    if gz_path.is_file():
        blob = gz_path.read_bytes()
        try:
            raw = gzip.decompress(blob)
        except (OSError, EOFError) as exc:
            raise DatasetCorruptError(
                f"{gz_path} is not a readable gzip file ({exc}). Hint: delete it and get a "
                f"fresh copy."
            ) from None
        if _md5(blob) == gz_md5 or _md5(raw) == raw_md5:
            return raw
        path, got = gz_path, _md5(raw)
    elif raw_path.is_file():
        raw = raw_path.read_bytes()
        if _md5(raw) == raw_md5:
            return raw
        path, got = raw_path, _md5(raw)
    else:
        raise FileNotFoundError(f"neither {gz_path.name} nor {raw_path.name} in {directory}")
    raise DatasetCorruptError(
        f"Checked the MD5 of {path}: expected the published {gz_md5} (.gz) or {raw_md5} "
        f"(contents), got {got} for the contents. The file is damaged or is not "
        f"Fashion-MNIST. Hint: delete it and get a fresh copy."
    )


def _parse_idx(raw: bytes, images: bool) -> np.ndarray:
    if images:
        return np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 28, 28)
    return np.frombuffer(raw, np.uint8, offset=8)


def _load_from(directory: Path):
    parts = {name: _read_checked(directory, name) for name in FASHION_MNIST_MD5}
    x_train = _parse_idx(parts["train-images-idx3-ubyte"], images=True)
    y_train = _parse_idx(parts["train-labels-idx1-ubyte"], images=False)
    x_test = _parse_idx(parts["t10k-images-idx3-ubyte"], images=True)
    y_test = _parse_idx(parts["t10k-labels-idx1-ubyte"], images=False)
    return (x_train, y_train), (x_test, y_test)


def _download(fname: str, origin: str, cache_subdir: str, **kwargs) -> Path:
    """Keras's download into its cache, with a bounded wait on a silent network."""
    import keras

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        path = keras.utils.get_file(
            fname, origin=origin, cache_subdir=cache_subdir,
            cache_dir=str(keras_cache_dir()), **kwargs,
        )
    finally:
        socket.setdefaulttimeout(previous)
    return Path(path)


# --------------------------------------------------------------------------- loaders


def find_fashion_mnist() -> tuple[str, Path] | None:
    """Where a good offline copy is, as ``(label, directory)``; ``None`` if nowhere."""
    for label, directory in search_places():
        try:
            for name in FASHION_MNIST_MD5:
                _read_checked(directory, name)
        except (FileNotFoundError, DatasetCorruptError):
            continue
        return label, directory
    return None


def load_fashion_mnist():
    """Fashion-MNIST as ``((x_train, y_train), (x_test, y_test))``, uint8, like Keras.

    Offline places first (see the module docstring), then Keras's download. Raises
    :class:`DatasetNotFoundError` at once, with instructions, when there is no copy.
    """
    tried = []
    for label, directory in search_places():
        try:
            return _load_from(directory)
        except FileNotFoundError as exc:
            if label == f"${ENV_VAR}":
                raise DatasetNotFoundError(
                    f"{ENV_VAR}={os.environ[ENV_VAR]!r} is set but holds no Fashion-MNIST "
                    f"copy ({exc}). Expected the four files train-images-idx3-ubyte.gz, "
                    f"train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                    f"t10k-labels-idx1-ubyte.gz. Hint: point {ENV_VAR} at the directory "
                    f"that holds them, or unset it."
                ) from None
            tried.append(f"{label} ({directory}): {exc}")
        except DatasetCorruptError as exc:
            if label == f"${ENV_VAR}":
                raise
            warnings.warn(f"Skipping a damaged copy in the {label}: {exc}", stacklevel=2)
            tried.append(f"{label} ({directory}): damaged copy")

    try:
        for name in FASHION_MNIST_MD5:
            _download(f"{name}.gz", KERAS_ORIGIN + f"{name}.gz", "datasets/fashion-mnist")
        return _load_from(keras_cache_dir() / "datasets" / "fashion-mnist")
    except Exception as exc:  # no network, DNS failure, timeout, bad download
        tried.append(f"Keras download from {KERAS_ORIGIN}: {type(exc).__name__}: {exc}")
    raise DatasetNotFoundError(
        "Fashion-MNIST is not on this machine and could not be downloaded.\nLooked in:\n  - "
        + "\n  - ".join(tried)
        + "\n"
        + _how_to_get_one("a copy")
    )


def load_mnist():
    """MNIST digits as ``((x_train, y_train), (x_test, y_test))``, uint8, like Keras.

    Looks for ``mnist.npz`` in ``$COURSE_DATA_DIR`` and Keras's cache, then downloads it
    (Colab). There is no Debian package for it; offline without a copy this fails at once.
    """
    tried = []
    for label, directory in search_places(subdir=""):
        path = directory / "mnist.npz"
        if path.is_file():
            if hashlib.sha256(path.read_bytes()).hexdigest() == MNIST_SHA256:
                return _read_npz(path)
            tried.append(f"{label} ({path}): checksum differs from Keras's")
        else:
            tried.append(f"{label} ({directory}): no mnist.npz")
    try:
        path = _download("mnist.npz", KERAS_ORIGIN + "mnist.npz", "datasets",
                         file_hash=MNIST_SHA256)
        return _read_npz(path)
    except Exception as exc:
        tried.append(f"Keras download from {KERAS_ORIGIN}: {type(exc).__name__}: {exc}")
    raise DatasetNotFoundError(
        "MNIST is not on this machine and could not be downloaded.\nLooked in:\n  - "
        + "\n  - ".join(tried)
        + f"\nHow to get it: run once online (Colab always can), or put Keras's mnist.npz in "
        f"a directory and set {ENV_VAR} to it. Offline, the course uses Fashion-MNIST "
        f"(`sudo apt-get install {DEBIAN_PACKAGE}`)."
    )


def _read_npz(path: Path):
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


# --------------------------------------------------------------------------- shaping


def prepare(images: np.ndarray, pad: int = 0) -> np.ndarray:
    """uint8 images ``(N, H, W)`` -> float32 ``(N, H + 2 pad, W + 2 pad, 1)`` in [0, 1].

    ``pad=2`` turns 28x28 Fashion-MNIST into LeNet-5's 32x32 input.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(
            f"prepare expects a stack of grayscale images shaped (N, H, W); got shape "
            f"{images.shape}. Hint: pass x_train as loaded, before adding a channel axis."
        )
    x = images.astype("float32") / 255.0
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    return x[..., None]


SAMPLE_PHOTOS = ("astronaut", "camera", "cat", "coffee", "chelsea", "rocket", "coins", "moon")


def sample_photo(name: str = "astronaut", gray: bool = False) -> np.ndarray:
    """A real photo bundled with scikit-image (no download), as float32 in [0, 1].

    Colour photos are ``(H, W, 3)``; with ``gray=True`` (or a grayscale photo) ``(H, W)``.
    """
    import skimage
    import skimage.color

    loader = getattr(skimage.data, name, None)
    if name.startswith("_") or loader is None or not callable(loader):
        raise ValueError(
            f"{name!r} is not a scikit-image sample photo. Try one of: "
            f"{', '.join(SAMPLE_PHOTOS)}."
        )
    image = np.asarray(loader())
    image = skimage.img_as_float32(image)
    if image.ndim == 3 and image.shape[-1] == 4:
        image = image[..., :3]
    if gray and image.ndim == 3:
        image = skimage.color.rgb2gray(image).astype("float32")
    return image
