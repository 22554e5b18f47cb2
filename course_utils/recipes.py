"""Two training recipes for Fashion-MNIST, raced on the clock: keras-io's "Simple MNIST
convnet" (the usual recipe) and the course's fast recipe (a small residual network with batch
norm, one cycle, label smoothing, flips and test-time flips, after the fast CIFAR-10 training
records). ``benchmarks/fast_recipe.py`` measures them against issue 13's goals; lesson 13
shows the curves.

Each ``train_*`` returns the curve ``[(training seconds, test accuracy), ...]``, one point per
epoch, measured by :class:`AccuracyClock`; :func:`compare` turns curves into the figures.
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import layers

from course_utils.schedules import OneCycle

CLASSES = 10
SPEEDUP_GOAL = 3.0
BUDGET_S = 300.0
PEER_EPOCHS, PEER_BATCH = 15, 128


def peer_model() -> keras.Model:
    """keras-io's "Simple MNIST convnet", layer for layer."""
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dropout(0.5),
        layers.Dense(CLASSES),
        layers.Activation("softmax", dtype="float32"),  # float32 under mixed precision
    ], name="keras_io_mnist_convnet")


def _conv_bn_relu(x, filters: int, name: str, padding="same", pool=False):
    """3x3 convolution, [max pooling,] batch norm, ReLU. Pooling before the batch norm (as
    in the fast CIFAR-10 ResNet-9s) leaves a quarter of the tensor to normalise. The batch
    norm's moving averages use a momentum of 0.9 (PyTorch's 0.1, as in those records), not
    Keras's 0.99: a short run of a few hundred steps would otherwise be tested with moving
    statistics that have not caught up with the trained weights."""
    x = layers.Conv2D(filters, 3, padding=padding, use_bias=False, name=f"{name}_conv")(x)
    if pool:
        x = layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    x = layers.BatchNormalization(momentum=0.9, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x)


def fast_model(width: int = 24) -> keras.Model:
    """The fast recipe's network: a 3x3 stem convolution, max pooling to 13x13, batch norm,
    ReLU; a 3x3 convolution, max pooling to 6x6, batch norm, ReLU; one residual block of two
    conv-BN-ReLU; global max pooling and a dense softmax. Random horizontal flips in front,
    active in training only.

    Args:
        width: filters of the stem; the later convolutions have twice as many.
    """
    inputs = keras.Input((28, 28, 1))
    x = layers.RandomFlip("horizontal", name="flip")(inputs)      # only while training
    x = _conv_bn_relu(x, width, "stem", padding="valid", pool=True)  # 26x26 -> 13x13
    x = _conv_bn_relu(x, 2 * width, "layer1", pool=True)             # 13x13 -> 6x6
    r = _conv_bn_relu(x, 2 * width, "res_a")
    r = _conv_bn_relu(r, 2 * width, "res_b")
    x = layers.Add(name="res_add")([x, r])
    x = layers.GlobalMaxPooling2D(name="pool")(x)
    x = layers.Dense(CLASSES, name="logits")(x)
    outputs = layers.Activation("softmax", dtype="float32", name="probs")(x)
    return keras.Model(inputs, outputs, name="fast_resnet")


class AccuracyClock(keras.callbacks.Callback):
    """After every epoch: test accuracy (with ``flip_tta``, of the softmax averaged over
    each image and its mirror) against the training seconds so far. The clock runs from
    the start of training and is stopped while this callback evaluates."""

    def __init__(self, x_test, y_test, flip_tta: bool = False):
        super().__init__()
        self.x_test, self.y_test, self.flip_tta = x_test, np.asarray(y_test), flip_tta
        self.points: list[tuple[float, float]] = []

    def on_train_begin(self, logs=None):
        self.seconds, self.resumed = 0.0, time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds += time.perf_counter() - self.resumed
        self.points.append((self.seconds, self.accuracy()))
        self.resumed = time.perf_counter()

    def accuracy(self) -> float:
        probs = self.model.predict(self.x_test, batch_size=1000, verbose=0)
        if self.flip_tta:
            probs = probs + self.model.predict(self.x_test[:, :, ::-1], batch_size=1000,
                                               verbose=0)
        return float(np.mean(np.argmax(probs, axis=-1) == self.y_test))


def train_peer(train, test, epochs: int, run_eagerly: bool, verbose: int) -> list:
    (x, y), (x_test, y_test) = train, test
    model = peer_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy",
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    curve = AccuracyClock(x_test, y_test)
    model.fit(x, keras.utils.to_categorical(y, CLASSES), batch_size=PEER_BATCH, epochs=epochs,
              validation_split=0.1, callbacks=[curve], verbose=verbose)
    return curve.points


def train_fast(train, test, *, epochs: int, batch_size: int, width: int, max_lr: float,
               run_eagerly: bool, verbose: int) -> list:
    (x, y), (x_test, y_test) = train, test
    n_fit = int(len(x) * 0.9)          # the images the peer fits, without its validation
    x, y = x[:n_fit], y[:n_fit]
    model = fast_model(width)
    steps = epochs * int(np.ceil(n_fit / batch_size))
    schedule = OneCycle(max_lr, steps, warmup=0.25, div_factor=10.0, final_div=1e3)
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["accuracy"], run_eagerly=run_eagerly)
    curve = AccuracyClock(x_test, y_test, flip_tta=True)
    model.fit(x, keras.utils.to_categorical(y, CLASSES), batch_size=batch_size, epochs=epochs,
              shuffle=True, callbacks=[curve], verbose=verbose)
    return curve.points


def first_reach(points, target: float) -> float | None:
    """Training seconds at the first epoch whose test accuracy is at least ``target``."""
    return next((s for s, acc in points if acc >= target), None)


def compare(curves: dict, accuracy_goal: float, budget_s: float = BUDGET_S) -> dict:
    """The figures of issue 13 from the curves (lists of (seconds, accuracy)): ``"peer"``
    and one or more runs of the fast recipe. Each goal is met when some run of the fast
    recipe meets it; ``best_speedup_run`` and ``accuracy_goal_run`` say which."""
    target = curves["peer"][-1][1]
    fast = [name for name in curves if name != "peer"]
    reach = {name: first_reach(points, target) for name, points in curves.items()}
    speedup = {name: (reach["peer"] / reach[name] if reach[name] else None) for name in fast}
    goal_time = {name: first_reach(curves[name], accuracy_goal) for name in fast}
    reached = [name for name in fast if speedup[name] is not None]
    best = max(reached, key=speedup.get) if reached else None
    in_time = [name for name in fast if goal_time[name] is not None]
    first = min(in_time, key=goal_time.get) if in_time else None
    return {
        "target_accuracy": target,
        "final": {name: {"accuracy": p[-1][1], "seconds": p[-1][0]} for name, p in curves.items()},
        "seconds_to_target": reach,
        "speedup": speedup,
        "best_speedup_run": best,
        "accuracy_goal": accuracy_goal,
        "seconds_to_accuracy_goal": goal_time,
        "accuracy_goal_run": first,
        "goals": {
            f"peer's final accuracy >= {SPEEDUP_GOAL:g}x sooner":
                best is not None and speedup[best] >= SPEEDUP_GOAL,
            f"{accuracy_goal:.0%} within {budget_s:.0f} s":
                first is not None and goal_time[first] <= budget_s,
        },
    }
