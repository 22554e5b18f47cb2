"""Assignment 2 through the real pipeline: the solution earns full marks (its block
functions re-checked outside the kernel on the grader's own tensors), the release 0, and
handing back the course's own blocks earns nothing for those parts."""

from pathlib import Path

import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parent.parent

SHORTCUT = '''from course_utils.zoo.googlenet import inception_module as _ready_made


def inception_module(x, filters, name):
    return _ready_made(x, filters, name)
'''


def _cases():
    good = subs.correct("a2", "a2")
    return {
        "correct": good,
        "untouched": subs.released("a2", "a2"),
        "shortcut": subs.set_solution(good, "inception_module", SHORTCUT),
        "no_bottleneck": subs.replace_in_solution(
            good, "inception_module", 'b3 = conv(conv(x, r3, 1, "3x3_reduce"), f3, 3, "3x3")',
            'b3 = conv(x, f3, 3, "3x3")'),
    }


# Graded with every other module's a2 cases in one batch (tests/conftest.py: graded_a2).
subs.register_cases("a2", _cases, cell_timeout=30, budget=120)


@pytest.fixture(scope="module")
def graded(graded_a2):
    return graded_a2


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0


def test_ready_made_blocks_earn_nothing_for_their_part(graded):
    assert subs.score(graded, "shortcut") == 100 - 40 - 30  # module and the network built on it
    html = subs.feedback(graded, "shortcut", "a2")
    assert "build the network from keras.layers yourself" in html


def test_a_missing_bottleneck_is_named(graded):
    got = subs.score(graded, "no_bottleneck")
    assert 30 <= got < 100
    html = subs.feedback(graded, "no_bottleneck", "a2")
    assert "inception_3a_3x3_reduce" in html
