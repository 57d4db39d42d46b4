"""Installs the repository into the running venv in editable mode (``pip install
--no-build-isolation --no-deps -e .``: the packages of pyproject.toml, found from anywhere through
setuptools' editable finder, and the DCNv3 extension ops_dcnv3/_C*.so, built in place by
setup.py), unless that install is already current: the installed ``internimage`` distribution is
an editable install of this checkout and a stamp says the extension was built from the same
sources, build scripts, torch version and build settings. Called by tools/setup_env.sh; says what
it does or skips and why."""
import glob
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DISTRIBUTION = 'internimage'
STAMP = os.path.join(HERE, '.build_stamp')
BUILD_SETTINGS = ('DCNV3_MARCH', 'DCNV3_WITH_CUDA', 'TORCH_CUDA_ARCH_LIST', 'CUDA_HOME')


def source_digest():
    """What the install depends on: torch's build (its version.py: release, git commit, CUDA
    version; read without importing torch, which takes seconds), the build scripts, the
    C++/CUDA sources and the environment settings setup.py reads."""
    torch_version = os.path.join(os.path.dirname(importlib.util.find_spec('torch').origin),
                                 'version.py')
    with open(torch_version, 'rb') as f:
        digest = hashlib.sha256(f.read())
    files = [os.path.join(ROOT, 'setup.py'), os.path.join(ROOT, 'pyproject.toml')] + sorted(
        glob.glob(os.path.join(HERE, 'csrc', '**', '*.*'), recursive=True))
    for path in files:
        digest.update(os.path.relpath(path, ROOT).encode())
        with open(path, 'rb') as f:
            digest.update(f.read())
    for name in BUILD_SETTINGS:
        digest.update(f'{name}={os.environ.get(name, "")}'.encode())
    return digest.hexdigest()


def built_library():
    found = glob.glob(os.path.join(HERE, '_C*.so'))
    return found[0] if found else None


def installed_from():
    """Why the installed distribution is not an editable install of this checkout, or None
    when it is."""
    # Looked up in site-packages only: pip and setuptools leave internimage.egg-info in the
    # repository, which is not an install.
    paths = sysconfig.get_paths()
    found = list(metadata.distributions(name=DISTRIBUTION,
                                        path=sorted({paths['purelib'], paths['platlib']})))
    if not found:
        return f'{DISTRIBUTION} is not installed'
    dist = found[0]
    direct_url = json.loads(dist.read_text('direct_url.json') or '{}')
    if not direct_url.get('dir_info', {}).get('editable'):
        return f'{DISTRIBUTION} {dist.version} is installed, but not in editable mode'
    if direct_url.get('url') != Path(ROOT).as_uri():
        return f'{DISTRIBUTION} is an editable install of {direct_url.get("url")}'
    return None


def kernels(library):
    """Which kernels the built library registers (it is loaded into this process only)."""
    import torch
    torch.ops.load_library(library)
    has = torch._C._dispatch_has_kernel_for_dispatch_key
    return ' and '.join(key for key in ('CPU', 'CUDA') if has('ops_dcnv3::dcnv3', key))


def main():
    digest = source_digest()
    stale = installed_from()
    if stale is None:
        if not built_library():
            stale = 'ops_dcnv3/_C*.so is not built'
        elif not os.path.exists(STAMP) or open(STAMP).read() != digest:
            stale = ('the DCNv3 extension was built from other sources, build scripts, torch or '
                     'build settings')
    if stale is None:
        print(f'[setup] {DISTRIBUTION} is installed in editable mode from {ROOT} and the DCNv3 '
              'extension is up to date, skipping')
        return
    print(f'[setup] {stale}: installing {ROOT} in editable mode, which builds the DCNv3 '
          'extension ops_dcnv3/_C (a few minutes)', flush=True)
    if os.path.exists(STAMP):
        os.remove(STAMP)
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--progress-bar', 'off',
                    '--no-build-isolation', '--no-deps', '-e', ROOT], cwd=ROOT, check=True)
    library = built_library()
    if library is None:
        sys.exit('[setup] the editable install built no ops_dcnv3/_C*.so')
    with open(STAMP, 'w') as f:
        f.write(digest)
    print(f'[setup] built {os.path.relpath(library, ROOT)} ({kernels(library)} kernels)')


if __name__ == '__main__':
    main()
