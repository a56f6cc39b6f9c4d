# FrameSell: `make run` starts the shop, `make test` runs every test. Nothing else needed first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Two stamps: running the shop needs FrameSell and the fake Stripe; the tests add their tools.
RUN_READY := $(VENV)/.run-ready
TEST_READY := $(VENV)/.test-ready
INI ?= development.ini
FAKE_STRIPE_PORT ?= 8420
# RELOAD=1: restart the shop when its code changes (pserve --reload).
RELOAD ?=

.PHONY: install run test lint unit cli contract api system e2e mutation bench clean

$(RUN_READY): setup.cfg pyproject.toml
	@test -x $(BIN)/python || { \
	    echo "==> first run: setting up $(VENV)/ with what the shop needs (about a minute)"; \
	    $(PYTHON) -m venv $(VENV); }
	@echo "==> installing FrameSell, its dependencies and the fake Stripe into $(VENV)/"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

$(TEST_READY): $(RUN_READY)
	@echo "==> adding the test tools to $(VENV)/ (pytest, WebTest, Playwright, schemathesis, ruff, mypy, import-linter)"
	$(BIN)/python -m pip install --quiet -e '.[dev,test]'
	@touch $@

## install: everything, the test tools included (make run needs only part of it).
install: $(TEST_READY)

## run: SQLite under var/, the fake Stripe on 127.0.0.1:$(FAKE_STRIPE_PORT), mails kept in var/mail/, the shop on 127.0.0.1:6543. Ctrl-C stops all.
run: $(RUN_READY)
	@mkdir -p var
	@echo "==> bringing the database in var/ up to date and seeding the catalog"
	$(BIN)/framesell -c $(INI) migrate
	$(BIN)/framesell -c $(INI) seed
	@echo "==> starting the fake Stripe, the local SMTP server (mails in var/mail/) and the shop; Ctrl-C stops all"
	$(BIN)/python -m fakestripe.devrun --ini $(INI) --port $(FAKE_STRIPE_PORT)$(if $(RELOAD), --reload)

## test: every test layer (unit, cli, contract, api, system, e2e). CI=true makes missing MariaDB/localstripe/Chromium a failure.
test: $(TEST_READY)
	$(BIN)/pytest

unit cli contract api system e2e: $(TEST_READY)
	$(BIN)/pytest tests/$@

## lint: ruff, mypy (strict on domain and application) and the import-linter layer contracts.
lint: $(TEST_READY)
	$(BIN)/ruff check framesell tests fakestripe bench
	$(BIN)/mypy framesell
	$(BIN)/lint-imports

## mutation: mutmut over the modules that decide money and access (docs/testing.md), with the
## fast tests that reach each mutated function. Not run in CI (it takes long). One module:
## make mutation MODULE=framesell.adapters.stripe_webhooks; CHILDREN=n workers (default 1).
MODULE ?=
CHILDREN ?= 1
mutation: $(TEST_READY)
	$(BIN)/python -m pip install --quiet -e '.[test,mutation]'
	$(BIN)/mutmut run --max-children $(CHILDREN) $(if $(MODULE),"$(MODULE)*")
	$(BIN)/python -m tests.mutation_summary

## bench: wrk against FrameSell on SQLite and MariaDB, next to a bare-WSGI floor (bench/README.md). Needs wrk.
bench: $(TEST_READY)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var test-artifacts mutants .pytest_cache .mypy_cache .ruff_cache
