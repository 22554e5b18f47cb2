"""Assignment 7 through the real pipeline: the solution earns full marks (its DenseNet and
ConvNeXt blocks re-checked on the grader's own tensors, its DenseNet-121 number for number
``keras.applications.DenseNet121``, its ``LayerScale`` run through the notebook's measuring
function on values the grading process chooses), the release 0; ready-made networks, blocks
and layers (Keras's DenseNet-121 returned or called inside with the kernel's checks switched
off, the zoo's network and blocks, Keras's private ``conv_block`` and ``LayerScale``) earn
nothing for the parts they fake, decided from the source in the grading process; plausible
slips (the new maps stacked before the old, no compression in the transitions, no layer
scale, LayerNorm's default epsilon) lose the tests that see them, with feedback that names
the layer and what differs, not the answer.

Mistakes of different parts share one submission where the parts' tests cannot see each
other's mistake (a6's way), so that the batch stays small."""

from pathlib import Path

import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parent.parent
A = "a7"
HINT = "build the network from keras.layers yourself"

PART1 = ["test_dense_block_shapes", "test_dense_block_params", "test_dense_block_hidden"]
PART2 = ["test_layer_scale", "test_convnext_block", "test_convnext_block_hidden"]
PART3 = ["test_densenet121_shapes", "test_densenet121_same_as_keras", "test_densenet121_hidden"]

SIGNATURE = "def densenet121(input_shape=(224, 224, 3), classes=1000):\n"
RETURNS_KERAS = '''import keras


''' + SIGNATURE + '''    return keras.applications.DenseNet121(weights=None, input_shape=input_shape,
                                          classes=classes)
'''
# Keras's network as the body of one's own, and the kernel's checks switched off: only the
# grading process, reading the source, can tell.
CALLS_KERAS_INSIDE = '''import keras
from keras import layers
import course_utils.grading as _grading

_grading.code_origins = lambda function, _seen=None: set()
_grading.check_own_work = lambda *args, **kwargs: None


''' + SIGNATURE + '''    inputs = keras.Input(shape=input_shape)
    body = keras.applications.DenseNet121(weights=None, include_top=False, input_tensor=inputs)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(body.output)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)
'''
RETURNS_ZOO = '''from course_utils import zoo


''' + SIGNATURE + '''    return zoo.densenet121(input_shape=input_shape, classes=classes)
'''
ZOO_CONVNEXT_BLOCK = '''from course_utils.zoo.convnext import convnext_block as _ready_made


def convnext_block(x, projection_dim, name):
    return _ready_made(x, projection_dim, name)
'''
KERAS_LAYER_SCALE = "from keras.src.applications.convnext import LayerScale\n"
ZOO_DENSE_BLOCK = '''from course_utils.zoo import densenet as _zoo


def dense_block(x, blocks, name, growth_rate=32):
    return _zoo.dense_block(x, blocks, name, growth_rate=growth_rate)
'''
ZOO_TRANSITION = '''def transition_block(x, reduction, name):
    return _zoo.transition_block(x, reduction, name)
'''
KERAS_CONV_BLOCK = '''import keras
from keras import layers
from keras.src.applications.densenet import conv_block as _keras_conv_block


def conv_block(x, growth_rate, name):
    return _keras_conv_block(x, growth_rate, name)
'''


def _replace(nb, grade_id, old, new):
    return subs.replace_in_solution(nb, grade_id, old, new)


def _new_maps_first(nb):
    """The new maps stacked before the ones the layer was given."""
    return _replace(nb, "conv_block", '(name=f"{name}_concat")([x, y])',
                    '(name=f"{name}_concat")([y, x])')


def _no_layer_scale(nb):
    return _replace(nb, "convnext_block",
                    '    x = LayerScale(1e-6, projection_dim, name=f"{name}_layer_scale")(x)\n',
                    "")


def _no_compression(nb):
    """Transitions that keep every channel (DenseNet-B rather than DenseNet-BC)."""
    return _replace(nb, "transition_block", "int(x.shape[-1] * reduction)", "x.shape[-1]")


def _default_epsilon(nb):
    """LayerNorm with Keras's default epsilon (1e-3) rather than ConvNeXt's 1e-6."""
    return _replace(nb, "convnext_block", "layers.LayerNormalization(epsilon=1e-6, ",
                    "layers.LayerNormalization(")


def _cases():
    good = subs.correct(A, A)
    return {
        "correct": good,
        "untouched": subs.released(A, A),
        # part 3 -40; part 2 -30 (Keras's own LayerScale)
        "returns_keras": subs.set_solution(subs.set_solution(good, "densenet121", RETURNS_KERAS),
                                           "layer_scale", KERAS_LAYER_SCALE),
        # part 3 -40, though its shapes test passes inside the notebook
        "calls_keras_inside": subs.set_solution(good, "densenet121", CALLS_KERAS_INSIDE),
        # part 3 -40; part 2 -20 (the zoo's block, around the student's own LayerScale)
        "zoo_network_and_block": subs.set_solution(
            subs.set_solution(good, "densenet121", RETURNS_ZOO), "convnext_block",
            ZOO_CONVNEXT_BLOCK),
        # parts 1 and 3 -70
        "zoo_dense_blocks": subs.set_solution(subs.set_solution(good, "dense_block",
                                                                ZOO_DENSE_BLOCK),
                                              "transition_block", ZOO_TRANSITION),
        # parts 1 and 3 -70
        "keras_conv_block": subs.set_solution(good, "conv_block", KERAS_CONV_BLOCK),
        # part 1 -20, part 3 -30; part 2 -20
        "new_maps_first_no_layer_scale": _no_layer_scale(_new_maps_first(good)),
        # part 1 -30, part 3 -40; part 2 -20
        "no_compression_default_epsilon": _default_epsilon(_no_compression(good)),
    }


# One release and one autograde batch for every a7 case: tests/conftest.py's graded_a7.
subs.register_cases(A, _cases)  # with BATCH_LIMITS["a7"]


@pytest.fixture(scope="module")
def graded(graded_a7):
    return graded_a7


def _text(graded, student, grade_id):
    return subs.cell_text(graded, student, A, grade_id)


def _failed(graded, student):
    return [g for g in PART1 + PART2 + PART3 if not subs.cell_passed(graded, student, A, g)]


def _reveals_the_answer(graded, student):
    return subs.solution_lines_shown(graded, student, A, _failed(graded, student))


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0
    assert _failed(graded, "untouched") == PART1 + PART2 + PART3


@pytest.mark.parametrize("student, origin, lost", [
    ("returns_keras", "keras.applications", PART2 + PART3),
    ("zoo_network_and_block", "zoo", PART2[1:] + PART3)])
def test_a_ready_made_network_earns_nothing_for_part_3(graded, student, origin, lost):
    assert _failed(graded, student) == lost
    assert subs.score(graded, student) == 100 - 40 - (30 if len(lost) == 6 else 20)
    for grade_id in PART3:
        text = _text(graded, student, grade_id)
        assert "how densenet121 builds its network" in text and origin in text, text
        assert HINT in text
    assert HINT in subs.feedback(graded, student, A)


def test_ready_made_convnext_parts_earn_nothing_for_part_2(graded):
    # Keras's LayerScale: its own test (through the measuring function that runs it), and
    # the block that uses it.
    for grade_id in PART2:
        text = _text(graded, "returns_keras", grade_id)
        assert "builds its network" in text and "keras.src.applications" in text, text
        assert HINT in text
    # The zoo's block around the student's own LayerScale: the layer's own test stands.
    text = _text(graded, "zoo_network_and_block", "test_convnext_block")
    assert "how convnext_block builds its network" in text and "course_utils.zoo" in text, text


def test_own_work_is_decided_outside_the_kernel(graded):
    # The kernel's checks were switched off, so part 3's shapes test passed inside the
    # notebook; the grading process read the source and took the points back.
    student = "calls_keras_inside"
    assert subs.score(graded, student) == 100 - 40
    assert _failed(graded, student) == PART3
    assert "re-check" in graded["results"][student]["reason"]
    text = _text(graded, student, "test_densenet121_shapes")
    assert "RecheckFailed" in text and "keras.applications" in text, text
    assert "how densenet121 builds its network" in text


@pytest.mark.parametrize("student, origin", [("zoo_dense_blocks", "course_utils.zoo"),
                                             ("keras_conv_block", "keras.src.applications")])
def test_ready_made_blocks_earn_nothing_for_part_1_and_the_network(graded, student, origin):
    assert subs.score(graded, student) == 100 - 30 - 40
    assert _failed(graded, student) == PART1 + PART3
    for grade_id in PART1 + PART3:
        text = _text(graded, student, grade_id)
        assert "builds its network" in text and origin in text and HINT in text, text
    text = _text(graded, student, "test_densenet121_shapes")
    assert "how densenet121 builds its network" in text, text


def test_new_maps_first_and_no_layer_scale_lose_what_sees_them(graded):
    student = "new_maps_first_no_layer_scale"
    assert subs.score(graded, student) == 100 - 10 - 10 - 10 - 10 - 15 - 15
    assert _failed(graded, student) == [
        "test_dense_block_params", "test_dense_block_hidden", "test_convnext_block",
        "test_convnext_block_hidden", "test_densenet121_same_as_keras",
        "test_densenet121_hidden"]
    # Shapes and parameter counts cannot tell the order of the stacked maps; the order of
    # the inputs of the concatenation, and the numbers, can.
    text = _text(graded, student, "test_dense_block_params")
    assert "conv2_block1_concat stacks, in order" in text and "equation 2" in text, text
    assert "['conv2_block1_2_conv', 'the input']" in text
    text = _text(graded, student, "test_densenet121_same_as_keras")
    assert "output of layer 'conv2_block1_concat'" in text, text
    assert "fed by 'conv2_block1_2_conv', 'pool1'" in text
    text = _text(graded, student, "test_convnext_block")
    assert "seven layers" in text and "convnext_tiny_stage_0_block_0_layer_scale" in text, text
    text = _text(graded, student, "test_convnext_block_hidden")
    assert "_layer_scale" in text and "no layer of that name" in text, text
    assert not _reveals_the_answer(graded, student)


def test_no_compression_and_layernorm_s_default_epsilon_lose_what_sees_them(graded):
    student = "no_compression_default_epsilon"
    assert subs.score(graded, student) == 100 - 30 - 40 - 20
    assert _failed(graded, student) == PART1 + PART2[1:] + PART3
    text = _text(graded, student, "test_dense_block_shapes")
    assert "transition_block(x, 0.5, 'pool2') keeps of 256" in text, text
    assert "Expected: 128" in text and "Got:      256" in text and "compression" in text
    text = _text(graded, student, "test_densenet121_shapes")
    assert "output shape of layer 'pool2_conv'" in text, text
    assert "256 channels instead of 128" in text
    text = _text(graded, student, "test_convnext_block")
    assert "epsilon of layer 'convnext_tiny_stage_0_block_0_layernorm'" in text, text
    assert "Expected: 1e-06" in text and "Got:      0.001" in text
    assert "Keras's default is 1e-3" in text
    text = _text(graded, student, "test_convnext_block_hidden")
    assert "_layernorm'" in text and "settings that differ" in text and "epsilon" in text, text
    assert not _reveals_the_answer(graded, student)


def test_feedback_shows_no_hidden_test_code(graded):
    subs.assert_feedback_hides_hidden_tests(graded, _cases(), A)


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / A / f"{A}.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "reference_block",
                   "int(x.shape[-1] * reduction)", "([x, y])", "x * self.gamma",
                   "(45, 33, 1)"):
        assert marker not in text, marker
    # conv_block, dense_block, transition_block, LayerScale's two methods, convnext_block,
    # densenet121
    assert text.count("    raise NotImplementedError()") == 7
    assert "def measure_layer_scale" in text  # the measuring function students are given
