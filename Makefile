# Two commands from a fresh clone: `make demo` and `make test`.
# Each installs what it needs into .venv on first use and reuses it after.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DBT_PROFILES_DIR := $(CURDIR)/profiles
DATA ?= data
export FORECAST_HUB_DATA_DIR := $(abspath $(DATA))

# Demo size: a few tenants, a year and a half of daily sales.
DEMO_ARGS ?= --tenants 3 --skus 120 --locations 8 --days 550 --seed 7

.PHONY: help setup demo serve test unit lint typecheck format docs bench bench-api clean

help:  ## list the targets (the default)
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with every pinned dependency

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## sample client files through ingest, land, dbt build and quality
	$(BIN)/forecast-hub generate --out $(DATA)/bronze $(DEMO_ARGS)
	$(BIN)/forecast-hub ingest
	$(BIN)/forecast-hub land --target duckdb
	$(BIN)/forecast-hub hybrid --target duckdb
	$(BIN)/dbt build
	$(BIN)/forecast-hub quality --target duckdb
	@echo "v_forecast: $(FORECAST_HUB_DATA_DIR)/warehouse/forecast_hub.duckdb, schema serving; for example"
	@echo "  .venv/bin/python -c \"import duckdb; print(duckdb.connect('$(FORECAST_HUB_DATA_DIR)/warehouse/forecast_hub.duckdb', read_only=True).sql('select * from serving.v_forecast limit 10'))\""
	@echo "data docs: $(FORECAST_HUB_DATA_DIR)/quality/gx/uncommitted/data_docs/local_site/index.html (opens offline)"
	@echo "planning page: make serve, then open http://127.0.0.1:8000/ and sign in with tenant northwind"
	@echo "  and a token from: .venv/bin/forecast-hub token add --tenant northwind --user you"

serve: $(STAMP)  ## the API over the demo data on 127.0.0.1:8000
	$(BIN)/forecast-hub serve --host 127.0.0.1 --port 8000

test: lint  ## lint, type-check and the whole test suite
	$(BIN)/pytest

unit: $(STAMP)  ## the fast tests only (tests/python/unit)
	$(BIN)/pytest -q tests/python/unit

# Python by ruff; SQL by SQLFluff in the house style (snowflake dialect): the
# models through dbt's templater, the account DDL under snowflake/ and the
# Snowflake files of hybrid/ as is; hybrid/duckdb.sql and hybrid/postgres.sql in
# their own dialects.
# Not hybrid/sqlite.sql: SQLFluff's sqlite dialect reserves the column name
# action, which SQLite itself accepts.
lint: $(STAMP)  ## ruff and SQLFluff
	$(BIN)/ruff check scripts tests/python benchmarks
	$(BIN)/ruff format --check scripts tests/python benchmarks
	mkdir -p $(FORECAST_HUB_DATA_DIR)/warehouse
	$(BIN)/dbt seed --quiet  # one model reads a seed while it compiles
	$(BIN)/sqlfluff lint models
	$(BIN)/sqlfluff lint --templater raw --dialect snowflake snowflake \
		hybrid/snowflake_hybrid.sql hybrid/snowflake_standard.sql
	$(BIN)/sqlfluff lint --templater raw --dialect duckdb --disregard-sqlfluffignores \
		hybrid/duckdb.sql
	$(BIN)/sqlfluff lint --templater raw --dialect postgres --disregard-sqlfluffignores \
		hybrid/postgres.sql

typecheck: $(STAMP)  ## mypy over scripts/ and benchmarks/ (settings in pyproject.toml)
	$(BIN)/mypy

format: $(STAMP)  ## ruff format and the fixes ruff can make
	$(BIN)/ruff format scripts tests/python benchmarks
	$(BIN)/ruff check --fix scripts tests/python benchmarks

docs: $(STAMP)  ## dbt docs generate
	$(BIN)/dbt docs generate

# Ingest throughput against a plain DuckDB copy of the same ~1 GB sales file.
bench: $(STAMP)  ## ingest throughput against a plain DuckDB copy
	$(BIN)/python benchmarks/ingest_throughput.py --work $(DATA)/bench

# Edit-to-visible and read latency, and durable edits per second, of the API.
bench-api: $(STAMP)  ## API latency and edits per second
	$(BIN)/python benchmarks/api_load.py

clean:  ## remove ./data and dbt's build folders
	rm -rf $(DATA) target logs dbt_packages .pytest_cache .ruff_cache
