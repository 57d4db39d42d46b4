"""Builds the DCNv3 extension ``ops_dcnv3/_C.so`` (CPU kernels, plus CUDA kernels when a CUDA
toolkit and a CUDA build of torch are present). Run through ``ops_dcnv3/build.py``, which the
set-up calls and which skips the build when nothing changed."""
import glob
import os

from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CppExtension

ROOT = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join('ops_dcnv3', 'csrc')


def cpu_flags():
    """-O3 with OpenMP; tuned for the building machine unless DCNV3_MARCH says otherwise
    (e.g. DCNV3_MARCH=x86-64-v3 for a binary that moves between machines)."""
    flags = ['-O3', '-std=c++20', '-fopenmp']
    march = os.environ.get('DCNV3_MARCH', 'native')
    if march:
        flags.append(f'-march={march}')
    return flags


def extension():
    sources = [os.path.join(CSRC, 'dcnv3.cpp')] + sorted(
        glob.glob(os.path.join(CSRC, 'cpu', '*.cpp')))
    return CppExtension(
        'ops_dcnv3._C', sources, include_dirs=[os.path.join(ROOT, CSRC)],
        extra_compile_args=cpu_flags(), extra_link_args=['-fopenmp'])


setup(name='ops_dcnv3', ext_modules=[extension()],
      cmdclass={'build_ext': BuildExtension.with_options(use_ninja=True)})
