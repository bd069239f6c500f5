# The README's two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
RESIDENTS ?= 2000

.PHONY: demo test install lint format messages clean-test-db

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the package's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Install, migrate, load the demo county and serve it on http://$(HOST):$(PORT)/
## Its database, keys and uploads stay in this checkout (var/demo), so two clones never share them.
demo: export EPIDISPATCH_DATA_DIR ?= $(CURDIR)/var/demo
demo: export EPIDISPATCH_DEMO := 1
demo: install
	scripts/ensure-fonts.sh
	$(BIN)/epidispatch migrate --verbosity 0
	$(BIN)/epidispatch load_demo --residents $(RESIDENTS)
	@echo
	@echo "epidispatch demo: http://$(HOST):$(PORT)/   (admin: http://$(HOST):$(PORT)/admin/, as dispatcher)"
	@echo "Database: $$($(BIN)/python -c 'import django,os;os.environ.setdefault("DJANGO_SETTINGS_MODULE","epidispatch.settings");django.setup();from django.db import connection;print(connection.settings_dict["NAME"])')"
	@echo "Background tasks (web imports, the 16:00 cutoff): log in $$EPIDISPATCH_DATA_DIR/tasks.log"
	@echo
	$(BIN)/epidispatch run_huey > "$$EPIDISPATCH_DATA_DIR/tasks.log" 2>&1 & tasks=$$!; \
		trap 'kill $$tasks' EXIT INT TERM; \
		$(BIN)/epidispatch runserver $(HOST):$(PORT) --noreload

## Production: gunicorn and the task consumer on PostgreSQL ($$DATABASE_URL) and Redis, DEBUG
## off, HTTPS settings on (docs/operations.md).
.PHONY: serve
serve: install
	scripts/serve.sh

## Install what the tests need (Debian's chromium included), find or start PostgreSQL, lint, check
## the layers (lint-imports, pyproject.toml), run pytest in PYTEST_WORKERS processes (pytest-xdist;
## each has its own test database, test_<name>_gw0..., and data folder, var/test/gw0...).
## One process: make test PYTEST_WORKERS=0. More pytest options: make test PYTEST_ARGS="-x".
PYTEST_WORKERS ?= 2
test: install
	scripts/ensure-chromium.sh
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" EPIDISPATCH_DATA_DIR="$(CURDIR)/var/test" \
		$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Refresh the translation catalogue (needs GNU gettext) and compile it.
messages: install
	cd src/epidispatch && ../../$(BIN)/epidispatch makemessages --locale zh_Hans --no-obsolete --add-location file
	cd src/epidispatch && ../../$(BIN)/epidispatch compilemessages --locale zh_Hans

## Import benchmark, written to bench/RESULTS.md: 1,000,000 dose rows against 500,000 residents
## (a few minutes; drops and recreates the database "bench" on the test suite's server).
## Other sizes: make bench BENCH_ARGS="--residents 50000 --doses 100000 --xlsx-rows 10000"
.PHONY: bench
bench: install
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(BIN)/python bench/import_doses.py $(BENCH_ARGS)

## Dashboard benchmark, written to bench/RESULTS.md: dashboard and ranking reads of a synthetic
## city of 300,000 then 3,000,000 residents against a GROUP BY over the raw tables (7 to 10
## minutes; drops and recreates the databases "bench_dashboard_<residents>").
## Other sizes: make bench-dashboard BENCH_DASHBOARD_ARGS="--residents 3000000 --doses 6000000"
BENCH_DASHBOARD_ARGS ?= --scale 300000,3000000
.PHONY: bench-dashboard
bench-dashboard: install
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(BIN)/python bench/dashboard.py $(BENCH_DASHBOARD_ARGS)

## Visit-write benchmark, written to bench/RESULTS.md: 200 concurrent clients posting visit
## outcomes over HTTP to gunicorn on PostgreSQL, against a bare insert view (drops and
## recreates the database "bench_visits"). Other sizes: make bench-visits BENCH_ARGS="--seconds 5"
.PHONY: bench-visits
bench-visits: install
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(BIN)/python bench/visits.py --clients 200 --seconds 20 $(BENCH_ARGS)

## Trace benchmark, written to bench/RESULTS.md: trace_lot through 3,000,000 doses and
## 3,000,000 stock moves against the same call without the supply indexes (drops and
## recreates the database "bench_trace"). Other sizes: make bench-trace BENCH_ARGS="--doses 300000"
.PHONY: bench-trace
bench-trace: install
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(BIN)/python bench/trace.py $(BENCH_ARGS)

## Screening benchmark, written to bench/RESULTS.md: a round over a city of 1,000,000 residents
## in 100,000 pooled tubes (samples and results imports against a bare COPY, coverage p95
## against a GROUP BY over the raw sample rows; drops and recreates "bench_screening").
## Other sizes: make bench-screening BENCH_SCREENING_ARGS="--residents 100000"
BENCH_SCREENING_ARGS ?= --residents 1000000
.PHONY: bench-screening
bench-screening: install
	DATABASE_URL="$$(scripts/ensure-postgres.sh)" $(BIN)/python bench/screening.py $(BENCH_SCREENING_ARGS)
