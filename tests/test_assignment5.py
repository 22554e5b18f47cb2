"""Assignment 5 through the real pipeline: the solution earns full marks and the release 0;
plausible slips (vertical flips, rescaling inside the augmentation pipeline, a seed that is
not passed on, an extractor left unfrozen, batch normalisation left trainable, the whole base
unfrozen, the head's learning rate for fine-tuning, ``layers[-n:]`` with ``n = 0``) lose the
points of the tests that see them, with feedback that names the problem and not the answer;
and a kernel whose checks were switched off earns nothing for what only passed there: every
point is decided in the grading process, on models rebuilt there, by one step of training
run there.

Mistakes of different parts are combined in one submission where they cannot interact, so
that the batch stays small: each part's tests see only that part's functions."""

from pathlib import Path

import pytest
import submissions as subs

ROOT = Path(__file__).resolve().parent.parent
A = "a5"

PART1 = ["test_augmentation_shapes", "test_augmentation_random", "test_augmentation_hidden"]
PART2 = ["test_feature_extractor", "test_classifier_head", "test_feature_extraction_hidden"]
PART3 = ["test_fine_tuning_flags", "test_fine_tuning_step", "test_fine_tuning_hidden"]

# Part 3's two slips at once, and the kernel's checks switched off beforehand: inside the
# notebook every test passes; only the grading process can tell.
PATCHED_FINE_TUNING = '''import course_utils.grading as _grading

_grading.check_trainable = lambda *args, **kwargs: None
_grading.check_training_step = lambda *args, **kwargs: None
_grading.check_learning_rate = lambda *args, **kwargs: None


def fine_tuning_model(input_shape=(32, 32, 3), classes=10, depth=3, n_trainable=4,
                      head_learning_rate=1e-3):
    base = pretrained_base(input_shape, depth)
    inputs = keras.Input(shape=input_shape)
    x = base(inputs)
    x = layers.GlobalAveragePooling2D(name="features")(x)
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(head_learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model
'''


def _replace(nb, grade_id, old, new):
    return subs.replace_in_solution(nb, grade_id, old, new)


def _vertical_flips(nb):
    return _replace(nb, "augmentation_pipeline", 'RandomFlip("horizontal"',
                    'RandomFlip("horizontal_and_vertical"')


def _rescales(nb):
    """Normalisation put into the augmentation pipeline: it acts at inference too."""
    return _replace(nb, "augmentation_pipeline", "keras.Sequential([\n",
                    "keras.Sequential([\n        layers.Rescaling(1 / 255),\n")


def _seed_not_passed(nb):
    nb = _replace(nb, "augmentation_pipeline", 'fill_mode="constant", seed=seed,',
                  'fill_mode="constant",')
    return _replace(nb, "augmentation_pipeline", "seed=None if seed is None else seed + 1, ", "")


def _extractor_not_frozen(nb):
    return _replace(nb, "feature_extractor", "    base.trainable = False\n", "")


def _head_default_rate(nb):
    """Adam() at its default rate, 1e-3: right for the visible test, not for others."""
    return _replace(nb, "feature_extractor", "keras.optimizers.Adam(learning_rate)",
                    "keras.optimizers.Adam()")


def _batch_norm_trains(nb):
    nb = _replace(nb, "fine_tuning_model", "base(inputs, training=False)", "base(inputs)")
    return _replace(nb, "fine_tuning_model",
                    " and not isinstance(layer, layers.BatchNormalization)", "")


def _whole_base_unfrozen(nb):
    return _replace(nb, "fine_tuning_model", "index >= first and ", "")


def _head_rate_for_fine_tuning(nb):
    return _replace(nb, "fine_tuning_model", "Adam(head_learning_rate / 10)",
                    "Adam(head_learning_rate)")


def _negative_slice(nb):
    """The idiom of Keras's guide, ``for layer in base.layers[:-n]``: wrong for n = 0."""
    old = ('    first = len(base.layers) - n_trainable\n'
           '    for index, layer in enumerate(base.layers):\n'
           '        layer.trainable = index >= first and not isinstance(layer, '
           'layers.BatchNormalization)\n')
    new = ('    for layer in base.layers[:-n_trainable]:\n'
           '        layer.trainable = False\n'
           '    for layer in base.layers:\n'
           '        if isinstance(layer, layers.BatchNormalization):\n'
           '            layer.trainable = False\n')
    return _replace(nb, "fine_tuning_model", old, new)


def _cases():
    good = subs.correct(A, A)
    return {
        "correct": good,
        "untouched": subs.released(A, A),
        # part 1 -20, part 2 -20, part 3 -40
        "flips_unfrozen_bn": _batch_norm_trains(_extractor_not_frozen(_vertical_flips(good))),
        # part 1 -20, part 3 -40
        "rescales_whole_base": _whole_base_unfrozen(_rescales(good)),
        # part 1 -20, part 2 -10, part 3 -25
        "seed_rates": _head_rate_for_fine_tuning(_head_default_rate(_seed_not_passed(good))),
        # part 3 -10
        "negative_slice": _negative_slice(good),
        # part 3 -40, though every test passes inside the notebook
        "patched_checks": subs.set_solution(good, "fine_tuning_model", PATCHED_FINE_TUNING),
    }


# One release and one autograde batch for every a5 case: tests/conftest.py's graded_a5.
subs.register_cases(A, _cases)  # with BATCH_LIMITS["a5"]


@pytest.fixture(scope="module")
def graded(graded_a5):
    return graded_a5


def _text(graded, student, grade_id):
    return subs.cell_text(graded, student, A, grade_id)


def _passed(graded, student, grade_id):
    return subs.cell_passed(graded, student, A, grade_id)


def _reveals_the_answer(graded, student, grade_ids):
    return subs.solution_lines_shown(graded, student, A, grade_ids)


def test_solution_gets_full_marks_and_passes_the_recheck(graded):
    assert subs.score(graded, "correct") == 100
    assert "re-check" not in graded["results"]["correct"].get("reason", "")


def test_untouched_release_gets_zero(graded):
    assert subs.score(graded, "untouched") == 0


def test_vertical_flips_unfrozen_extractor_and_trainable_batch_norm(graded):
    student = "flips_unfrozen_bn"
    assert subs.score(graded, student) == 100 - 20 - 20 - 40
    assert _passed(graded, student, "test_augmentation_shapes")
    assert _passed(graded, student, "test_classifier_head")
    text = _text(graded, student, "test_augmentation_random")
    assert "upside down" in text and "RandomFlip('horizontal')" in text, text
    text = _text(graded, student, "test_feature_extractor")
    assert "trainable weights of feature_extractor" in text and "stage1_conv/kernel" in text
    assert "freeze the base as a whole" in text
    text = _text(graded, student, "test_fine_tuning_flags")
    assert "should be frozen: stage3_bn" in text and "batch normalisation stays frozen" in text, text
    text = _text(graded, student, "test_fine_tuning_step")
    assert "'stage3_bn'" in text and "moving_mean" in text and "training=False" in text, text
    assert not _reveals_the_answer(graded, student, PART1[1:] + PART2[::2] + PART3)


def test_rescaling_in_the_pipeline_and_the_whole_base_unfrozen(graded):
    student = "rescales_whole_base"
    assert subs.score(graded, student) == 100 - 20 - 40
    assert _passed(graded, student, "test_augmentation_random")  # it does augment
    text = _text(graded, student, "test_augmentation_shapes")
    assert "inference mode (training=False)" in text and "the images unchanged" in text, text
    assert "Scaling or normalising belongs in the model" in text
    text = _text(graded, student, "test_fine_tuning_flags")
    assert "should be frozen: stage1_conv, stage2_conv" in text, text
    text = _text(graded, student, "test_fine_tuning_step")
    assert "'stage1_conv'" in text and "changed: kernel" in text and "stay frozen" in text


def test_seed_not_passed_and_learning_rates(graded):
    student = "seed_rates"
    assert subs.score(graded, student) == 100 - 20 - 10 - 25
    text = _text(graded, student, "test_augmentation_random")
    assert "two pipelines made with seed=1" in text and "pass the seed" in text, text
    assert _passed(graded, student, "test_classifier_head")  # Adam's default is 1e-3
    text = _text(graded, student, "test_feature_extraction_hidden")
    assert "learning rate of classifier_head(128, 5, learning_rate=0.0003)" in text, text
    assert _passed(graded, student, "test_fine_tuning_flags")
    text = _text(graded, student, "test_fine_tuning_step")
    assert "Expected: 0.0001" in text and "Got:      0.001" in text, text
    assert "ten times smaller" in text


def test_a_negative_slice_fails_only_n_trainable_zero(graded):
    student = "negative_slice"
    assert subs.score(graded, student) == 90
    text = _text(graded, student, "test_fine_tuning_hidden")
    assert "n_trainable=0" in text and "should be frozen: stage1_conv, stage2_conv, stage3_conv" in text
    assert "[-0:]" in text


def test_checks_switched_off_in_the_kernel_earn_nothing(graded):
    # Inside the notebook part 3's tests passed (the checks were no-ops there); the grading
    # process ran them again with its own checks, on the model rebuilt from its config.
    student = "patched_checks"
    assert subs.score(graded, student) == 60
    assert "re-check" in graded["results"][student]["reason"]
    text = _text(graded, student, "test_fine_tuning_flags")
    assert "RecheckFailed" in text and "should be frozen: stage1_conv" in text, text


def test_feedback_shows_no_hidden_test_code(graded):
    subs.assert_feedback_hides_hidden_tests(graded, _cases(), A)


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / A / f"{A}.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "index >= first",
                   "model.compile(optimizer=keras.optimizers.Adam(learning_rate)",
                   "99_063"):
        assert marker not in text, marker
    assert text.count("    raise NotImplementedError()") == 4  # the four functions
    assert "def pretrained_base" in text  # the base students are given


# --- The checks themselves, without the pipeline: each passes on the right behaviour and
# fails, with what it checked and a hint, on the slip it is there for.


def _fails(call, *phrases):
    from course_utils.grading import CheckFailed

    with pytest.raises(CheckFailed) as info:
        call()
    text = str(info.value)
    assert text.startswith("Checked:") and "Hint:" in text, text
    for phrase in phrases:
        assert phrase in text, (phrase, text)


def test_the_augmentation_checks_tell_each_slip():
    import keras

    from course_utils import grading as g

    def pipeline(*extra, flip="horizontal", seed=0):
        return keras.Sequential([*extra, keras.layers.RandomTranslation(
            0.125, 0.125, fill_mode="constant", seed=seed),
            keras.layers.RandomFlip(flip, seed=seed)])

    good = pipeline()
    for shape in [(4, 28, 28, 1), (2, 17, 23, 5)]:
        g.check_keeps_shape(good, shape, "p")
        g.check_identity_at_inference(good, shape, "p")
    g.check_changes_in_training(good, (8, 28, 28, 1), "p")
    g.check_flips(good, (64, 28, 28, 1), "p")
    g.check_shifts(pipeline(seed=1), (64, 28, 28, 1), "p")
    g.check_reproducible(pipeline(seed=3), pipeline(seed=3), (4, 20, 20, 1), "p")
    g.check_reproducible(pipeline(seed=3), pipeline(seed=4), (4, 20, 20, 1), "p", same=False)
    _fails(lambda: g.check_identity_at_inference(pipeline(keras.layers.Rescaling(0.5)),
                                                 (2, 8, 8, 1), "p"), "the images unchanged")
    _fails(lambda: g.check_keeps_shape(keras.Sequential([keras.layers.RandomCrop(6, 6)]),
                                       (2, 8, 8, 1), "p"), "(2, 6, 6, 1)")
    _fails(lambda: g.check_keeps_shape("not a pipeline", (2, 8, 8, 1), "p"), "Sequential")
    _fails(lambda: g.check_flips(pipeline(flip="horizontal_and_vertical"), (64, 28, 28, 1),
                                 "p"), "upside down")
    _fails(lambda: g.check_flips(keras.Sequential([keras.layers.RandomTranslation(
        0.1, 0.1, seed=0)]), (64, 28, 28, 1), "p"), "no image mirrored")
    _fails(lambda: g.check_shifts(keras.Sequential([keras.layers.RandomFlip(
        "horizontal", seed=0)]), (64, 28, 28, 1), "p"), "never moves")
    _fails(lambda: g.check_shifts(keras.Sequential([keras.layers.RandomTranslation(
        0.4, 0.4, fill_mode="constant", seed=0)]), (64, 28, 28, 1), "p"), "how far")
    _fails(lambda: g.check_reproducible(pipeline(seed=None), pipeline(seed=None),
                                        (4, 20, 20, 1), "p"), "pass the seed")
    _fails(lambda: g.check_changes_in_training(keras.Sequential([keras.layers.Identity()]),
                                               (4, 8, 8, 1), "p"), "every image unchanged")


def _base(depth=2):
    import keras
    from keras import layers

    inputs = keras.Input((16, 16, 3))
    x = inputs
    for stage in range(1, depth + 1):
        x = layers.Conv2D(4, 3, padding="same", use_bias=False, name=f"stage{stage}_conv")(x)
        x = layers.BatchNormalization(name=f"stage{stage}_bn")(x)
        x = layers.ReLU(name=f"stage{stage}_relu")(x)
    return keras.Model(inputs, x, name="base")


def _model(base, training=False, rate=1e-4):
    import keras
    from keras import layers

    inputs = keras.Input((16, 16, 3))
    x = layers.GlobalAveragePooling2D(name="features")(base(inputs, training=training))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax", name="predictions")(x))
    model.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy")
    return model


def test_the_training_checks_tell_each_slip():
    from course_utils import grading as g

    base = _base()
    for layer in base.layers:
        layer.trainable = layer.name == "stage2_conv"
    model = _model(base)
    g.check_trainable(model, "m", trainable=["stage2_conv", "predictions"],
                      frozen=["stage1_conv", "stage1_bn", "stage2_bn"])
    g.check_learning_rate(model, 1e-4, "m")
    g.check_training_step(model, (4, 16, 16, 3), 3, "m", changed=["stage2_conv", "predictions"],
                          unchanged=["stage1_conv"])
    _fails(lambda: g.check_learning_rate(model, 1e-3, "m"), "0.001", "0.0001")
    _fails(lambda: g.check_trainable(model, "m", trainable=["stage1_conv"]),
           "frozen, but should train: stage1_conv")
    _fails(lambda: g.check_trainable(model, "m", frozen=["nope"]), "a layer named 'nope'")

    loose = _base()  # everything trainable, and batch norm in training mode
    model = _model(loose, training=None)
    _fails(lambda: g.check_trainable(model, "m", frozen=["stage1_bn"]),
           "should be frozen: stage1_bn", "batch normalisation stays frozen")
    _fails(lambda: g.check_training_step(_model(_base(), training=None), (4, 16, 16, 3), 3, "m",
                                         changed=["predictions"]), "'stage1_bn'", "moving_mean")
    _fails(lambda: g.check_training_step(_model(_base()), (4, 16, 16, 3), 3, "m",
                                         unchanged=["stage1_conv"]), "stay frozen")
    uncompiled = _model(_base())
    uncompiled.optimizer = None
    _fails(lambda: g.check_training_step(uncompiled, (4, 16, 16, 3), 3, "m"), "not compiled")


def test_the_feature_extraction_checks_tell_each_slip():
    import keras

    from course_utils import grading as g

    frozen = _base()
    frozen.trainable = False
    extractor = keras.Model(frozen.inputs[0], keras.layers.GlobalAveragePooling2D()(frozen.output))
    g.check_no_trainable_weights(extractor, "e")
    g.check_inference_mode(extractor, (4, 16, 16, 3), "e")
    loose = _base()
    extractor = keras.Model(loose.inputs[0], keras.layers.GlobalAveragePooling2D()(loose.output))
    _fails(lambda: g.check_no_trainable_weights(extractor, "e"), "stage1_conv/kernel",
           "freeze the base as a whole")
    _fails(lambda: g.check_inference_mode(extractor, (4, 16, 16, 3), "e"),
           "moving statistics", "training=False")
