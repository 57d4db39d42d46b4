"""Packaging (pyproject.toml, setup.py): the venv holds an editable install of this checkout,
with no path hack (.pth file naming the repository), the packages import from anywhere, and the
sdist carries the extension's C++/CUDA sources. The wheel itself is checked by
tools/check_wheel.sh (`make wheel-check`)."""
import glob
import json
import os
import site
import subprocess
import sys
import sysconfig
import tarfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ('ops_dcnv3', 'internimage', 'classification', 'detection', 'segmentation')


def outside_env():
    """The environment of a process started outside the repository, with nothing added to
    its path."""
    return {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


def test_packages_import_from_outside_the_repository(tmp_path):
    """From a folder outside the repository, without PYTHONPATH, the five packages import from
    this checkout (the editable install) and the repository is not on sys.path."""
    script = '''
import importlib, json, sys
files = {name: importlib.import_module(name).__file__ for name in sys.argv[1:]}
import ops_dcnv3
print(json.dumps({'files': files, 'path': sys.path,
                  'extension': ops_dcnv3.EXTENSION_AVAILABLE}))
'''
    result = subprocess.run([sys.executable, '-c', script, *PACKAGES], cwd=tmp_path,
                            env=outside_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.splitlines()[-1])
    for name in PACKAGES:
        assert Path(report['files'][name]).resolve() == ROOT / name / '__init__.py', report
    on_path = [p for p in report['path'] if p and Path(p).resolve() == ROOT]
    assert not on_path, f'the repository is on sys.path: {report["path"]}'
    assert report['extension'], 'ops_dcnv3 imported without its compiled library'


def test_installed_distribution_is_an_editable_install_of_this_checkout():
    paths = sysconfig.get_paths()
    found = list(metadata.distributions(name='internimage',
                                        path=sorted({paths['purelib'], paths['platlib']})))
    assert len(found) == 1, 'internimage is not installed (once) in site-packages'
    dist = found[0]
    direct_url = json.loads(dist.read_text('direct_url.json'))
    assert direct_url['dir_info'].get('editable'), direct_url
    assert Path(direct_url['url'].removeprefix('file://')).resolve() == ROOT, direct_url


def test_no_pth_file_names_the_repository():
    """The packages are found through setuptools' editable finder, not a .pth path entry that
    would put the whole repository on every path of the venv."""
    paths = sysconfig.get_paths()
    folders = set(site.getsitepackages()) | {paths['purelib'], paths['platlib']}
    naming = []
    for folder in folders:
        for pth in glob.glob(os.path.join(folder, '*.pth')):
            text = Path(pth).read_text(errors='replace')
            if str(ROOT) in text or os.path.realpath(ROOT) in text:
                naming.append(pth)
    assert not naming, f'.pth files that put the repository on the path: {naming}'


def test_sdist_carries_the_extension_sources(tmp_path):
    """The sdist holds the build scripts and every C++/CUDA source and header (so that a wheel
    builds from it), and no compiled library."""
    build = ('import sys\nfrom setuptools import build_meta\n'
             'print(build_meta.build_sdist(sys.argv[1]))')
    result = subprocess.run([sys.executable, '-c', build, str(tmp_path)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    name = result.stdout.split()[-1]
    with tarfile.open(tmp_path / name) as sdist:
        members = sdist.getnames()
    top = members[0].split('/')[0]
    held = {m.split('/', 1)[1] for m in members if '/' in m}
    sources = {str(Path(p).relative_to(ROOT)) for p in glob.glob(
        str(ROOT / 'ops_dcnv3' / 'csrc' / '**' / '*.*'), recursive=True)}
    assert sources, 'no sources found under ops_dcnv3/csrc'
    missing = sorted((sources | {'setup.py', 'pyproject.toml'}) - held)
    assert not missing, f'{top}: files missing from the sdist: {missing}'
    assert not [m for m in held if m.endswith('.so')], f'{top} holds a compiled library'
