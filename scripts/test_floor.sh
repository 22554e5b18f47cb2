#!/usr/bin/env bash
# Test the oldest versions the course declares (`make test-floor`):
#   1. pyproject.toml's floors of keras, numpy, pandas, matplotlib, scikit-image and
#      tensorflow-cpu as exact pins (course_utils/maintainer/floors.py);
#   2. a fresh virtual environment with Python 3.11 and the course installed under them
#      (rebuilt only when the pins or pyproject.toml change);
#   3. the architecture tests: the unit tests of the layer table, the arithmetic and the zoo's
#      contract, and notebooks 01-12 in the smoke profile, which prove the builders equal to
#      keras.applications (about 4 min on 2 cores); --full adds every unit test of the zoo.
# With --backend jax the same is done for JAX's floor (declared in the dev extra) in its own
# environment without TensorFlow (.venv-floor-jax; the oldest TensorFlow and the oldest JAX
# need different ml-dtypes): the zoo's and the layer table's unit tests, the identity check
# for a sample of families and lesson 02, under KERAS_BACKEND=jax (about 2 min).
# A floor that fails here is to be raised in pyproject.toml and environment.yml.
#
# Usage: scripts/test_floor.sh [--backend tensorflow|jax] [--override PKG==VERSION]... [--pre]
#                              [--install-only] [--full] [-- PYTEST-ARGS...]
#   --backend   whose floor joins the core ones (default tensorflow)
#   --override  pin PKG at VERSION instead of its declared floor (try a new floor first)
#   --pre       no pins: the newest releases, pre-releases included (`make test-prerelease`)
#   --full      also the zoo's own unit tests (each builder against keras.applications,
#               training under mixed precision): about 3 times longer
#   -- ...      pytest arguments that replace the selection
# Environment: PYTHON (default python3.11), FLOOR_VENV (default .venv-floor, .venv-floor-jax
#   with --backend jax, -prerelease instead of -floor with --pre), FLOOR_OVERRIDES ("keras==3.6.0 numpy==1.26.4", as
#   --override), FLOOR_JOBS (pytest-xdist workers, default auto).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
say() { printf '[test-floor] %s\n' "$*"; }
fail() { printf '[test-floor] ERROR: %s\n' "$*" >&2; exit 1; }

overrides=() pre=0 install_only=0 full=0 selection=() backend=tensorflow
while [ $# -gt 0 ]; do
  case "$1" in
    --backend) [ $# -ge 2 ] || fail "--backend needs tensorflow or jax"; backend=$2; shift 2 ;;
    --backend=*) backend=${1#*=}; shift ;;
    --override) [ $# -ge 2 ] || fail "--override needs PKG==VERSION"; overrides+=(--override "$2"); shift 2 ;;
    --override=*) overrides+=(--override "${1#*=}"); shift ;;
    --pre) pre=1; shift ;;
    --install-only) install_only=1; shift ;;
    --full) full=1; shift ;;
    --) shift; selection=("$@"); break ;;
    *) fail "unknown option '$1' (see the head of $0)" ;;
  esac
done
case "$backend" in
  tensorflow) suffix="" install=(-e ".[tf-cpu]") backend_package=tensorflow-cpu ;;
  jax) suffix="-jax" install=(-e . jax) backend_package=jax ;;
  *) fail "unknown backend '$backend': choose tensorflow or jax" ;;
esac
if [ "$pre" = 1 ]; then VENV=${FLOOR_VENV:-.venv-prerelease$suffix}; else VENV=${FLOOR_VENV:-.venv-floor$suffix}; fi

command -v "$PYTHON" >/dev/null 2>&1 \
  || fail "no '$PYTHON' on PATH: the floor test runs on the oldest Python the course supports. Set PYTHON=/path/to/python3.11."
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || fail "'$PYTHON' is $("$PYTHON" -V 2>&1), not Python 3.11. Set PYTHON=/path/to/python3.11."

# 1. The pins ------------------------------------------------------------------------------
if [ "$pre" = 1 ]; then
  pins="" pip_mode=(--pre --upgrade)
  say "newest releases, pre-releases included"
else
  pins=$("$PYTHON" course_utils/maintainer/floors.py --backend "$backend" "${overrides[@]}") \
    || fail "could not read the floors from pyproject.toml (see above)"
  pip_mode=()
  say "pins ($backend): $(echo $pins)"
fi

# 2. The environment -----------------------------------------------------------------------
# The test tools are not the course's floors: their newest releases. jinja2: the notebooks'
# tables use DataFrame.style, which needs it (the lab extra brings it, through jupyterlab).
tools=(pytest pytest-xdist nbclient nbformat ipykernel jinja2)
# After a failed install: which pins name no release at all (pip only says "conflicting").
missing_releases() {
  local pin
  for pin in $pins; do
    "$VENV/bin/python" -m pip install --dry-run --ignore-installed --quiet --no-deps "$pin" \
        >/dev/null 2>&1 || say "no release $pin on the package index: the floor must name one that exists"
  done
}
stamp="$VENV/.floor-installed"
want="$(printf '%s\n' "$pins" | cksum) $(sed -n '/^\[project\]/,/^\[tool/p' pyproject.toml | cksum) pre=$pre backend=$backend"
start=$(date +%s)
if [ "$pre" = 1 ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "creating $VENV and installing the course under the pins"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV" || fail "'$PYTHON -m venv' failed (Debian/Ubuntu: apt-get install python3.11-venv)"
  printf '%s\n' "$pins" > "$VENV/floor-constraints.txt"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${pip_mode[@]}" \
      -c "$VENV/floor-constraints.txt" "${install[@]}" "${tools[@]}" \
    || { missing_releases; fail "pip could not install the course under these pins: a floor that cannot be installed (no such release, or one that conflicts with another floor) must be raised"; }
  echo "$want" > "$stamp"
  say "installed in $(( $(date +%s) - start )) s"
else
  say "$VENV is up to date with the pins"
fi
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check; fail "the installed packages conflict (above)"; }

# What was installed is what was pinned, and the notebooks' kernel is this environment's.
"$VENV/bin/python" - "$VENV/floor-constraints.txt" "$backend_package" <<'PY' || fail "the environment is not the one pinned (above)"
import os, re, sys
from importlib.metadata import version
from jupyter_client.kernelspec import KernelSpecManager

packages = ("keras", "numpy", "pandas", "matplotlib", "scikit-image", sys.argv[2])
pins = dict(line.strip().split("==") for line in open(sys.argv[1]) if "==" in line)
wrong = []
for name in sorted(set(packages) | set(pins)):
    got = version(name)
    want = pins.get(name)
    # pip's "==3.5" matches 3.5.0: compare the release numbers padded with zeros.
    pad = lambda v: tuple(map(int, re.match(r"\d+(\.\d+)*", v)[0].split(".") + ["0"] * 4))[:4]
    ok = want is None or pad(got) == pad(want)
    print(f"[test-floor]   {name:15} {got}" + ("" if ok else f"   (pinned {want})"))
    wrong += [] if ok else [name]
kernel = KernelSpecManager().get_kernel_spec("python3").argv[0]
# jupyter_client starts a spec's bare "python" (ipykernel's own spec) with sys.executable.
same = {"python", f"python{sys.version_info[0]}", "python%d.%d" % sys.version_info[:2]}
if kernel not in same and os.path.realpath(kernel) != os.path.realpath(sys.executable):
    print(f"[test-floor] the notebooks' kernel 'python3' runs {kernel}, not {sys.executable}: "
          "a kernel spec in ~/.local/share/jupyter/kernels hides this environment's. "
          "Hint: remove it, or set JUPYTER_DATA_DIR to an empty folder.")
    sys.exit(1)
sys.exit(1 if wrong else 0)
PY
[ "$install_only" = 1 ] && exit 0

# 3. The tests -----------------------------------------------------------------------------
if [ ${#selection[@]} -eq 0 ] && [ "$backend" = jax ]; then
  # as the backend axis's CI selection (scripts/test_backends.sh), on JAX's floor
  selection=(tests/test_arithmetic.py tests/test_inspect.py tests/test_zoo.py
             tests/test_zoo_classics.py::test_identical_to_keras_applications
             tests/test_zoo_resnet.py::test_identical_to_keras_applications
             tests/test_zoo_efficientnet.py::test_identical_to_keras_applications
             tests/test_zoo_mobilenet_v3.py::test_identical_to_keras_applications
             "tests/test_notebooks.py::test_notebook_runs_in_the_smoke_profile[02_lenet5.ipynb]")
  [ "$full" = 1 ] || export COURSE_IDENTITY_SAMPLE=vgg16,resnet50,mobilenet_v2,b0,small
elif [ ${#selection[@]} -eq 0 ]; then
  selection=(tests/test_floors.py tests/test_arithmetic.py tests/test_inspect.py
             tests/test_keras_graph.py tests/test_zoo.py tests/test_zoo_contract.py)
  [ "$full" = 1 ] && selection+=(tests/test_zoo_classics.py tests/test_zoo_resnet.py
                                 tests/test_zoo_efficientnet.py tests/test_zoo_mobilenet_v3.py
                                 tests/test_training_layers.py)
  for path in notebooks/0[1-9]_*.ipynb notebooks/1[0-2]_*.ipynb; do
    selection+=("tests/test_notebooks.py::test_notebook_runs_in_the_smoke_profile[$(basename "$path")]")
  done
fi
start=$(date +%s)
status=0
KERAS_BACKEND=$backend "$VENV/bin/python" -m pytest -p no:cacheprovider -n "${FLOOR_JOBS:-auto}" \
    "${selection[@]}" || status=$?
say "tests took $(( $(date +%s) - start )) s"
[ "$status" = 0 ] || fail "the tests failed on these versions (above): raise the floor that fails, or fix the course"
if [ "$pre" = 1 ]; then say "passed on the newest releases (listed above)"; else say "passed on: $(echo $pins)"; fi
