# Two commands matter (see README):  make lab  and  make test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
LABS   := $(notdir $(wildcard solutions/*))
export PATH := $(abspath $(BIN)):$(PATH)
export TF_CPP_MIN_LOG_LEVEL := 3
export TF_ENABLE_ONEDNN_OPTS := 0

.PHONY: lab test check venv data release publish lint bench clean help browser-deps sandbox-deps \
	hub-deps

help:
	@echo "make lab      set up .venv, fetch the data, open JupyterLab on labs/"
	@echo "make test     set up .venv and run the whole suite (CI runs this; ~11 min on 2 cores)"
	@echo "make check    lint and the unit tests only (~1 min): the edit-test loop"
	@echo "make release  regenerate labs/ (student versions) from solutions/"
	@echo "make publish  write the student release (labs, student wheel, README) into $(PUBLISH_DIR)/"
	@echo "make bench    run every solution notebook, write benchmarks/results.json and docs/benchmark.md"
	@echo "python -m lab_utils --help   instructor commands: release, collect, autograde, report, feedback, export"

# uv installs the same versions as pip, faster (41 s instead of 68 s here); pip takes over if
# uv cannot.  --compile-bytecode as pip does by default: the grading sandbox sees the venv
# read-only, so a kernel could not cache what it compiles and would compile TensorFlow's
# Python files on every start (the suite took 1.5x longer without it).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is needed; run: make PYTHON=python3.11 ...")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e ".[dev]" \
	  || $(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

data: venv
	$(BIN)/python -m lab_utils fetch --offline-ok

lab: venv data
	$(BIN)/jupyter lab --notebook-dir=labs

# ruff, and deptry: every import declared, every dependency used (config in pyproject).
lint: venv
	$(BIN)/ruff check .
	$(BIN)/deptry .

# $(call apt-install,COMMAND,PACKAGE,WHY): install Debian's PACKAGE when COMMAND is missing
# (CI runs as root); elsewhere say what needs it and how to install it.
define apt-install
	@command -v $(1) >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $(2) >/dev/null; \
	  else \
	    echo "$(3): sudo apt-get install $(2)"; exit 1; \
	  fi; }
endef

# The browser test drives Debian's Chromium (Playwright's own browser download does not
# work offline).
browser-deps:
	$(call apt-install,chromium,chromium,The browser test needs Debian's chromium)

# Grading kernels run in a bubblewrap sandbox (lab_utils/instructor/sandbox.py).
sandbox-deps:
	$(call apt-install,bwrap,bubblewrap,Grading needs bubblewrap (or grade with --no-sandbox))

# The hub test (tests/test_hub.py) runs a real JupyterHub, whose proxy is npm's
# configurable-http-proxy: install it into .hub-deps/ when missing (hub/jupyterhub_config.py
# finds it there).
CHP_VERSION := 5.3.0
hub-deps:
	@test -x .hub-deps/node_modules/.bin/configurable-http-proxy || { \
	  command -v npm >/dev/null 2>&1 || { \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	      apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	        apt-get install -y -qq --no-install-recommends npm >/dev/null; \
	    else \
	      echo "The hub test needs npm (Node.js): sudo apt-get install npm"; exit 1; \
	    fi; }; \
	  npm install --prefix .hub-deps --no-audit --no-fund --silent \
	    configurable-http-proxy@$(CHP_VERSION); }

# Every solution notebook runs under nbval with the short (grading) budgets: every cell runs,
# training is cut short; `make bench` runs them with the full budgets and checks their figures.
# The whole suite on two workers (conftest.py orders it; tests/once.py builds the shared
# graded classes once per run, under any scheduling); --durations
# lists the 10 slowest tests at the end.  XDIST= runs it in one process.
XDIST ?= -n 2 --dist loadscope --no-loadscope-reorder
# Every process computes on one thread (as grading kernels do, lab_utils.config.SINGLE_THREAD_ENV):
# two workers on two cores, each with a thread pool per TensorFlow or BLAS, spin and wait
# for each other.
SINGLE_THREAD := OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
	TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1
test: venv lint browser-deps sandbox-deps hub-deps
	$(SINGLE_THREAD) LAB_UTILS_FAST=1 $(BIN)/python -m pytest tests solutions --nbval-lax -p no:cacheprovider --durations=10 $(XDIST) $(PYTEST_ARGS)

# The edit-test loop: lint and every test not marked slow (no notebook is executed), on the
# same two workers as `make test` (XDIST= runs it in one process).
check: venv lint
	$(SINGLE_THREAD) $(BIN)/python -m pytest tests -m "not slow" -p no:cacheprovider -q --durations=5 $(XDIST) $(PYTEST_ARGS)

release: venv
	@for lab in $(LABS); do $(BIN)/nbgrader generate_assignment $$lab --force --log-level=WARN || exit 1; done

# The student release for the public repository (labs/, the student wheel, README with the
# Colab links); solutions/ stays in this private one.  make publish PUBLISH_DIR=../public-clone
PUBLISH_DIR ?= public
publish: release
	$(BIN)/python -m lab_utils publish $(PUBLISH_DIR)

bench: venv
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) gradebook.db benchmarks/results.json
