# The two commands: `make demo` and `make test`. Everything else is for developers.
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast e2e fuzz lint format bench lock clean

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "scarrx needs Python 3.11 or newer" or 0)'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scarrx migrate --no-input -v 0
	$(BIN)/scarrx demo
	$(BIN)/scarrx serve --port $(PORT)

test: $(STAMP)
	$(BIN)/pytest -n 2 -m "not e2e and not fuzz"

e2e: $(STAMP)
	$(BIN)/pytest -m e2e -p no:xdist

# The API fuzzed from its OpenAPI schema (schemathesis): no generated request gets a 500.
fuzz: $(STAMP)
	$(BIN)/pytest -n 2 -m fuzz tests/fuzz

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

lock:
	$(PYTHON) -m pip install --quiet pip-tools
	$(PYTHON) -m piptools compile --quiet --extra dev --strip-extras --no-emit-index-url \
		--no-emit-find-links -o requirements.lock pyproject.toml

clean:
	rm -rf $(VENV)
