# VillageMap: `make run` sets everything up and serves the sample; `make test` runs every test.
.PHONY: run setup test lint db-up

VM := .venv/bin/villagemap

run: setup db-up
	$(VM) load-sample
	$(VM) serve

setup:
	scripts/bootstrap.sh

db-up:
	$(VM) db up
	$(VM) db upgrade

test:
	scripts/bootstrap.sh --test
	$(VM) db up
	.venv/bin/pytest

lint:
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
