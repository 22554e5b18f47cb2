"""Assignment 6 through the real pipeline: the solution, and another honest answer
(TensorFlow's custom gradient, a count made with ``numpy.packbits``), earn full marks and the
release 0; plausible slips (``keras.ops.sign``, whose sign of 0 is 0; an estimator that does not clip;
no estimator at all; the latent kernel used unbinarised; no constraint keeping it in
[-1, 1]; a packed count rounded once for the whole model rather than per layer, float64,
a byte a binary weight, trainable weights only) lose the points of the tests that see them,
with feedback that says what was checked and gives a hint, not the answer; the course's own
layer handed in earns nothing for the part it answers; and a kernel whose checks were
switched off earns nothing for what only passed there: the student's code only runs in the
kernel (through the notebook's measuring functions, on values the test chooses), and every
decision is taken in the grading process.

Mistakes of different parts are combined in one submission where the parts' tests cannot
see each other's mistake, so that the batch stays small."""

from pathlib import Path

import numpy as np
import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parent.parent
A = "a6"

PART1 = ["test_sign_values", "test_sign_gradient", "test_sign_hidden"]
PART2 = ["test_binary_dense_outputs", "test_binary_dense_gradients",
         "test_binary_dense_training", "test_binary_dense_hidden"]
PART3 = ["test_packed_storage", "test_packed_storage_hidden"]

# Part 2 with the kernel unbinarised, and the kernel's checks switched off beforehand:
# inside the notebook every test of part 2 passes; only the grading process can tell.
PATCHED_LAYER = '''import course_utils.grading as _grading

_grading.check_binary_dense = lambda *args, **kwargs: None
_grading.check_binary_dense_gradients = lambda *args, **kwargs: None
_grading.check_binary_training_step = lambda *args, **kwargs: None


class BinaryDense(keras.layers.Layer):
    def __init__(self, units, binarize_inputs=True, use_bias=False, **kwargs):
        super().__init__(**kwargs)
        self.units, self.binarize_inputs, self.use_bias = units, binarize_inputs, use_bias

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), name="bias") if self.use_bias else None

    def call(self, inputs):
        outputs = ops.matmul(sign_ste(inputs) if self.binarize_inputs else inputs, self.kernel)
        return outputs + self.bias if self.use_bias else outputs
'''


# Another honest answer: TensorFlow's custom gradient (given the kernel as a tensor) and a
# count made with numpy.packbits itself.
CUSTOM_GRADIENT_SIGN = '''import keras
import tensorflow as tf
from keras import ops


@tf.custom_gradient
def sign_ste(x):
    def backward(dy):
        return dy * tf.cast(tf.abs(x) <= 1, dy.dtype)

    return tf.where(x >= 0, 1.0, -1.0), backward
'''
PACKBITS_COUNT = '''import math

import numpy as np


def packed_storage_bytes(model):
    kernels = {id(layer.kernel) for layer in model.layers if isinstance(layer, BinaryDense)}
    return int(sum(np.packbits(np.ones(math.prod(w.shape), bool)).nbytes if id(w) in kernels
                   else 4 * math.prod(w.shape) for w in model.weights))
'''


def _another_answer(nb):
    nb = subs.set_solution(nb, "sign_ste", CUSTOM_GRADIENT_SIGN)
    nb = _replace(nb, "binary_dense", "sign_ste(self.kernel)",
                  "sign_ste(tf.convert_to_tensor(self.kernel))")
    return subs.set_solution(nb, "packed_storage_bytes", PACKBITS_COUNT)


def _replace(nb, grade_id, old, new):
    return subs.replace_in_solution(nb, grade_id, old, new)


def _sign_of_zero(nb):
    """``keras.ops.sign``: 0 for 0."""
    return _replace(nb, "sign_ste", "ops.where(x >= 0, ops.ones_like(x), -ops.ones_like(x))",
                    "ops.sign(x)")


def _unclipped_estimator(nb):
    """The identity's gradient everywhere: not cancelled where |x| > 1."""
    return _replace(nb, "sign_ste", "clipped = ops.clip(x, -1.0, 1.0)", "clipped = x")


def _no_estimator(nb):
    """The plain sign: no gradient reaches anything."""
    return _replace(nb, "sign_ste",
                    "return ops.stop_gradient(sign) + (clipped - ops.stop_gradient(clipped))",
                    "return sign")


def _unbinarised_kernel(nb):
    return _replace(nb, "binary_dense", "ops.matmul(inputs, sign_ste(self.kernel))",
                    "ops.matmul(inputs, self.kernel)")


def _no_constraint(nb):
    return _replace(nb, "binary_dense", ",\n                                      "
                    "constraint=lambda w: ops.clip(w, -1.0, 1.0))", ")")


def _rounded_once(nb):
    """Bits / 8 per layer without rounding up: whole bytes only for the whole model."""
    return _replace(nb, "packed_storage_bytes", "total += -(-size // 8)", "total += size / 8")


def _float64(nb):
    return _replace(nb, "packed_storage_bytes", "total += 4 * size", "total += 8 * size")


def _byte_a_weight(nb):
    return _replace(nb, "packed_storage_bytes", "total += -(-size // 8)", "total += size")


def _trainable_only(nb):
    return _replace(nb, "packed_storage_bytes", "for weight in layer.weights:",
                    "for weight in layer.trainable_weights:")


def _cases():
    good = subs.correct(A, A)
    return {
        "correct": good,
        "custom_gradient": _another_answer(good),
        "untouched": subs.released(A, A),
        # part 1 -20, part 3 -30
        "sign0_float64": _float64(_sign_of_zero(good)),
        # part 1 -20, part 2 -20, part 3 -15
        "unclipped_rounded_once": _rounded_once(_unclipped_estimator(good)),
        # part 1 -20, part 2 -30, part 3 -30
        "no_estimator_trainable_only": _trainable_only(_no_estimator(good)),
        # part 2 -40, part 3 -30
        "unbinarised_byte_a_weight": _byte_a_weight(_unbinarised_kernel(good)),
        # part 2 -20
        "no_constraint": _no_constraint(good),
        # part 2 -40: the course's own layer
        "borrowed_layer": subs.set_solution(good, "binary_dense",
                                            "from course_utils.binary import BinaryDense\n"),
        # part 2 -40, though every test passes inside the notebook
        "patched_checks": subs.set_solution(good, "binary_dense", PATCHED_LAYER),
    }


# One release and one autograde batch for every a6 case: tests/conftest.py's graded_a6.
subs.register_cases(A, _cases)  # with BATCH_LIMITS["a6"]


@pytest.fixture(scope="module")
def graded(graded_a6):
    return graded_a6


def _text(graded, student, grade_id):
    return subs.cell_text(graded, student, A, grade_id)


def _passed(graded, student, grade_id):
    return subs.cell_passed(graded, student, A, grade_id)


def _failed(graded, student):
    return [g for g in PART1 + PART2 + PART3 if not _passed(graded, student, g)]


def _reveals_the_answer(graded, student, grade_ids):
    return subs.solution_lines_shown(graded, student, A, grade_ids)


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_another_honest_answer_gets_full_marks(graded):
    assert subs.score(graded, "custom_gradient") == 100
    assert "re-check" not in graded["results"]["custom_gradient"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0


def test_sign_of_zero_and_float64(graded):
    student = "sign0_float64"
    assert subs.score(graded, student) == 100 - 20 - 30
    assert _failed(graded, student) == ["test_sign_values", "test_sign_hidden", *PART3]
    text = _text(graded, student, "test_sign_values")
    assert "at x = 0" in text and "Expected: 1" in text and "Got:      0" in text, text
    assert "never 0" in text and "keras.ops.sign(0) is 0" in text
    text = _text(graded, student, "test_packed_storage")
    assert "float32, 4 bytes, not float64's 8" in text, text
    assert not _reveals_the_answer(graded, student, _failed(graded, student))


def test_an_estimator_that_does_not_clip_and_a_count_rounded_once(graded):
    student = "unclipped_rounded_once"
    assert subs.score(graded, student) == 100 - 20 - 20 - 15
    assert _failed(graded, student) == ["test_sign_gradient", "test_sign_hidden",
                                        "test_binary_dense_gradients",
                                        "test_binary_dense_hidden",
                                        "test_packed_storage_hidden"]
    text = _text(graded, student, "test_sign_gradient")
    assert "derivative of clip(x, -1, 1)" in text and "passes where |x| > 1" in text, text
    text = _text(graded, student, "test_binary_dense_gradients")
    assert "gradient reaching the inputs" in text and "(part 1)" in text, text
    # the visible model's kernels are whole bytes: only the hidden shapes tell
    text = _text(graded, student, "test_packed_storage_hidden")
    assert "round up per layer" in text or "whole bytes" in text, text
    assert "Expected: 48" in text and "Got:      47" in text, text
    assert not _reveals_the_answer(graded, student, _failed(graded, student))


def test_no_estimator_and_trainable_weights_only(graded):
    student = "no_estimator_trainable_only"
    assert subs.score(graded, student) == 100 - 20 - 30 - 30
    assert _passed(graded, student, "test_binary_dense_outputs")
    text = _text(graded, student, "test_sign_gradient")
    assert "no gradient reaches x" in text and "straight-through estimator" in text, text
    text = _text(graded, student, "test_binary_dense_gradients")
    assert "no gradient reaches the latent kernel" in text, text
    text = _text(graded, student, "test_binary_dense_training")
    assert "Expected: moved" in text and "no gradient reached it" in text, text
    text = _text(graded, student, "test_packed_storage")
    assert "non-trainable ones too" in text and "model.trainable_weights" in text, text


def test_an_unbinarised_kernel_and_a_byte_a_weight(graded):
    student = "unbinarised_byte_a_weight"
    assert subs.score(graded, student) == 100 - 40 - 30
    assert _failed(graded, student) == PART2 + PART3
    text = _text(graded, student, "test_binary_dense_outputs")
    assert "latent kernel is used as it is" in text and "sign_ste" in text, text
    text = _text(graded, student, "test_packed_storage")
    assert "1 bit, 8 to a byte" in text, text
    assert not _reveals_the_answer(graded, student, _failed(graded, student))


def test_no_constraint_fails_the_training_step(graded):
    student = "no_constraint"
    assert subs.score(graded, student) == 80
    assert _failed(graded, student) == ["test_binary_dense_training", "test_binary_dense_hidden"]
    text = _text(graded, student, "test_binary_dense_training")
    assert "largest |weight|" in text and "at most 1" in text and "constraint" in text, text


def test_the_course_s_own_layer_earns_nothing(graded):
    student = "borrowed_layer"
    # part 3's models are built from the borrowed layer too
    assert subs.score(graded, student) == 30
    assert _failed(graded, student) == PART2 + PART3
    for grade_id in PART2[:3] + PART3[:1]:
        text = _text(graded, student, grade_id)
        assert "course_utils.binary" in text and "course's reference" in text, text


def test_checks_switched_off_in_the_kernel_earn_nothing(graded):
    # Inside the notebook part 2's tests passed (the checks were no-ops there); the grading
    # process ran them again with its own checks, on what the measuring functions returned.
    student = "patched_checks"
    assert subs.score(graded, student) == 60
    assert "re-check" in graded["results"][student]["reason"]
    text = _text(graded, student, "test_binary_dense_outputs")
    assert "RecheckFailed" in text and "latent kernel is used as it is" in text, text


def test_feedback_shows_no_hidden_test_code(graded):
    subs.assert_feedback_hides_hidden_tests(graded, _cases(), A)


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / A / f"{A}.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "ops.stop_gradient(sign)",
                   "constraint=lambda", "-(-size // 8)", "(37, 9, 5, 23)"):
        assert marker not in text, marker
    assert text.count("    raise NotImplementedError()") == 5  # sign, 3 methods, the count
    for given in ("def measure_sign_ste", "def measure_binary_dense",
                  "def measure_training_step", "def storage_model"):
        assert given in text, given


# --- The checks themselves, without the pipeline: each passes on the course's reference
# and fails, with what it checked and a hint, on the slip it is there for.


def _fails(call, *phrases):
    from course_utils.grading import CheckFailed

    with pytest.raises(CheckFailed) as info:
        call()
    text = str(info.value)
    assert text.startswith("Checked:") and "Hint:" in text, text
    for phrase in phrases:
        assert phrase in text, (phrase, text)


def _measure_sign(sign):
    import tensorflow as tf

    def measure(values, upstream):
        x = tf.constant(np.asarray(values, dtype="float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            total = tf.reduce_sum(sign(x) * np.asarray(upstream, dtype="float32"))
        gradient = tape.gradient(total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
        return {"values": np.asarray(sign(x)), "gradient": np.asarray(gradient)}

    return measure


def test_the_sign_checks_tell_each_slip():
    from keras import ops

    from course_utils import binary
    from course_utils import grading as g

    x, upstream = g.ste_case((3, 4), seed=0)
    assert {0.0, 1.0, -1.0} <= set(x.ravel().tolist())
    assert np.all(np.abs(np.abs(x[np.abs(x) != 1]) - 1) >= 0.01)
    assert g.ste_case((1, 1), seed=0)[0].ravel().tolist() == [0.0]
    slope = g.clipped_identity_derivative(np.array([-2.0, -1.0, -0.5, 0.0, 0.9, 1.0, 1.5]))
    np.testing.assert_allclose(slope, [0, 0.5, 1, 1, 1, 0.5, 0], atol=1e-9)

    good = _measure_sign(binary.sign_ste)
    g.check_binary_sign(good, (4, 6), seed=0)
    g.check_straight_through(good, (4, 6), seed=0)
    g.check_straight_through(good, (1, 1), seed=3)
    _fails(lambda: g.check_binary_sign(_measure_sign(ops.sign), (4, 6)), "never 0", "at x = 0")
    _fails(lambda: g.check_binary_sign(_measure_sign(lambda x: ops.clip(x, -1, 1)), (4, 6)),
           "the clipped identity")

    def unclipped(x):
        return ops.stop_gradient(binary.binary_sign(x)) + (x - ops.stop_gradient(x))

    _fails(lambda: g.check_straight_through(_measure_sign(unclipped), (4, 6)),
           "passes where |x| > 1")
    _fails(lambda: g.check_straight_through(_measure_sign(binary.binary_sign), (4, 6)),
           "no gradient reaches x")
    _fails(lambda: g.check_binary_sign(lambda values, upstream: 1 / 0, (4, 6)),
           "ZeroDivisionError", "keras.ops")
    _fails(lambda: g.check_binary_sign(lambda values, upstream: [1.0], (4, 6)),
           "a dict", "as they were given")


def _measure_dense(layer_class):
    import tensorflow as tf

    def measure(kernel, inputs, upstream, binarize_inputs=True, use_bias=False, bias=None):
        kernel = np.asarray(kernel, dtype="float32")
        x = tf.constant(np.asarray(inputs, dtype="float32"))
        layer = layer_class(kernel.shape[1], binarize_inputs=binarize_inputs,
                            use_bias=use_bias)
        layer(x)
        layer.kernel.assign(kernel)
        if use_bias:
            layer.bias.assign(np.asarray(bias, dtype="float32"))
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x)
            total = tf.reduce_sum(outputs * np.asarray(upstream, dtype="float32"))
        gx, gw = tape.gradient(total, [x, layer.kernel])
        return {"outputs": np.asarray(outputs),
                "input_gradient": np.zeros(x.shape) if gx is None else np.asarray(gx),
                "kernel_gradient": np.zeros(kernel.shape) if gw is None else np.asarray(gw),
                "weights": [(w.name, tuple(w.shape)) for w in layer.weights]}

    return measure


def _measure_step(layer_class):
    import keras

    def measure(kernel, inputs, targets, learning_rate, binarize_inputs=True):
        kernel = np.asarray(kernel, dtype="float32")
        model_inputs = keras.Input(shape=(kernel.shape[0],))
        layer = layer_class(kernel.shape[1], binarize_inputs=binarize_inputs)
        model = keras.Model(model_inputs, layer(model_inputs))
        layer.kernel.assign(kernel)
        model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse",
                      run_eagerly=True)
        model.train_on_batch(np.asarray(inputs, dtype="float32"),
                             np.asarray(targets, dtype="float32"))
        return {"kernel": keras.ops.convert_to_numpy(layer.kernel)}

    return measure


def test_the_layer_checks_pass_the_course_s_layer_and_tell_each_slip():
    from keras import ops

    from course_utils import binary
    from course_utils import grading as g

    good = _measure_dense(binary.BinaryDense)
    for binarize, bias in [(False, False), (True, True), (False, True)]:
        g.check_binary_dense(good, 5, 3, binarize_inputs=binarize, use_bias=bias)
    g.check_binary_dense_gradients(good, 5, 3, binarize_inputs=True)
    g.check_binary_dense_gradients(good, 1, 2, batch=1, binarize_inputs=False)
    g.check_binary_training_step(_measure_step(binary.BinaryDense), 6, 4)

    class Unbinarised(binary.BinaryDense):
        def _product(self, inputs, kernel):
            return ops.matmul(inputs, self.kernel)

    class NoEstimator(binary.BinaryDense):
        def _product(self, inputs, kernel):
            return ops.matmul(inputs, binary.binary_sign(self.kernel))

    class NoConstraint(binary.BinaryDense):
        def _add_kernel(self, shape):
            super()._add_kernel(shape)
            self.kernel.constraint = None

    class AlwaysBias(binary.BinaryDense):
        def __init__(self, units, use_bias=False, **kwargs):
            super().__init__(units, use_bias=True, **kwargs)

    class RealInputs(binary.BinaryDense):
        def __init__(self, units, binarize_inputs=True, **kwargs):
            super().__init__(units, binarize_inputs=False, **kwargs)

    class CustomGradientOnVariable(binary.BinaryDense):
        def _product(self, inputs, kernel):
            import tensorflow as tf

            @tf.custom_gradient
            def sign(x):
                return binary.binary_sign(x), lambda dy: dy

            return ops.matmul(inputs, sign(self.kernel))

    _fails(lambda: g.check_binary_dense(_measure_dense(CustomGradientOnVariable), 5, 3),
           "tf.convert_to_tensor(self.kernel)")
    _fails(lambda: g.check_binary_dense(_measure_dense(Unbinarised), 5, 3),
           "latent kernel is used as it is")
    _fails(lambda: g.check_binary_dense(_measure_dense(RealInputs), 5, 3, binarize_inputs=True),
           "binarises the inputs")
    _fails(lambda: g.check_binary_dense(_measure_dense(AlwaysBias), 5, 3, use_bias=False),
           "weights of BinaryDense(3", "only when use_bias=True")
    _fails(lambda: g.check_binary_dense_gradients(_measure_dense(Unbinarised), 5, 3,
                                                  binarize_inputs=False),
           "gradient reaching the inputs")
    _fails(lambda: g.check_binary_training_step(_measure_step(NoConstraint), 6, 4),
           "largest |weight|", "constraint")
    _fails(lambda: g.check_binary_dense_gradients(_measure_dense(NoEstimator), 5, 3),
           "no gradient reaches the latent kernel")
    _fails(lambda: g.check_binary_training_step(_measure_step(NoEstimator), 6, 4),
           "no gradient reached it")
    _fails(lambda: g.check_binary_training_step(_measure_step(Unbinarised), 6, 4),
           "latent kernel after one step")


def _measure_storage(count):
    from course_utils import grading as g

    return lambda n_inputs, spec: count(g.storage_reference(n_inputs, spec))


def test_the_storage_check_names_each_miscount():
    from course_utils import binary
    from course_utils import grading as g

    spec = [("binary", 3, True), ("batchnorm",), ("binary", 3, False), ("dense", 4, True)]
    model = g.storage_reference(7, spec)
    # 21 and 9 bits: 3 and 2 bytes, packed per layer; 3.75 bytes for 30 bits together
    floats = 3 + 4 * 3 + 3 * 4 + 4
    slips = g.storage_slips(model)
    assert len(set(slips.values())) == len(slips)  # each miscount tells its own story
    assert binary.packed_size_bytes(model) == 3 + 2 + 4 * floats
    g.check_packed_storage(_measure_storage(binary.packed_size_bytes), 7, spec)
    for why, miscount in slips.items():
        if miscount != binary.packed_size_bytes(model):
            _fails(lambda m=miscount: g.check_packed_storage(lambda n, s: m, 7, spec),
                   why[:40])
    _fails(lambda: g.check_packed_storage(lambda n, s: "12", 7, spec), "str", "an int")
    _fails(lambda: g.check_packed_storage(lambda n, s: 1 / 0, 7, spec), "ZeroDivisionError")
