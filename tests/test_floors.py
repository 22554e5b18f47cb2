"""The floor test (`make test-floor`) pins what pyproject.toml declares, exactly: the floors are
read right, an unpinnable requirement is refused with a reason, overrides replace a floor, and
the script that installs them parses and reads pyproject.toml rather than a copy of it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.maintainer import floors

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "test_floor.sh"


@pytest.mark.parametrize("requirement, expected", [
    ("keras>=3.5,<4", ("keras", "3.5")),
    ("numpy>=1.26", ("numpy", "1.26")),
    ("tensorflow[and-cuda]>=2.16,<3", ("tensorflow", "2.16")),
    ("Scikit_Image >= 0.22", ("scikit-image", "0.22")),
    ("pandas<3,>=2.1.4", ("pandas", "2.1.4")),
    ("jax>=0.4.34; sys_platform == 'linux'", ("jax", "0.4.34")),
    ("matplotlib~=3.8", ("matplotlib", "3.8")),
    ("pydot==2.0.0", ("pydot", "2.0.0")),
    ("numpy>=1.26,>=1.26.4,!=2.0.0", ("numpy", "1.26.4")),
    ("numpy>=1.9,>=1.26", ("numpy", "1.26")),  # compared as numbers, not as text
])
def test_the_floor_of_a_requirement(requirement, expected):
    got = floors.floor_of(requirement)
    assert got == expected, (f"floor_of({requirement!r}): expected {expected}, got {got}. "
                             "Hint: the floor is the highest '>=' bound, versions compared "
                             "as numbers.")


@pytest.mark.parametrize("requirement, says", [
    ("keras", "no floor"),
    ("keras<4", "no floor"),
    ("keras>3.5", "no floor"),
    ("keras==3.*", "cannot pin"),
    ("keras>=3.5rc1", "cannot pin"),
    (">=3.5", "cannot read"),
])
def test_a_requirement_without_a_pinnable_floor_is_refused(requirement, says):
    with pytest.raises(floors.FloorError) as info:
        floors.floor_of(requirement)
    assert says in str(info.value) and requirement in str(info.value), (
        f"floor_of({requirement!r}) should refuse with a message saying {says!r} and naming "
        f"the requirement; got: {info.value}")


def _pyproject(tmp_path, dependencies, tf="tensorflow-cpu>=2.16,<3", dev=("pytest>=8",)):
    path = tmp_path / "pyproject.toml"
    lines = ", ".join(f'"{d}"' for d in dependencies)
    dev = ", ".join(f'"{d}"' for d in dev)
    path.write_text(f'[project]\nname = "x"\ndependencies = [{lines}]\n'
                    f'[project.optional-dependencies]\ntf-cpu = ["{tf}"]\n'
                    f'dev = [{dev}]\n')
    return path


def test_declared_floors_come_from_the_dependencies_and_the_tensorflow_extra(tmp_path):
    path = _pyproject(tmp_path, ["keras>=3.8,<4", "numpy>=1.26.4", "pandas>=2.2",
                                 "matplotlib>=3.9", "scikit-image>=0.24"],
                      tf="tensorflow-cpu>=2.18.1,<3")
    got = floors.declared_floors(path)
    expected = {"keras": "3.8", "numpy": "1.26.4", "pandas": "2.2", "matplotlib": "3.9",
                "scikit-image": "0.24", "tensorflow-cpu": "2.18.1"}
    assert got == expected, f"declared_floors of a pyproject declaring {expected}: got {got}"


def test_a_package_missing_from_pyproject_is_named(tmp_path):
    path = _pyproject(tmp_path, ["keras>=3.8,<4"])
    with pytest.raises(floors.FloorError, match="numpy is not declared in"):
        floors.declared_floors(path, packages={"keras": "", "numpy": ""})
    with pytest.raises(floors.FloorError, match="no optional extra 'tf-gpu'"):
        floors.declared_floors(path, packages={"tensorflow": "tf-gpu"})


def test_the_projects_own_floors_are_read_and_every_one_is_pinned():
    got = floors.declared_floors()
    assert set(got) == set(floors.FLOOR_PACKAGES), (
        f"expected a floor for each of {sorted(floors.FLOOR_PACKAGES)}, got {got}")
    lines = floors.constraints(got)
    assert lines == sorted(f"{name}=={version}" for name, version in got.items())


def test_overrides_replace_a_floor_or_add_a_pin():
    lines = floors.constraints({"keras": "3.5", "numpy": "1.26"},
                               overrides={"keras": "3.6.0", "scipy": "1.11.4"})
    assert lines == ["keras==3.6.0", "numpy==1.26", "scipy==1.11.4"], lines


@pytest.mark.parametrize("text, expected", [
    ("keras==3.6.0 numpy==1.26.4", {"keras": "3.6.0", "numpy": "1.26.4"}),
    ("Keras==3.6.0,tensorflow_cpu==2.17.0", {"keras": "3.6.0", "tensorflow-cpu": "2.17.0"}),
    ("", {}),
])
def test_overrides_are_read_from_the_environment_variables_form(text, expected):
    assert floors.parse_overrides(text) == expected


@pytest.mark.parametrize("bad", ["keras>=3.6", "keras", "keras==", "keras==latest"])
def test_a_malformed_override_is_refused(bad):
    with pytest.raises(floors.FloorError, match="expected 'package==version'"):
        floors.parse_overrides([bad])


def _run(*args, env=None):
    import os

    # -S: no site-packages. The script runs before the floor environment exists, on the bare
    # interpreter, so it may use the standard library only.
    return subprocess.run([sys.executable, "-S", str(ROOT / "course_utils/maintainer/floors.py"),
                           *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})


def test_the_command_line_prints_the_pins_with_the_overrides_applied(tmp_path):
    path = _pyproject(tmp_path, ["keras>=3.8,<4", "numpy>=1.26.4", "pandas>=2.2",
                                 "matplotlib>=3.9", "scikit-image>=0.24"])
    result = _run("--pyproject", str(path), "--override", "numpy==2.0.2",
                  env={"FLOOR_OVERRIDES": "keras==3.9.0"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["keras==3.9.0", "matplotlib==3.9", "numpy==2.0.2",
                                     "pandas==2.2", "scikit-image==0.24",
                                     "tensorflow-cpu==2.16"], result.stdout


def test_the_jax_floor_replaces_tensorflows_and_comes_from_the_dev_extra(tmp_path):
    path = _pyproject(tmp_path, ["keras>=3.8,<4", "numpy>=1.26.4", "pandas>=2.2",
                                 "matplotlib>=3.9", "scikit-image>=0.24"],
                      dev=("pytest>=8", "jax>=0.4.36; sys_platform == 'linux'"))
    result = _run("--pyproject", str(path), "--backend", "jax")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["jax==0.4.36", "keras==3.8", "matplotlib==3.9",
                                     "numpy==1.26.4", "pandas==2.2", "scikit-image==0.24"], (
        f"--backend jax: expected the core pins and jax's from the dev extra, no "
        f"TensorFlow; got {result.stdout.split()}")


def test_a_backend_without_a_floor_test_is_refused_with_the_choices(tmp_path):
    result = _run("--backend", "torch")
    assert result.returncode == 2 and "tensorflow, jax" in result.stderr, (
        f"--backend torch: expected exit status 2 and the backends there are; got "
        f"{result.returncode}: {result.stderr}")


def test_every_backends_floor_is_declared_in_the_projects_pyproject():
    for backend in floors.BACKEND_PACKAGES:
        got = floors.declared_floors(packages=floors.packages_for(backend))
        assert set(floors.BACKEND_PACKAGES[backend]) <= set(got), (
            f"{backend}: expected floors for {sorted(floors.BACKEND_PACKAGES[backend])}, "
            f"got {got}")


def test_the_command_line_fails_clearly_without_a_floor(tmp_path):
    path = _pyproject(tmp_path, ["keras", "numpy>=1.26"])
    result = _run("--pyproject", str(path))
    assert result.returncode == 2 and "'keras' declares no floor" in result.stderr, (
        f"expected exit status 2 and a message naming keras; got {result.returncode}: "
        f"{result.stderr}")


def test_the_floor_script_parses_reads_pyproject_and_has_its_make_targets():
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)
    text = SCRIPT.read_text()
    assert "course_utils/maintainer/floors.py" in text, (
        "scripts/test_floor.sh must take its pins from floors.py (pyproject.toml), not a copy")
    assert "-p no:cacheprovider" in text
    makefile = (ROOT / "Makefile").read_text()
    for target in ("test-floor", "test-prerelease"):
        assert re.search(rf"^{target}:.*\n\t.*scripts/test_floor\.sh", makefile, flags=re.M), (
            f"the Makefile has no target {target} that runs scripts/test_floor.sh")
