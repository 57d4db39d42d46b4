"""The engine raises UsageError, never SystemExit, for what it cannot work with (a config of no
task, a missing config file, a --cfg-options key nothing takes, a SLURM launch outside srun),
with the message a tool prints; the tools turn it into their exit: the message on stderr, exit
status 1, no traceback. Options that did nothing are gone from the tools."""
import pytest
from mmengine.config import Config

from internimage.engine import UsageError, load_config, task_of
from internimage.engine.launch import exits_on_usage_error, first_node, slurm_environment
from tool_scripts import load_tool, run_tool

CLASSIFICATION = 'configs/classification/demo/internimage_demo_shapes.py'
TYPO = ("--cfg-options trian_cfg: the config has no entry 'trian_cfg' and the runner reads "
        "none (did you mean 'train_cfg'?)")


def test_usage_error_is_no_system_exit():
    assert not issubclass(UsageError, SystemExit)
    # tools/test.py reads ValueError as a checkpoint that does not convert: keep them apart
    assert not issubclass(UsageError, ValueError)


def test_a_config_of_no_task_raises_usage_error_naming_its_scope():
    with pytest.raises(UsageError) as error:
        task_of(Config(dict(default_scope='mmpose')))
    assert str(error.value).startswith("unsupported default_scope 'mmpose': the project has "
                                       "classification (None), detection ('mmdet'), ")


def test_a_missing_config_file_raises_usage_error(tmp_path):
    missing = tmp_path / 'nowhere.py'
    with pytest.raises(UsageError) as error:
        load_config(str(missing))
    assert str(error.value) == f'config file not found: {missing}'


def test_an_unknown_override_key_raises_usage_error():
    with pytest.raises(UsageError) as error:
        load_config(CLASSIFICATION, {'trian_cfg.max_epochs': 1})
    assert str(error.value) == TYPO


def test_a_slurm_launch_outside_srun_raises_usage_error(tmp_path, monkeypatch):
    with pytest.raises(UsageError, match='SLURM_NTASKS, SLURM_LOCALID not set'):
        slurm_environment({'SLURM_PROCID': '0'})
    monkeypatch.setenv('PATH', str(tmp_path))  # no scontrol to expand the node list
    with pytest.raises(UsageError, match=r"cannot expand the node list 'node\[1-2\]'"):
        first_node('node[1-2]')


def test_the_tool_decorator_turns_usage_error_into_the_exit_and_passes_the_rest():
    @exits_on_usage_error
    def refuses(problem):
        raise problem

    with pytest.raises(SystemExit) as exited:
        refuses(UsageError('config file not found: x.py'))
    assert exited.value.code == 'config file not found: x.py'
    with pytest.raises(KeyError):
        refuses(KeyError('not ours'))
    assert exits_on_usage_error(lambda value: value * 2)(21) == 42


def test_a_tool_exits_with_the_message_and_a_nonzero_status():
    result = run_tool('get_flops.py', CLASSIFICATION, '--cfg-options', 'trian_cfg.max_epochs=1')
    assert result.returncode == 1
    assert result.stderr.strip().endswith(TYPO)
    assert 'Traceback' not in result.stderr


def test_in_process_the_tools_main_still_exits():
    with pytest.raises(SystemExit) as exited:
        load_tool('get_flops').main([CLASSIFICATION, '--cfg-options', 'trian_cfg.max_epochs=1'])
    assert exited.value.code == TYPO


@pytest.mark.parametrize('tool, option', [('extract_features', ['--launcher', 'pytorch']),
                                          ('extract_features', ['--local_rank', '0'])])
def test_options_that_did_nothing_are_gone(tool, option, capsys):
    with pytest.raises(SystemExit) as exited:
        load_tool(tool).parse_args([CLASSIFICATION, 'x.pth', *option])
    assert exited.value.code == 2
    assert f'unrecognized arguments: {" ".join(option)}' in capsys.readouterr().err
