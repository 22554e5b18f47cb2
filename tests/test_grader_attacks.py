"""The grader under attack: every case runs the real nbgrader pipeline (collect ->
autograde -> feedback -> export) on assignment 1 in a scratch copy of the course, in one
batch. The batch must carry on, the gradebook stay intact, and the CSV tell "graded 0"
apart from "could not be graded"."""

from __future__ import annotations

import csv
import json
import os
import shutil
import sqlite3
import time
from pathlib import Path

import nbformat
import pytest
import submissions as subs

from course_utils.grader import autograde, collect, export, release

ROOT = Path(__file__).resolve().parent.parent
CELL_TIMEOUT, BUDGET = 10, 75  # the grader kernel imports Keras before the first cell
FULL, PART1 = 100.0, 45.0

LOOP = '''def conv_output_size(n, k, stride=1, padding="valid"):
    while True:
        pass
'''
DEAF_LOOP = '''import time
def pool_output_size(n, pool, stride=None):
    while True:  # swallows every interrupt the grader sends
        try:
            time.sleep(0.01)
        except KeyboardInterrupt:
            pass
'''
READ_SOLUTIONS = '''import json, os
import course_utils
_root = os.path.dirname(os.path.dirname(os.path.abspath(course_utils.__file__)))
def conv_output_size(n, k, stride=1, padding="valid"):
    source = json.load(open(os.path.join(_root, "solutions", "a1", "a1.ipynb")))
    code = next("".join(c["source"]) for c in source["cells"]
                if c["metadata"].get("nbgrader", {}).get("grade_id") == "conv_output_size")
    namespace = {}
    exec(code, namespace)
    return namespace["conv_output_size"](n, k, stride, padding)
'''
VANDAL = '''import glob, os
import course_utils
_root = os.path.dirname(os.path.dirname(os.path.abspath(course_utils.__file__)))
for path in glob.glob(os.path.join(_root, "grading", "**", "*"), recursive=True):
    try:
        os.remove(path)
    except OSError as exc:
        print("could not remove", path, exc)
try:
    open(os.path.join(_root, "grading", "gradebook.db"), "w").write("gone")
except OSError as exc:
    print("could not overwrite the gradebook:", exc)
'''
WRONG_EVERYTHING = {
    "conv_output_size": "def conv_output_size(n, k, stride=1, padding='valid'):\n    return 0",
    "pool_output_size": "def pool_output_size(n, pool, stride=None):\n    return 0",
    "conv_params": "def conv_params(k, c_in, c_out, bias=True):\n    return 0",
    "conv_macs": "def conv_macs(h_out, w_out, c_out, k, c_in):\n    return 0",
    "build_lenet5": "import keras\n\ndef build_lenet5(input_shape=(32, 32, 1), classes=10):\n"
                    "    inputs = keras.Input(input_shape)\n"
                    "    return keras.Model(inputs, keras.layers.Dense(classes)(keras.layers.Flatten()(inputs)))",
}
PATCH_HELPERS = '''import builtins, numpy.testing
import course_utils.grading as _grading
for _name in dir(_grading):
    if _name.startswith("check_"):
        setattr(_grading, _name, lambda *args, **kwargs: args[0] if args else None)
numpy.testing.assert_allclose = lambda *args, **kwargs: None
builtins.AssertionError = type("Harmless", (Exception,), {})
'''
PATCH_IPYTHON = '''def _swallow(lines):
    body = "".join(lines).splitlines()
    return ["try:\\n"] + ["    " + line + "\\n" for line in body or ["pass"]] + [
        "except BaseException:\\n", "    pass\\n"]
get_ipython().input_transformers_post.append(_swallow)
'''
PATCH_COUNT = '''import keras
_original = keras.layers.Layer.count_params
keras.Model.count_params = lambda self: 61_706
keras.layers.Conv2D.count_params = lambda self: 156 if self.name == "c1_conv" else _original(self)
'''
HIDDEN_READY_MADE = '''import functools
from course_utils.zoo import lenet as _lenet


def _keep(builder):
    def build_lenet5(input_shape=(32, 32, 1), classes=10):
        return builder(input_shape=input_shape, classes=classes)
    return build_lenet5


build_lenet5 = _keep(functools.partial(_lenet.lenet5, "classic"))
'''
NOISY_LENET = subs.solution_sources()["build_lenet5"].replace(
    "import keras\nfrom keras import layers\n", "").replace(
    '"""LeNet-5 as a functional keras.Model."""',
    '"""LeNet-5 as a functional keras.Model."""\n'
    "    import sys, warnings\n"
    "    import keras  # TensorFlow starts inside a test cell: its chatter comes now\n"
    "    from keras import layers\n"
    '    warnings.warn("a harmless warning")\n'
    '    print("debug output", file=sys.stderr)')


def _cases():
    good = subs.correct()
    cases = {
        "correct": good,
        "untouched": subs.released(),
        "wrong_architecture": subs.replace_in_solution(
            good, "build_lenet5", 'layers.Conv2D(6, 5, activation="tanh", name="c1_conv")',
            'layers.Conv2D(6, 5, padding="same", activation="tanh", name="c1_conv")'),
        "edited_tests": _edit_tests(subs.set_solution(
            good, "conv_output_size", "def conv_output_size(n, k, stride=1, padding='valid'):\n"
            "    return 0")),
        "deleted_tests": _delete_tests(subs.set_solution(
            good, "conv_output_size", "def conv_output_size(n, k, stride=1, padding='valid'):\n"
            "    return 0")),
        "infinite_loop": subs.set_solution(good, "conv_output_size", LOOP),
        "deaf_infinite_loop": subs.set_solution(good, "pool_output_size", DEAF_LOOP),
        "kernel_crash": subs.insert_cell_after(good, "test_conv_macs_hidden",
                                               "import os\nos._exit(1)"),
        "memory_blowup": subs.replace_in_solution(
            good, "conv_params", '"""Learned parameters of a k x k convolution."""',
            '"""Learned parameters of a k x k convolution."""\n    hog = bytearray(64 * 2**30)'),
        "gigantic_output": subs.insert_cell_after(
            good, "conv_params", 'print("x" * 50_000_000)\n'
            'from IPython.display import Image, display\n'
            'display({"image/png": "iVBOR" + "A" * 8_000_000}, raw=True)'),
        "reads_solutions": subs.set_solution(good, "conv_output_size", READ_SOLUTIONS),
        "vandal": subs.insert_cell_after(good, "conv_output_size", VANDAL),
        "stderr_noise": subs.set_solution(good, "build_lenet5", NOISY_LENET),
        "hidden_ready_made": subs.set_solution(good, "build_lenet5", HIDDEN_READY_MADE),
        "patches_helpers": subs.insert_cell_after(_wrong_everything(), "title", PATCH_HELPERS),
        "patches_ipython": subs.insert_cell_after(_wrong_everything(), "title", PATCH_IPYTHON),
        "patches_count_params": subs.insert_cell_after(
            subs.replace_in_solution(good, "build_lenet5",
                                     'layers.Conv2D(6, 5, activation="tanh", name="c1_conv")',
                                     'layers.Conv2D(6, 5, activation="tanh", use_bias=False, '
                                     'name="c1_conv")'),
            "build_lenet5", PATCH_COUNT),
    }
    return cases


def _wrong_everything():
    nb = subs.released()
    for grade_id, source in WRONG_EVERYTHING.items():
        nb = subs.set_solution(nb, grade_id, source)
    return nb


def _edit_tests(nb):
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid == "test_conv_output_size":
            cell.source = "# the student emptied this test"
        elif gid == "test_conv_output_size_hidden":
            cell.source = "print('all good')"
    return nb


def _delete_tests(nb):
    nb.cells = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") not in
                ("test_conv_output_size", "test_conv_output_size_hidden")]
    return nb


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A scratch course with every case collected, graded, given feedback and exported."""
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "solutions", root / "solutions")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    release.release(root, ["a1"])  # registers the assignment in this course's gradebook
    inbox = root / "inbox"
    for student, nb in _cases().items():
        (inbox / student).mkdir(parents=True)
        nbformat.write(nb, inbox / student / "a1.ipynb")
    # A file renamed by Colab, graded like any other. (How browsers and LMSs rename
    # files is collect's business alone: test_autograde_pipeline.py's collect tests.)
    (inbox / "colab_copy").mkdir()
    nbformat.write(subs.correct(), inbox / "colab_copy" / "Copy of a1.ipynb")
    (inbox / "invalid_json").mkdir()
    (inbox / "invalid_json" / "a1.ipynb").write_text('{"cells": [ this is not json')
    (inbox / "not_a_notebook").mkdir()
    (inbox / "not_a_notebook" / "a1.ipynb").write_text(json.dumps({"hello": "world"}))
    report = collect.collect(root, "a1", inbox)
    start = time.monotonic()
    # Two workers side by side: each grades half the class in its own gradebook copy,
    # merged back afterwards; every assertion below is also about that merge.
    results = autograde.autograde(root, "a1", cell_timeout=CELL_TIMEOUT, budget=BUDGET,
                                  jobs=2, verbose=True)
    seconds = time.monotonic() - start
    export.feedback(root, "a1")
    grades = export.export(root)
    with open(grades) as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)
                if row["assignment"] == "a1"}
    return {"root": root, "report": report, "results": results, "rows": rows,
            "seconds": seconds}


def score(course, student):
    row = course["rows"][student]
    assert row["status"] == "graded", f"{student}: {row}"
    return float(row["score"])


def autograded_cell(course, student, grade_id):
    return subs.graded_cell(course, student, "a1", grade_id)


outputs_text = subs.outputs_text


def test_correct_solution_gets_full_marks(course):
    assert score(course, "correct") == FULL


def test_untouched_release_gets_zero_and_is_told_what_to_do(course):
    assert score(course, "untouched") == 0
    text = outputs_text(autograded_cell(course, "untouched", "test_conv_output_size"))
    assert "NotImplementedError" in text


def test_wrong_architecture_gets_partial_credit_and_a_hint(course):
    got = score(course, "wrong_architecture")
    assert PART1 < got < FULL
    text = outputs_text(autograded_cell(course, "wrong_architecture", "test_lenet5_shapes"))
    assert "Checked:  output shape of layer 'c1_conv'" in text
    assert "Expected: (28, 28, 6)" in text and "Got:      (32, 32, 6)" in text
    assert "did you mean padding='valid'" in text


@pytest.mark.parametrize("student", ["edited_tests", "deleted_tests"])
def test_tampered_test_cells_are_restored_and_run(course, student):
    assert score(course, student) == FULL - 15  # conv_output_size is wrong: 5 + 10 points
    restored = autograded_cell(course, student, "test_conv_output_size")
    assert "check_value" in "".join(restored["source"])
    assert "CheckFailed" in outputs_text(restored)


def test_infinite_loop_costs_only_the_cells_it_blocks(course):
    assert score(course, "infinite_loop") == FULL - 15
    assert course["results"]["infinite_loop"]["seconds"] < BUDGET + 60


def test_loop_that_ignores_interrupts_is_stopped_by_the_budget(course):
    result = course["results"]["deaf_infinite_loop"]
    assert result["seconds"] < BUDGET + 90
    assert "time budget" in result["reason"]
    got = score(course, "deaf_infinite_loop")
    assert 15 <= got < PART1  # conv_output_size counted; what came after the loop did not


def test_kernel_crash_keeps_earlier_grades(course):
    assert score(course, "kernel_crash") == PART1
    assert "kernel died" in course["results"]["kernel_crash"]["reason"]


def test_memory_blowup_fails_only_its_own_part(course):
    assert score(course, "memory_blowup") == FULL - 10
    assert "MemoryError" in outputs_text(autograded_cell(course, "memory_blowup",
                                                         "test_conv_params"))


def test_gigantic_outputs_are_cut(course):
    assert score(course, "gigantic_output") == FULL
    path = course["root"] / "grading" / "autograded" / "gigantic_output" / "a1" / "a1.ipynb"
    assert path.stat().st_size < 1_000_000
    html = course["root"] / "grading" / "feedback" / "gigantic_output" / "a1" / "a1.html"
    assert html.stat().st_size < 3_000_000


def _sandboxed():
    from course_utils.grader.kernel import _nobody_can_run_python, landlock_abi

    return bool(landlock_abi()) or (os.geteuid() == 0 and _nobody_can_run_python())


needs_sandbox = pytest.mark.skipif(
    not _sandboxed(), reason="no Landlock here and no way to switch users: docs/grading.md "
    "says the submission then runs with the grader's rights")


@needs_sandbox
def test_submission_cannot_read_the_solutions(course):
    # conv_output_size fails (15 points); and since it runs text as code (exec of what it
    # read), no function of this notebook can be vouched for as the student's own work:
    # the LeNet-5 tests (55 points) fail the own-work check in the re-check.
    assert score(course, "reads_solutions") == FULL - 15 - 55
    text = outputs_text(autograded_cell(course, "reads_solutions", "test_conv_output_size"))
    assert "PermissionError" in text


@needs_sandbox
def test_submission_cannot_damage_the_gradebook_or_other_work(course):
    assert score(course, "vandal") == FULL
    root = course["root"]
    db = root / "grading" / "gradebook.db"
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert (root / "grading" / "submitted" / "correct" / "a1" / "a1.ipynb").exists()
    assert score(course, "correct") == FULL


def test_stderr_noise_never_zeroes_a_correct_answer(course):
    assert score(course, "stderr_noise") == FULL
    text = outputs_text(autograded_cell(course, "stderr_noise", "test_lenet5_model"))
    assert "[stderr]" in text  # the noise is shown, as ordinary output


def test_a_ready_made_network_kept_out_of_sight_is_still_seen(course):
    # The builder's own code names nothing: the course's LeNet-5 is held in a closure,
    # wrapped in functools.partial. It would pass every LeNet-5 test if it were allowed.
    assert score(course, "hidden_ready_made") == PART1
    text = outputs_text(autograded_cell(course, "hidden_ready_made", "test_lenet5_model"))
    assert "course_utils.zoo.lenet" in text and "build the network from keras.layers" in text


@pytest.mark.parametrize("student", ["patches_helpers", "patches_ipython"])
def test_monkeypatching_the_checks_does_not_pay(course, student):
    # Only "build_lenet5 returns a Keras model" (5 points) is true of this submission; with
    # an input transformer of its own, IPython may run code other than the cells' source,
    # so not even that builder can be vouched for as the student's own work.
    assert score(course, student) == (5 if student == "patches_helpers" else 0)
    assert "failed the re-check" in course["results"][student]["reason"]
    cell = autograded_cell(course, student, "test_conv_output_size")
    assert "RecheckFailed" in outputs_text(cell)


def test_lying_count_params_is_caught_by_the_recheck(course):
    assert score(course, "patches_count_params") == FULL - 10 - 20
    reason = course["results"]["patches_count_params"]["reason"]
    assert "test_lenet5_params" in reason
    text = outputs_text(autograded_cell(course, "patches_count_params", "test_lenet5_params"))
    assert "parameters of layer 'c1_conv'" in text and "Expected: 156" in text


def test_a_notebook_renamed_by_colab_is_matched_and_graded(course):
    assert score(course, "colab_copy") == FULL
    notes = {r.student: r.note for r in course["report"] if r.notebook}
    assert "renamed" in notes["colab_copy"]


@pytest.mark.parametrize("student", ["invalid_json", "not_a_notebook"])
def test_broken_files_are_reported_as_not_graded(course, student):
    row = course["rows"][student]
    assert row["status"] == "could not be graded" and row["score"] == ""
    assert "not a valid notebook" in row["reason"]


def test_csv_tells_zero_from_not_graded(course):
    statuses = {r["status"] for r in course["rows"].values()}
    assert statuses == {"graded", "could not be graded"}
    assert course["rows"]["untouched"]["score"] == "0.0"


def test_feedback_shows_results_but_not_hidden_tests(course):
    root = course["root"]
    hidden_source = nbformat.read(root / "solutions" / "a1" / "a1.ipynb", as_version=4)
    hidden_lines = [line.strip() for cell in hidden_source.cells
                    if "BEGIN HIDDEN TESTS" in cell.source
                    for line in cell.source.split("### BEGIN HIDDEN TESTS")[1].splitlines()
                    if len(line.strip()) > 25 and "import" not in line]
    assert hidden_lines
    for html in (root / "grading" / "feedback").glob("*/a1/a1.html"):
        text = html.read_text()
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [line for line in hidden_lines if line in text]
        assert not leaked, f"{html.parent.parent.name}: {leaked[:2]}"
    wrong = (root / "grading" / "feedback" / "wrong_architecture" / "a1" / "a1.html").read_text()
    assert "did you mean padding=" in wrong


def test_release_holds_no_hidden_tests_or_solutions():
    text = (ROOT / "assignments" / "a1" / "a1.ipynb").read_text()
    for marker in ("BEGIN HIDDEN TESTS", "BEGIN SOLUTION", "(299, 3)", "return (n - pool)"):
        assert marker not in text


# ------------------------------------------------- assignment 3: is it the student's own work?
# Honest blocks (60 points) and a resnet50 that is really keras.applications.ResNet50, hidden
# one way or another (test_own_work.A3_CHEATS). Whatever the submission does to its kernel,
# the own-work check is decided from its source in the grading process: 60 each. One batch.
#
# Through the pipeline go the three ways of hiding it that once earned 85 to 100 points (a
# check patched in the kernel, a computed import, a network built at module level), and a
# cell that changes keras under every function. The other cheats of A3_CHEATS reach the
# same decision (own_work.Submission.findings, the code the re-check calls): each is
# checked there, in test_own_work.py, without spending a kernel on it.

A3_PHRASES = {
    "patched_checks": "keras.applications",
    "computed_import": "importlib",
    "module_level_clone": "reached through _base",
}
PATCH_KERAS_MODEL = '''import keras
_Model = keras.Model
keras.Model = lambda inputs, outputs, **kw: keras.applications.ResNet50(
    weights=None, input_shape=tuple(inputs.shape[1:]), classes=outputs.shape[-1])
'''


def _a3_cases():
    from test_own_work import A3_CHEATS

    good = subs.correct("a3", "a3")
    cases = {f"a3_{case}": subs.set_solution(good, "resnet50", A3_CHEATS[case])
             for case in A3_PHRASES}
    # Changing keras under every function: none of them can be vouched for.
    cases["a3_patches_keras"] = subs.insert_cell_after(good, "conv_block", PATCH_KERAS_MODEL)
    return cases


# Graded in the session's one a3 batch, with test_assignment3.py's cases (conftest's
# graded_a3): one release and one autograde run for both modules.
subs.register_cases("a3", _a3_cases)  # with BATCH_LIMITS["a3"]


@pytest.fixture(scope="module")
def a3_course(graded_a3):
    return graded_a3


@pytest.mark.parametrize("case", sorted(A3_PHRASES))
def test_a_hidden_ready_made_resnet_earns_only_the_honest_blocks(a3_course, case):
    student = f"a3_{case}"
    assert subs.score(a3_course, student) == 60, a3_course["results"][student]
    text = subs.cell_text(a3_course, student, "a3", "test_resnet50_shapes")
    assert "how resnet50 builds its network" in text, text
    assert A3_PHRASES[case] in text, text
    assert "build the network from keras.layers yourself" in text
    feedback = (a3_course["root"] / "grading" / "feedback" / student / "a3" /
                "a3.html").read_text()
    assert "build the network from keras.layers yourself" in feedback


def test_checks_patched_in_the_kernel_are_not_asked(a3_course):
    # Inside the notebook the patched check passed; the grading process decided.
    assert "re-check" in a3_course["results"]["a3_patched_checks"]["reason"]
    text = subs.cell_text(a3_course, "a3_patched_checks", "a3", "test_resnet50_shapes")
    assert "RecheckFailed" in text


def test_changing_keras_under_every_function_vouches_for_none(a3_course):
    assert subs.score(a3_course, "a3_patches_keras") == 0
    text = subs.cell_text(a3_course, "a3_patches_keras", "a3", "test_identity_block_shapes")
    assert "keras.applications (in a change to keras.Model)" in text
