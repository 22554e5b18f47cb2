"""The package is laid out by who uses it, and says so: every module listed with its job in
the package docstring and the README's map; no module shadows the standard library; what a
student imports works with the core dependencies alone (what Colab installs)."""

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_utils"
STUDENT_MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__") + [
    "zoo", "exercises"]
# What only the instructor's pipeline, the lab or the tests need.
NOT_CORE = ("nbgrader", "nbclient", "nbformat", "jupyter_core", "jupyter_client", "jupyterlab",
            "traitlets", "ipykernel", "pytest", "yaml", "pydot")


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name in ("__init__.py", "__main__.py") or path.stem.startswith("lesson_"):
            continue
        yield ".".join(path.relative_to(ROOT).with_suffix("").parts)
    for path in sorted(PACKAGE.glob("*/__init__.py")):
        yield ".".join(path.parent.relative_to(ROOT).parts)


def test_every_module_is_in_the_package_docstring_and_the_readme():
    readme = (ROOT / "README.md").read_text()
    documented = course_utils.__doc__ + "".join(
        ast.get_docstring(ast.parse(p.read_text())) or "" for p in PACKAGE.glob("*/__init__.py"))
    missing_doc = [m for m in _modules() if m not in documented.replace("~", "")]
    assert not missing_doc, ("not listed with its job in the docstring of course_utils or of its "
                             f"subpackage: {missing_doc}")
    top = sorted({m.split(".")[1] for m in _modules()})
    missing_readme = [name for name in top if f"`{name}`" not in readme]
    assert not missing_readme, f"the README's map of course_utils leaves out {missing_readme}"


def test_no_module_is_named_like_a_standard_library_module():
    clashes = [m for m in _modules() if m.split(".")[-1] in sys.stdlib_module_names]
    assert not clashes, (f"{clashes} shadow the standard library when anything runs from inside "
                         "their folder (e.g. `import dataclasses` breaks); rename them")


BLOCKER = """
import importlib, importlib.abc, json, sys, traceback
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ImportError(f"{{name}} is not a core dependency")
sys.meta_path.insert(0, Block())
errors = {{}}
for module in {modules!r}:  # a blocked package can be imported by none of them, in any order
    try:
        importlib.import_module(module)
    except BaseException:
        errors[module] = traceback.format_exc()[-1500:]
print(json.dumps(errors), flush=True)
import os
os._exit(0)  # the verdict is printed; PyTorch can crash in the interpreter's teardown
"""


@pytest.fixture(scope="module")
def import_errors():
    """``{module: traceback}`` for the student modules that fail to import when only the
    core dependencies exist: one Python process tries them all (each import of TensorFlow
    costs seconds), with every other package blocked."""
    modules = [f"course_utils.{m}" for m in STUDENT_MODULES]
    code = BLOCKER.format(blocked=set(NOT_CORE), modules=modules)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=300)
    assert result.returncode == 0, f"the import check itself failed:\n{result.stderr[-1500:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.tensorflow("Colab's core dependencies are checked on Colab's backend; PyTorch "
                        "probes optional packages at import, which the check blocks")
@pytest.mark.parametrize("module", STUDENT_MODULES)
def test_student_modules_import_with_the_core_dependencies_alone(module, import_errors):
    error = import_errors.get(f"course_utils.{module}")
    assert error is None, (
        f"`import course_utils.{module}` needs a package outside pyproject's core "
        f"dependencies (Colab installs only those):\n{error}\n"
        "Hint: import it inside the function that needs it, or move the module to the "
        "grader or maintainer subpackage.")
