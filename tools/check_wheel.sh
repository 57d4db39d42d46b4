#!/usr/bin/env bash
# Shows that `pip wheel .` gives an installable operator (`make wheel-check`): builds the wheel
# against .venv's torch, installs it with --no-deps into a fresh venv that sees .venv's torch
# through PYTHONPATH (torch is not installed again; PYTHONPATH does not process .pth files, so
# .venv's editable install of this checkout does not leak in), and from a folder outside the
# repository checks there that the packages come from the fresh venv and that the compiled
# DCNv3 op loads and matches the reference. Everything it makes lives in a temporary folder.
# PY=... picks another venv's python (default .venv/bin/python).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PY:-$ROOT/.venv/bin/python}"
say() { echo "[wheel-check] $*"; }
[ -x "$PY" ] || { say "no $PY: run tools/setup_env.sh first"; exit 1; }
TMP="$(mktemp -d "${TMPDIR:-/tmp}/internimage-wheel.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT

# 1. the wheel. pip builds a local folder in place (ROOT/build): drop earlier build outputs that
#    would otherwise be packed too (e.g. modules removed since); compiled objects are kept, so a
#    rebuild recompiles only what changed.
rm -rf "$ROOT"/build/lib.* "$ROOT"/build/bdist.*
start=$SECONDS
say "building the wheel: pip wheel --no-build-isolation --no-deps . (compiles the extension)"
"$PY" -m pip wheel --progress-bar off --no-build-isolation --no-deps -w "$TMP/dist" "$ROOT"
WHEEL="$(ls "$TMP"/dist/internimage-*.whl)"
say "built $(basename "$WHEEL") ($(du -k "$WHEEL" | cut -f1) KiB) in $((SECONDS - start)) s"

# 2. it carries every module of the five packages (a folder without __init__.py would be
#    missing) and the compiled library
"$PY" - "$WHEEL" "$ROOT" <<'EOF'
import glob, os, sys, zipfile
wheel, root = sys.argv[1:]
names = set(zipfile.ZipFile(wheel).namelist())
packages = ('ops_dcnv3', 'internimage', 'classification', 'detection', 'segmentation')
modules = {os.path.relpath(path, root) for package in packages
           for path in glob.glob(os.path.join(root, package, '**', '*.py'), recursive=True)}
missing = sorted(modules - names)
assert not missing, f'modules missing from the wheel: {missing}'
libraries = [n for n in names if n.startswith('ops_dcnv3/_C') and n.endswith('.so')]
assert libraries, 'no ops_dcnv3/_C*.so in the wheel'
print(f'[wheel-check] the wheel holds all {len(modules)} modules of {", ".join(packages)} '
      f'and {libraries[0]}')
EOF

# 3. a fresh venv of the same interpreter, the wheel installed without dependencies (and
#    without PYTHONPATH, so that pip does not see .venv's install of this checkout)
start=$SECONDS
BASE_PY="$("$PY" -c 'import sys; print(sys._base_executable)')"
"$BASE_PY" -m venv "$TMP/venv"
"$TMP/venv/bin/python" -m pip install --progress-bar off --no-index --no-deps -q "$WHEEL"
say "installed into a fresh venv $TMP/venv in $((SECONDS - start)) s"

# 4. from a folder outside the repository, with .venv's site-packages on PYTHONPATH for torch
#    and the rest of the stack
mkdir "$TMP/run"
cd "$TMP/run"
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PYTHONPATH="$SITE" PYTHONNOUSERSITE=1 "$TMP/venv/bin/python" - "$ROOT" <<'EOF'
import importlib
import os
import sys

import torch

root = os.path.realpath(sys.argv[1])
prefix = os.path.realpath(sys.prefix)
say = lambda message: print(f'[wheel-check] {message}', flush=True)
inside = lambda path, folder: os.path.realpath(path).startswith(folder + os.sep)

# (.venv's site-packages, on PYTHONPATH, is inside the repository; the repository itself is not)
assert root not in [os.path.realpath(p or '.') for p in sys.path], \
    f'the repository is on sys.path: {sys.path}'
import ops_dcnv3  # noqa: E402
from ops_dcnv3 import _extension  # noqa: E402

assert inside(ops_dcnv3.__file__, prefix), f'ops_dcnv3 comes from {ops_dcnv3.__file__}'
say(f'ops_dcnv3 from {os.path.dirname(ops_dcnv3.__file__)}, torch {torch.__version__} from '
    f'{os.path.dirname(torch.__file__)}')
assert ops_dcnv3.EXTENSION_AVAILABLE, _extension._load_error
has = torch._C._dispatch_has_kernel_for_dispatch_key
kernels = [key for key in ('CPU', 'CUDA') if has('ops_dcnv3::dcnv3', key)]
say(f'EXTENSION_AVAILABLE is True: the wheel\'s compiled library has {" and ".join(kernels)} '
    'kernels')

# a small float64 case: 2 groups of 4 channels, 3x3 kernel, offsets moving points across pixels
g = torch.Generator().manual_seed(0)
n, h, w, group, gc = 2, 6, 5, 2, 4
x = torch.rand(n, h, w, group * gc, generator=g, dtype=torch.float64)
offset = (torch.rand(n, h, w, group * 9 * 2, generator=g, dtype=torch.float64) - 0.5) * 4
mask = torch.rand(n, h, w, group, 9, generator=g, dtype=torch.float64).softmax(-1)
mask = mask.reshape(n, h, w, group * 9)
args = (3, 3, 1, 1, 1, 1, 1, 1, group, gc, 1.0, 64, False)
devices = ['cpu'] + (['cuda'] if 'CUDA' in kernels and torch.cuda.is_available() else [])
expected = ops_dcnv3.dcnv3_reference(x, offset, mask, *args)
for device in devices:
    out = torch.ops.ops_dcnv3.dcnv3(x.to(device), offset.to(device), mask.to(device), *args)
    torch.testing.assert_close(out.cpu(), expected)  # float64 tolerances: rtol, atol 1e-7
    error = (out.cpu() - expected).abs().max().item()
    say(f'torch.ops.ops_dcnv3.dcnv3 on {device} equals dcnv3_reference on a float64 '
        f'{tuple(x.shape)} input (largest difference {error:.1e})')
if devices == ['cpu']:
    say('no GPU here: the CUDA kernels were not run')

for name in ('internimage.models', 'classification', 'detection', 'segmentation'):
    module = importlib.import_module(name)
    assert inside(module.__file__, prefix), f'{name} comes from {module.__file__}'
say('internimage.models, classification, detection and segmentation import from the fresh venv '
    'too')
say('ok')
EOF
