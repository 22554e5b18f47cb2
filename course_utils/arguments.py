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
