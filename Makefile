# 社区治理 backend. `make run` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ROLE ?= resident

.PHONY: help install run test test-fast migrate seed up down token api-key bench deploy-files validate-deploy lint clean rabbit-cluster-up rabbit-cluster-down trace

help:
	@echo "make run     all seven services embedded on http://127.0.0.1:8000 with demo data"
	@echo "make test    the full suite (RabbitMQ/PostgreSQL tests skip when absent, unless CI=true)"
	@echo "make up      services mode: an API and a worker per service (APIS=n WORKERS=n) on PostgreSQL and RabbitMQ; make down"
	@echo "make migrate every service's Alembic migrations (services mode databases)"
	@echo "make rabbit-cluster-up   three RabbitMQ nodes on 127.0.0.1:5701-5703 (docs/operations.md); make rabbit-cluster-down"
	@echo "make token ROLE=resident   a bearer token for the demo user of a role (USER=grid-worker-001002: by username)"
	@echo "make api-key a fresh API key of the demo government system (Open311 at /open311/v2: docs/interop.md)"
	@echo "make bench   the benchmark; results in bench/results/latest.json"
	@echo "make trace CORRELATION=<X-Request-ID>   what every service did for one request, from their databases"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")' >&2
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) >&2
	@$(BIN)/pip install -q --upgrade pip >&2
	@$(BIN)/pip install -q -e '.[dev]' >&2
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/python -m services embedded

test: install
	$(BIN)/pytest -q -rs

test-fast: install
	$(BIN)/pytest -q -m "not e2e" tests/unit

migrate: install
	CG_MODE=services $(BIN)/python -m shared.migrate

seed: install
	CG_MODE=services $(BIN)/python -m services seed

# make up APIS=2 WORKERS=2 (or INTAKE_APIS=3 ROUTING_WORKERS=2 …): processes per service, see deploy/services.sh.
up: install
	@APIS=$(APIS) WORKERS=$(WORKERS) bash deploy/services.sh up

down:
	@bash deploy/services.sh down

rabbit-cluster-up:
	@bash deploy/rabbitmq-cluster.sh up

rabbit-cluster-down:
	@bash deploy/rabbitmq-cluster.sh down

# USER is also the shell's login name: only a USER given on the command line picks a demo user.
token: install
ifeq ($(origin USER),command line)
	@$(BIN)/python -m services.identity token --user $(USER)
else
	@$(BIN)/python -m services.identity token --role $(ROLE)
endif

# A fresh key of the demo 12345 platform (embedded mode), shown once: X-API-Key, or api_key, at /open311/v2.
api-key: install
	@$(BIN)/python -m services.identity api-key

bench: install
	$(BIN)/python -m bench

# One request across every service (CG_MODE picks the databases: var/*.sqlite, or PostgreSQL in services mode).
trace: install
	@test -n "$(CORRELATION)" || { echo "make trace CORRELATION=<the request's X-Request-ID>" >&2; exit 2; }
	@$(BIN)/python -m shared.trace_api $(CORRELATION)

# deploy/k8s/base and deploy/rabbitmq/definitions.json, from the service list and the topology table.
deploy-files: install
	$(BIN)/python deploy/k8s/generate.py
	$(BIN)/python -m shared.messaging.topology > deploy/rabbitmq/definitions.json

# The image, compose file, Kubernetes manifests and RabbitMQ definitions, checked without a cluster or engine.
validate-deploy: install
	$(BIN)/pytest -q -rs tests/deploy

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf var .pytest_cache
