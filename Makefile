# Two commands on a fresh machine: `make run` and `make test` (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The Python packages mypy checks (settings in pyproject.toml's [tool.mypy]).
PY_PACKAGES := engines ingestion replay ml orchestration dashboard

.PHONY: setup run test lint dashboard bench bench-quick bench-scale bench-forecast browser clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

## The daily pipeline on the embedded default (DuckDB + local replay API).
run: setup
	$(BIN)/blotter run

## Every test: pytest (incl. dbt builds, bqemulator and browser tests).
test: setup browser
	$(BIN)/python -m pytest

## ruff, ruff format and sqlfluff (.pre-commit-config.yaml, on every tracked file), then mypy.
lint: setup
	@mkdir -p data  # the dbt templater opens the ci target's DuckDB file
	$(BIN)/pre-commit run --all-files --show-diff-on-failure
	$(BIN)/mypy $(wildcard $(PY_PACKAGES))

dashboard: setup
	$(BIN)/blotter dashboard

bench: setup
	$(BIN)/python -m tests.bench.run --full

bench-quick: setup
	$(BIN)/python -m tests.bench.run --quick

## Backfill and daily run at 100k / 1M / 10M incidents (issue 16; takes tens of minutes).
bench-scale: setup
	$(BIN)/python -m tests.bench.scale

## Forecast accuracy vs statsforecast peers (replay city, real Chicago homicides, stress cases).
bench-forecast: setup
	$(BIN)/python -m tests.bench.forecast_run

## Debian's headless Chromium for the dashboard tests (no browser downloads).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "error: could not install chromium (apt-get); the browser tests need /usr/bin/chromium" >&2; exit 1; }; }

clean:
	rm -rf $(VENV) target logs data .pytest_cache
