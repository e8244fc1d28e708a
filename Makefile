# kalshiweb: `make run` sets up and runs the product; `make test` sets up and runs the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
HOST   ?= 127.0.0.1
PORT   ?= 8000

# The pure core (no ORM or app imports; env.py raises Django's ImproperlyConfigured) is checked with mypy --strict.
PURE_CORE := kalshiweb/env.py kalshiweb/modes.py kalshiweb/keyfiles.py kalshiweb/progress.py weather/climate.py \
             weather/quantities.py \
             markets/units.py markets/brackets.py markets/tickers.py markets/errors.py markets/signing.py \
             markets/ratelimit.py markets/calls.py markets/transport.py markets/client.py markets/client_api.py \
             markets/schemas markets/endpoints weather/sources weather/climate_report.py \
             prediction/distributions.py prediction/probabilities.py prediction/emos.py \
             prediction/climatology.py prediction/scoring.py prediction/cases.py prediction/features.py \
             prediction/xgb.py prediction/weather_model.py prediction/forecasters.py prediction/evaluation.py \
             prediction/book.py prediction/artifact.py prediction/predictor.py prediction/combination.py \
             markets/outcomes.py markets/livebook.py markets/feed/protocol.py markets/feed/backoff.py markets/feed/connection.py \
             localexchange/matching.py localexchange/exchange.py localexchange/ws.py localexchange/rest.py localexchange/auth.py localexchange/makers.py \
             trading/fees.py trading/limits.py trading/decisions.py trading/risk.py trading/kelly.py \
             trading/sizing.py trading/ledger.py trading/decide.py trading/strategies trading/queue.py \
             backtesting/tape.py backtesting/fills.py backtesting/broker.py backtesting/engine.py \
             backtesting/metrics.py backtesting/walkforward.py backtesting/report.py

.PHONY: help run setup install install-dev assets test lint format typecheck migrations-check bench lock clean superuser

help:
	@echo "make run               set up (venv, deps, database, cities, admin) and run everything on :$(PORT)"
	@echo "make test              set up and run the test suite"
	@echo "make lint | format | typecheck | migrations-check | bench | lock | superuser | clean"

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "kalshiweb needs Python 3.11+, found " + sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# Stamp files: reinstall only when the pinned requirements change.
$(VENV)/.runtime: requirements.txt | $(PY)
	$(PY) -m pip install --quiet -r requirements.txt
	@touch $@

# The dashboard's front-end libraries, from the npm registry at the versions package-lock.json pins,
# copied into our static files so pages work offline. Needs Node.js's npm at set-up only.
# Chart.js's source map too: collectstatic rewrites the script's link to it and fails if it is missing.
VENDOR := kalshiweb/static/vendor
VENDORED := $(VENDOR)/htmx.min.js $(VENDOR)/chart.umd.min.js $(VENDOR)/chart.umd.min.js.map
$(VENDORED) &: package.json package-lock.json
	@command -v npm >/dev/null || { echo "kalshiweb needs npm (Node.js) at set-up to fetch the dashboard's htmx and Chart.js"; exit 1; }
	npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js node_modules/chart.js/dist/chart.umd.min.js{,.map} $(VENDOR)/
assets: $(VENDORED)

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(PY)
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

# The browser tests drive Debian's chromium through Playwright, which never downloads a browser of its own.
CHROMIUM_BIN := /usr/bin/chromium
$(CHROMIUM_BIN):
	@[ "$$(id -u)" = 0 ] || { echo "The browser tests need Debian's chromium: run 'sudo apt-get install -y chromium'"; exit 1; }
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The monitoring tests check the alert rules with promtool and the Alertmanager config with amtool, taken from
# Debian's prometheus and prometheus-alertmanager packages. Only the two binaries are unpacked into the venv:
# installing the packages would also set up a Prometheus and an Alertmanager service the tests do not want.
MONITORING_TOOLS := $(BIN)/promtool $(BIN)/amtool
$(MONITORING_TOOLS) &: | $(PY)
	@command -v apt-get >/dev/null || { echo "The monitoring tests need promtool and amtool from Debian's prometheus and prometheus-alertmanager packages"; exit 1; }
	@debs=$$(mktemp -d) && trap 'rm -rf "$$debs"' EXIT && cd "$$debs" && \
	  { apt-get download -qq prometheus prometheus-alertmanager 2>/dev/null || \
	    { [ "$$(id -u)" = 0 ] || { echo "Run 'sudo apt-get update' so apt can download Debian's prometheus packages"; exit 1; }; \
	      apt-get update -qq && apt-get download -qq prometheus prometheus-alertmanager; }; } && \
	  for deb in *.deb; do dpkg-deb -x "$$deb" unpacked; done && \
	  install -m 755 unpacked/usr/bin/promtool unpacked/usr/bin/amtool "$(CURDIR)/$(BIN)/"

install: $(VENV)/.runtime $(VENDORED)
install-dev: $(VENV)/.dev $(VENDORED) $(CHROMIUM_BIN) $(MONITORING_TOOLS)

setup: install
	$(PY) manage.py setup

run: setup
	$(PY) manage.py runembedded --host $(HOST) --port $(PORT)

test: install-dev
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install-dev
	$(BIN)/mypy .
	$(BIN)/mypy --strict $(PURE_CORE)

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

# Figures on the embedded SQLite, then on PostgreSQL (a throwaway test_ database on that server;
# skipped with a message when no server answers there; BENCH_POSTGRES_URL= skips it outright).
BENCH_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/kalshiweb_bench
bench: install-dev
	$(PY) -m benchmarks $(BENCH_ARGS)
	@if [ -n "$(BENCH_POSTGRES_URL)" ]; then $(PY) -m benchmarks --database-url "$(BENCH_POSTGRES_URL)" --skip-unreachable $(BENCH_ARGS); fi

superuser: install
	$(PY) manage.py createsuperuser

# Re-pin requirements*.txt from requirements*.in.
lock: install-dev
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements.txt requirements.in
	$(BIN)/pip-compile --quiet --strip-extras --no-emit-index-url --no-emit-find-links -o requirements-dev.txt requirements-dev.in

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache node_modules $(VENDOR)
