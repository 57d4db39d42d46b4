"""Long tools show their progress as mmengine does: the demo-data generator a ProgressBar with
the number of images (none when the set is already complete), the export its steps."""
from internimage.engine.progress import progress_bar
from tool_scripts import run_tool


def test_progress_bar_prints_nothing_until_used(capsys):
    advance = progress_bar(3)
    assert capsys.readouterr().out == ''
    advance()
    advance(2)
    assert '3/3' in capsys.readouterr().out


def test_demo_data_generation_shows_a_bar_of_its_images_once(tmp_path):
    first = run_tool('generate_demo_data.py', '--task', 'segmentation', '--out', tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    assert '480/480' in first.stdout  # 400 training + 80 validation images
    again = run_tool('generate_demo_data.py', '--task', 'segmentation', '--out', tmp_path)
    assert again.returncode == 0 and '/480' not in again.stdout
