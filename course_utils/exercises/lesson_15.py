"""Lesson 15 (regularisation): answers computed with the course's code."""

from __future__ import annotations

from course_utils.exercises import answer


def _dense_params(inputs, units):
    import keras

    dense = keras.layers.Dense(units)
    dense(keras.Input((inputs,)))
    return int(dense.count_params())


def _window():
    """One 2x2 window holding 1, 2, 3 and 4: shape (1, 2, 2, 1)."""
    import numpy as np

    return np.array([[1.0, 2.0], [3.0, 4.0]], "float32").reshape(1, 2, 2, 1)


@answer("15.dense_head_params", rtol=0.0, hint="the second pooling leaves 7 x 7 x 32 numbers; "
        "each meets all 64 units, plus one bias per unit")
def _dense_head_params():
    return _dense_params(7 * 7 * 32, 64)


@answer("15.gap_head_params", rtol=0.0, hint="global average pooling leaves one number per "
        "channel (32); each meets all 10 classes, plus one bias per class")
def _gap_head_params():
    return _dense_params(32, 10)


@answer("15.l2_penalty", rtol=1e-4, hint="Keras's L2(l2) adds l2 times the sum of the squared "
        "weights (no factor 1/2): 144 weights of 0.1 each")
def _l2_penalty():
    import keras
    import numpy as np

    kernel = np.full((3, 3, 1, 16), 0.1, "float32")
    return float(keras.ops.convert_to_numpy(keras.regularizers.L2(1e-3)(kernel)))


@answer("15.stochastic_pool_inference", rtol=1e-5, hint="at inference the window gives "
        "sum(a_i * p_i) with p_i = a_i / sum(a): (1 + 4 + 9 + 16) / 10")
def _stochastic_pool_inference():
    import keras

    from course_utils.layers import StochasticPooling2D

    out = StochasticPooling2D(2)(_window(), training=False)
    return float(keras.ops.convert_to_numpy(out).ravel()[0])


@answer("15.stochastic_pool_pick_max", rtol=0.1, hint="in training each activation is picked "
        "with probability a_i / sum(a); the window sums to 10")
def _stochastic_pool_pick_max():
    import keras
    import numpy as np

    from course_utils.layers import StochasticPooling2D

    windows = np.repeat(_window(), 4000, axis=0)
    picks = keras.ops.convert_to_numpy(StochasticPooling2D(2, seed=0)(windows, training=True))
    return float(np.mean(picks == 4.0))


def _ntxent_softmax_row(batch=256):
    """The views of one anchor's softmax in NT-Xent for ``batch`` images, as booleans: every
    view but the anchor itself; ``positive`` marks its partner. Anchor 0, partner ``batch``."""
    import numpy as np

    views = np.arange(2 * batch)
    candidates = views != 0
    positive = views == batch
    return candidates, positive


@answer("15.ntxent_candidates", rtol=0.0, hint="each image gives two views; the softmax ranges "
        "over every view except the anchor itself")
def _ntxent_candidates():
    candidates, _ = _ntxent_softmax_row()
    return int(candidates.sum())


@answer("15.ntxent_negatives", rtol=0.0, hint="of the views the softmax ranges over, exactly "
        "one is the anchor's partner; all the others are negatives")
def _ntxent_negatives():
    candidates, positive = _ntxent_softmax_row()
    return int((candidates & ~positive).sum())
