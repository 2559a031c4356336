# tnld: `make run` serves on SQLite with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint format bench-intake bench-notify bench-burst bench-queries bench-metrics clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Migrate a SQLite database in this folder, add demo organisations on first run, and serve.
run: install
	$(BIN)/tnld demo --host $(HOST) --port $(PORT)
	$(BIN)/tnld serve --host $(HOST) --port $(PORT)

## The whole suite (SQLite; PostgreSQL with TNLD_TEST_DATABASE_URL=postgresql://...).
test: install
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests bench migrations

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-intake: install
	$(BIN)/python bench/intake.py

bench-notify: install
	$(BIN)/python bench/notify.py

## 200 simultaneous requests against tnld serve (default configuration) on PostgreSQL and SQLite.
bench-burst: install
	$(BIN)/python bench/burst.py

bench-queries: install
	$(BIN)/python bench/queries.py

bench-metrics: install
	$(BIN)/python bench/metrics.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build *.egg-info
