"""Layers the classic networks used that Keras no longer ships, and the training-practice
layers of the training-practice lesson (PCA colour augmentation, DropConnect, stochastic pooling)."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from course_utils.arguments import positive_pair


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


def _seed_generator(layer, seed):
    """Keras's pattern (``keras.layers.Dropout``): the layer owns a SeedGenerator, so the same
    seed gives the same draws and every call moves the generator on."""
    layer.seed = seed
    layer.seed_generator = keras.random.SeedGenerator(seed)


def _rate(layer_name, rate):
    if not isinstance(rate, (int, float)) or isinstance(rate, bool) or not 0 <= rate < 1:
        raise ValueError(
            f"{layer_name}: rate is the probability of dropping each weight, so it lies in "
            f"[0, 1); got rate={rate!r}. Hint: DropConnect's paper uses rate=0.5; 50% is 0.5.")
    return float(rate)


@keras.saving.register_keras_serializable(package="course_utils")
class PCAColorAugmentation(keras.layers.Layer):
    """AlexNet's colour augmentation, "altering the intensities of the RGB channels"
    (Krizhevsky et al. 2012, section 4.1).

    Principal component analysis of the RGB values of every pixel in the training set gives
    the eigenvectors ``p_i`` and eigenvalues ``lambda_i`` of their 3x3 covariance. In training,
    each image gets one colour shift, added to every pixel:

    ``shift = [p1, p2, p3] @ (alpha * lambda ** eigenvalue_power)``, ``alpha_i ~ N(0, std)``

    with ``alpha`` drawn afresh for every image on every call (every pass). In inference
    (``training=False``) the layer is the identity.

    On the scale: the paper writes ``alpha_i * lambda_i``, but ``lambda_i`` is a variance (the
    pixel values' unit squared), so the shift would depend on whether pixels run 0-1 or 0-255.
    The default ``eigenvalue_power=0.5`` uses ``sqrt(lambda_i)``, the standard deviation of the
    pixels along ``p_i``: the shift along ``p_i`` then has standard deviation
    ``std * sqrt(lambda_i)`` in the pixels' own unit, whatever their range.
    ``eigenvalue_power=1`` is the formula as printed (fb.resnet.torch's "Lighting" uses it on
    pixels in [0, 1]).

    The eigen-decomposition comes from data: call ``adapt(images)`` on the training images
    (like ``keras.layers.Normalization``), or pass ``eigenvalues`` and ``eigenvectors``.
    Channels last; the last axis must have 3 channels (RGB); the first is the batch.

    Args:
        std: standard deviation of the ``alpha_i``; the paper's 0.1 is the default.
        eigenvalues: 3 eigenvalues of the RGB covariance (non-negative), or ``None`` to
            ``adapt`` later.
        eigenvectors: 3x3 matrix whose *columns* are the eigenvectors (``numpy.linalg.eigh``'s
            layout), or ``None`` to ``adapt`` later.
        eigenvalue_power: the shift scales ``alpha_i`` by ``lambda_i ** eigenvalue_power``
            (0.5, the default, is unit-consistent; 1 is the paper as printed).
        seed: integer seed for the ``alpha`` draws (``keras.random.SeedGenerator``).
    """

    def __init__(self, std=0.1, eigenvalues=None, eigenvectors=None, eigenvalue_power=0.5,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(std, (int, float)) or isinstance(std, bool) or std < 0:
            raise ValueError(
                f"PCAColorAugmentation: std is the standard deviation of alpha, so it is a "
                f"number >= 0; got std={std!r}. Hint: the paper uses std=0.1.")
        if (eigenvalues is None) != (eigenvectors is None):
            raise ValueError(
                "PCAColorAugmentation: eigenvalues and eigenvectors come together; got "
                f"eigenvalues={'None' if eigenvalues is None else 'given'}, "
                f"eigenvectors={'None' if eigenvectors is None else 'given'}. Hint: pass both "
                "(from numpy.linalg.eigh of the RGB covariance), or neither and call adapt().")
        self.std = float(std)
        self.eigenvalue_power = float(eigenvalue_power)
        self._eigenvalues = self._eigenvectors = None
        if eigenvalues is not None:
            self._set_decomposition(eigenvalues, eigenvectors)
        _seed_generator(self, seed)
        self.supports_masking = True

    def _set_decomposition(self, eigenvalues, eigenvectors):
        values = np.asarray(eigenvalues, dtype="float64")
        vectors = np.asarray(eigenvectors, dtype="float64")
        if values.shape != (3,) or vectors.shape != (3, 3):
            raise ValueError(
                "PCAColorAugmentation: the colour PCA of RGB pixels has 3 eigenvalues and a 3x3 "
                f"matrix of eigenvectors; got eigenvalues of shape {values.shape} and "
                f"eigenvectors of shape {vectors.shape}. Hint: numpy.linalg.eigh(cov) of the "
                "3x3 covariance returns both, eigenvectors as columns.")
        if (values < 0).any():
            raise ValueError(
                "PCAColorAugmentation: eigenvalues of a covariance matrix are >= 0; got "
                f"eigenvalues={values.tolist()}. Hint: pass the eigenvalues, not their logs; "
                "round-off negatives from eigh can be clipped at 0.")
        self._eigenvalues, self._eigenvectors = values, vectors

    @property
    def eigenvalues(self):
        return self._eigenvalues

    @property
    def eigenvectors(self):
        return self._eigenvectors

    def adapt(self, images):
        """Compute the eigen-decomposition of the RGB covariance of every pixel in ``images``:
        one array of shape (..., 3), or an iterable of such batches (e.g. a ``tf.data``
        dataset; from ``(images, labels)`` pairs the images are used). Returns ``self``."""
        batches = [images] if hasattr(images, "shape") else images
        count, total, outer = 0, np.zeros(3), np.zeros((3, 3))
        for batch in batches:
            if isinstance(batch, (tuple, list)):
                batch = batch[0]
            pixels = np.asarray(ops.convert_to_numpy(batch), dtype="float64")
            self._check_channels(pixels.shape, "adapt(images)")
            pixels = pixels.reshape(-1, 3)
            count += len(pixels)
            total += pixels.sum(axis=0)
            outer += pixels.T @ pixels
        if count < 2:
            raise ValueError(
                f"PCAColorAugmentation.adapt: a covariance needs at least 2 pixels; got {count}. "
                "Hint: pass the training images, shape (N, H, W, 3).")
        mean = total / count
        covariance = (outer - count * np.outer(mean, mean)) / (count - 1)
        values, vectors = np.linalg.eigh(covariance)
        self._set_decomposition(np.clip(values, 0, None), vectors)
        return self

    @staticmethod
    def _check_channels(shape, where):
        if len(shape) < 2 or shape[-1] != 3:
            raise ValueError(
                f"PCAColorAugmentation: {where} must be RGB, channels last, with a batch axis: "
                f"shape (batch, ..., 3); got shape {tuple(shape)}. Hint: grey images have 1 "
                "channel, and channels-first images need moving the channels to the end.")

    def build(self, input_shape):
        self._check_channels(input_shape, "the input")

    def call(self, inputs, training=False):
        inputs = ops.cast(inputs, self.compute_dtype)  # uint8 images too
        if not training or self.std == 0:
            return inputs
        if self._eigenvalues is None:
            raise ValueError(
                "PCAColorAugmentation: training needs the colour PCA of the training set; got "
                "neither adapt() nor eigenvalues/eigenvectors. Hint: call "
                "layer.adapt(train_images) before fitting.")
        dtype = self.compute_dtype
        scale = ops.convert_to_tensor(self._eigenvalues ** self.eigenvalue_power, dtype=dtype)
        vectors = ops.convert_to_tensor(self._eigenvectors, dtype=dtype)
        batch = ops.shape(inputs)[0]
        alpha = keras.random.normal((batch, 3), stddev=self.std, dtype=dtype,
                                    seed=self.seed_generator)
        shift = ops.matmul(alpha * scale, ops.transpose(vectors))  # (batch, 3): P @ (a*l)
        shift = ops.reshape(shift, [batch] + [1] * (len(inputs.shape) - 2) + [3])
        return inputs + ops.cast(shift, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        known = self._eigenvalues is not None
        return {**super().get_config(), "std": self.std,
                "eigenvalues": self._eigenvalues.tolist() if known else None,
                "eigenvectors": self._eigenvectors.tolist() if known else None,
                "eigenvalue_power": self.eigenvalue_power, "seed": self.seed}


@keras.saving.register_keras_serializable(package="course_utils")
class DropConnect(keras.layers.Dense):
    """A dense layer with DropConnect (Wan et al., ICML 2013, "Regularization of Neural
    Networks using DropConnect", section 2): in training each *weight* of the kernel, rather
    than each activation, is set to zero with probability ``rate``.

    Mask: one fresh mask per call, shared by every example of the batch (per batch). The
    paper draws a mask per example; per batch is the cheap, common choice (one kernel-sized
    mask instead of one per example) and still regularises, since every step sees new masks.
    The bias is not dropped.

    Inference: the kept weights are scaled by ``1 / (1 - rate)`` in training, so inference
    uses the plain weights (the mean network, as in dropout). The paper's inference instead
    moment-matches a Gaussian over the pre-activations and samples from it (section 3); the
    course uses the simpler mean-weight inference, as most implementations do.

    Args:
        units: output size, as for ``keras.layers.Dense``.
        activation: as for ``keras.layers.Dense``.
        rate: probability of dropping each weight, in [0, 1); 0.5 in the paper.
        seed: integer seed for the masks (``keras.random.SeedGenerator``).
        **kwargs: the rest of ``keras.layers.Dense``'s arguments (initialisers, regularisers,
            ``use_bias``, ``dtype``...).
    """

    def __init__(self, units, activation=None, rate=0.5, seed=None, **kwargs):
        self.rate = _rate("DropConnect", rate)
        super().__init__(units, activation=activation, **kwargs)
        _seed_generator(self, seed)

    def call(self, inputs, training=None):
        kernel = ops.cast(self.kernel, self.compute_dtype)
        if training and self.rate > 0:
            keep = keras.random.uniform(ops.shape(kernel), seed=self.seed_generator) >= self.rate
            kernel = ops.where(keep, kernel / (1 - self.rate), ops.zeros_like(kernel))
        x = ops.matmul(inputs, kernel)
        if self.bias is not None:
            x = ops.add(x, ops.cast(self.bias, self.compute_dtype))
        if self.activation is not None:
            x = self.activation(x)
        return x

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


@keras.saving.register_keras_serializable(package="course_utils")
class StochasticPooling2D(keras.layers.Layer):
    """Stochastic pooling (Zeiler and Fergus, ICLR 2013, arXiv:1301.3557, section 3).

    Within each pooling window the activations ``a_i`` give probabilities
    ``p_i = a_i / sum(a)``. Training: the output is one activation of the window, picked
    with probability ``p_i`` (a fresh pick per window, channel and example on every call).
    Inference: the probability-weighted average ``sum(a_i * p_i)`` (section 3.1).

    The activations must be non-negative (the layer is meant to follow a ReLU); negative
    values are treated as zero. A window of all zeros outputs 0, in training and inference.
    The draw is made in float32 (a cumulative sum in bfloat16 is too coarse); the output is
    the picked activation itself, in the layer's compute dtype.

    Only non-overlapping windows (``strides == pool_size``, the paper's setting) and
    ``padding="valid"`` (rows and columns left over at the edge are dropped) are supported;
    anything else raises ``ValueError``. Channels last.

    Args:
        pool_size: window size, an integer or a pair (rows, columns); default 2.
        strides: ``None`` (the default, meaning ``pool_size``) or equal to ``pool_size``.
        padding: ``"valid"`` only.
        seed: integer seed for the picks (``keras.random.SeedGenerator``).
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", seed=None, **kwargs):
        super().__init__(**kwargs)
        name = "StochasticPooling2D"
        self.pool_size = positive_pair(name, "pool_size", pool_size)
        self.strides = (self.pool_size if strides is None
                        else positive_pair(name, "strides", strides))
        if self.strides != self.pool_size:
            raise ValueError(
                f"{name}: strides must equal pool_size (non-overlapping windows, the only case "
                f"implemented); got pool_size={self.pool_size}, strides={self.strides}. "
                "Hint: leave strides=None.")
        if padding != "valid":
            raise ValueError(
                f"{name}: padding must be 'valid' (the only case implemented); got "
                f"padding={padding!r}. Hint: crop or pad the input yourself, e.g. with "
                "keras.layers.ZeroPadding2D.")
        self.padding = padding
        _seed_generator(self, seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                "StochasticPooling2D: the input must be a batch of images, channels last: "
                f"shape (batch, rows, columns, channels); got shape {tuple(input_shape)}. "
                "Hint: add a channel axis to grey images.")

    def _windows(self, inputs):
        """(batch, out_rows, out_cols, channels, ph * pw): one window per row of the last axis."""
        (ph, pw), (batch, h, w, c) = self.pool_size, ops.shape(inputs)
        rows, cols = h // ph, w // pw
        x = inputs[:, :rows * ph, :cols * pw, :]
        x = ops.reshape(x, (batch, rows, ph, cols, pw, c))
        x = ops.transpose(x, (0, 1, 3, 5, 2, 4))
        return ops.reshape(x, (batch, rows, cols, c, ph * pw))

    def call(self, inputs, training=False):
        windows = ops.relu(self._windows(inputs))
        if not training:
            total = ops.sum(windows, axis=-1)
            safe = ops.where(total > 0, total, ops.ones_like(total))
            return ops.where(total > 0, ops.sum(windows * windows, axis=-1) / safe,
                             ops.zeros_like(total))
        a = ops.cast(windows, "float32")
        upper = ops.cumsum(a, axis=-1)  # window i covers [upper - a_i, upper) of [0, total)
        u = keras.random.uniform(ops.shape(upper)[:-1], seed=self.seed_generator)
        u = ops.expand_dims(u * upper[..., -1], -1)
        picked = ops.logical_and(upper - a <= u, u < upper)  # exactly one, or none if all zero
        picked = ops.stop_gradient(ops.cast(picked, windows.dtype))
        return ops.sum(picked * windows, axis=-1)

    def compute_output_shape(self, input_shape):
        (ph, pw), (b, h, w, c) = self.pool_size, input_shape
        return (b, None if h is None else h // ph, None if w is None else w // pw, c)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding, "seed": self.seed}
