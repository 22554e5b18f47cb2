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
        from course_utils.profiles import PROFILES
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
                     validation_split=0.1, name=None, profile=None, verbose=0,
                     loss_weights=None, optimizer="adam"):
    """Compile ``model`` with Adam (or ``optimizer="sgd"``: SGD with momentum 0.9, as
    AlexNet was trained) on a cosine-decaying learning rate and sparse categorical
    cross-entropy, fit it on ``train = (x, y)`` keeping the last ``validation_split`` for
    validation curves, then evaluate once on ``test``.

    A model with several outputs (GoogLeNet's auxiliary classifiers) learns the same labels
    on each, its losses weighted by ``loss_weights``; its accuracy is the first output's.
    The profile's ``run_eagerly`` (the smoke profile's) trains without tracing a graph.
    """
    import keras

    from course_utils.profiles import current_profile

    profile = profile or current_profile()
    (x_train, y_train), (x_test, y_test) = train, test
    if len(x_train) != len(y_train) or len(x_test) != len(y_test):
        raise ValueError(
            f"Images and labels differ in number: train {len(x_train)} vs {len(y_train)}, "
            f"test {len(x_test)} vs {len(y_test)}."
        )
    outputs = len(model.outputs)
    if loss_weights is not None and len(loss_weights) != outputs:
        raise ValueError(
            f"loss_weights has {len(loss_weights)} entries but the model has {outputs} "
            f"outputs. Hint: one weight per output, the main one first, e.g. [1, 0.3, 0.3].")
    n_fit = int(len(x_train) * (1 - validation_split))
    steps = epochs * int(np.ceil(n_fit / batch_size))
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(steps, 1))
    optimizers = {"adam": lambda: keras.optimizers.Adam(schedule),
                  "sgd": lambda: keras.optimizers.SGD(schedule, momentum=0.9)}
    if optimizer not in optimizers:
        raise ValueError(f"optimizer must be one of {', '.join(optimizers)}; got {optimizer!r}.")
    loss = "sparse_categorical_crossentropy"
    model.compile(
        optimizer=optimizers[optimizer](),
        loss=loss if outputs == 1 else [loss] * outputs,
        loss_weights=loss_weights,
        metrics=["accuracy"] if outputs == 1 else [["accuracy"]] * outputs,
        run_eagerly=profile.run_eagerly,
    )
    if outputs > 1:
        y_train, y_test = (y_train,) * outputs, (y_test,) * outputs
    epoch_times = []
    start = time.perf_counter()
    history = model.fit(
        x_train, y_train, epochs=epochs, batch_size=batch_size,
        validation_split=validation_split, callbacks=[_epoch_timer(epoch_times)], verbose=verbose,
    )
    seconds = time.perf_counter() - start
    scores = model.evaluate(x_test, y_test, batch_size=512, verbose=0, return_dict=True)
    main = model.output_names[0] if outputs > 1 else None
    history = _main_output_history(history.history, main)
    return Run(
        name=name or model.name, model=model, profile=profile.name, epochs=epochs,
        history=history, test_loss=float(scores["loss"]),
        test_accuracy=float(scores["accuracy" if main is None else f"{main}_accuracy"]),
        seconds=seconds,
        seconds_per_epoch=float(np.mean(epoch_times)) if epoch_times else float("nan"),
    )


def _main_output_history(history: dict, main: str | None) -> dict:
    """Give a multi-output history plain ``accuracy`` keys: those of the main output."""
    if main is None:
        return history
    history = dict(history)
    for prefix in ("", "val_"):
        key = f"{prefix}{main}_accuracy"
        if key in history:
            history[f"{prefix}accuracy"] = history[key]
    return history


def summarize(runs):
    """One row per run: parameters and multiply-accumulates per image (from
    ``layer_table``), test accuracy, seconds per epoch, epochs and profile."""
    import pandas as pd

    from course_utils.inspection import layer_table

    rows = []
    for run in runs:
        totals = layer_table(run.model).attrs["totals"]
        rows.append({"network": run.name, "params": totals["params"], "MACs": totals["macs"],
                     "test accuracy": round(run.test_accuracy, 4), "epochs": run.epochs,
                     "s / epoch": round(run.seconds_per_epoch, 1), "profile": run.profile})
    return pd.DataFrame(rows).set_index("network")
