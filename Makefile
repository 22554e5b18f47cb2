# Tasks for the course. `make lab` starts it, `make test` tests it; both set up first.
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
# Jupyter refuses to run as root (containers, cloud machines) unless told it may.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help setup lab notebooks test lint sync strip benchmark clean \
	release check-release collect autograde feedback export gpu-run site site-check test-backends test-floor test-prerelease

help:  ## list the tasks
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## create .venv, install the packages and Fashion-MNIST (idempotent)
	@bash scripts/setup.sh

lab: setup  ## set up, then open the course in JupyterLab
	$(VENV)/bin/jupyter lab $(LAB_ARGS) notebooks/

notebooks: setup  ## execute every notebook headless into build/executed (COURSE_PROFILE picks the profile)
	$(PY) -m course_utils.maintainer.runner $(NOTEBOOKS) --out build/executed

test: setup  ## set up, then run the whole test suite
	$(PY) -m pytest

test-backends: setup  ## the suite on Keras's JAX and PyTorch backends, TensorFlow hidden [SELECTION=ci]
	VENV=$(VENV) SELECTION=$(or $(SELECTION),all) bash scripts/test_backends.sh

lint: setup  ## ruff on the package, tests and notebooks
	$(VENV)/bin/ruff check .

sync: setup  ## regenerate Colab badges and set-up cells from course_utils.maintainer.colab
	$(PY) -m course_utils.maintainer.colab

strip: setup  ## remove outputs from the notebooks before a commit
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace $(NOTEBOOKS)

benchmark: setup  ## run notebooks in the cpu profile and check their measured results
	$(PY) benchmarks/notebook_results.py --profile cpu
	$(PY) -m course_utils.maintainer.runs

# --- grading (see docs/grading.md); A names the assignment, FROM a folder or an LMS zip
GRADE := $(PY) -m course_utils.grader

release: setup  ## regenerate assignments/ (student versions) from solutions/
	$(GRADE) release

check-release: setup  ## fail if assignments/ is out of date with solutions/
	$(GRADE) check-release

collect: setup  ## import submissions: make collect A=a1 FROM=downloads/a1.zip
	$(GRADE) collect $(A) "$(FROM)"

autograde: setup  ## grade every collected submission: make autograde A=a1 [JOBS=4]
	$(GRADE) autograde $(A) $(if $(JOBS),--jobs $(JOBS),)

feedback: setup  ## HTML feedback for students: make feedback A=a1
	$(GRADE) feedback $(A)

export: setup  ## grades with status to grading/grades.csv
	$(GRADE) export

clean:  ## remove build outputs and caches (keeps .venv)
	rm -rf build .pytest_cache .ruff_cache

# --- runs on a GPU (see docs/gpu_runs.md). No `setup` here: the lent GPU machine has neither
# TensorFlow nor the network; there, `make gpu-run PY=python3 BACKEND=jax`.
gpu-run: PROFILE ?= gpu
gpu-run:  ## run every notebook in PROFILE (gpu) and record time, device, backend (BACKEND=jax), figures
	$(if $(BACKEND),KERAS_BACKEND=$(BACKEND) ,)$(PY) benchmarks/gpu_run.py --profile $(PROFILE) $(NB)

# --- the course's static site (docs/site): PROFILE picks whose outputs it shows
site: PROFILE ?= cpu
site: setup  ## build the static site into build/site: make site [PROFILE=smoke] (default cpu)
	$(PY) -m course_utils.maintainer.website --profile $(PROFILE)

site-check:  ## check build/site in headless Chromium (tests/test_site.py; fails if not built)
	COURSE_REQUIRE_SITE=1 $(PY) -m pytest -n 0 -p no:cacheprovider tests/test_site.py

# --- version floors (scripts/test_floor.sh): pyproject's oldest versions, and the newest
test-floor:  ## the architecture tests on the oldest declared versions: with TensorFlow's, then JAX's (FULL=1: more)
	@bash scripts/test_floor.sh $(if $(FULL),--full,)
	@bash scripts/test_floor.sh --backend jax $(if $(FULL),--full,)

test-prerelease:  ## the same on the newest releases, pre-releases included, in .venv-prerelease
	@bash scripts/test_floor.sh --pre $(if $(FULL),--full,)
