#!/usr/bin/env bash
# The prepared GPU check (`make gpu-check`, or `bash tools/gpu_check.sh REPORT_DIR`), for a bare
# machine with Python 3.10+, a CUDA build of torch 2.4+ and nvcc: no venv, mmcv or internet
# needed. It builds the operator for the visible GPU's architecture into a temporary copy of
# ops_dcnv3 (the checkout's own build is left alone), runs tests/test_dcnv3_cuda.py (with pytest
# when it is installed, else the file's own runner), the CUDA op benchmark (ours vs the
# reference at the T/B/L stage shapes, fp32 and bf16, forward and forward+backward, memory
# throughput against the copy bandwidth) and one bf16 training step of InternImage-T at batch
# 16, 224x224 (needs mmengine, which the model's base class comes from), then, with the time
# left, compute-sanitizer's memcheck and initcheck over the op-test cases
# (tests/run_cuda_cases.py). The DCNv4 op gets its CUDA tests (tests/test_dcnv4_cuda.py) and its
# benchmark at the FlashInternImage-T stage shapes, against the published DCNv4 package when
# DCNV4_SDIST names its source archive. Everything it prints goes to REPORT_DIR/gpu_check.txt,
# which ends with what it could not do. It keeps within 6 minutes (each step gets a share of
# what is left). Without a GPU it says so and still builds the CPU kernels and runs the CPU op
# tests, so that it cannot rot unnoticed
# (tests/test_gpu_check.py runs it). Exit status: 1 when a step failed, 0 otherwise.
# PY=... picks the python (default: .venv/bin/python when there is one, else python3).
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -eq 1 ] || { echo "usage: tools/gpu_check.sh REPORT_DIR" >&2; exit 2; }
mkdir -p "$1" || exit 2
REPORT="$(cd "$1" && pwd)/gpu_check.txt"
if [ -z "${PY:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PY="$ROOT/.venv/bin/python"; else PY=python3; fi
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/gpu-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
DEADLINE=$((SECONDS + 345))  # 6 minutes, less a margin for the report
NOT_DONE=()
FAILED=0
: > "$REPORT"

say() { echo "[gpu-check] $*" | tee -a "$REPORT"; }
not_done() { NOT_DONE+=("$*"); say "NOT DONE: $*"; }
# step NAME CAP_SECONDS COMMAND...: runs COMMAND within min(CAP, time left), output to the report.
step() {
    local name="$1" cap="$2" left=$((DEADLINE - SECONDS)) start=$SECONDS rc
    shift 2
    [ "$cap" -lt "$left" ] || cap="$left"
    if [ "$cap" -lt 10 ]; then not_done "$name: no time left"; return 1; fi
    say "== $name (at most ${cap} s)"
    timeout "$cap" "$@" 2>&1 | tee -a "$REPORT"
    rc=${PIPESTATUS[0]}
    if [ "$rc" -eq 0 ]; then
        say "$name: ok in $((SECONDS - start)) s"
    elif [ "$rc" -eq 124 ]; then
        FAILED=1; not_done "$name: stopped after ${cap} s"
    else
        FAILED=1; say "$name: FAILED (exit $rc) after $((SECONDS - start)) s"
    fi
    return "$rc"
}

# 1. the machine
say "report of tools/gpu_check.sh, $(date -u '+%Y-%m-%d %H:%M UTC'), host $(hostname)"
"$PY" - <<'EOF' 2>&1 | tee -a "$REPORT"
import sys
import torch
assert sys.version_info >= (3, 10), f'Python {sys.version.split()[0]} is older than 3.10'
release = tuple(int(p) for p in torch.__version__.split('+')[0].split('.')[:2])
assert release >= (2, 4), f'torch {torch.__version__} is older than 2.4'
print(f'python {sys.version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda})')
for i in range(torch.cuda.device_count()):
    p = torch.cuda.get_device_properties(i)
    print(f'GPU {i}: {p.name}, {p.total_memory / 2**30:.0f} GiB, compute capability '
          f'{p.major}.{p.minor}')
EOF
if [ "${PIPESTATUS[0]}" -ne 0 ]; then say "FAILED: $PY cannot run the check"; exit 1; fi
GPU_ARCH="$("$PY" -c 'import torch; print("%d.%d" % torch.cuda.get_device_capability()
                      if torch.cuda.is_available() else "")' 2>/dev/null)"
NVCC="${CUDA_HOME:-/usr/local/cuda}/bin/nvcc"
command -v nvcc > /dev/null && [ ! -x "$NVCC" ] && NVCC="$(command -v nvcc)"
if [ -n "$GPU_ARCH" ]; then
    say "GPU visible (compute capability $GPU_ARCH): building CPU and CUDA kernels for it"
    [ -x "$NVCC" ] && say "$("$NVCC" --version | tail -n 2 | head -n 1)"
    export DCNV3_WITH_CUDA=1 TORCH_CUDA_ARCH_LIST="$GPU_ARCH"
    CUDA_HOME="$(dirname "$(dirname "$NVCC")")"
    export CUDA_HOME
else
    say "no GPU visible: building the CPU kernels only, running the CPU op tests"
    export DCNV3_WITH_CUDA=0
fi
if "$PY" -c 'import pytest' 2> /dev/null; then HAVE_PYTEST=1; else HAVE_PYTEST=0; fi

# 2. the build, in a copy of what setup.py needs, so that the checkout's ops_dcnv3/_C*.so stays
mkdir -p "$WORK/src"
cp -r "$ROOT/ops_dcnv3" "$ROOT/setup.py" "$ROOT/pyproject.toml" "$ROOT/README.md" "$WORK/src/"
rm -f "$WORK"/src/ops_dcnv3/_C*.so "$WORK/src/ops_dcnv3/.build_stamp"
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
# The copy's ops_dcnv3 comes first; the checkout gives the other packages (the training step).
export PYTHONPATH="$WORK/src:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
cd "$WORK/src" || exit 1
if ! step build 200 "$PY" setup.py -q build_ext --inplace; then
    say "the operator did not build: nothing else can run"
    exit 1
fi
step "extension loads" 30 "$PY" -c '
import torch, ops_dcnv3
assert ops_dcnv3.EXTENSION_AVAILABLE, "the built extension did not load"
assert ops_dcnv3.__file__.startswith(__import__("sys").argv[1]), ops_dcnv3.__file__
has = torch._C._dispatch_has_kernel_for_dispatch_key
print("ops_dcnv3 from", ops_dcnv3.__file__, "with kernels:",
      " and ".join(k for k in ("CPU", "CUDA") if has("ops_dcnv3::dcnv3", k)))' "$WORK/src" \
    || exit 1

# 3. the op tests
cd "$ROOT/tests" || exit 1
if [ "$HAVE_PYTEST" -eq 1 ]; then
    say "pytest is installed: the test files run under it"
    step "CUDA op tests" 150 "$PY" -m pytest -q -p no:cacheprovider test_dcnv3_cuda.py \
        test_dcnv4_cuda.py
else
    say "pytest is not installed: tests/test_dcnv3_cuda.py runs with its own runner"
    step "CUDA op tests" 150 "$PY" test_dcnv3_cuda.py
    not_done "DCNv4 CUDA op tests: tests/test_dcnv4_cuda.py needs pytest"
fi
if [ -z "$GPU_ARCH" ]; then
    not_done "CUDA op tests: no GPU, every test skipped"
    if [ "$HAVE_PYTEST" -eq 1 ]; then
        step "CPU op tests" 150 "$PY" -m pytest -q -p no:cacheprovider test_dcnv3_op.py
    else
        not_done "CPU op tests: they need pytest"
    fi
fi

# 4. speed, on a GPU only
cd "$ROOT" || exit 1
if [ -n "$GPU_ARCH" ]; then
    step "CUDA op benchmark" 110 "$PY" benchmarks/bench_dcnv3_op.py --device cuda \
        --dtypes float32 bfloat16 --repeat 3
    # The published DCNv4 package as the oracle of DCNv4's values and speed, built here from
    # its source archive (DCNV4_SDIST=path; `make dcnv4-sdist` downloads it beforehand).
    if [ -n "${DCNV4_SDIST:-}" ] && [ -f "$DCNV4_SDIST" ]; then
        step "published DCNv4 package build" 150 "$PY" -m pip install -q --no-deps \
            --no-build-isolation --target "$WORK/dcnv4pkg" "$DCNV4_SDIST" \
            && export PYTHONPATH="$PYTHONPATH:$WORK/dcnv4pkg"
    else
        not_done "published DCNv4 package: DCNV4_SDIST is not set (make dcnv4-sdist)"
    fi
    step "DCNv4 op benchmark" 80 "$PY" benchmarks/bench_dcnv4_op.py --device cuda \
        --dtypes float32 bfloat16 --repeat 3
    if "$PY" -c 'import mmengine' 2> /dev/null; then
        step "InternImage-T training step" 60 "$PY" benchmarks/bench_train_step.py --batch 16 --profile
    else
        not_done "InternImage-T training step: mmengine is not installed (the model needs it)"
    fi
    # Out-of-bounds and uninitialised reads in the kernels, at the op tests' shapes.
    SANITIZER="$(dirname "$NVCC")/compute-sanitizer"
    [ -x "$SANITIZER" ] || SANITIZER="$(command -v compute-sanitizer)"
    if [ -n "$SANITIZER" ]; then
        for tool in memcheck initcheck; do
            step "compute-sanitizer $tool" 60 "$SANITIZER" --tool "$tool" --error-exitcode 1 \
                --print-limit 20 "$PY" tests/run_cuda_cases.py
        done
    else
        not_done "compute-sanitizer checks: compute-sanitizer is not installed"
    fi
else
    not_done "CUDA op benchmark: no GPU"
    not_done "DCNv4 op benchmark and the published DCNv4 package: no GPU"
    not_done "InternImage-T training step: no GPU"
    not_done "compute-sanitizer checks: no GPU"
fi

say "finished in $SECONDS s"
if [ ${#NOT_DONE[@]} -eq 0 ]; then
    say "everything was done"
else
    say "could not do:"
    for item in "${NOT_DONE[@]}"; do say "  - $item"; done
fi
exit "$FAILED"
