"""NT-Xent (course_utils.losses) against equation 1 of SimCLR written out in NumPy, and the
properties a contrastive loss must have."""

import keras
import numpy as np
import pytest
from keras import ops

from course_utils.losses import NTXent, nt_xent


def reference(z_a, z_b, t):
    """Equation 1 of arXiv:2002.05709, one anchor at a time, averaged over the 2N anchors."""
    z = np.concatenate([z_a, z_b]).astype("float64")
    n2, n = len(z), len(z_a)

    def sim(u, v):
        return u @ v / (np.linalg.norm(u) * np.linalg.norm(v))

    total = 0.0
    for i in range(n2):
        j = (i + n) % n2
        denominator = sum(np.exp(sim(z[i], z[k]) / t) for k in range(n2) if k != i)
        total += -np.log(np.exp(sim(z[i], z[j]) / t) / denominator)
    return total / n2


def value(z_a, z_b, t=0.5):
    return float(ops.convert_to_numpy(nt_xent(ops.convert_to_tensor(z_a),
                                              ops.convert_to_tensor(z_b), t)))


@pytest.mark.parametrize("t", [0.1, 0.5, 1.0, 2.0])
def test_equals_equation_1_on_random_inputs(t):
    rng = np.random.default_rng(int(t * 10))
    z_a, z_b = rng.normal(size=(2, 6, 5)).astype("float32")
    assert value(z_a, z_b, t) == pytest.approx(reference(z_a, z_b, t), rel=1e-4, abs=1e-4)


def test_identical_views_give_a_lower_loss_than_random_ones():
    rng = np.random.default_rng(1)
    z_a, z_b = rng.normal(size=(2, 16, 8)).astype("float32")
    assert value(z_a, z_a) < value(z_a, z_b) - 0.5


def test_symmetric_in_the_two_views_and_scale_invariant_per_row():
    rng = np.random.default_rng(2)
    z_a, z_b = rng.normal(size=(2, 8, 4)).astype("float32")
    scales = rng.uniform(0.1, 10, size=(8, 1)).astype("float32")
    assert value(z_b, z_a) == pytest.approx(value(z_a, z_b), rel=1e-5)
    assert value(z_a * scales, z_b / scales) == pytest.approx(value(z_a, z_b), rel=1e-4)


def test_rejects_a_bad_temperature_and_mismatched_batches():
    z = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match="temperature"):
        nt_xent(z, z, 0.0)
    with pytest.raises(ValueError, match="same shape"):
        nt_xent(z, np.ones((5, 3), "float32"))


def test_one_training_step_of_a_tiny_encoder_lowers_it():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(16, 6)).astype("float32")
    view_a = x + 0.3 * rng.normal(size=x.shape).astype("float32")
    view_b = x + 0.3 * rng.normal(size=x.shape).astype("float32")
    encoder = keras.Sequential([keras.Input((6,)), keras.layers.Dense(8)])
    pair_a, pair_b = keras.Input((6,)), keras.Input((6,))
    both = keras.layers.Concatenate()([encoder(pair_a), encoder(pair_b)])
    model = keras.Model([pair_a, pair_b], both)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=NTXent(temperature=0.5))

    def loss():
        out = model.predict([view_a, view_b], verbose=0)
        return value(out[:, :8], out[:, 8:])

    before = loss()
    model.fit([view_a, view_b], np.zeros((16, 1)), batch_size=16, epochs=1, verbose=0)
    assert loss() < before - 1e-3
