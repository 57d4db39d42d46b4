"""The test-only host build of the CUDA kernels: ops_dcnv3/csrc/cuda/dcnv3_cuda_kernels.cuh (the
lines nvcc compiles into the extension) compiled as ordinary C++ through its host shim, with the
extension's registration file, into a torch library ``dcnv3_cuda_host`` whose CPU kernels are the
CUDA kernels, their grid walked serially. Built on first use into a per-checkout folder under the
temporary directory (ninja recompiles only what changed; never part of the wheel)."""
import functools
import hashlib
import os
import tempfile
import time
from pathlib import Path

import torch
from torch.utils import cpp_extension

ROOT = Path(__file__).resolve().parent.parent
CSRC = ROOT / 'ops_dcnv3' / 'csrc'
NAME = 'dcnv3_cuda_host'
SOURCES = [CSRC / 'dcnv3.cpp', ROOT / 'tests' / 'cuda_host.cpp']
# -O1: the tests' inputs are tiny, so compile time matters more than speed.
FLAGS = ['-O1', '-DDCNV3_HOST_CUDA', f'-DDCNV3_LIBRARY={NAME}']


def build_directory():
    """One folder per checkout, so two clones on one machine do not rebuild each other's."""
    digest = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f'{NAME}-{digest}'
    path.mkdir(exist_ok=True)
    return path


@functools.cache
def host_ops():
    """Builds (when a source changed) and loads the library; returns its ops namespace,
    ``dcnv3`` and ``dcnv3_backward`` with the schema of ``torch.ops.ops_dcnv3``."""
    start = time.perf_counter()
    cpp_extension.load(NAME, [str(s) for s in SOURCES], extra_cflags=FLAGS,
                       extra_include_paths=[str(CSRC)], build_directory=str(build_directory()),
                       is_python_module=False)
    print(f'[cuda_host] {NAME} built/loaded in {time.perf_counter() - start:.1f} s '
          f'({os.path.relpath(build_directory(), tempfile.gettempdir())})')
    return getattr(torch.ops, NAME)
