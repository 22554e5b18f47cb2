#!/usr/bin/env bash
# The backend axis: the test suite under Keras on JAX and on PyTorch (CPU), with TensorFlow
# hidden from every process (tests/without_tensorflow), as on a machine that has no
# TensorFlow at all. Tests that need TensorFlow itself (tf.data, LiteRT, tf.distribute,
# the grading pipeline) skip with their reason; lessons skip their %%tensorflow_only cells.
#
#   make test-backends                 # the whole axis (over an hour on 2 cores)
#   make test-backends SELECTION=ci    # what .ci/run runs: see CI_TESTS below
#   BACKENDS=jax make test-backends    # one backend
#
# PyTorch is not one of the course's packages (Colab has it; a laptop need not): it is
# installed here into the venv when missing, as TORCH_SPEC (the CPU build where pip finds
# one; on Linux, PyPI's plain `torch` is a CUDA build of several GB).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PY="$VENV/bin/python"
BACKENDS=${BACKENDS:-jax torch}
SELECTION=${SELECTION:-all}
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
say() { printf '[backends] %s\n' "$*"; }
unset COURSE_KEEP_EXECUTED  # the executed smoke copies CI builds the site from are TensorFlow runs

# The CI selection (about 3 minutes a backend on 2 cores): the helpers every lesson uses,
# the course's backend-neutral gradients, augmentation and binary layers, the checks that
# assignments' test cells call, a keras.applications identity check for five families at a
# small input size (SELECTION=all runs the whole argument grid, as `make test` does on
# TensorFlow), grouped convolutions' kernel layout (ResNeXt's three forms), the
# %%tensorflow_only mechanism in a kernel, and lesson 02 end to end.
CI_TESTS=(tests/test_zoo.py tests/test_inspect.py tests/test_arithmetic.py tests/test_env.py
          tests/test_augment.py tests/test_binary.py tests/test_scale.py
          tests/test_grading_helpers.py tests/test_own_work.py tests/test_recheck.py
          tests/test_zoo_classics.py::test_identical_to_keras_applications
          tests/test_zoo_resnet.py::test_identical_to_keras_applications
          tests/test_zoo_efficientnet.py::test_identical_to_keras_applications
          tests/test_zoo_mobilenet_v3.py::test_identical_to_keras_applications
          "tests/test_zoo_resnext.py::test_the_three_forms_of_figure_3_compute_the_same_function[4x3d-10]"
          "tests/test_notebooks.py::test_notebook_runs_in_the_smoke_profile[02_lenet5.ipynb]")
CI_IDENTITY="vgg16,resnet50,mobilenet_v2,b0,small"

for backend in $BACKENDS; do
  case "$backend" in
    jax) "$PY" -c "import jax" 2>/dev/null || "$PY" -m pip install --quiet "jax>=0.4.34" ;;
    torch) "$PY" -c "import torch" 2>/dev/null || {
             say "installing PyTorch ($TORCH_SPEC) into $VENV"
             "$PY" -m pip install --quiet --disable-pip-version-check "$TORCH_SPEC"; } ;;
    tensorflow) ;;
    *) echo "[backends] unknown backend '$backend': choose among jax, torch, tensorflow" >&2
       exit 2 ;;
  esac
done

status=0
for backend in $BACKENDS; do
  start=$(date +%s)
  if [ "$SELECTION" = ci ]; then
    args=("${CI_TESTS[@]}")
    export COURSE_IDENTITY_SAMPLE=$CI_IDENTITY  # tests/conftest.py
  else
    args=(tests/)
  fi
  say "KERAS_BACKEND=$backend, TensorFlow hidden: ${SELECTION} selection"
  KERAS_BACKEND=$backend PYTHONPATH="$PWD/tests/without_tensorflow${PYTHONPATH:+:$PYTHONPATH}" \
    "$PY" -m pytest -p no:cacheprovider -q --durations=10 "${args[@]}" || status=1
  say "$backend took $(( $(date +%s) - start )) s"
done
exit $status
