# The README's commands. Each runs the idempotent set-up first.
PY := .venv/bin/python
WORK_DIR ?= work_dirs/demo

.PHONY: setup demo test bench wheel-check

setup:
	bash tools/setup_env.sh

demo: setup
	$(PY) tools/demo.py --work-dir $(WORK_DIR)

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) benchmarks/bench_dcnv3_op.py
	$(PY) benchmarks/bench_backbone.py
	$(PY) benchmarks/bench_export.py

# `pip wheel .` builds a wheel that installs into a fresh venv and runs the compiled op there
wheel-check: setup
	bash tools/check_wheel.sh
