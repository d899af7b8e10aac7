# Vigil: the two commands are `make up` and `make test`. Everything else is a building block.
SHELL := /bin/bash
.DEFAULT_GOAL := help
UV := uv run --frozen

.PHONY: help bootstrap proto dashboards up down status test test-python test-firmware lint bench clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

bootstrap: ## Install system packages, uv and the Python workspace (idempotent)
	@scripts/bootstrap.sh

proto: ## Regenerate Python code from proto/
	@scripts/genproto.sh

dashboards: ## Regenerate Grafana dashboards (infra/grafana, charts/vigil/dashboards)
	@$(UV) python infra/grafana/dashboards.py

up: bootstrap ## Start the whole platform with simulated patients
	@$(UV) vigil up

down: ## Stop the local stack (data is kept)
	@$(UV) vigil down

status: ## Show the local stack
	@$(UV) vigil status

lint: bootstrap ## ruff, mypy (strict on the core)
	$(UV) ruff check services tests firmware/tests infra/grafana
	$(UV) mypy services/core/src services/ingest/src services/cli/src services/sim/src services/rules/src services/cache/src services/notifier/src

test: bootstrap ## Install what tests need, lint, and run every test (Python, TimescaleDB, Helm, firmware)
	@tests/timescale/setup.sh
	@scripts/install-helm.sh
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory test-python
	$(MAKE) --no-print-directory test-firmware

# pytest exits 5 when it collected nothing: that fails here like any other non-zero status.
test-python:
	$(UV) pytest -q -p no:cacheprovider

test-firmware:
	@firmware/scripts/test.sh

bench: bootstrap ## Benchmarks (figures for the README table)
	$(UV) vigil bench ingest
	$(UV) vigil bench cache
	$(UV) vigil bench alerts

clean: down ## Remove build output (not the stack's data)
	rm -rf firmware/build* .pytest_cache .mypy_cache .ruff_cache
