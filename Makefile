# FrameSell: `make run` starts the shop, `make test` runs every test. Nothing else needed first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
INI ?= development.ini
FAKE_STRIPE_PORT ?= 8420

.PHONY: install run test lint unit contract api system e2e clean

$(INSTALLED): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $(INSTALLED)

install: $(INSTALLED)

## run: SQLite under var/, the fake Stripe on 127.0.0.1:$(FAKE_STRIPE_PORT), the shop on 127.0.0.1:6543. Ctrl-C stops both.
run: install
	mkdir -p var
	$(BIN)/framesell -c $(INI) migrate
	$(BIN)/framesell -c $(INI) seed
	$(BIN)/python -m fakestripe.devrun --ini $(INI) --port $(FAKE_STRIPE_PORT)

## test: every test layer (unit, contract, api, e2e). CI=true makes missing MariaDB/localstripe/Chromium a failure.
test: install
	$(BIN)/pytest

unit contract api system e2e: install
	$(BIN)/pytest tests/$@

## lint: ruff, mypy (strict on domain and application) and the import-linter layer contracts.
lint: install
	$(BIN)/ruff check framesell tests fakestripe bench
	$(BIN)/mypy framesell
	$(BIN)/lint-imports

## bench: wrk against FrameSell on SQLite and MariaDB, next to a bare-WSGI floor (bench/README.md). Needs wrk.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache
