"""mmdet's LVISMetric on numpy 2. lvis 0.5.3, the newest release of the LVIS API, still calls
``np.float`` (removed in numpy 2) in ``LVISEval.accumulate``, so every LVIS evaluation died at
its last step. The metric evaluates with ``lvis.eval`` seeing a numpy that has ``float`` again,
for the duration of that call only: nothing outside it is changed."""
import contextlib
import types

import numpy
from mmdet.evaluation import LVISMetric
from mmdet.registry import METRICS


class _NumpyWithFloat(types.ModuleType):
    """numpy, plus the ``np.float`` alias (the builtin float) that numpy 2 removed."""
    float = float

    def __getattr__(self, name):
        return getattr(numpy, name)


@contextlib.contextmanager
def _lvis_eval_on_numpy2():
    import lvis.eval
    original = lvis.eval.np
    lvis.eval.np = _NumpyWithFloat('numpy')
    try:
        yield
    finally:
        lvis.eval.np = original


@METRICS.register_module()
class LVISNumpy2Metric(LVISMetric):
    """``LVISMetric`` whose evaluation also runs on numpy 2 (module docstring)."""

    def compute_metrics(self, results):
        with _lvis_eval_on_numpy2():
            return super().compute_metrics(results)
