"""Builds the compiled DCNv3 extension in place, unless a build of the same sources, build
script, torch version and build settings is already there. Called by tools/setup_env.sh."""
import glob
import hashlib
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
STAMP = os.path.join(HERE, '.build_stamp')
BUILD_SETTINGS = ('DCNV3_MARCH', 'DCNV3_WITH_CUDA', 'TORCH_CUDA_ARCH_LIST', 'CUDA_HOME')


def source_digest():
    import torch
    digest = hashlib.sha256(torch.__version__.encode())
    files = [os.path.join(ROOT, 'setup.py')] + sorted(
        glob.glob(os.path.join(HERE, 'csrc', '**', '*.*'), recursive=True))
    for path in files:
        digest.update(path.encode())
        with open(path, 'rb') as f:
            digest.update(f.read())
    for name in BUILD_SETTINGS:
        digest.update(f'{name}={os.environ.get(name, "")}'.encode())
    return digest.hexdigest()


def built_library():
    found = glob.glob(os.path.join(HERE, '_C*.so'))
    return found[0] if found else None


def main():
    digest = source_digest()
    if built_library() and os.path.exists(STAMP) and open(STAMP).read() == digest:
        print('[setup] DCNv3 extension is up to date, skipping')
        return
    print('[setup] building the DCNv3 extension (ops_dcnv3/_C)', flush=True)
    subprocess.run([sys.executable, 'setup.py', 'build_ext', '--inplace'], cwd=ROOT, check=True)
    with open(STAMP, 'w') as f:
        f.write(digest)
    print(f'[setup] built {os.path.relpath(built_library(), ROOT)}')


if __name__ == '__main__':
    main()
