# Two entry points (see README.md): `make run` and `make test`. Only Python 3.11+ and make needed.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: run test lint setup bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## Set up everything and run the assistant locally (SQLite, web chat at /, admin at /admin).
run: $(STAMP)
	$(BIN)/cdsbot run

## Set up everything and run the tests.
test: $(STAMP)
	$(BIN)/python -m pytest -n auto

## Lint (ruff: pyflakes, import order, bugbear) and types (mypy) of bot/ and admin/; settings in pyproject.toml.
lint: $(STAMP)
	$(BIN)/ruff check bot admin
	$(BIN)/mypy

## Benchmarks (print numbers against a baseline measured in the same run).
bench: $(STAMP)
	$(BIN)/python bench/matcher.py

eval: $(STAMP)
	$(BIN)/cdsbot eval ../shared/eval/dev.jsonl eval/blind.jsonl eval/blind-4.jsonl eval/blind-6.jsonl eval/blind-7.jsonl eval/blind-8.jsonl eval/blind-9.jsonl eval/blind-10.jsonl eval/blind-11.jsonl eval/blind-12.jsonl eval/blind-13.jsonl eval/blind-14.jsonl eval/near-miss.jsonl tests/data/residents.jsonl --loo

clean:
	rm -rf $(VENV) data build *.egg-info
