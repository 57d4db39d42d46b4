"""The rule for the published implementation's data (tests/published_data.py): a test that needs
it skips, naming where it looked, when it is absent; under CI (``CI=true``) it fails instead, so
a CI run cannot pass with the parity tests left out. Checked on the helper itself and through a
real pytest run of a test that needs a file that is not there."""
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from published_data import DEFAULT_PUBLISHED, PUBLISHED_ENV, needs_published, published_root

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def nowhere(tmp_path, monkeypatch):
    """The published data looked for in a folder that does not exist."""
    missing = tmp_path / 'no_published_here'
    monkeypatch.setenv(PUBLISHED_ENV, str(missing))
    return missing


def test_the_default_place_is_shared_published_beside_the_checkout(monkeypatch):
    monkeypatch.delenv(PUBLISHED_ENV, raising=False)
    assert published_root() == DEFAULT_PUBLISHED == TESTS.parents[1] / 'shared' / 'published'
    monkeypatch.setenv(PUBLISHED_ENV, '')  # set but empty: the default
    assert published_root() == DEFAULT_PUBLISHED


def test_absent_data_skips_outside_ci_naming_the_path(nowhere, monkeypatch):
    monkeypatch.delenv('CI', raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        needs_published('keys/some_model.txt')
    assert f'not found at {nowhere / "keys" / "some_model.txt"}' in str(skipped.value)
    monkeypatch.setenv('CI', 'false')
    with pytest.raises(pytest.skip.Exception):
        needs_published('keys/some_model.txt')


@pytest.mark.parametrize('value', ['true', 'True', '1'])
def test_absent_data_fails_under_ci_naming_the_path(nowhere, monkeypatch, value):
    monkeypatch.setenv('CI', value)
    with pytest.raises(pytest.fail.Exception) as failed:
        needs_published('fixtures/upernet.pt')
    message = str(failed.value)
    assert f'not found at {nowhere / "fixtures" / "upernet.pt"}' in message
    assert message.startswith(f'CI={value}: ') and PUBLISHED_ENV in message


def test_present_data_is_returned_under_ci_and_outside(tmp_path, monkeypatch):
    (tmp_path / 'keys').mkdir()
    (tmp_path / 'keys' / 'model.txt').write_text('a\t(1,)\n')
    monkeypatch.setenv(PUBLISHED_ENV, str(tmp_path))
    for ci in ('true', ''):
        monkeypatch.setenv('CI', ci)
        assert needs_published('keys/model.txt') == tmp_path / 'keys' / 'model.txt'


NEEDS_ABSENT_FILE = '''
from published_data import needs_published


def test_parity():
    needs_published('keys/absent.txt')
'''


@pytest.mark.parametrize('ci, outcome, code', [(None, '1 skipped', 0), ('true', '1 failed', 1)])
def test_a_pytest_run_reports_the_absent_data_as_skipped_or_under_ci_failed(tmp_path, ci,
                                                                             outcome, code):
    test_file = tmp_path / 'test_needs_published.py'
    test_file.write_text(textwrap.dedent(NEEDS_ABSENT_FILE))
    env = {k: v for k, v in os.environ.items() if k != 'CI'}
    env.update({PUBLISHED_ENV: str(tmp_path / 'absent'), 'PYTHONPATH': str(TESTS),
                'COLUMNS': '400'})  # summary lines not cut to a narrow terminal
    if ci is not None:
        env['CI'] = ci
    finished = subprocess.run([sys.executable, '-m', 'pytest', '-q', '-rsf', '-p',
                               'no:cacheprovider', test_file.name], cwd=tmp_path, env=env,
                              capture_output=True, text=True)
    report = finished.stdout + finished.stderr
    assert finished.returncode == code, report
    assert outcome in report, report
    assert str(tmp_path / 'absent' / 'keys' / 'absent.txt') in report, report
