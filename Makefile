# Rungs: `make run` serves the app on SQLite with demo data; `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := app
# Python may keep the bytecode it compiles (__pycache__/, ignored by git), whatever the shell says:
# every job runs in a fresh interpreter, as do many tests, and without it each one compiled the
# app's three hundred modules again (building the app: 1.8 s without, 1.35 s with).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test lint install install-dev chromium test-postgres clean

$(VENV)/.installed-run: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# The SSO tests run a real OpenID Provider (tests/oidc, the npm package oidc-provider) with
# Node.js: its packages come from the registry here, at install time, never while tests run.
OIDC_PROVIDER := tests/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/oidc/package.json tests/oidc/package-lock.json
	@command -v npm >/dev/null || { echo "The SSO tests need Node.js 20+ and npm: install them (Debian: apt-get install nodejs npm) and try again." >&2; exit 1; }
	npm ci --prefix tests/oidc --no-audit --no-fund

install: $(VENV)/.installed-run
install-dev: $(VENV)/.installed-dev $(OIDC_PROVIDER)

## run: migrate the database, load the demo organisation into an empty one, serve on PORT
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo load --if-empty
	@echo "Rungs is starting on http://127.0.0.1:$(PORT)"
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

## test: lint, the suite on SQLite, then on PostgreSQL when CI=true or TEST_DATABASE_URL is set
test: install-dev chromium lint
	$(BIN)/pytest
	@if [ "$$CI" = "true" ] || [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) --no-print-directory test-postgres; fi

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test-postgres: install-dev
	$(BIN)/python .ci/postgres_suite.py

## chromium: the browser tests drive Debian's Chromium, and WeasyPrint wants HarfBuzz's subsetter
## (without it, it warns at import, which the suite treats as an error); install them when we may
SYSTEM_PACKAGES := chromium libharfbuzz-subset0
chromium:
	@missing=$$(for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || printf '%s ' $$p; done); \
	[ -z "$$missing" ] && exit 0; \
	if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's $$missing for the tests..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	else \
		echo "The tests need Debian's $$missing: run 'sudo apt-get install $$missing' and try again." >&2; \
		exit 1; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
