"""Argument checks the helpers share: one error that says which argument of which function,
what it should be, what it got, and a hint."""

from __future__ import annotations


def require(ok, who: str, name: str, expected: str, got, hint: str) -> None:
    """Raise ``ValueError`` unless ``ok``: "``who``: ``name`` should be ``expected``; got
    ``got``. Hint: ``hint``".

    Args:
        ok: the condition the argument must meet.
        who: the function or class that was called, as the student wrote it.
        name: the argument's name.
        expected: what it should be, in words.
        got: what it was (shown with ``repr``).
        hint: what to do instead.
    """
    if not ok:
        raise ValueError(f"{who}: {name} should be {expected}; got {got!r}. Hint: {hint}")


def positive_pair(who: str, name: str, value, example: int = 2) -> tuple[int, int]:
    """``value`` as ``(rows, columns)``: a positive integer for both, or a pair of them, as
    Keras's ``pool_size``, ``kernel_size`` and ``strides`` accept.

    Args:
        who: the layer or function that was called.
        name: the argument's name.
        value: what was passed.
        example: the size the hint suggests.

    Raises:
        ValueError: anything else, with a hint.
    """
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    if (not isinstance(pair, (tuple, list)) or len(pair) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in pair)):
        raise ValueError(
            f"{who}: {name} is a positive integer or a pair of them (rows, columns); "
            f"got {name}={value!r}. Hint: {name}={example} or {name}=({example}, {example}).")
    return tuple(pair)
