"""One profile decides how much work a notebook does.

=========  ======================================================================
``smoke``  CI and tests: a small slice of the data, one short epoch, seconds.
           Its networks train eagerly: tracing a training step into a graph costs
           more than the two or three steps it would speed up.
``cpu``    a laptop: real but reduced training, minutes.
``gpu``    Colab or a workstation GPU: the full run, mixed precision on.
=========  ======================================================================

The profile is chosen automatically (a GPU present means ``gpu``, otherwise
``cpu``) and overridden by the environment variable ``COURSE_PROFILE``.
Notebooks ask the profile for sizes and never branch on its name::

    P = course_utils.setup()                      # seed + profile, printed once
    epochs = P.pick(smoke=1, cpu=20, gpu=40)      # one value per profile
    x_train = x_train[: P.n_train]                # None keeps everything

Before comparing layer names with a reference network, clear Keras's session with
:func:`clear_session` (it keeps the precision ``setup`` chose), not Keras's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV_VAR = "COURSE_PROFILE"


class ProfileError(ValueError):
    """An unknown profile name, or a ``pick`` that does not cover every profile."""


@dataclass(frozen=True)
class Profile:
    """How much work to do. ``None`` sample counts mean "all of it"."""

    name: str
    description: str
    n_train: int | None
    n_test: int | None
    epochs: int
    batch_size: int
    mixed_precision: bool
    seeds: int = 1  # repeats of a comparison whose difference may be within noise
    run_eagerly: bool = False  # compile(run_eagerly=...) in training.fit_and_evaluate

    def pick(self, **values):
        """Return the value given for this profile: ``P.pick(smoke=1, cpu=20, gpu=40)``."""
        unknown = sorted(set(values) - set(PROFILES))
        missing = sorted(set(PROFILES) - set(values))
        if unknown or missing:
            raise ProfileError(
                "Profile.pick needs exactly one value per profile "
                f"({', '.join(PROFILES)}); "
                + (f"unknown: {', '.join(unknown)}; " if unknown else "")
                + (f"missing: {', '.join(missing)}." if missing else "")
                + " Hint: write P.pick(smoke=..., cpu=..., gpu=...)."
            )
        return values[self.name]

    def __str__(self):
        return f"{self.name} ({self.description})"


PROFILES = {
    "smoke": Profile(
        "smoke", "CI and tests: tiny data, one short epoch", n_train=128, n_test=128,
        epochs=1, batch_size=128, mixed_precision=False, run_eagerly=True,
    ),
    "cpu": Profile(
        "cpu", "a laptop CPU: real but reduced training", n_train=None, n_test=None,
        epochs=10, batch_size=128, mixed_precision=False, seeds=3,
    ),
    "gpu": Profile(
        "gpu", "a GPU (Colab): the full run, mixed precision", n_train=None, n_test=None,
        epochs=30, batch_size=256, mixed_precision=True, seeds=3,
    ),
}


def describe():
    """The profiles side by side, as a DataFrame ("all" where every sample is used)."""
    import pandas as pd

    rows = [{**vars(p), "n_train": p.n_train or "all", "n_test": p.n_test or "all"}
            for p in PROFILES.values()]
    return pd.DataFrame(rows).set_index("name")


def gpu_available() -> bool:
    """True when the active Keras backend can see a GPU (TensorFlow, JAX or PyTorch)."""
    import keras

    backend = keras.backend.backend()
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            return bool(tf.config.list_physical_devices("GPU"))
        if backend == "jax":
            import jax

            return any(d.platform == "gpu" for d in jax.devices())
        if backend == "torch":
            import torch

            return bool(torch.cuda.is_available())
    except Exception:  # a broken driver means "no usable GPU", not a crash
        return False
    return False


def current_profile(name: str | None = None) -> Profile:
    """The profile named by ``name``, else by ``$COURSE_PROFILE``, else by the hardware."""
    source = "argument"
    if name is None:
        name = os.environ.get(ENV_VAR) or None
        source = f"${ENV_VAR}"
    if name is None:
        return PROFILES["gpu" if gpu_available() else "cpu"]
    key = name.strip().lower()
    if key not in PROFILES:
        choices = "; ".join(f"{p.name}: {p.description}" for p in PROFILES.values())
        raise ProfileError(
            f"Unknown profile {name!r} (from {source}). Choose one of: {choices}. "
            f"Hint: unset {ENV_VAR} to let the course choose from the hardware."
        )
    return PROFILES[key]


def _freeze_what_is_imported() -> None:
    """Move the objects that exist now (Keras, its backend and the other imported
    libraries, which live as long as the process) out of the garbage collector's view,
    once per process. Every ``keras.backend.clear_session()`` runs a full collection that
    would otherwise walk those few hundred thousand objects each time (0.15 to 0.3 s a
    call); objects made later are collected as usual. Skipped where something froze first
    (the test suite, the grader's kernels) or when ``setup`` runs again."""
    import gc

    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def setup(seed: int = 42, profile: str | None = None, verbose: bool = True) -> Profile:
    """Seed Python, NumPy and the backend, switch on mixed precision for ``gpu``, and
    return the profile. Call it once at the top of a notebook, after the imports (what is
    imported by then is kept out of the garbage collector's view: see
    ``_freeze_what_is_imported``)."""
    import keras

    _freeze_what_is_imported()
    chosen = current_profile(profile)
    keras.utils.set_random_seed(seed)
    policy = "mixed_float16" if chosen.mixed_precision else "float32"
    keras.mixed_precision.set_global_policy(policy)
    if verbose:
        if profile:
            how = "asked for by name"
        elif os.environ.get(ENV_VAR):
            how = f"from ${ENV_VAR}"
        else:
            how = "chosen from the hardware"
        print(f"Profile: {chosen} [{how}] | seed {seed} | dtype policy {policy}")
    return chosen


def clear_session() -> None:
    """``keras.backend.clear_session()`` (unnamed layers are numbered afresh, Keras's global
    state is dropped) that keeps the dtype policy ``setup`` chose. Keras's own resets the
    policy to float32, which in the ``gpu`` profile would silently switch mixed precision
    off for every model built afterwards."""
    import keras

    policy = keras.mixed_precision.global_policy()
    keras.backend.clear_session()
    keras.mixed_precision.set_global_policy(policy)
