# The README's commands. Each runs the idempotent set-up first.
PY := .venv/bin/python
WORK_DIR ?= work_dirs/demo
GPU_CHECK_DIR ?= work_dirs/gpu_check

.PHONY: setup demo test bench wheel-check gpu-check dcnv4-sdist

setup:
	bash tools/setup_env.sh

demo: setup
	$(PY) tools/demo.py --work-dir $(WORK_DIR)

test: setup
	$(PY) -m pytest -q tests

bench: setup
	$(PY) benchmarks/bench_dcnv3_op.py
	$(PY) benchmarks/bench_dcnv4_op.py
	$(PY) benchmarks/bench_backbone.py
	$(PY) benchmarks/bench_export.py

# `pip wheel .` builds a wheel that installs into a fresh venv and runs the compiled op there
wheel-check: setup
	bash tools/check_wheel.sh

# The prepared GPU check (tools/gpu_check.sh): no set-up, since it is made for a bare GPU machine
# with torch and nvcc only; report in $(GPU_CHECK_DIR)/gpu_check.txt
# (with DCNV4_SDIST=downloads/DCNv4-1.0.0.post2.tar.gz it also builds and runs the published
# DCNv4 package as the oracle of the DCNv4 op)
gpu-check:
	bash tools/gpu_check.sh $(GPU_CHECK_DIR)

# The published DCNv4 package's source archive (PyPI; its setup.py refuses to run without a GPU,
# so pip cannot download it), checked against its published sha256, for the GPU check
DCNV4_SDIST_URL := https://files.pythonhosted.org/packages/f7/3c/7f7386b4ada92f35100242cb633cccaaa324579bfa7cd2518870a303774e/DCNv4-1.0.0.post2.tar.gz
DCNV4_SDIST_SHA256 := eacf5bff14cb89ff68e5513af6f9b9d0c98b9981d8b8645f1cc4104b76820b13
dcnv4-sdist:
	mkdir -p downloads
	curl -sSfL -o downloads/DCNv4-1.0.0.post2.tar.gz $(DCNV4_SDIST_URL)
	echo "$(DCNV4_SDIST_SHA256)  downloads/DCNv4-1.0.0.post2.tar.gz" | sha256sum -c -
