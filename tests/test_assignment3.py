"""Assignment 3 through the real pipeline: the solution earns full marks (its blocks
re-checked on the grader's own tensors, its ResNet-50 number for number
``keras.applications.ResNet50``), the release 0; ready-made networks and blocks earn nothing
for the parts they fake, and a network that is right in shape but not in its numbers loses
the identity tests, with feedback that names the layer and the setting."""

from pathlib import Path

import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parent.parent
EPSILON = "epsilon=1.001e-5, "

RETURNS_KERAS = '''import keras


def resnet50(input_shape=(224, 224, 3), classes=1000):
    return keras.applications.ResNet50(weights=None, input_shape=input_shape, classes=classes)
'''
RETURNS_ZOO = '''from course_utils import zoo


def resnet50(input_shape=(224, 224, 3), classes=1000):
    return zoo.resnet50(input_shape=input_shape, classes=classes)
'''
ZOO_BLOCK = '''from course_utils.zoo.resnet import bottleneck_block as _ready_made


def conv_block(x, filters, stride, name):
    return _ready_made(x, filters, stride, "projection", name)
'''
KERAS_BLOCK = '''import keras
from keras import layers
from keras.src.applications.resnet import residual_block_v1 as _block


def identity_block(x, filters, name):
    return _block(x, filters, conv_shortcut=False, name=name)
'''


def _default_epsilon(nb):
    """The slip of forgetting Keras's epsilon: batch norm's default, 1e-3, everywhere."""
    for grade_id in ("identity_block", "conv_block", "resnet50"):
        nb = subs.replace_in_solution(nb, grade_id, EPSILON, "")
    return nb


def _stride_on_3x3(nb):
    """ResNet v1.5: the stride on the 3x3 convolution instead of the first 1x1."""
    nb = subs.replace_in_solution(nb, "conv_block", 'strides=stride, name=f"{name}_1_conv"',
                                  'name=f"{name}_1_conv"')
    return subs.replace_in_solution(nb, "conv_block", 'y = layers.Conv2D(filters, 3, padding=',
                                    'y = layers.Conv2D(filters, 3, strides=stride, padding=')


def _cases():
    good = subs.correct("a3", "a3")
    return {
        "correct": good,
        "untouched": subs.released("a3", "a3"),
        "returns_keras": subs.set_solution(good, "resnet50", RETURNS_KERAS),
        "returns_zoo": subs.set_solution(good, "resnet50", RETURNS_ZOO),
        "zoo_block": subs.set_solution(good, "conv_block", ZOO_BLOCK),
        "keras_block": subs.set_solution(good, "identity_block", KERAS_BLOCK),
        "all_ready_made": subs.set_solution(
            subs.set_solution(subs.set_solution(good, "identity_block", KERAS_BLOCK),
                              "conv_block", ZOO_BLOCK), "resnet50", RETURNS_KERAS),
        "default_epsilon": _default_epsilon(good),
        "stride_on_3x3": _stride_on_3x3(good),
    }


# Graded with every other module's a3 cases (test_grader_attacks.py's own-work attacks) in
# one batch: tests/conftest.py's graded_a3.
subs.register_cases("a3", _cases)  # with BATCH_LIMITS["a3"]


@pytest.fixture(scope="module")
def graded(graded_a3):
    return graded_a3


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0


@pytest.mark.parametrize("student", ["returns_keras", "returns_zoo"])
def test_a_ready_made_network_earns_nothing_for_part_3(graded, student):
    assert subs.score(graded, student) == 100 - 40
    assert "build the network from keras.layers yourself" in subs.feedback(graded, student, "a3")


@pytest.mark.parametrize("student", ["zoo_block", "keras_block"])
def test_a_ready_made_block_earns_nothing_for_its_part_and_the_network(graded, student):
    assert subs.score(graded, student) == 100 - 30 - 40
    assert "build the network from keras.layers yourself" in subs.feedback(graded, student, "a3")


def test_nothing_but_ready_made_parts_earns_nothing(graded):
    assert subs.score(graded, "all_ready_made") == 0


def test_default_epsilon_loses_the_identity_tests_and_is_named(graded):
    # Shapes and parameters are right; every comparison of numbers fails.
    assert subs.score(graded, "default_epsilon") == 100 - 10 - 10 - 15 - 15
    text = subs.cell_text(graded, "default_epsilon", "a3", "test_resnet50_same_as_keras")
    assert "output of layer 'conv1_bn'" in text and "epsilon" in text
    assert "1.001e-05" not in text and "1.001e-5" not in text  # the setting, not the answer
    text = subs.cell_text(graded, "default_epsilon", "a3", "test_identity_block_hidden")
    assert "output of layer 'b_1_bn'" in text and "epsilon" in text
    assert "epsilon" in subs.feedback(graded, "default_epsilon", "a3")


def test_stride_on_the_3x3_loses_the_identity_tests_and_is_named(graded):
    # Part 2 and the two identity tests of part 3; ResNet-50's shapes and count still hold.
    assert subs.score(graded, "stride_on_3x3") == 100 - 30 - 15 - 15
    text = subs.cell_text(graded, "stride_on_3x3", "a3", "test_resnet50_same_as_keras")
    assert "output shape of layer 'conv3_block1_1_conv'" in text and "strides" in text
    assert "strides" in subs.feedback(graded, "stride_on_3x3", "a3")


def test_feedback_shows_no_hidden_test_code(graded):
    subs.assert_feedback_hides_hidden_tests(graded, _cases(), "a3")


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / "a3" / "a3.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "reference_block",
                   'epsilon=1.001e-5, name=f\\"{name}_1_bn\\"'):
        assert marker not in text
    assert "raise NotImplementedError()" in text
