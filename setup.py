"""The DCNv3 extension ``ops_dcnv3/_C*.so`` of the ``internimage`` distribution (its metadata and
packages are in pyproject.toml): the CPU kernels always, the CUDA kernels too when torch is a CUDA
build and a CUDA toolkit is found (DCNV3_WITH_CUDA=0 turns them off, =1 makes a missing toolkit
an error). Built by ``pip install --no-build-isolation --no-deps -e .`` (in place; the set-up runs
it through ``ops_dcnv3/build.py``, which skips it when nothing changed) and by ``pip wheel
--no-build-isolation --no-deps .``; both compile against the installed torch.

CUDA settings: CUDA_HOME (default /usr/local/cuda), TORCH_CUDA_ARCH_LIST (default: the visible
GPUs, or "8.0;9.0+PTX" when none is visible, i.e. A100/H100 plus PTX for newer GPUs)."""
import glob
import os
import sys

# torch.utils.cpp_extension reads CUDA_HOME at import: fix the default toolkit before that.
if os.path.isdir('/usr/local/cuda'):
    os.environ.setdefault('CUDA_HOME', '/usr/local/cuda')

import torch  # noqa: E402
from setuptools import setup  # noqa: E402
from torch.utils.cpp_extension import BuildExtension, CppExtension, CUDAExtension  # noqa: E402

ROOT = os.path.dirname(os.path.abspath(__file__))
CSRC = os.path.join('ops_dcnv3', 'csrc')
DEFAULT_ARCH_LIST = '8.0;9.0+PTX'


def cpu_flags():
    """-O3 with OpenMP; tuned for the building machine unless DCNV3_MARCH says otherwise
    (e.g. DCNV3_MARCH=x86-64-v3 for a binary that moves between machines)."""
    flags = ['-O3', '-std=c++20', '-fopenmp']
    march = os.environ.get('DCNV3_MARCH', 'native')
    if march:
        flags.append(f'-march={march}')
    return flags


def find_cuda_home():
    """The toolkit to compile with, or None when the CUDA kernels are not to be built."""
    wanted = os.environ.get('DCNV3_WITH_CUDA', 'auto')
    if wanted == '0':
        return None
    home = os.environ.get('CUDA_HOME', '/usr/local/cuda')
    found = torch.version.cuda is not None and os.path.exists(os.path.join(home, 'bin', 'nvcc'))
    if not found and wanted == '1':
        sys.exit(f'DCNV3_WITH_CUDA=1 but no nvcc under CUDA_HOME={home} or torch '
                 f'{torch.__version__} is not a CUDA build')
    return home if found else None


def prepare_cuda_environment(home):
    """The three settings the CUDA build needs with the CUDA build of torch from PyPI: the
    toolkit (CUDA_HOME, for nvcc); CPATH with the CUDA headers that torch's wheel ships in
    site-packages/nvidia/cu*/include (ATen/cuda/CUDAContext.h includes the cuBLAS, cuSPARSE and
    cuSOLVER headers, which a compiler-only toolkit such as this machine's lacks); and a bounded
    arch list: with no GPU visible torch would compile the kernels once for every architecture
    it supports."""
    os.environ['CUDA_HOME'] = home
    torch_site = os.path.dirname(os.path.dirname(os.path.abspath(torch.__file__)))
    headers = glob.glob(os.path.join(torch_site, 'nvidia', 'cu*', 'include'))
    os.environ['CPATH'] = os.pathsep.join(headers + [os.environ.get('CPATH', '')]).strip(
        os.pathsep)
    if not os.environ.get('TORCH_CUDA_ARCH_LIST') and not torch.cuda.is_available():
        os.environ['TORCH_CUDA_ARCH_LIST'] = DEFAULT_ARCH_LIST


def extension():
    sources = [os.path.join(CSRC, 'dcnv3.cpp')] + sorted(
        glob.glob(os.path.join(CSRC, 'cpu', '*.cpp')))
    include_dirs = [os.path.join(ROOT, CSRC)]
    cuda_home = find_cuda_home()
    if cuda_home is None:
        print('[setup] DCNv3: building CPU kernels only')
        return CppExtension('ops_dcnv3._C', sources, include_dirs=include_dirs,
                            extra_compile_args=cpu_flags(), extra_link_args=['-fopenmp'])
    prepare_cuda_environment(cuda_home)
    print(f'[setup] DCNv3: building CPU and CUDA kernels (CUDA_HOME={cuda_home}, '
          f'TORCH_CUDA_ARCH_LIST={os.environ.get("TORCH_CUDA_ARCH_LIST", "visible GPUs")})')
    sources += sorted(glob.glob(os.path.join(CSRC, 'cuda', '*.cu')))
    # Toolkits from pip-style layouts keep libcudart in lib/ rather than lib64/.
    library_dirs = [d for d in (os.path.join(cuda_home, 'lib64'), os.path.join(cuda_home, 'lib'))
                    if os.path.isdir(d)]
    return CUDAExtension(
        'ops_dcnv3._C', sources, include_dirs=include_dirs, library_dirs=library_dirs,
        define_macros=[('DCNV3_WITH_CUDA', None)],
        extra_compile_args={'cxx': cpu_flags(), 'nvcc': ['-O3', '-std=c++20']},
        extra_link_args=['-fopenmp'])


def torch_requirement():
    """The torch release the extension is compiled against: its C++ ABI is only that one's."""
    return f"torch=={torch.__version__.split('+')[0]}"


setup(ext_modules=[extension()], install_requires=[torch_requirement()],
      cmdclass={'build_ext': BuildExtension.with_options(use_ninja=True)})
