"""Choosing and shaping the learning rate: a one-cycle schedule and a learning-rate finder.

- :class:`OneCycle` warms the learning rate up to a peak and anneals it far below its start
  (Smith and Topin 2017, "Super-Convergence", arXiv:1708.07120; Smith 2018,
  arXiv:1803.09820). Pass it to an optimizer as its ``learning_rate``.
- :class:`LRFinder` is Smith's "LR range test" (2017, "Cyclical Learning Rates for Training
  Neural Networks", arXiv:1506.01186, section 3.3): train a few batches while the learning
  rate grows exponentially, watch the loss, and leave the model as it was.
  :func:`find_learning_rate` runs it with ``model.fit``.

``plots.plot_schedule`` and ``plots.plot_lr_finder`` draw them. Keras and ``keras.ops`` only:
the same code runs on every backend.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from course_utils.arguments import require


@keras.saving.register_keras_serializable(package="course_utils")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One cycle: up from ``max_lr / div_factor`` to ``max_lr`` over the first ``warmup``
    fraction of ``total_steps``, then down to ``max_lr / final_div`` at ``total_steps``; any
    later step keeps that last value.

    Both halves follow half a cosine by default (``anneal="cos"``, as fastai's
    ``fit_one_cycle`` and PyTorch's ``OneCycleLR`` do: flat near the peak and near the ends);
    ``anneal="linear"`` gives the straight ramps of Smith and Topin's papers. The defaults
    (``warmup=0.25``, ``div_factor=25``, ``final_div=1e5``) are fastai's. Smith (2018) also
    cycles the momentum the other way; this schedule does the learning rate only.

    Args:
        max_lr: the peak learning rate, e.g. from ``find_learning_rate``.
        total_steps: the number of batches the cycle lasts (epochs x steps per epoch).
        warmup: the fraction of ``total_steps`` spent rising, in [0, 1).
        div_factor: the start is ``max_lr / div_factor``.
        final_div: the end is ``max_lr / final_div``.
        anneal: ``"cos"`` or ``"linear"``.
    """

    def __init__(self, max_lr, total_steps, warmup=0.25, div_factor=25.0, final_div=1e5,
                 anneal="cos"):
        who = "OneCycle"
        require(isinstance(max_lr, (int, float)) and max_lr > 0, who, "max_lr",
                "a positive number", max_lr, "a typical peak for Adam is 1e-3, for SGD 0.1.")
        require(isinstance(total_steps, (int, np.integer)) and total_steps >= 1, who,
                "total_steps", "a positive whole number of batches", total_steps,
                "epochs * math.ceil(len(x_train) / batch_size).")
        require(isinstance(warmup, (int, float)) and 0 <= warmup < 1, who, "warmup",
                "a fraction of total_steps in [0, 1)", warmup, "0.25 spends a quarter rising.")
        for name, value in (("div_factor", div_factor), ("final_div", final_div)):
            require(isinstance(value, (int, float)) and value >= 1, who, name,
                    "a number >= 1 (the learning rate is max_lr divided by it)", value,
                    "div_factor=25 and final_div=1e5 are fastai's defaults.")
        require(anneal in ("cos", "linear"), who, "anneal", "'cos' or 'linear'", anneal,
                "'cos' is flat near the peak and the ends; 'linear' is Smith's ramp.")
        self.max_lr, self.total_steps, self.warmup = float(max_lr), int(total_steps), warmup
        self.div_factor, self.final_div, self.anneal = float(div_factor), float(final_div), anneal

    def _from(self, t):  # the weight of the starting value: 1 at t = 0, exactly 0 at t = 1
        return (1 + ops.cos(math.pi * t)) / 2 if self.anneal == "cos" else 1 - t

    def __call__(self, step):
        step = ops.cast(step, "float32")
        top, start = self.max_lr, self.max_lr / self.div_factor
        end = self.max_lr / self.final_div
        rise = self.warmup * self.total_steps
        w_up = self._from(ops.clip(step / max(rise, 1e-12), 0.0, 1.0))
        w_down = self._from(ops.clip((step - rise) / (self.total_steps - rise), 0.0, 1.0))
        # a * w + b * (1 - w) rather than a + (b - a) * (1 - w): exact at both ends in float32
        up = start * w_up + top * (1 - w_up)
        down = top * w_down + end * (1 - w_down)
        return ops.where(step < rise, up, down)

    def get_config(self):
        return {"max_lr": self.max_lr, "total_steps": self.total_steps,
                "warmup": self.warmup, "div_factor": self.div_factor,
                "final_div": self.final_div, "anneal": self.anneal}


class LRFinder(keras.callbacks.Callback):
    """Smith's LR range test as a callback: batch ``i`` of ``steps`` trains at
    ``min_lr * (max_lr / min_lr) ** (i / (steps - 1))``. After each batch it records the
    learning rate (``lrs``), the batch's loss (``losses``) and an exponential moving average
    of the losses with bias correction (``smoothed``, ``beta=0.98``), and stops training after
    ``steps`` batches or once the smoothed loss exceeds ``diverge`` times its lowest value (or
    is not finite). The smoothing and the factor 4 follow S. Gugger, "How Do You Find A Good
    Learning Rate" (2018), the write-up of the test behind fastai's ``lr_find``. When training
    ends it puts back the model's weights, the optimizer's learning rate and its state (step
    count, moments): the finder only looks.

    The per-batch loss is read from the running mean that Keras logs, so the batches of an
    epoch should have the same size (``find_learning_rate`` sees to it).

    Raises:
        ValueError: bad arguments; TypeError when training starts, if the optimizer's
            learning rate is a schedule (the finder must set it batch by batch).
    """

    def __init__(self, min_lr=1e-7, max_lr=10.0, steps=100, beta=0.98, diverge=4.0):
        super().__init__()
        who = "LRFinder"
        require(isinstance(min_lr, (int, float)) and min_lr > 0, who, "min_lr",
                "a positive number", min_lr, "1e-7 starts well below any useful rate.")
        require(isinstance(max_lr, (int, float)) and max_lr > min_lr, who, "max_lr",
                f"a number above min_lr={min_lr!r}", max_lr, "10 is far enough to diverge.")
        require(isinstance(steps, (int, np.integer)) and steps >= 2, who, "steps",
                "a whole number of batches >= 2", steps, "100 batches are usually enough.")
        require(isinstance(beta, (int, float)) and 0 <= beta < 1, who, "beta",
                "a smoothing factor in [0, 1)", beta, "0.98 averages about 50 batches.")
        require(isinstance(diverge, (int, float)) and diverge > 1, who, "diverge",
                "a factor > 1", diverge, "4 stops once the loss is 4 times its best.")
        self.min_lr, self.max_lr, self.steps = float(min_lr), float(max_lr), int(steps)
        self.beta, self.diverge = float(beta), float(diverge)
        self.lrs, self.losses, self.smoothed = [], [], []

    def _lr(self, i):
        return self.min_lr * (self.max_lr / self.min_lr) ** (i / (self.steps - 1))

    def on_train_begin(self, logs=None):
        model, optimizer = self.model, self.model.optimizer
        if not isinstance(optimizer.learning_rate, keras.Variable):
            raise TypeError(
                "LRFinder: the optimizer's learning rate should be a number (a variable the "
                "finder can set); got a schedule. Hint: compile with e.g. "
                "keras.optimizers.SGD(learning_rate=0.01) for the search, and recompile with "
                "the schedule afterwards.")
        if not optimizer.built:
            optimizer.build(model.trainable_variables)
        self._saved = ([ops.convert_to_numpy(v) for v in model.weights],
                       [ops.convert_to_numpy(v) for v in optimizer.variables])
        self.lrs, self.losses, self.smoothed = [], [], []
        self._average = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._seen, self._mean = 0, 0.0  # Keras resets its running mean every epoch

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate = self._lr(len(self.lrs))

    def on_train_batch_end(self, batch, logs=None):
        seen, mean = batch + 1, float(logs["loss"])  # the mean loss of the epoch so far
        loss = (seen * mean - self._seen * self._mean) / (seen - self._seen)
        self._seen, self._mean = seen, mean
        self.lrs.append(self._lr(len(self.lrs)))
        self.losses.append(loss)
        self._average = self.beta * self._average + (1 - self.beta) * loss
        self.smoothed.append(self._average / (1 - self.beta ** len(self.lrs)))
        if (len(self.lrs) >= self.steps or not math.isfinite(self.smoothed[-1])
                or self.smoothed[-1] > self.diverge * min(self.smoothed)):
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        weights, state = self._saved
        for variable, value in zip(self.model.weights, weights, strict=True):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, state, strict=True):
            variable.assign(value)

    @property
    def diverged(self):
        """Whether the search stopped because the loss blew up, before ``steps`` batches."""
        return 0 < len(self.lrs) < self.steps

    def suggestion(self):
        """A learning rate to train at: a tenth of the rate at the lowest smoothed loss.

        The rule of Gugger's write-up and of fastai's ``lr_find`` ("lr_min"): at the minimum
        the loss is already at the edge of blowing up; one order of magnitude lower is still
        on the falling part of the curve, where Smith (2017, section 3.3) reads the useful
        range. It is never below ``min_lr``. (The other common rule, the steepest fall of
        the curve, is noisier on a short search.)
        """
        smoothed = np.array(self.smoothed, dtype=float)
        if np.isfinite(smoothed).sum() < 3:
            raise RuntimeError(
                "LRFinder.suggestion: fewer than 3 batches were recorded. Hint: run the "
                "finder first, e.g. find_learning_rate(model, x, y), with enough data.")
        best = int(np.nanargmin(np.where(np.isfinite(smoothed), smoothed, np.nan)))
        return max(self.lrs[best] / 10, self.min_lr)


def find_learning_rate(model, x, y, *, min_lr=1e-7, max_lr=10.0, steps=100, batch_size=32,
                       seed=0, **finder_args):
    """Run :class:`LRFinder` on a compiled ``model`` with ``model.fit`` and return it (read
    ``finder.suggestion()``, draw ``plots.plot_lr_finder(finder)``). The model comes back
    unchanged. ``steps`` full batches are drawn from ``x``, ``y`` (shuffled with ``seed``;
    repeated if there are too few examples)."""
    x, y = np.asarray(x), np.asarray(y)
    who = "find_learning_rate"
    require(len(y) == len(x), who, "y", f"as many labels as inputs ({len(x)})", len(y),
            "pass the training inputs and their labels, in the same order.")
    require(isinstance(batch_size, (int, np.integer)) and 1 <= batch_size <= len(x), who,
            "batch_size", f"a whole number from 1 to len(x) = {len(x)}", batch_size,
            "32 is typical; a search on very few examples says little.")
    finder = LRFinder(min_lr=min_lr, max_lr=max_lr, steps=steps, **finder_args)
    rng = np.random.default_rng(seed)
    needed = steps * batch_size
    order = np.concatenate([rng.permutation(len(x)) for _ in range(-(-needed // len(x)))])
    model.fit(x[order[:needed]], y[order[:needed]], batch_size=batch_size, epochs=1,
              shuffle=False, verbose=0, callbacks=[finder])
    return finder
