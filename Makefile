# TuneDesk — the two commands: `make run` and `make test`.
# Everything installs into .venv; re-running is fast because installs are stamped.

SHELL := /bin/bash
# The newest interpreter that really runs and is 3.11+ (version managers install shims that
# exist on PATH but fail when the version is not installed).
PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
APP_STAMP := $(VENV)/.installed-app
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test lint typecheck pytest i18n bench clean help

help:
	@echo "make run    install, migrate, start web + worker + beat on http://127.0.0.1:$(PORT)"
	@echo "make test   install test tools, run ruff, mypy and the whole test suite"
	@echo "make i18n   update the translation catalogs and list untranslated strings"

$(PY):
	@test -n "$(PYTHON)" || { echo "TuneDesk needs Python 3.11 or newer (python3.11, python3.12 or python3 on PATH)"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "TuneDesk needs Python 3.11 or newer (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(APP_STAMP): pyproject.toml constraints.txt | $(PY)
	$(PY) -m pip install --quiet -c constraints.txt -e .
	@touch $@

$(DEV_STAMP): $(APP_STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	@touch $@

run: $(APP_STAMP)
	$(PY) -m app run --port $(PORT)

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: $(DEV_STAMP)
	$(PY) -m mypy

# The suite runs in TEST_PROCESSES parallel processes (most tests wait on databases, workers and
# browsers, so more processes than cores pays); TEST_PROCESSES=0 runs it in this process.
TEST_PROCESSES ?= 3

pytest: $(DEV_STAMP)
	$(PY) -m pytest -n $(TEST_PROCESSES) --dist loadgroup $(PYTEST_ARGS)

test: lint typecheck pytest

i18n: $(DEV_STAMP)
	$(PY) -m app.i18n_catalogs

bench: $(DEV_STAMP)
	@for script in bench/[!_]*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
