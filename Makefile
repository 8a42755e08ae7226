# The two commands: `make run` (install, migrate, seed, serve) and `make test` (install, lint, test).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test lint pytest install install-dev lock migrate seed clean bench stack loadtest

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

## make stack: the production-like processes on this machine (gunicorn with gunicorn.conf.py, both
## Celery workers, beat, the ERP simulator; DEBUG off) on DATABASE_URL (PostgreSQL) and REDIS_URL,
## all writing to one metrics folder, so web's /metrics (bearer: var/metrics_token, or METRICS_TOKEN)
## serves them all; deploy/prometheus/prometheus-stack.yml scrapes it. The demo catalog is seeded
## into an empty database (SEED_DEMO=false: not). README, "Metrics".
STACK_ENV = DEBUG=false ALLOWED_HOSTS=$${ALLOWED_HOSTS:-127.0.0.1,localhost} SECURE_SSL_REDIRECT=false \
	METRICS_TOKEN=$${METRICS_TOKEN:-$$(cat var/metrics_token)} PORT=$${PORT:-8000}
stack: install .env
	@case "$$DATABASE_URL" in postgres*) ;; *) echo "make stack: set DATABASE_URL=postgres://... (and REDIS_URL=redis://...)" >&2; exit 2;; esac
	@case "$$REDIS_URL" in redis*) ;; *) echo "make stack: set REDIS_URL=redis://..." >&2; exit 2;; esac
	@mkdir -p var && (test -s var/metrics_token || $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(32), end="")' > var/metrics_token)
	$(STACK_ENV) $(BIN)/python manage.py collectstatic --no-input -v 0
	$(STACK_ENV) SEED_DEMO=$${SEED_DEMO:-true} $(BIN)/python manage.py init_shop
	@echo ""
	@echo "  Shop (DEBUG off)  http://127.0.0.1:$${PORT:-8000}/api/v1/catalog/products/"
	@echo "  Metrics           curl -H \"Authorization: Bearer \$$(cat var/metrics_token)\" http://127.0.0.1:$${PORT:-8000}/metrics"
	@echo "  Prometheus        prometheus --config.file=deploy/prometheus/prometheus-stack.yml"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(STACK_ENV) $(BIN)/python -m shop.preflight Procfile.stack

## The browser test of the operations page (tests/shop/test_operations_browser.py) drives the
## distribution's Chromium through Playwright; installed from Debian's registry when missing
## (as root, as CI runs; otherwise through sudo). Playwright's own browser download is not used.
CHROMIUM ?= /usr/bin/chromium
$(CHROMIUM):
	@echo "make test: the browser test needs $(CHROMIUM); installing Debian's chromium"
	@if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium \
	  || { $$SUDO apt-get update && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

## make test: lint, borders and the test suite (SQLite unless DATABASE_URL / REDIS_URL are set).
test: install-dev lint pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

pytest: install-dev $(CHROMIUM)
	SHOP_TEST_CHROMIUM=$(CHROMIUM) $(BIN)/pytest $(PYTEST_ARGS)

## make bench: the hot paths under load on the production-like stack (PostgreSQL, Redis, a worker,
## the ERP simulator), PEERS=1 side by side with the peer lab; REPS, DURATION, PRODUCTS, CONNECTIONS,
## PATHS, COMPARE, RESEED, WORKERS, THREADS: benchmarks/http/README.md. Not part of run or test.
bench: install-dev
	$(BIN)/python -m benchmarks.http.run

## make loadtest: the whole shop under a campaign (Locust: browsers, shoppers, customers, staff
## integrations) on the production-like stack, with a report in loadtest/reports/<UTC time>/,
## invariants and cost per order; TARGET, DURATION, USERS, SHAPE, SCENARIO, PRODUCTS:
## loadtest/README.md. Not part of run or test.
loadtest: install-dev
	$(BIN)/python -m loadtest.run

## make lock: re-resolve the locked dependencies after changing pyproject.toml.
lock: install-dev
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes -q --extra dev -o requirements-dev.lock

clean:
	rm -rf $(VENV) var
