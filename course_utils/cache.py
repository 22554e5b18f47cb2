"""Train once, reuse after: a network's trained weights and a frozen base's features, kept on
disk per profile so that a later lesson loads them instead of training again.

::

    model = cache.trained("lenet5", build, train, recipe={"epochs": P.epochs, "lr": 1e-3})
    f_train = cache.features("vgg16-fmnist", base, x_train, batch_size=P.batch_size)

The files live in ``$COURSE_CACHE_DIR`` when it is set, else in the user's cache folder
(``$XDG_CACHE_HOME/convnet-classics``, by default ``~/.cache/convnet-classics``), one
subfolder per profile: never inside the course's repository. Every file is written to a
temporary name first and renamed when complete, so an interrupted run never leaves a half
file that a later run would load; a damaged file is reported, deleted and made again.
:func:`clear` deletes what is kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from pathlib import Path

import numpy as np

ENV_VAR = "COURSE_CACHE_DIR"
APP_NAME = "convnet-classics"
WEIGHTS_SUFFIX = ".weights.h5"
FEATURES_SUFFIX = ".features.npy"
_KEY = re.compile(r"[A-Za-z0-9_.-]+")
_REPO = Path(__file__).resolve().parent.parent


class CacheError(ValueError):
    """A key that cannot name a file, or a cache folder inside the course's repository."""


class CacheWarning(UserWarning):
    """A kept file could not be used (damaged, or made for another network) and is made
    again."""


# --------------------------------------------------------------------------- places


def cache_dir(folder=None) -> Path:
    """The cache's root folder: ``folder``, else ``$COURSE_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/convnet-classics`` (``~/.cache/convnet-classics``).

    Raises:
        CacheError: the folder lies inside the course's git repository, whose tracked tree
            must not fill with weights.
    """
    if folder is not None:
        root, source = Path(folder), "the folder argument"
    elif os.environ.get(ENV_VAR):
        root, source = Path(os.environ[ENV_VAR]), f"${ENV_VAR}"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root, source = Path(base) / APP_NAME, "the default"
    root = root.expanduser().resolve()
    if (_REPO / ".git").exists() and root.is_relative_to(_REPO):
        raise CacheError(
            f"cache: the cache folder {root} (from {source}) is inside the course's repository "
            f"{_REPO}; expected a folder outside it. Hint: unset {ENV_VAR} to use "
            f"~/.cache/{APP_NAME}, or point it somewhere outside the repository.")
    return root


def _profile_name(profile) -> str:
    from course_utils.profiles import Profile, current_profile

    return profile.name if isinstance(profile, Profile) else current_profile(profile).name


def _check_key(key) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise CacheError(
            f"cache: a key names a file, so it needs letters, digits, '_', '.' or '-' only; "
            f"got {key!r}. Hint: write it like 'lenet5-fashion'.")
    return key


def fingerprint(recipe: dict) -> str:
    """Twelve hex digits that change whenever ``recipe`` changes (its JSON with sorted keys;
    values JSON cannot write are written with ``repr``)."""
    text = json.dumps(recipe, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _path(key, profile, folder, suffix, print_=None) -> Path:
    name = _check_key(key) + (f"@{print_}" if print_ else "") + suffix
    return cache_dir(folder) / _profile_name(profile) / name


def _atomic_write(path: Path, write) -> None:
    """Call ``write(temporary_path)``, then rename the temporary file to ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Keras insists on a name ending in .weights.h5, NumPy on .npy: keep the suffix.
    suffix = "".join(path.suffixes[-2:]) if path.name.endswith(WEIGHTS_SUFFIX) else path.suffix
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _say(verbose, text):
    if verbose:
        print(text)


# --------------------------------------------------------------------------- weights


def _weight_shapes_in_file(path: Path) -> list:
    """Shapes of the model's variables saved in a ``.weights.h5`` file (the optimizer's and
    the metrics' state left out), sorted. Raises ``OSError`` for a damaged file."""
    import h5py

    shapes = []
    with h5py.File(path, "r") as f:
        def visit(name, item):
            top = name.split("/")[0]
            if isinstance(item, h5py.Dataset) and top != "optimizer" and "metrics" not in top:
                shapes.append(tuple(item.shape))
        f.visititems(visit)
    return sorted(shapes)


def _try_load(model, path: Path) -> str | None:
    """Load ``path`` into ``model``; ``None`` when it worked, else why not."""
    try:
        in_file = _weight_shapes_in_file(path)
    except Exception as exc:  # h5py raises OSError for a truncated file, others for junk
        return f"the file is damaged or truncated ({type(exc).__name__}: {exc})"
    in_model = sorted(tuple(w.shape) for w in model.weights)
    if in_file != in_model:
        return (f"its weights do not fit the network built now: the file holds "
                f"{len(in_file)} arrays, the network {len(in_model)}, and their shapes differ")
    try:
        with warnings.catch_warnings():  # a model compiled in build() has a fresh optimizer
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)
    except Exception as exc:
        return f"Keras could not load it ({type(exc).__name__}: {str(exc)[:300]})"
    return None


def trained(key: str, build, train, *, recipe: dict | None = None, profile=None, folder=None,
            verbose: bool = True):
    """A trained network: built with ``build()``, its weights loaded from the cache when a
    good copy is kept there, else trained with ``train(model)`` and the weights kept.

    The file is ``<folder>/<profile>/<key>@<fingerprint of recipe>.weights.h5`` (without
    ``@...`` when no recipe is given). Pass as ``recipe`` everything that decides the trained
    weights (epochs, learning rate, data slice, augmentation...): a changed recipe then trains
    again instead of loading stale weights. Without a recipe, change the key whenever the
    recipe changes. The network's architecture is checked (the shapes of its weights); a
    file that does not fit, or is damaged, is reported (a :class:`CacheWarning`), deleted
    and trained again. The optimizer's state is not restored: a model to fine-tune starts a
    fresh optimizer.

    Args:
        key: names the network, e.g. ``"lenet5-fashion"``: letters, digits, ``_ . -``.
        build: called with no argument, returns a built ``keras.Model``.
        train: called with that model; trains it in place (its return value is ignored).
        recipe: what the training depends on, hashed into the file name (JSON-able values).
        profile: a profile or its name; default :func:`~course_utils.profiles.current_profile`.
        folder: the cache's root; default :func:`cache_dir`.
        verbose: print whether the weights were loaded or trained.

    Raises:
        CacheError: a bad key, or a cache folder inside the repository.
    """
    path = _path(key, profile, folder, WEIGHTS_SUFFIX,
                 fingerprint(recipe) if recipe is not None else None)
    model = build()
    if path.exists():
        why = _try_load(model, path)
        if why is None:
            _say(verbose, f"Loaded the trained weights of {key!r} from {path}")
            return model
        warnings.warn(f"cache: cannot use {path}: {why}. It is deleted and {key!r} trained "
                      "again. Hint: a changed network needs a new key or recipe.",
                      CacheWarning, stacklevel=2)
        path.unlink()
        model = build()  # a failed load may have filled some layers
    train(model)
    _atomic_write(path, model.save_weights)
    _say(verbose, f"Trained {key!r}; its weights are kept in {path}")
    return model


# --------------------------------------------------------------------------- features


def features_fingerprint(base, x) -> str:
    """Twelve hex digits that change when the base's weights or the inputs change: a hash of
    every weight of ``base`` (shape, dtype, values, in order) and of ``x`` (shape, dtype and
    all its bytes; about a second per 500 MB). The architecture itself is not hashed: two
    bases with the same weights but different layers need different keys."""
    h = hashlib.sha256()
    for w in base.weights:
        value = np.ascontiguousarray(np.asarray(w.numpy() if hasattr(w, "numpy") else w))
        h.update(f"{value.shape}{value.dtype}".encode())
        h.update(value.tobytes())
    x = np.ascontiguousarray(np.asarray(x))
    h.update(f"x{x.shape}{x.dtype}".encode())
    h.update(x.tobytes())
    return h.hexdigest()[:12]


def features(key: str, base, x, *, batch_size: int, profile=None, folder=None,
             verbose: bool = True) -> np.ndarray:
    """``base.predict(x)`` computed once and kept on disk: later calls with the same base
    weights and the same ``x`` load the ``.npy`` instead of running the base again.

    The file is ``<folder>/<profile>/<key>@<fingerprint>.features.npy``, the fingerprint from
    :func:`features_fingerprint` (the base's weights and all of ``x``), so a changed base or
    changed data never reuses stale features. Files of earlier fingerprints stay until
    :func:`clear` deletes them.

    Args:
        key: names the base and the data, e.g. ``"vgg16-fashion-train"``.
        base: a built ``keras.Model`` (frozen: its output is what is kept).
        x: the inputs, a NumPy array.
        batch_size: passed to ``base.predict``.
        profile: a profile or its name; default the current one.
        folder: the cache's root; default :func:`cache_dir`.
        verbose: print whether the features were loaded or computed.

    Returns:
        The features, ``len(x)`` rows.
    """
    x = np.asarray(x)
    path = _path(key, profile, folder, FEATURES_SUFFIX, features_fingerprint(base, x))
    if path.exists():
        try:
            kept = np.load(path, allow_pickle=False)
            if kept.shape[:1] != x.shape[:1]:
                raise ValueError(f"it holds {kept.shape[0]} rows, x has {len(x)}")
        except Exception as exc:
            warnings.warn(f"cache: cannot use {path}: the file is damaged or truncated "
                          f"({type(exc).__name__}: {exc}). It is deleted and the features "
                          "computed again.", CacheWarning, stacklevel=2)
            path.unlink()
        else:
            _say(verbose, f"Loaded the features {key!r} from {path}")
            return kept
    result = np.asarray(base.predict(x, batch_size=batch_size, verbose=0))

    def write(tmp):
        with open(tmp, "wb") as f:
            np.save(f, result, allow_pickle=False)

    _atomic_write(path, write)
    _say(verbose, f"Computed the features {key!r}; kept in {path}")
    return result


# --------------------------------------------------------------------------- clearing


def clear(key: str | None = None, profile: str | None = None, *, folder=None) -> list[Path]:
    """Delete kept weights and features: those of ``key`` (every recipe and fingerprint), or
    all of them; in the folder of ``profile``, or of every profile.

    Returns:
        The paths deleted.
    """
    root = cache_dir(folder)
    if profile is not None:
        folders = [root / _profile_name(profile)]
    else:
        folders = [p for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    name = re.escape(_check_key(key)) if key is not None else r"[A-Za-z0-9_.-]+"
    pattern = re.compile(
        rf"{name}(@[0-9a-f]{{12}})?({re.escape(WEIGHTS_SUFFIX)}|{re.escape(FEATURES_SUFFIX)})")
    removed = []
    for sub in folders:
        if not sub.is_dir():
            continue
        for path in sorted(sub.iterdir()):
            if path.is_file() and pattern.fullmatch(path.name):
                path.unlink()
                removed.append(path)
    return removed
