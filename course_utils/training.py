"""Train and evaluate a classifier the same way everywhere in the course, with timing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Run:
    """What one training run produced."""

    name: str
    model: object = field(repr=False)
    profile: str
    epochs: int
    history: dict = field(repr=False)
    test_loss: float
    test_accuracy: float
    seconds: float
    seconds_per_epoch: float

    def report(self):
        """Print (and record) the test accuracy and the training time."""
        from course_utils.profile import PROFILES
        from course_utils.report import report

        profile = PROFILES[self.profile]
        report(f"{self.name} test accuracy", self.test_accuracy, "{:.1%}", profile)
        report(f"{self.name} training time", self.seconds, "{:.0f} s", profile)


def _epoch_timer(times):
    """A callback that appends each epoch's wall time to ``times``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.start)

    return EpochTimer()


def fit_and_evaluate(model, train, test, epochs, batch_size=128, learning_rate=1e-3,
                     validation_split=0.1, name=None, profile=None, verbose=0):
    """Compile ``model`` with Adam on a cosine-decaying learning rate and sparse
    categorical cross-entropy, fit it on ``train = (x, y)`` keeping the last
    ``validation_split`` for validation curves, then evaluate once on ``test``.
    """
    import keras

    from course_utils.profile import current_profile

    profile = profile or current_profile()
    (x_train, y_train), (x_test, y_test) = train, test
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(
            f"Images and labels differ in number: train {len(x_train)} vs {len(y_train)}, "
            f"test {len(x_test)} vs {len(y_test)}."
        )
    n_fit = int(len(x_train) * (1 - validation_split))
    steps = epochs * int(np.ceil(n_fit / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    epoch_times = []
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, epochs=epochs, batch_size=batch_size,
        validation_split=validation_split, callbacks=[_epoch_timer(epoch_times)], verbose=verbose,
    )
    seconds = time.perf_counter() - start
    test_loss, test_accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    return Run(
        name=name or model.name, model=model, profile=profile.name, epochs=epochs,
        history=history.history, test_loss=float(test_loss),
        test_accuracy=float(test_accuracy), seconds=seconds,
        seconds_per_epoch=float(np.mean(epoch_times)) if epoch_times else float("nan"),
    )
