# VillageMap: `make run` sets everything up and serves the sample; `make test` runs every test.
.PHONY: run setup test lint db-up bench

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

# The benchmark suite (bench/README.md): 1M cases, scale at 10M; report in bench/results/. BENCH_ARGS=--smoke for a quick run.
bench:
	$(VM) db up
	.venv/bin/python -m bench $(BENCH_ARGS)
