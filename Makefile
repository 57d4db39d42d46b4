# The README's commands. Each runs the idempotent set-up first.
PY := .venv/bin/python
WORK_DIR ?= work_dirs/demo
GPU_CHECK_DIR ?= work_dirs/gpu_check

.PHONY: setup demo test bench wheel-check gpu-check

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

# The prepared GPU check (tools/gpu_check.sh): no set-up, since it is made for a bare GPU machine
# with torch and nvcc only; report in $(GPU_CHECK_DIR)/gpu_check.txt
gpu-check:
	bash tools/gpu_check.sh $(GPU_CHECK_DIR)
