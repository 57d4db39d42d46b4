"""The packages import only in the directions docs/architecture.md ("Layout") promises: the
model never imports the engine, the tools, detection or segmentation, nor timm, cv2 or FSDP,
and importing it changes no global state of torch or mmengine; importing the engine installs
its patches; ops_dcnv3 imports none of the project's packages."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    'internimage/models': ('internimage.engine', 'internimage.demo_data', 'classification',
                           'detection', 'segmentation', 'tools', 'timm', 'cv2',
                           'torch.distributed.fsdp'),
    'ops_dcnv3': ('internimage', 'classification', 'detection', 'segmentation', 'tools', 'timm',
                  'cv2'),
    'internimage/demo_data': ('internimage.models', 'internimage.engine', 'classification',
                              'detection', 'segmentation', 'torch', 'mmengine'),
    'internimage/engine': ('detection', 'segmentation', 'classification', 'tools'),
    'internimage/deploy': ('detection', 'segmentation', 'classification', 'tools', 'timm'),
}


def imported_modules(path, package):
    """Absolute names of the modules a file imports (relative imports resolved)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split('.')[:len(package.split('.')) - node.level + 1]
                names.append('.'.join(base + ([node.module] if node.module else [])))
            else:
                names.append(node.module)
    return names


@pytest.mark.parametrize('folder', sorted(FORBIDDEN))
def test_packages_import_only_downwards(folder):
    files = sorted((ROOT / folder).rglob('*.py'))
    assert files
    bad = []
    for path in files:
        package = '.'.join(path.relative_to(ROOT).with_suffix('').parts[:-1])
        for name in imported_modules(path, package):
            if any(name == f or name.startswith(f + '.') for f in FORBIDDEN[folder]):
                bad.append(f'{path.relative_to(ROOT)} imports {name}')
    assert not bad, bad


# mmengine.model itself imports torch's FSDP (its wrappers), and torch._dynamo (imported by the
# op's torch.compiler decorator) adds its own class to torch's safe globals, so the probe imports
# both first and asks what importing our module adds.
STATE_PROBE = '''
import sys, torch, torch._dynamo, mmengine.model
from mmengine.fileio.backends import backends
from mmengine.runner.checkpoint import CheckpointLoader
before = (list(torch.serialization.get_safe_globals()), dict(CheckpointLoader._schemes),
          set(backends))
loaded = set(sys.modules)
import {module}
after = (list(torch.serialization.get_safe_globals()), dict(CheckpointLoader._schemes),
         set(backends))
heavy = sorted(m for m in set(sys.modules) - loaded if m.split('.')[0] in ('timm', 'cv2'))
print(before == after, heavy)
'''


def probe(module):
    result = subprocess.run([sys.executable, '-c', STATE_PROBE.format(module=module)],
                            capture_output=True, text=True, cwd='/')
    assert result.returncode == 0, result.stderr
    return result.stdout.split()[0] == 'True', result.stdout.split(maxsplit=1)[1].strip()


def test_importing_the_model_changes_no_global_state_and_stays_light():
    unchanged, heavy = probe('internimage.models')
    assert unchanged
    assert heavy == '[]'


def test_importing_the_engine_installs_its_patches():
    unchanged, _ = probe('internimage.engine')
    assert not unchanged
