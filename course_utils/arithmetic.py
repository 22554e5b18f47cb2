"""Convolution arithmetic by formula, one layer at a time: output sizes, parameters,
multiply-accumulates and receptive fields, and the rounding of thinned widths
(``make_divisible``). ``course_utils.inspection.layer_table`` counts the
same quantities for whole models (any rank, any layer kind); notebooks and tests check the
two against each other and against Keras.
"""

from __future__ import annotations

import math


def _check_positive(**values):
    for name, value in values.items():
        if not isinstance(value, (int,)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")


def conv_output_size(n: int, k: int, stride: int = 1, padding: str | int = "valid",
                     dilation: int = 1) -> int:
    """Output length along one axis of a convolution or pooling window.

    ``padding`` is ``"valid"`` (no padding), ``"same"`` (Keras: output = ceil(n / stride))
    or an explicit number ``p`` of zeros on each side: ``floor((n + 2p - k_eff) / s) + 1``
    with the dilated kernel ``k_eff = dilation * (k - 1) + 1``.
    """
    _check_positive(n=n, k=k, stride=stride, dilation=dilation)
    k_eff = dilation * (k - 1) + 1
    if padding == "same":
        return math.ceil(n / stride)
    p = 0 if padding == "valid" else padding
    if not isinstance(p, int) or p < 0:
        raise ValueError(
            f"padding must be 'valid', 'same' or a non-negative integer; got {padding!r}."
        )
    if n + 2 * p < k_eff:
        raise ValueError(
            f"A {k_eff}-wide window does not fit in an input of {n} with padding {p}: the "
            f"output would be empty. Hint: use a smaller kernel, padding='same', or a larger "
            f"input."
        )
    return (n + 2 * p - k_eff) // stride + 1


def conv_params(k: int | tuple[int, int], c_in: int, c_out: int, bias: bool = True,
                groups: int = 1) -> int:
    """Weights of a convolution: ``k_h * k_w * c_in / groups * c_out`` (+ ``c_out`` biases)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    return kh * kw * (c_in // groups) * c_out + (c_out if bias else 0)


def dense_params(n_in: int, n_out: int, bias: bool = True) -> int:
    """Weights of a dense layer: ``n_in * n_out`` (+ ``n_out`` biases)."""
    return n_in * n_out + (n_out if bias else 0)


def conv_macs(h_out: int, w_out: int, c_out: int, k: int | tuple[int, int], c_in: int,
              groups: int = 1) -> int:
    """Multiply-accumulates of a convolution for one input:
    ``H_out * W_out * C_out * k_h * k_w * C_in / groups`` (biases not counted)."""
    kh, kw = (k, k) if isinstance(k, int) else k
    return h_out * w_out * c_out * kh * kw * (c_in // groups)


def receptive_fields(layers: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Receptive field and jump after each of a stack of ``(kernel, stride)`` layers.

    ``r_out = r_in + (k - 1) * j_in`` and ``j_out = j_in * s``, starting from one pixel
    (``r = 1, j = 1``). Returns ``[(r, j), ...]``, one pair per layer.
    """
    r, j, out = 1, 1, []
    for k, s in layers:
        _check_positive(kernel=k, stride=s)
        r, j = r + (k - 1) * j, j * s
        out.append((r, j))
    return out


def make_divisible(value: float, divisor: int = 8) -> int:
    """``value`` rounded to the nearest multiple of ``divisor`` (at least ``divisor``), and
    never more than 10% below ``value``: how the MobileNet v2 and v3 and EfficientNet code
    round a width multiplied by ``alpha`` (or ``width``) to channels that hardware likes.

    Args:
        value: a number of channels, e.g. ``32 * alpha``.
        divisor: the multiple to round to.
    """
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded
