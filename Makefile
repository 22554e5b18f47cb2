# Tasks for the course. `make lab` starts it, `make test` tests it; both set up first.
VENV ?= .venv
PY := $(VENV)/bin/python
NOTEBOOKS := $(wildcard notebooks/[0-9][0-9]_*.ipynb)
# Jupyter refuses to run as root (containers, cloud machines) unless told it may.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help setup lab notebooks test lint sync strip benchmark clean \
	release check-release collect autograde feedback export

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

lint: setup  ## ruff on the package, tests and notebooks
	$(VENV)/bin/ruff check .

sync: setup  ## regenerate Colab badges and set-up cells from course_utils.maintainer.colab
	$(PY) -m course_utils.maintainer.colab

strip: setup  ## remove outputs from the notebooks before a commit
	$(VENV)/bin/jupyter nbconvert --clear-output --inplace $(NOTEBOOKS)

benchmark: setup  ## run notebooks in the cpu profile and check their measured results
	$(PY) benchmarks/notebook_results.py --profile cpu

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
