"""The scripts of tools/, for tests: as modules, for tests that call their functions (tools/
holds scripts, not an installed package, so they are loaded from their files, no sys.path edits),
and as programs run in a subprocess."""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / 'tools'


def load_tool(name):
    """The module of ``tools/<name>.py`` (its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(f'tools_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(name, *args, cwd=ROOT):
    """``python tools/<name> ARGS`` run in ``cwd`` (the repository root: configs named relative to
    it are found), stdout and stderr captured as text; the CompletedProcess."""
    return subprocess.run([sys.executable, str(TOOLS / name), *map(str, args)], cwd=cwd,
                          capture_output=True, text=True)
