# vgi-bench: `make run` runs a conformance campaign against the built-in reference DUTs,
# `make test` runs the bench's own tests. Both create .venv/ first when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SUITES ?= gbt27930.charger gbt27930.bms
TEST_WORKERS ?= 4

.PHONY: install run test lint bench dbc clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/vgi-bench run $(foreach s,$(SUITES),--suite $(s))

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --timeout=1200 -p no:cacheprovider tests

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/can_timing.py

dbc: $(STAMP)
	$(BIN)/vgi-bench dbc gbt27930-2015.dbc

clean:
	rm -rf $(VENV) out build *.egg-info
