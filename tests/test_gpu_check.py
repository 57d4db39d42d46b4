"""tools/gpu_check.sh, the prepared GPU check, run on this CPU machine: it must say that no GPU
is visible, still build the operator (CPU kernels, in its own temporary copy) and pass the op
tests there, write its report and list what it could not do, so that it cannot rot unnoticed
between GPU runs."""
import os
import subprocess
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(torch.cuda.is_available(), reason='with a GPU the check runs its GPU part')
def test_gpu_check_without_a_gpu_builds_and_runs_the_op_tests(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('DCNV3_WITH_CUDA', 'PYTHONPATH')}
    library = next((ROOT / 'ops_dcnv3').glob('_C*.so'))
    built = library.stat().st_mtime_ns
    result = subprocess.run(['bash', str(ROOT / 'tools' / 'gpu_check.sh'), str(tmp_path)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    report = (tmp_path / 'gpu_check.txt').read_text()
    assert result.returncode == 0, report + result.stderr
    assert 'no GPU visible: building the CPU kernels only' in report
    assert '[gpu-check] build: ok' in report
    assert 'with kernels: CPU' in report and 'with kernels: CPU and CUDA' not in report
    assert '[gpu-check] CPU op tests: ok' in report
    assert ' passed' in report.split('== CPU op tests')[1] and ' failed' not in report
    not_done = report.split('could not do:')[1]
    for item in ('CUDA op tests: no GPU', 'CUDA op benchmark: no GPU',
                 'InternImage-T training step: no GPU', 'compute-sanitizer checks: no GPU'):
        assert item in not_done
    # the checkout's own build is left alone
    assert library.stat().st_mtime_ns == built
