"""Losses Keras lacks: NT-Xent, the contrastive loss of SimCLR.

NT-Xent (normalised temperature-scaled cross-entropy; Chen, Kornblith, Norouzi and Hinton,
"A Simple Framework for Contrastive Learning of Visual Representations", 2020,
arXiv:2002.05709, section 2.1, equation 1). Two augmented views of each of ``N`` images
give ``2N`` projections ``z``; for the anchor ``i`` whose other view is ``j``::

    l(i, j) = -log( exp(sim(z_i, z_j) / t) / sum_{k != i} exp(sim(z_i, z_k) / t) )

with ``sim`` the cosine similarity and ``t`` the temperature; the loss is the mean of
``l`` over all ``2N`` anchors (each view is the anchor once). Written with ``keras.ops``
only, so it runs and differentiates on every backend.
"""

from __future__ import annotations

import keras
from keras import ops

_MASKED = -1e9  # a logit that exp() turns into 0, finite in float32


def nt_xent(z_a, z_b, temperature: float = 0.5):
    """The NT-Xent loss of two batches of projections; row ``i`` of ``z_a`` and row ``i``
    of ``z_b`` are the two views of one image.

    Every row is scaled to unit length (cosine similarity), the ``2N x 2N`` similarities
    divided by the temperature are the logits, each anchor's similarity with itself is
    masked out, and the cross-entropy towards the anchor's other view is averaged over the
    ``2N`` anchors. It is computed in float32 (mixed precision would overflow the mask).

    Args:
        z_a: ``(N, d)`` projections of the first views.
        z_b: ``(N, d)`` projections of the second views, in the same order.
        temperature: ``t`` in equation 1, > 0; SimCLR uses 0.1 to 1 (0.5 for CIFAR-10).

    Returns:
        A scalar tensor.

    Raises:
        ValueError: a temperature that is not positive, or batches of different shapes.
    """
    if not temperature > 0:
        raise ValueError(
            f"nt_xent: the temperature must be > 0; got {temperature!r}. Hint: SimCLR uses "
            "values between 0.1 and 1.")
    if tuple(z_a.shape) != tuple(z_b.shape) or len(z_a.shape) != 2:
        raise ValueError(
            f"nt_xent: needs two (N, d) batches of the same shape; got {tuple(z_a.shape)} and "
            f"{tuple(z_b.shape)}. Hint: row i of each batch is one view of image i.")
    z = ops.concatenate([ops.cast(z_a, "float32"), ops.cast(z_b, "float32")], axis=0)
    z = z / ops.sqrt(ops.maximum(ops.sum(z * z, axis=1, keepdims=True), 1e-12))
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    n2 = ops.shape(logits)[0]
    logits = ops.where(ops.eye(n2, dtype="bool"), _MASKED, logits)
    n = n2 // 2
    # The positive of anchor i is i + N in the first half and i - N in the second: the
    # same cosine for both, so the mean positive logit is that of the first half.
    positive = ops.sum(z[:n] * z[n:], axis=1) / temperature
    return ops.mean(ops.logsumexp(logits, axis=1)) - ops.mean(positive)


@keras.saving.register_keras_serializable(package="course_utils")
class NTXent(keras.losses.Loss):
    """:func:`nt_xent` as a Keras loss for ``model.fit``: the model's output holds the two
    views side by side, ``concatenate([z_a, z_b], axis=-1)`` of shape ``(N, 2d)``; the
    labels are ignored (pass zeros).

    Args:
        temperature: as in :func:`nt_xent`.
    """

    def __init__(self, temperature: float = 0.5, name: str = "nt_xent", **kwargs):
        super().__init__(name=name, **kwargs)
        self.temperature = temperature

    def call(self, y_true, y_pred):
        d = y_pred.shape[-1] // 2
        return nt_xent(y_pred[:, :d], y_pred[:, d:], self.temperature)

    def get_config(self):
        return {**super().get_config(), "temperature": self.temperature}
