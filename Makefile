# Two commands from a fresh clone: `make demo` and `make test`.
# Each installs what it needs into .venv on first use and reuses it after.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.bench-installed
PEER := .venv-peer
BENCH_ARGS ?=
export DBT_PROFILES_DIR := $(CURDIR)/profiles
DATA ?= data
# Processes the whole suite runs on (pytest-xdist), a test file to each at a time.
TEST_WORKERS ?= 2
export FORECAST_HUB_DATA_DIR := $(abspath $(DATA))

# Demo size: a few tenants, a year and a half of daily sales.
DEMO_ARGS ?= --tenants 3 --skus 120 --locations 8 --days 550 --seed 7

.PHONY: help setup demo serve test unit lint typecheck format docs bench bench-api bench-objectstore \
	bench-scale bench-cache clean

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
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --durations=15

unit: $(STAMP)  ## the fast tests only (tests/python/unit)
	$(BIN)/pytest -q tests/python/unit

# Python by ruff; SQL by SQLFluff in the house style (snowflake dialect): the
# models through dbt's templater, the account DDL under snowflake/ and the
# Snowflake files of hybrid/ as is; hybrid/duckdb.sql and hybrid/postgres.sql in
# their own dialects.
# Not hybrid/sqlite.sql: SQLFluff's sqlite dialect reserves the column name
# action, which SQLite itself accepts.
lint: typecheck  ## ruff, mypy and SQLFluff
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

# Every benchmark side by side against its peer, in one report:
# $(DATA)/bench/report.md, report.json and ratios.png (docs/benchmarks.md).
# About 20M sales rows; `make bench BENCH_ARGS=--quick` for about 1M, or
# BENCH_ARGS='--rows N'. The bench extra goes into .venv (its pins only, from
# pyproject.toml); statsforecast, the forecast peer, into .venv-peer.
bench: $(STAMP) $(BENCH_STAMP) $(PEER)/.installed  ## every benchmark against its peer, one report
	$(BIN)/python -m benchmarks.report --work $(DATA)/bench $(BENCH_ARGS)

$(BENCH_STAMP): pyproject.toml
	$(BIN)/pip install --quiet $$($(BIN)/python -c "import tomllib; \
		print(' '.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['bench']))")
	touch $(BENCH_STAMP)

$(PEER)/.installed: benchmarks/peer-requirements.txt
	$(PYTHON) -m venv --clear $(PEER)
	$(PEER)/bin/python -m pip install --quiet --upgrade pip
	$(PEER)/bin/python -m pip install --quiet -r benchmarks/peer-requirements.txt
	touch $(PEER)/.installed

# Edit-to-visible and read latency, and durable edits per second, of the API.
bench-api: $(STAMP)  ## API latency and edits per second, per backend
	$(BIN)/python benchmarks/api_backends.py

# Object storage on a local moto server: a cold start, sync against local, kill -9 trials.
bench-objectstore: $(STAMP)  ## cold start, sync edits against local, 200 kill -9 trials
	$(BIN)/python benchmarks/objectstore_bench.py

# Every step's wall time and peak memory at growing sizes, with a chart; the
# generated files are kept under SCALE_DATA and reused by the next run.
SCALE_SIZES ?= 20M,50M,200M
SCALE_DATA ?= /tmp/scale-data
bench-scale: $(STAMP)  ## time and memory of every step at 20M, 50M and 200M rows
	$(BIN)/python benchmarks/scale.py --sizes $(SCALE_SIZES) --work $(SCALE_DATA)

# The forecast cache against littletable and the tuple loader it replaced (1M rows).
bench-cache: $(STAMP)  ## the API's forecast cache: memory, reads, warm start, HTTP p99
	$(BIN)/python benchmarks/cache_bench.py --work $(DATA)/bench-cache

clean:  ## remove ./data and dbt's build folders
	rm -rf $(DATA) target logs dbt_packages .pytest_cache .ruff_cache
