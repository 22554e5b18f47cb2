#!/usr/bin/env bash
# Set the course up on this machine, idempotently:
#   1. a virtual environment in .venv with the course's packages (pyproject.toml);
#   2. Fashion-MNIST from Debian's package `dataset-fashion-mnist` where possible.
# Environment: PYTHON (interpreter to use, default python3), VENV (default .venv),
#              COURSE_TF=cpu|gpu|none (TensorFlow build; default: gpu if nvidia-smi sees one).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"
  else return 1
  fi
}

# 1. Python ---------------------------------------------------------------------------
command -v "$PYTHON" >/dev/null 2>&1 \
  || fail "no '$PYTHON' on PATH. Install Python 3.11-3.13, or use conda: conda env create -f environment.yml"
"$PYTHON" - <<'PY' || fail "Python 3.11-3.13 is needed for TensorFlow; '$PYTHON' is $("$PYTHON" -V 2>&1). Set PYTHON=/path/to/python3.11 and run again."
import sys
sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)
PY

if [ ! -x "$VENV/bin/python" ]; then
  say "creating the virtual environment $VENV"
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    py=$("$PYTHON" -c 'import sys; print(f"python{sys.version_info[0]}.{sys.version_info[1]}")')
    as_root apt-get install -y -qq "$py-venv" >/dev/null 2>&1 \
      || fail "'$PYTHON -m venv' does not work here. On Debian/Ubuntu: sudo apt-get install $py-venv"
    "$PYTHON" -m venv "$VENV"
  fi
fi

# 2. Packages (skipped when pyproject.toml and the TensorFlow choice are unchanged) ------
tf=${COURSE_TF:-}
if [ -z "$tf" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then tf=gpu; else tf=cpu; fi
fi
case "$tf" in
  cpu) extras="lab,grader,dev,site,tf-cpu" ;;
  gpu) extras="lab,grader,dev,site,tf-gpu" ;;
  none) extras="lab,grader,dev,site" ;;
  *) fail "COURSE_TF must be cpu, gpu or none; got '$tf'" ;;
esac
stamp="$VENV/.course-installed"
want="$(sed -n '/^\[project\]/,/^\[tool/p' pyproject.toml | cksum) [$extras]"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  say "installing the course's packages with TensorFlow for $tf (a few minutes the first time)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[$extras]" \
    || fail "pip could not install the packages (see above). Check the network or a proxy and run again."
  echo "$want" > "$stamp"
else
  say "packages are up to date ($VENV)"
fi

# The kernel that autograding runs submissions in (course_utils/grader/kernel.py).
"$VENV/bin/python" -m course_utils.grader install-kernel >/dev/null

# 3. Fashion-MNIST ------------------------------------------------------------------------
has_data() { "$VENV/bin/python" -c 'import sys
from course_utils.data import find_fashion_mnist
sys.exit(0 if find_fashion_mnist() else 1)' 2>/dev/null; }

if has_data; then
  say "Fashion-MNIST: found an offline copy"
elif command -v apt-get >/dev/null 2>&1 && \
     { as_root apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 || \
       { as_root apt-get update -qq >/dev/null 2>&1 && \
         as_root apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }; }; then
  say "Fashion-MNIST: installed Debian's package dataset-fashion-mnist"
else
  say "Fashion-MNIST: no offline copy, and Debian's package could not be installed here."
  say "  Online, the notebooks download it the first time (Colab always can)."
  say "  Offline: 'sudo apt-get install dataset-fashion-mnist', or copy the four .gz files"
  say "  into a directory and set COURSE_DATA_DIR to it."
fi
# 4. Graphviz, for the lessons' block diagrams (keras.utils.plot_model) -------------------
if command -v dot >/dev/null 2>&1; then
  say "Graphviz: found"
elif command -v apt-get >/dev/null 2>&1 && \
     { as_root apt-get install -y -qq graphviz >/dev/null 2>&1 || \
       { as_root apt-get update -qq >/dev/null 2>&1 && \
         as_root apt-get install -y -qq graphviz >/dev/null 2>&1; }; }; then
  say "Graphviz: installed Debian's package graphviz"
else
  say "Graphviz: not found and not installable here; the lessons print their block diagrams"
  say "  as text instead (macOS: brew install graphviz)."
fi
say "done. Start the course with 'make lab'; run the tests with 'make test'."
