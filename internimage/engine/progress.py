"""Progress of the long tools, shown as mmengine shows it (its ProgressBar)."""
import sys

from mmengine.utils import ProgressBar


def progress_bar(total=0):
    """A callable ``advance(count=1)`` over an mmengine ProgressBar of ``total`` tasks (0: a
    counter without a total), created at the first call, so that work that turns out to be
    done already prints nothing."""
    bar = None

    def advance(count=1):
        nonlocal bar
        if bar is None:
            bar = ProgressBar(total, file=sys.stdout)  # stdout now, not at mmengine's import
        for _ in range(count):
            bar.update()
    return advance
