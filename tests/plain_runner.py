"""Lets a test module also run without pytest (``python tests/test_dcnv3_cuda.py``), as on a bare
GPU machine that has torch but not pytest: ``parametrize`` and ``skip_if`` are pytest marks when
pytest is importable and are read by ``main`` otherwise. Plain functions and plain asserts only
(no fixtures)."""
import itertools
import traceback
from collections import Counter

try:
    import pytest
except ModuleNotFoundError:  # the bare GPU machine
    pytest = None


def parametrize(name, values, ids=None):
    """pytest.mark.parametrize, also recorded on the function for main()."""
    values = list(values)
    labels = list(ids) if ids is not None else [str(v) for v in values]

    def mark(fn):
        fn.plain_params = [(name, values, labels)] + getattr(fn, 'plain_params', [])
        return pytest.mark.parametrize(name, values, ids=ids)(fn) if pytest else fn
    return mark


def skip_if(condition, reason):
    """pytest.mark.skipif, also recorded on the function for main()."""
    def mark(fn):
        if condition:
            fn.plain_skip = reason
        return pytest.mark.skipif(condition, reason=reason)(fn) if pytest else fn
    return mark


def module_skip(reason):
    """The module's ``pytestmark``: skips every test when reason is not None."""
    if pytest is None or reason is None:
        return []
    return pytest.mark.skip(reason=reason)


def expand(fn):
    """(label, keyword arguments) of every parameter combination of a test function."""
    params = getattr(fn, 'plain_params', [])
    names = [name for name, _, _ in params]
    for combo in itertools.product(*[list(zip(labels, values)) for _, values, labels in params]):
        label = '-'.join(label for label, _ in combo)
        yield (f'[{label}]' if combo else ''), dict(zip(names, (value for _, value in combo)))


def main(namespace, skip_reason=None):
    """Runs every test_* function of a module's namespace over its parameters, prints one line
    per test and a summary; returns the exit status (1 when a test failed)."""
    counts = Counter()
    for name, fn in list(namespace.items()):
        if not (name.startswith('test_') and callable(fn)):
            continue
        for label, kwargs in expand(fn):
            reason = skip_reason or getattr(fn, 'plain_skip', None)
            if reason:
                counts['skipped'] += 1
                print(f'SKIP {name}{label}: {reason}', flush=True)
                continue
            try:
                fn(**kwargs)
            except Exception:  # noqa: BLE001 - reported, counted, and the run goes on
                counts['failed'] += 1
                print(f'FAIL {name}{label}\n{traceback.format_exc()}', flush=True)
            else:
                counts['passed'] += 1
                print(f'PASS {name}{label}', flush=True)
    print(', '.join(f'{n} {what}' for what, n in sorted(counts.items())) or 'no tests')
    return 1 if counts['failed'] else 0
