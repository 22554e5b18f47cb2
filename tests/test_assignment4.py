"""Assignment 4 through the real pipeline: the solution earns full marks (its blocks
re-checked on the grader's own tensors, its MobileNetV2 number for number
``keras.applications.MobileNetV2``), the release 0; ready-made networks and blocks earn
nothing for the parts they fake, decided from the source in the grading process even when
the kernel's own checks are patched; and two plausible slips (a ReLU6 after the linear
projection, an expansion counted from the output channels) lose the tests that see them,
with feedback that names the layer and why, not the answer."""

import json
from pathlib import Path

import pytest
import submissions as subs

from course_utils.arithmetic import make_divisible

ROOT = Path(__file__).resolve().parent.parent
HINT = "build the network from keras.layers yourself"
SIGNATURE = "def mobilenet_v2(input_shape=(224, 224, 3), alpha=1.0, classes=1000):\n"

RETURNS_KERAS = '''import keras


''' + SIGNATURE + '''    return keras.applications.MobileNetV2(weights=None, input_shape=input_shape,
                                          alpha=alpha, classes=classes)
'''
# Keras's network as the body of one's own, and the kernel's checks switched off: only the
# grading process, reading the source, can tell.
CALLS_KERAS_INSIDE = '''import keras
from keras import layers
import course_utils.grading as _grading

_grading.code_origins = lambda function, _seen=None: set()
_grading.check_own_work = lambda *args, **kwargs: None


''' + SIGNATURE + '''    inputs = keras.Input(shape=input_shape)
    body = keras.applications.MobileNetV2(weights=None, include_top=False, alpha=alpha,
                                          input_tensor=inputs)
    x = layers.GlobalAveragePooling2D(name="global_average_pooling2d")(body.output)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)
'''
RETURNS_ZOO = '''from course_utils import zoo


''' + SIGNATURE + '''    return zoo.mobilenet_v2(input_shape=input_shape, alpha=alpha, classes=classes)
'''
ZOO_BLOCK = '''from course_utils.zoo.mobilenet_v2 import inverted_residual_block as _ready_made


def inverted_residual_block(x, filters, expansion, strides, block_id):
    return _ready_made(x, filters, block_id, expansion=expansion, strides=strides)
'''
KERAS_BLOCK = '''from keras.src.applications.mobilenet_v2 import _inverted_res_block


def inverted_residual_block(x, filters, expansion, strides, block_id):
    return _inverted_res_block(x, expansion, strides, 1.0, filters, block_id)
'''
# MobileNetV2's first block is a depthwise separable block: the zoo's, under its name.
ZOO_SEPARABLE = '''import keras
from keras import layers
from course_utils.zoo import mobilenet_v2 as _zoo


def depthwise_separable_block(x, filters, strides, prefix):
    return _zoo.inverted_residual_block(x, filters, 0, expansion=1, strides=strides)
'''


def _relu6_after_projection(nb):
    """MobileNet v1's habit: ReLU6 after the projection too (no linear bottleneck)."""
    old = '    return layers.BatchNormalization(momentum=0.999, name=f"{prefix}project_BN")(x)'
    new = ('    x = layers.BatchNormalization(momentum=0.999, name=f"{prefix}project_BN")(x)\n'
           '    return layers.ReLU(6.0, name=f"{prefix}project_relu")(x)')
    return subs.replace_in_solution(nb, "depthwise_separable_block", old, new)


def _expansion_of_output(nb):
    """Expanding the output's channels instead of the input's."""
    return subs.replace_in_solution(nb, "inverted_residual_block",
                                    "expansion * inputs.shape[-1]", "expansion * filters")


def _cases():
    good = subs.correct("a4", "a4")
    return {
        "correct": good,
        "untouched": subs.released("a4", "a4"),
        "returns_keras": subs.set_solution(good, "mobilenet_v2", RETURNS_KERAS),
        "calls_keras_inside": subs.set_solution(good, "mobilenet_v2", CALLS_KERAS_INSIDE),
        "returns_zoo": subs.set_solution(good, "mobilenet_v2", RETURNS_ZOO),
        "zoo_block": subs.set_solution(good, "inverted_residual_block", ZOO_BLOCK),
        "keras_block": subs.set_solution(good, "inverted_residual_block", KERAS_BLOCK),
        "zoo_separable": subs.set_solution(good, "depthwise_separable_block", ZOO_SEPARABLE),
        "relu6_after_projection": _relu6_after_projection(good),
        "expansion_of_output": _expansion_of_output(good),
    }


# One release and one autograde batch for every a4 case: tests/conftest.py's graded_a4.
subs.register_cases("a4", _cases)  # with BATCH_LIMITS["a4"]


@pytest.fixture(scope="module")
def graded(graded_a4):
    return graded_a4


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0


@pytest.mark.parametrize("student, origin", [("returns_keras", "keras.applications"),
                                             ("calls_keras_inside", "keras.applications"),
                                             ("returns_zoo", "zoo")])
def test_a_ready_made_network_earns_nothing_for_part_3(graded, student, origin):
    assert subs.score(graded, student) == 100 - 40
    for grade_id in ("test_mobilenet_v2_shapes", "test_mobilenet_v2_same_as_keras",
                     "test_mobilenet_v2_hidden"):
        text = subs.cell_text(graded, student, "a4", grade_id)
        assert "how mobilenet_v2 builds its network" in text and origin in text, text
        assert HINT in text
    assert HINT in subs.feedback(graded, student, "a4")


def test_own_work_is_decided_outside_the_kernel(graded):
    # The kernel's checks were switched off, so part 3 passed inside the notebook; the
    # grading process read the source and took the points back.
    assert "re-check" in graded["results"]["calls_keras_inside"]["reason"]
    text = subs.cell_text(graded, "calls_keras_inside", "a4", "test_mobilenet_v2_shapes")
    assert "RecheckFailed" in text and "keras.applications" in text


@pytest.mark.parametrize("student, origin", [("zoo_block", "course_utils.zoo"),
                                             ("keras_block", "keras.src.applications")])
def test_a_ready_made_block_earns_nothing_for_its_part_and_the_network(graded, student,
                                                                        origin):
    assert subs.score(graded, student) == 100 - 30 - 40
    for grade_id, name in (("test_inverted_block_shapes", "inverted_residual_block"),
                           ("test_mobilenet_v2_shapes", "mobilenet_v2")):
        text = subs.cell_text(graded, student, "a4", grade_id)
        assert f"how {name} builds its network" in text and origin in text, text
        assert HINT in text


def test_a_ready_made_separable_block_earns_nothing_for_what_uses_it(graded):
    assert subs.score(graded, "zoo_separable") == 0
    for grade_id in ("test_separable_block_shapes", "test_inverted_block_shapes",
                     "test_mobilenet_v2_shapes"):
        text = subs.cell_text(graded, "zoo_separable", "a4", grade_id)
        assert "course_utils.zoo" in text and HINT in text, text


def _reveals_the_answer(graded, student, grade_ids):
    """Lines of the instructor's solution that the failing tests' messages show."""
    lines = {line.strip() for source in subs.solution_sources("a4", "a4").values()
             for line in source.splitlines() if len(line.strip()) > 20}
    shown = "\n".join(subs.cell_text(graded, student, "a4", g) for g in grade_ids)
    return [line for line in lines if line in shown]


def test_relu6_after_the_projection_loses_what_sees_it_and_is_explained(graded):
    # Shapes and parameter counts hold everywhere; the block's last layer, block 0's layers
    # and every comparison of numbers do not.
    student = "relu6_after_projection"
    assert subs.score(graded, student) == 100 - 10 - 10 - 10 - 10 - 15 - 15
    text = subs.cell_text(graded, student, "a4", "test_separable_block_params")
    assert "expanded_conv_project_relu" in text and "linear bottleneck" in text, text
    text = subs.cell_text(graded, student, "a4", "test_mobilenet_v2_same_as_keras")
    assert "output of layer 'block_1_expand'" in text, text
    assert "fed by 'expanded_conv_project_relu'" in text
    failing = ["test_separable_block_params", "test_separable_block_hidden",
               "test_inverted_block_params", "test_inverted_block_hidden",
               "test_mobilenet_v2_same_as_keras", "test_mobilenet_v2_hidden"]
    assert not _reveals_the_answer(graded, student, failing)


def test_expanding_the_output_channels_loses_parts_2_and_3_and_is_explained(graded):
    student = "expansion_of_output"
    assert subs.score(graded, student) == 30
    text = subs.cell_text(graded, student, "a4", "test_inverted_block_shapes")
    assert "output shape of layer 'block_3_expand'" in text, text
    assert "(56, 56, 144)" in text and "192 channels instead of 144" in text
    failing = [g for g in subs.test_cell_ids(subs.released("a4", "a4"))
               if "separable" not in g]
    assert not _reveals_the_answer(graded, student, failing)


def test_feedback_shows_no_hidden_test_code(graded):
    subs.assert_feedback_hides_hidden_tests(graded, _cases(), "a4")


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / "a4" / "a4.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "reference_block",
                   "expansion * inputs.shape[-1]", "(size % 2, 1)"):
        assert marker not in text
    assert text.count("    raise NotImplementedError()") == 3  # the three functions
    assert "def make_divisible" in text  # the helper students are given


def test_the_given_make_divisible_is_the_courses():
    """Students get a copy in a locked cell (a graded function may not import
    course_utils.arithmetic: a1 grades those formulas); it must stay the course's rule."""
    cells = json.loads((ROOT / "assignments" / "a4" / "a4.ipynb").read_text())["cells"]
    source = next("".join(c["source"]) for c in cells
                  if c["metadata"].get("nbgrader", {}).get("grade_id") == "make_divisible")
    given = {}
    exec(source.split("\nprint(")[0], given)
    for value in [4 + 0.7 * i for i in range(3000)]:
        assert given["make_divisible"](value) == make_divisible(value), value
