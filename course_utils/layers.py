"""Layers the classic networks used that Keras no longer ships."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="course_utils")
class LocalResponseNormalization(keras.layers.Layer):
    """Local response normalisation across channels (Krizhevsky et al. 2012, section 3.3):

    ``b[c] = a[c] / (bias + alpha * sum(a[c']**2 for c' within depth_radius of c)) ** beta``

    AlexNet's values are the defaults: a window of 5 channels (``depth_radius=2``), bias 2,
    alpha 1e-4, beta 0.75. Channels last; no weights to learn.
    """

    def __init__(self, depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius, self.bias, self.alpha, self.beta = depth_radius, bias, alpha, beta

    def call(self, inputs):
        squares = ops.square(inputs)
        r = self.depth_radius
        padded = ops.pad(squares, [[0, 0]] * (len(inputs.shape) - 1) + [[r, r]])
        channels = inputs.shape[-1]
        window = sum(padded[..., i:i + channels] for i in range(2 * r + 1))
        return inputs / ops.power(self.bias + self.alpha * window, self.beta)

    def compute_output_shape(self, input_shape):
        return input_shape

    def count_macs(self, input_shapes, output_shapes):
        """Per element: the window's squares and sum, then one scale: window + 1."""
        return math.prod(output_shapes[0]) * (2 * self.depth_radius + 2)

    def get_config(self):
        return {**super().get_config(), "depth_radius": self.depth_radius, "bias": self.bias,
                "alpha": self.alpha, "beta": self.beta}
