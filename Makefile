# The two commands: `make run` (install, migrate, seed, serve) and `make test` (install, lint, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint pytest install install-dev lock migrate seed clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.run-installed: requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	@touch $@

$(VENV)/.dev-installed: requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	@touch $@ $(VENV)/.run-installed

install: $(VENV)/.run-installed
install-dev: $(VENV)/.dev-installed

## .env: the development settings every process reads, written once from .env.example with a
## SECRET_KEY of its own (an existing .env is left as it is).
.env:
	@sed "s|^SECRET_KEY=.*|SECRET_KEY=$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')|" .env.example > $@.tmp
	@mv $@.tmp $@
	@echo "Wrote .env from .env.example (DEBUG=true, a new SECRET_KEY): manage.py works outside make run too."

## make run: the shop on embedded defaults (SQLite, a file-system cache and broker) with demo data.
run: install .env
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py migrate --no-input
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py seed_demo --if-empty --products $${DEMO_PRODUCTS:-2000}
	DEBUG=$${DEBUG:-true} $(BIN)/python manage.py ensure_dev_user
	@# shop.preflight prints the URLs once the web server answers (after the workers' start-up lines).
	PATH="$(CURDIR)/$(BIN):$$PATH" DEBUG=$${DEBUG:-true} PORT=$${PORT:-8000} $(BIN)/python -m shop.preflight Procfile.dev

## make test: lint, borders and the test suite (SQLite unless DATABASE_URL / REDIS_URL are set).
test: install-dev lint pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

pytest: install-dev
	$(BIN)/pytest $(PYTEST_ARGS)

## make bench: the hot paths under load on the production-like stack (PostgreSQL, Redis, a worker,
## the ERP simulator), PEERS=1 side by side with the peer lab; REPS, DURATION, PRODUCTS, CONNECTIONS,
## PATHS, COMPARE, RESEED, WORKERS, THREADS: benchmarks/http/README.md. Not part of run or test.
bench: install-dev
	$(BIN)/python -m benchmarks.http.run

## make lock: re-resolve the locked dependencies after changing pyproject.toml.
lock: install-dev
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q --extra dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) var
