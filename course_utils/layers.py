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


@keras.saving.register_keras_serializable(package="course_utils")
class ScratchBatchNorm(keras.layers.Layer):
    """Batch normalisation written out (Ioffe and Szegedy 2015, Algorithm 1), to set beside
    ``keras.layers.BatchNormalization``: same defaults, same weights in the same order
    (gamma, beta, moving mean, moving variance), same results.

    Training: normalise with the batch's mean and (biased) variance over every axis but the
    last, and move the running statistics towards them by ``1 - momentum``. Inference:
    normalise with the running statistics. Then scale by gamma and shift by beta.
    """

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.gamma = self.add_weight(shape=channels, initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=channels, initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=channels, initializer="zeros",
                                           trainable=False, name="moving_mean")
        self.moving_variance = self.add_weight(shape=channels, initializer="ones",
                                               trainable=False, name="moving_variance")

    def call(self, inputs, training=False):
        if training:
            axes = list(range(len(inputs.shape) - 1))
            mean = ops.mean(inputs, axis=axes)
            variance = ops.var(inputs, axis=axes)
            m = self.momentum
            self.moving_mean.assign(m * self.moving_mean + (1 - m) * mean)
            self.moving_variance.assign(m * self.moving_variance + (1 - m) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        normalized = (inputs - mean) / ops.sqrt(variance + self.epsilon)
        return self.gamma * normalized + self.beta

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "epsilon": self.epsilon}
