"""The scripts of tools/ as modules, for tests that call their functions: tools/ holds scripts,
not an installed package, so they are loaded from their files (no sys.path edits)."""
import importlib.util
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1] / 'tools'


def load_tool(name):
    """The module of ``tools/<name>.py`` (its ``main`` is not run)."""
    spec = importlib.util.spec_from_file_location(f'tools_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
