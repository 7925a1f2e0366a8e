# The few commands a person types. Each sets up what it needs first.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
ROUTINE ?= sciatica-relief

.PHONY: run test lint typecheck unit bench setup system-deps system-deps-test clean

## make run: set everything up (with the natural voice) and export the sciatica
## routine to exports/
run: system-deps $(VENV)/.installed-neural
	$(BIN)/voice-coach export $(ROUTINE)

## make test: set everything up, then ruff, mypy and the whole pytest suite
## (with the optional neural voice, so every engine's contract test runs, and the
## recognizer for voice commands)
test: system-deps-test $(VENV)/.installed-neural lint typecheck unit

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

# pytest exits 5 when it collects no tests: that is a failure here, like any non-zero.
unit: $(VENV)/.installed
	$(BIN)/pytest

## make bench: speed and memory figures (see benchmarks/README.md)
bench: system-deps $(VENV)/.installed
	$(BIN)/python -m benchmarks.bench_export

setup: $(VENV)/.installed

system-deps:
	@tools/system-deps.sh run

system-deps-test:
	@tools/system-deps.sh test

$(VENV)/.installed-neural: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev,neural,listen]'
	touch $@

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) exports .pytest_cache .mypy_cache .ruff_cache
