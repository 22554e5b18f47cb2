"""The own-work check read from a notebook's source (course_utils.grader.own_work), case by
case, without a kernel: the decision the re-check takes in the grading process. Three of
the cheats (those the once-trusted kernel let earn 85 to 100 points) also go through the
real pipeline in test_grader_attacks.py, the ``a3_*`` cases."""

from __future__ import annotations

import nbformat
import pytest
import submissions as subs

from course_utils.grader.own_work import Submission, function_findings

SIGNATURE = "def resnet50(input_shape=(224, 224, 3), classes=1000):\n"
CALL = "(weights=None, input_shape=input_shape, classes=classes)"

#: A ResNet-50 that is really keras.applications.ResNet50, each hidden another way: the
#: source of assignment 3's ``resnet50`` cell (the blocks stay honest).
A3_CHEATS = {
    "patched_checks": (
        "import keras\nimport course_utils.grading as _grading\n"
        "_grading.code_origins = lambda function, _seen=None: set()\n"
        "_grading.check_own_work = lambda *args, **kwargs: None\n\n"
        + SIGNATURE + f"    return keras.applications.ResNet50{CALL}\n"),
    "computed_import": (
        "import importlib\n\n" + SIGNATURE
        + '    module = importlib.import_module("keras." + "appli" + "cations")\n'
        + f'    return getattr(module, "Res" + "Net50"){CALL}\n'),
    "module_level_clone": (
        "import keras\n_base = keras.applications.ResNet50(weights=None)\n\n" + SIGNATURE
        + "    return keras.models.clone_model(_base)\n"),
    "dunder_import": (
        SIGNATURE + '    keras = __import__("keras")\n'
        + f'    return getattr(keras, "appli" + "cations").ResNet50{CALL}\n'),
    "exec_string": (
        'exec("' + SIGNATURE.replace("\n", "\\n") + '    import keras\\n'
        + f'    return keras.applications.ResNet50{CALL}\\n")\n'),
    "eval_inside": (
        "import keras\n\n" + SIGNATURE
        + f'    return eval("keras.applications.ResNet50"){CALL}\n'),
    "sys_modules": (
        "import sys\n\n" + SIGNATURE
        + f'    return sys.modules["keras." + "applications"].ResNet50{CALL}\n'),
    "globals_lookup": (
        "from keras.applications import ResNet50 as _ready\n\n" + SIGNATURE
        + f'    return globals()["_re" + "ady"]{CALL}\n'),
    "from_json": None,  # filled in by from_json_cheat(): it needs a ResNet-50's config
}


def from_json_cheat(blob: str) -> str:
    """A ResNet-50 rebuilt from its saved configuration, kept compressed so that no
    forbidden word is in the notebook."""
    return ("import base64, zlib\nimport keras\n\n" + f"_BLOB = {blob!r}\n\n" + SIGNATURE
            + "    text = zlib.decompress(base64.b64decode(_BLOB)).decode()\n"
            + "    return keras.models.model_from_json(text)\n")


def _a3(source_of_resnet50: str, extra_cells=()) -> Submission:
    nb = subs.set_solution(subs.correct("a3", "a3"), "resnet50", source_of_resnet50)
    for after, source in extra_cells:
        nb = subs.insert_cell_after(nb, after, source)
    return Submission.from_notebook(nb)


def _text(findings) -> str:
    return "\n".join(f.describe() for f in findings)


@pytest.fixture(scope="module")
def honest():
    return Submission.from_notebook(subs.correct("a3", "a3"))


def test_honest_solutions_are_own_work(honest):
    for name in ("identity_block", "conv_block", "resnet50"):
        assert honest.findings(name) == []
    for assignment, names in (("a1", ["build_lenet5"]),
                              ("a2", ["vgg_block", "inception_module", "small_googlenet"]),
                              ("a4", ["depthwise_separable_block", "inverted_residual_block",
                                      "mobilenet_v2"]),
                              ("a5", ["augmentation_pipeline", "feature_extractor",
                                      "classifier_head", "fine_tuning_model"])):
        sub = Submission.from_notebook(subs.correct(assignment, assignment))
        assert all(sub.findings(n) == [] for n in names), assignment


@pytest.mark.parametrize("case, phrase", [
    ("patched_checks", "keras.applications"),
    ("computed_import", "importlib"),
    ("module_level_clone", "keras.applications (reached through _base)"),
    ("dunder_import", "__import__"),
    ("exec_string", "keras.applications"),
    ("eval_inside", "eval"),
    ("sys_modules", "sys.modules"),
    ("globals_lookup", "globals"),
])
def test_each_cheat_fails_only_the_function_that_cheats(case, phrase):
    sub = _a3(A3_CHEATS[case])
    text = _text(sub.findings("resnet50"))
    assert phrase in text, text
    assert "code cell" in text  # where it was found
    assert sub.findings("identity_block") == [] and sub.findings("conv_block") == []


# Assignment 4's ready-made blocks, each under a name of the student's (the pipeline's own
# cases are in test_assignment4.py): the zoo's MobileNet v1 block, Keras's private blocks.
A4_SEPARABLE = "def depthwise_separable_block(x, filters, strides, prefix):\n"


@pytest.mark.parametrize("source, phrase", [
    ("from course_utils.zoo.mobilenet import depthwise_separable_block as _v1\n" + A4_SEPARABLE
     + "    return _v1(x, filters, 1, strides=strides)\n", "course_utils.zoo.mobilenet"),
    ("from keras.src.applications import mobilenet as _m\n" + A4_SEPARABLE
     + "    return _m._depthwise_conv_block(x, filters, 1.0, strides=(strides, strides))\n",
     "keras.src.applications"),
    ("import keras\n" + A4_SEPARABLE + "    m = keras.applications.MobileNetV2(weights=None)\n"
     "    return m.get_layer(prefix + 'project_BN').output\n", "keras.applications"),
])
def test_ready_made_mobilenet_blocks_are_not_own_work(source, phrase):
    nb = subs.set_solution(subs.correct("a4", "a4"), "depthwise_separable_block", source)
    sub = Submission.from_notebook(nb)
    for name in ("depthwise_separable_block", "inverted_residual_block", "mobilenet_v2"):
        text = _text(sub.findings(name))
        assert phrase in text, (name, text)


def test_a_network_rebuilt_from_its_saved_configuration_is_not_own_work():
    sub = _a3(from_json_cheat("eJwLycgsVgCi4vzcVIXk/LyS1LwSAE3RByY="))
    text = _text(sub.findings("resnet50"))
    assert "model_from_json" in text and "saved description" in text


@pytest.mark.parametrize("source, phrase", [
    # aliases, defaults, closures, decorators, partials, containers, classes, helpers
    ("from keras.applications import ResNet50 as build\n" + SIGNATURE
     + "    return build()\n", "keras.applications.ResNet50"),
    ("import keras\n" + SIGNATURE.replace("classes=1000", "classes=1000, "
                                          "_b=keras.applications.ResNet50")
     + "    return _b()\n", "keras.applications"),
    ("import functools, keras\nresnet50 = functools.partial(keras.applications.ResNet50, "
     "weights=None)\n", "keras.applications"),
    ("import keras\ndef _keep(b):\n    def inner(**k):\n        return b(**k)\n    return inner\n"
     "resnet50 = _keep(keras.applications.ResNet50)\n", "keras.applications"),
    ("from course_utils import zoo\n_table = {'r': zoo.resnet50}\n" + SIGNATURE
     + "    return _table['r']()\n", "course_utils.zoo"),
    ("from course_utils import zoo\n_table = {}\n_table['r'] = zoo.resnet50\n" + SIGNATURE
     + "    return _table['r']()\n", "course_utils.zoo"),
    ("from course_utils import zoo\n_table = []\ndef _fill():\n    _table.append(zoo.resnet50)\n"
     "_fill()\n" + SIGNATURE + "    return _table[0]()\n", "course_utils.zoo"),
    ("import keras\ndef _swap(f):\n    return lambda **k: keras.applications.ResNet50(**k)\n"
     "@_swap\n" + SIGNATURE + "    raise NotImplementedError\n", "keras.applications"),
    ("import keras\nclass _B:\n    ResNet50 = 1\n    def build(self):\n"
     "        return keras.applications.ResNet50()\n" + SIGNATURE
     + "    return _B().build()\n", "keras.applications"),
    ("import keras\n_m = None\ndef _set():\n    global _m\n    _m = keras.applications\n"
     + SIGNATURE + "    return _m.ResNet50()\n", "keras.applications"),
    (SIGNATURE + "    return keras.models.clone_model(reference)\n", "test cells define"),
    (SIGNATURE + "    return keras.models.clone_model(_)\n", "no cell of your notebook"),
    (SIGNATURE + "    return keras.models.clone_model(Out[3])\n", "no cell of your notebook"),
    ("import keras\n" + SIGNATURE + "    return keras.Model.from_config(CONFIG)\n"
     "CONFIG = None\n", "from_config"),
    ("import keras\n" + SIGNATURE + "    return keras.src.api_export.get_symbol_from_name("
     "'keras.' + 'appli' + 'cations.ResNet50')()\n", "api_export"),
    ("import operator, keras\n" + SIGNATURE + "    return operator.attrgetter('x')(keras)\n",
     "operator"),
    ("import keras\n" + SIGNATURE + "    return vars(keras)['appli' + 'cations'].ResNet50()\n",
     "vars"),
    ("import keras\n" + SIGNATURE + "    g = getattr\n    return g(keras, 'x')\n",
     "getattr used as a value"),
    ("import mymodule\n" + SIGNATURE + "    return mymodule.build()\n",
     "the grader cannot vouch for"),
    ("%%capture\n" + SIGNATURE + "    return keras.applications.ResNet50()\n",
     "keras.applications"),
])
def test_ready_made_networks_are_seen_however_they_are_kept(source, phrase):
    text = _text(_a3(source).findings("resnet50"))
    assert phrase in text, text


@pytest.mark.parametrize("cell, phrase", [
    ("import keras\nkeras.Model = lambda *a, **k: keras.applications.ResNet50()",
     "keras.applications (in a change to keras.Model)"),
    ("import sys\nsys.path.insert(0, '/tmp')", "sys.path.insert"),
    ("import sys, codecs\nsys.modules['keras'] = None", "a change to sys.modules"),
    ("exec(''.join(reversed(')(1tnirp')))", "exec() of text the grader cannot read"),
    ("globals()['conv' + '_block'] = print", "a change to globals(...)[...]"),
    ("def resnet50_helper():\n    exec('conv' + '_block = print', globals())",
     "exec() of text the grader cannot read"),
    ("get_ipython().ast_transformers.append(None)", "get_ipython"),
    ("%run other.py", "get_ipython().run_line_magic(...) (%run)"),
    ("identity_block.__code__ = conv_block.__code__", "a change to identity_block.__code__"),
    ("import keras\nsetattr(keras.layers, 'Con' + 'v2D', None)", "setattr()"),
])
def test_changes_under_every_function_fail_every_check(cell, phrase):
    sub = _a3(subs.solution_sources("a3", "a3")["resnet50"], [("title", cell)])
    for name in ("identity_block", "conv_block", "resnet50"):
        text = _text(sub.findings(name))
        assert phrase in text, text


def test_a_changed_module_or_builtin_counts_only_where_it_is_reached():
    cell = ("import numpy, builtins\nnumpy.prod = lambda *a: None\n"
            "builtins.sorted = lambda *a: None")
    sub = _a3("import numpy\n" + SIGNATURE + "    return sorted(numpy.prod([1]))\n",
              [("title", cell)])
    text = _text(sub.findings("resnet50"))
    assert "a change to numpy.prod" in text and "a change to builtins.sorted" in text
    assert sub.findings("identity_block") == []


@pytest.mark.parametrize("cell", [
    "import numpy.testing, builtins\nnumpy.testing.assert_allclose = None\n"
    "builtins.AssertionError = Exception",
    "import keras\nkeras.Model.count_params = lambda self: 61_706",
    "import course_utils.grading as g\nfor n in dir(g):\n    setattr(g, n, None)",
    "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.rcParams['figure.dpi'] = 80",
    "!ls\nimport os\nos.environ['X'] = '1'",
    "%time model = resnet50()\nmodel.summary()",
    "import keras\nreference = keras.applications.ResNet50(weights=None)  # to compare",
    "import numpy as np\nnp.random.seed(0)\nkeras.utils.set_random_seed(0)",
])
def test_harmless_extra_cells_change_nothing(cell):
    sub = _a3(subs.solution_sources("a3", "a3")["resnet50"], [("conv_block", cell)])
    for name in ("identity_block", "conv_block", "resnet50"):
        assert sub.findings(name) == [], _text(sub.findings(name))


def test_hidden_tests_are_not_quoted():
    # What the grader runs: the instructor's notebook's test cells, hidden tests included.
    nb = nbformat.read(subs.ROOT / "solutions" / "a3" / "a3.ipynb", as_version=4)
    nb = subs.set_solution(nb, "resnet50", SIGNATURE + "    return reference_block\n")
    text = _text(Submission.from_notebook(nb).findings("resnet50"))
    assert "reference_block, a name that the assignment's test cells define" in text
    assert "import" not in text


def test_the_early_check_reads_the_function_alone():
    source = A3_CHEATS["computed_import"].split("\n\n", 1)[1]
    assert "importlib" in _text(function_findings(source, "resnet50"))
    honest = subs.solution_sources("a3", "a3")["resnet50"]
    assert function_findings(honest, "resnet50") == []
