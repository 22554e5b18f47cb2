"""Loss landscapes: the loss along a line and over a plane through a trained network's
weights (Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of Neural
Nets", NeurIPS 2018).

A network has millions of weights, so we look at a slice: pick one or two directions
``d1, d2`` in weight space and evaluate

    ``L(alpha)        = loss(w + alpha * d1)``               (``loss_line``)
    ``L(alpha, beta)  = loss(w + alpha * d1 + beta * d2)``   (``loss_surface``)

on a grid of ``alpha`` and ``beta``. A plain Gaussian direction makes the picture depend on
the scale of the weights: a network with batch norm can multiply a layer's weights by 10
without changing what it computes, and then the same step looks ten times smaller. The
paper's fix is *filter normalisation*: draw ``d`` from a Gaussian, then rescale each
filter of ``d`` to the norm of the matching filter of ``w``,

    ``d[filter] <- d[filter] / ||d[filter]|| * ||w[filter]||``,

so that a step of ``alpha = 1`` moves every filter by as much as its own size, whatever
the network. Which weights move, as in the paper's figures (their ``ignore='biasbn'``
setting):

- every *trainable* kernel of two or more axes (convolutions, dense layers): a filter is
  one output channel, the last axis of a Keras kernel (``(k_h, k_w, C_in, C_out)`` for a
  convolution, ``(n_in, n_out)`` for a dense layer); a depthwise kernel
  ``(k_h, k_w, C, multiplier)`` has ``C * multiplier`` filters of ``k_h x k_w`` each;
- biases and batch-norm scales and shifts (every weight of one axis or none) get a zero
  direction: they stay where training left them;
- non-trainable weights (batch norm's moving mean and variance) are never touched, and
  the network is evaluated in inference mode, so batch norm uses its moving statistics.

In a space of many thousand dimensions two random directions are almost orthogonal, so the
paper does not orthogonalise them and neither do we.

Every evaluation puts the original weights back afterwards, even when something fails
halfway, so a trained model can be explored and then used as before.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BATCH_SIZE = 256


# --------------------------------------------------------------------------- directions


def _variable_label(variable) -> str:
    return getattr(variable, "path", None) or getattr(variable, "name", "?")


def _to_numpy(variable) -> np.ndarray:
    """A fresh NumPy copy of a variable's value."""
    import keras

    return np.array(keras.ops.convert_to_numpy(variable.value), copy=True)


def _sublayers(layer):
    """``layer`` and every layer nested inside it (models in models), depth first."""
    yield layer
    for inner in getattr(layer, "layers", None) or ():
        yield from _sublayers(inner)


def _depthwise_kernels(model) -> set:
    """ids of the depthwise kernels, whose filters span the last *two* axes."""
    import keras

    L = keras.layers
    found = set()
    for layer in _sublayers(model):
        if isinstance(layer, (L.DepthwiseConv1D, L.DepthwiseConv2D)):
            found.add(id(layer.kernel))
        elif isinstance(layer, (L.SeparableConv1D, L.SeparableConv2D)):
            found.add(id(layer.depthwise_kernel))
    return found


def _filter_normalised(d: np.ndarray, w: np.ndarray, filter_axes: int) -> np.ndarray:
    """``d`` with each filter rescaled to the norm of the same filter of ``w``.

    A filter is one index along the last ``filter_axes`` axes; its norm is taken over all
    the other axes (the Frobenius norm of that slice).
    """
    n_filters = int(np.prod(w.shape[-filter_axes:]))
    d_filters = d.reshape(-1, n_filters)
    w_filters = w.reshape(-1, n_filters)
    scale = np.linalg.norm(w_filters, axis=0) / (np.linalg.norm(d_filters, axis=0) + 1e-10)
    return (d_filters * scale).reshape(w.shape).astype(w.dtype)


def random_direction(model, seed: int = 0) -> list[np.ndarray]:
    """A filter-normalised random direction in the weight space of ``model``.

    Returns one array per weight in ``model.trainable_weights``, same shapes, same order:
    a Gaussian direction rescaled filter by filter to the norms of the model's filters,
    and zeros for every weight of one axis or none (biases, batch-norm gamma and beta).
    The module docstring says why. Use two seeds for the two axes of a surface.
    """
    rng = np.random.default_rng(seed)
    depthwise = _depthwise_kernels(model)
    direction = []
    for variable in model.trainable_weights:
        w = _to_numpy(variable)
        if w.ndim <= 1:
            direction.append(np.zeros_like(w))
            continue
        d = rng.standard_normal(w.shape)
        filter_axes = 2 if id(variable) in depthwise else 1
        direction.append(_filter_normalised(d, w, filter_axes))
    return direction


def direction_towards(model, target) -> list[np.ndarray]:
    """``target - model`` for every trainable weight: the direction of a straight line from
    ``model`` (``alpha = 0``) to ``target`` (``alpha = 1``).

    ``target`` is a model of the same architecture (its trainable weights are read) or a
    list of arrays shaped like ``model.trainable_weights``. With ``loss_line`` and
    ``alphas = np.linspace(-0.5, 1.5, 21)`` this is the linear interpolation of Goodfellow,
    Vinyals and Saxe (ICLR 2015), e.g. from the initial to the trained weights. Only the
    trainable weights move: along the line, batch norm keeps ``model``'s moving statistics.
    """
    if hasattr(target, "trainable_weights"):
        target = [_to_numpy(v) for v in target.trainable_weights]
    target = _check_direction(model, target, "target")
    return [t - _to_numpy(v) for t, v in zip(target, model.trainable_weights)]


# --------------------------------------------------------------------------- checks


def _check_direction(model, direction, name="direction") -> list[np.ndarray]:
    """``direction`` as float arrays, after checking it matches ``model``'s trainable
    weights one for one."""
    weights = model.trainable_weights
    if isinstance(direction, np.ndarray) or not isinstance(direction, (list, tuple)):
        raise ValueError(
            f"{name} must be a list of arrays, one per weight in model.trainable_weights "
            f"({len(weights)} of them); got {type(direction).__name__}. Hint: make one with "
            f"random_direction(model, seed=...)."
        )
    if len(direction) != len(weights):
        raise ValueError(
            f"{name} has {len(direction)} arrays but {model.name!r} has {len(weights)} "
            f"trainable weights. Hint: make the direction from this very model "
            f"(random_direction(model)); freezing or unfreezing layers changes the list."
        )
    arrays = []
    for i, (d, variable) in enumerate(zip(direction, weights)):
        d = np.asarray(d, dtype=np.float64)
        expected = tuple(variable.shape)
        if d.shape != expected:
            raise ValueError(
                f"{name}[{i}] has shape {d.shape} but the model's trainable weight {i}, "
                f"{_variable_label(variable)!r}, has shape {expected}. Hint: the direction "
                f"was made for another architecture; make it from this model."
            )
        if not np.all(np.isfinite(d)):
            raise ValueError(
                f"{name}[{i}] (for {_variable_label(variable)!r}) contains NaN or infinity."
            )
        arrays.append(d)
    return arrays


def _check_steps(values, name) -> np.ndarray:
    """``alphas`` or ``betas`` as a 1-D float array of finite numbers, not empty."""
    steps = np.asarray(values, dtype=np.float64)
    if steps.ndim == 0:
        steps = steps[None]
    if steps.ndim != 1 or steps.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of step sizes; got shape "
            f"{steps.shape}. Hint: {name}=np.linspace(-1, 1, 21)."
        )
    if not np.all(np.isfinite(steps)):
        raise ValueError(f"{name} contains NaN or infinity: {steps.tolist()}.")
    return steps


def _check_data(x, y, batch_size):
    if len(x) != len(y):
        raise ValueError(
            f"x and y must hold the same number of examples; got {len(x)} images and "
            f"{len(y)} labels. Hint: slice both the same way, e.g. x[:512], y[:512]."
        )
    if len(x) == 0:
        raise ValueError("x and y are empty: the loss of no examples is undefined.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")


def _resolve_loss(loss, y):
    """A callable ``loss(y_true, y_pred) -> scalar``; the default is sparse categorical
    cross-entropy on probabilities, which needs integer labels."""
    import keras

    if loss is None:
        y = np.asarray(y)
        if y.ndim > 1 and y.shape[-1] > 1:
            raise ValueError(
                f"The default loss (sparse categorical cross-entropy) expects integer class "
                f"labels shaped (N,); got y of shape {y.shape}. Hint: for one-hot labels "
                f"pass loss=keras.losses.CategoricalCrossentropy()."
            )
        return keras.losses.SparseCategoricalCrossentropy()
    if isinstance(loss, str):
        return keras.losses.get(loss)
    if not callable(loss):
        raise ValueError(
            f"loss must be None, a Keras loss name or a callable loss(y_true, y_pred); got "
            f"{type(loss).__name__}."
        )
    return loss


# --------------------------------------------------------------------------- evaluation


class _Evaluator:
    """Evaluates ``loss(y, model(x))`` in inference mode, over and over, cheaply.

    The batches are converted to tensors once; ``model.predict_on_batch`` runs the forward
    pass Keras compiles once per model (a ``tf.function``, a ``jax.jit``, or eager PyTorch
    without gradients), in inference mode. Each call to ``set`` assigns new values to the
    variables that move, in place (``variable.assign``), so the compiled function is reused.
    """

    def __init__(self, model, x, y, loss, batch_size, directions):
        import keras

        self.model, self.y, self.loss = model, y, loss
        self.batches = [keras.ops.convert_to_tensor(np.asarray(x[i:i + batch_size]))
                        for i in range(0, len(x), batch_size)]
        variables = model.trainable_weights
        # Only weights with a non-zero direction change; the rest are never reassigned.
        self.moving = [i for i in range(len(variables))
                       if any(np.any(d[i]) for d in directions)]
        self.variables = [variables[i] for i in self.moving]
        self.origin = [_to_numpy(v) for v in self.variables]
        self.directions = [[d[i] for i in self.moving] for d in directions]

    def set(self, coefficients):
        """Move to ``w + sum(c * d)`` over the directions."""
        for k, (variable, w) in enumerate(zip(self.variables, self.origin)):
            step = sum(c * d[k] for c, d in zip(coefficients, self.directions))
            variable.assign((w + step).astype(w.dtype))

    def restore(self):
        """Put back the exact original values (the same bytes)."""
        for variable, w in zip(self.variables, self.origin):
            variable.assign(w)

    def loss_here(self) -> float:
        import keras

        outputs = [self.model.predict_on_batch(b) for b in self.batches]
        if isinstance(outputs[0], (list, tuple)):  # several heads: judge the first
            outputs = [o[0] for o in outputs]
        predictions = np.concatenate([keras.ops.convert_to_numpy(o) for o in outputs])
        value = self.loss(self.y, predictions)
        return float(np.asarray(keras.ops.convert_to_numpy(value)).mean())


def _losses(model, x, y, directions, grid, loss, batch_size) -> np.ndarray:
    """Loss at ``w + sum(c_k * d_k)`` for each tuple of coefficients in ``grid``."""
    _check_data(x, y, batch_size)
    loss_fn = _resolve_loss(loss, y)
    evaluator = _Evaluator(model, x, np.asarray(y), loss_fn, batch_size, directions)
    values = np.empty(len(grid))
    try:
        for i, coefficients in enumerate(grid):
            evaluator.set(coefficients)
            values[i] = evaluator.loss_here()
    finally:
        evaluator.restore()
    return values


def loss_line(model, x, y, direction, alphas, loss=None,
              batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The loss of ``model`` on ``(x, y)`` at ``w + alpha * direction``, one value per alpha.

    ``direction`` comes from ``random_direction`` (the paper's 1-D plots) or
    ``direction_towards`` (linear interpolation between two solutions). ``loss`` defaults
    to sparse categorical cross-entropy on the model's output probabilities; pass a Keras
    loss (object, name, or any ``loss(y_true, y_pred)``; per-example values are averaged)
    for anything else, e.g.
    ``keras.losses.SparseCategoricalCrossentropy(from_logits=True)`` for a model that ends
    without softmax. A model with several outputs is judged by its first. Inference mode;
    the weights are restored afterwards, even on error.
    """
    alphas = _check_steps(alphas, "alphas")
    direction = _check_direction(model, direction)
    return _losses(model, x, y, [direction], [(a,) for a in alphas], loss, batch_size)


def loss_surface(model, x, y, d1, d2, alphas, betas, loss=None,
                 batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The loss of ``model`` on ``(x, y)`` at ``w + alpha * d1 + beta * d2`` on a grid.

    Returns an array shaped ``(len(alphas), len(betas))``: ``surface[i, j]`` is the loss at
    ``alphas[i], betas[j]``, so with 0 in both lists the trained point is in the middle.
    (Matplotlib's ``contour(alphas, betas, Z)`` wants ``Z = surface.T``; ``plots.
    plot_loss_surface`` does that for you.) The cost is one forward pass over ``x`` per grid
    point: a 15x15 grid on 512 images of 32x32 is 225 passes, about half a minute for a
    24-layer CNN on two busy CPU cores. Loss, modes and weight restoration as in
    ``loss_line``.
    """
    alphas = _check_steps(alphas, "alphas")
    betas = _check_steps(betas, "betas")
    d1 = _check_direction(model, d1, "d1")
    d2 = _check_direction(model, d2, "d2")
    grid = [(a, b) for a in alphas for b in betas]
    values = _losses(model, x, y, [d1, d2], grid, loss, batch_size)
    return values.reshape(len(alphas), len(betas))
