"""Self-checking exercises: ``check(key, answer)`` says right or not yet, never the answer.

Each lesson's expected answers live in ``course_utils/exercises/lesson_NN.py``, computed by
small functions registered with :func:`answer` (so an answer is produced by the course's own
code, never typed in), and a key starts with the lesson's number: ``check("06.4c_macs", x)``.
"""

from __future__ import annotations

import functools
import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    compute: Callable[[], object]
    rtol: float
    hint: str


_ANSWERS: dict[str, Answer] = {}


def answer(key: str, rtol: float = 0.0, hint: str = ""):
    """Register the function below as the way to compute exercise ``key``'s answer.

    Args:
        key: ``"NN.name"``, NN the lesson's number.
        rtol: relative tolerance for numbers (0: exact).
        hint: what to think about when the answer is not right yet.
    """
    def register(compute):
        _ANSWERS[key] = Answer(compute, rtol, hint)
        return compute
    return register


def _load(key: str) -> Answer:
    lesson = key.split(".", 1)[0]
    if key not in _ANSWERS:
        try:
            importlib.import_module(f"course_utils.exercises.lesson_{lesson}")
        except ModuleNotFoundError:
            pass
    if key not in _ANSWERS:
        known = sorted(k for k in _ANSWERS if k.startswith(lesson + "."))
        raise KeyError(f"No exercise called {key!r}. Exercises of lesson {lesson}: {known}. "
                       "Hint: copy the key from the exercise's text.")
    return _ANSWERS[key]


def _same(got, expected, rtol: float) -> tuple[bool, str]:
    if isinstance(expected, bool) or isinstance(expected, str):
        return got == expected, ""
    if isinstance(expected, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return False, f"a sequence of {len(expected)} values is expected"
        return all(_same(g, e, rtol)[0] for g, e in zip(got, expected)), ""
    try:
        got_f, expected_f = float(got), float(expected)
    except (TypeError, ValueError):
        return False, f"a number is expected, got {type(got).__name__}"
    if math.isclose(got_f, expected_f, rel_tol=rtol, abs_tol=0.0 if rtol else 1e-12):
        return True, ""
    direction = "too high" if got_f > expected_f else "too low"
    far = abs(got_f - expected_f) / max(abs(expected_f), 1e-12)
    size = "by more than a factor of 2" if far > 1 else "by a little" if far < 0.1 else ""
    return False, f"your answer is {direction} {size}".rstrip()


def check(key: str, got) -> bool:
    """Print whether ``got`` answers exercise ``key``; return True if it does.

    Says which way a number is off (too high, too low), and the exercise's hint, but never
    the answer itself.
    """
    expected = _load(key)
    if got is None:  # not answered yet: nothing to compare, so nothing is computed
        print(f"[not yet] {key}: no answer yet; replace None with yours and run the cell "
              "again.")
        return False
    ok, why = _same(got, _expected(key), expected.rtol)
    if ok:
        print(f"[right] {key}: {got!r} is right.")
    else:
        parts = [f"[not yet] {key}: {got!r} is not right", why, expected.hint and
                 f"Hint: {expected.hint}"]
        print("; ".join(p for p in parts if p) + ".")
    return ok


@functools.cache
def _expected(key: str):
    """Exercise ``key``'s answer, computed once per process."""
    return _load(key).compute()


def keys(lesson: str | None = None) -> list[str]:
    """Every registered key (of one lesson: ``keys("06")``)."""
    if lesson is not None:
        _load_quietly(lesson)
    return sorted(k for k in _ANSWERS if lesson is None or k.startswith(lesson + "."))


def _load_quietly(lesson: str) -> None:
    try:
        importlib.import_module(f"course_utils.exercises.lesson_{lesson}")
    except ModuleNotFoundError:
        pass
