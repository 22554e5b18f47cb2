"""The project's own promises: dependencies agree, the README's commands exist, lint passes."""

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from course_utils.maintainer import colab

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
ENVIRONMENT = yaml.safe_load((ROOT / "environment.yml").read_text())
# environment.yml is the conda twin of `make setup`, which installs these extras.
SETUP_EXTRAS = ("lab", "grader", "dev", "site", "tf-cpu")
# Not Python packages: what scripts/setup.sh installs with apt, and conda with the rest.
SYSTEM_PACKAGES = {"graphviz"}


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def _pyproject_requirements():
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in SETUP_EXTRAS:
        lines += project["optional-dependencies"][extra]
    return {_canonical(r.name): r.specifier for r in map(Requirement, lines)}


def _environment_requirements():
    found, python = {}, None
    for entry in ENVIRONMENT["dependencies"]:
        if isinstance(entry, dict):
            for line in entry["pip"]:
                if not line.startswith("-e"):
                    r = Requirement(line)
                    found[_canonical(r.name)] = r.specifier
            continue
        if entry == "pip":
            continue
        if entry.startswith("python="):
            python = entry.split("=", 1)[1]
            continue
        r = Requirement(entry)
        found[_canonical(r.name)] = r.specifier
    return found, python


def test_environment_yml_and_pyproject_agree():
    ours, _ = _environment_requirements()
    theirs = _pyproject_requirements()
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs) - SYSTEM_PACKAGES)
    assert not missing and not extra, f"only in pyproject: {missing}; only in environment.yml: {extra}"
    differ = {n: (str(theirs[n]), str(ours[n])) for n in theirs if theirs[n] != ours[n]}
    assert not differ, f"version ranges differ (pyproject, environment.yml): {differ}"
    assert "-e ." in next(e for e in ENVIRONMENT["dependencies"] if isinstance(e, dict))["pip"]


def test_environment_python_is_one_pyproject_accepts():
    _, python = _environment_requirements()
    assert python and Version(python) in SpecifierSet(PYPROJECT["project"]["requires-python"])


def test_core_dependencies_leave_colabs_tensorflow_alone():
    names = {_canonical(Requirement(r).name) for r in PYPROJECT["project"]["dependencies"]}
    assert not any(n.startswith("tensorflow") for n in names)
    assert "keras" in names


def test_readme_has_the_two_commands_and_ci_runs_the_second():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```bash\n(.*?)\n```", readme, flags=re.S)
    assert "make lab" in blocks and "make test" in blocks
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, flags=re.M)
    makefile = (ROOT / "Makefile").read_text()
    for target in ("setup", "lab", "notebooks", "test", "lint", "sync", "strip", "benchmark",
                   "release", "check-release", "collect", "autograde", "feedback", "export"):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_readme_lists_every_notebook_and_assignment_with_its_badge():
    readme = (ROOT / "README.md").read_text()
    for path in colab.notebook_paths() + colab.assignment_sources():
        relative = colab.opened_path(path)
        line = next((x for x in readme.splitlines() if f"({relative})" in x), None)
        assert line, f"README's syllabus table does not list {relative}"
        assert colab.badge(relative) in line


def test_shell_scripts_parse():
    for script in (ROOT / "scripts" / "setup.sh", ROOT / ".ci" / "run"):
        subprocess.run(["bash", "-n", str(script)], check=True)


def test_top_level_layout():
    for name in ("notebooks", "course_utils", "assignments", "solutions", "tests",
                 "environment.yml", "README.md", "pyproject.toml", ".ci/run", "Makefile",
                 "nbgrader_config.py", "docs/grading.md"):
        assert (ROOT / name).exists(), name


def test_lint_is_clean():
    ruff = shutil.which("ruff") or str(Path(__import__("sys").executable).parent / "ruff")
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_setup_is_idempotent_and_quick_the_second_time():
    import sys

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        pytest.skip("the tests are not running in the project's own .venv")
    result = subprocess.run(["bash", "scripts/setup.sh"], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "packages are up to date" in result.stdout
    assert "Fashion-MNIST: found an offline copy" in result.stdout


def test_make_lab_starts_jupyterlab():
    import os
    import signal
    import sys
    import time

    if Path(sys.prefix).resolve() != (ROOT / ".venv").resolve() or not shutil.which("make"):
        pytest.skip("needs make and the project's own .venv")
    args = "--no-browser --ServerApp.port=0 --ServerApp.token=test"
    if os.geteuid() == 0:
        args += " --allow-root"
    process = subprocess.Popen(["make", "lab", f"LAB_ARGS={args}"], cwd=ROOT, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    seen, deadline = [], time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "http://" in line and "/lab" in line:
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    assert any("http://" in x and "/lab" in x for x in seen), "".join(seen[-20:])
