"""The learning-rate schedule of the published classification recipes as an mmengine parameter
scheduler: ``TimmCosineLR``.

The published training (its classification/lr_scheduler.py and main.py) builds timm's
``CosineLRScheduler(t_initial=EPOCHS * iters, warmup_t=WARMUP_EPOCHS * iters,
warmup_lr_init=WARMUP_LR, lr_min=MIN_LR, cycle_limit=1, t_in_epochs=False)`` and calls
``step_update(epoch * iters + idx)`` after each optimizer step. What that gives, and what this
scheduler reproduces step for step:

- the warm-up is laid over the start of the cosine, not put before it: for t < W the lr is
  ``warmup_lr + t * (base - warmup_lr) / W``; from W on it is
  ``min_lr + (base - min_lr) * (1 + cos(pi * t / T)) / 2`` with T the whole run, so the cosine
  is already below ``base`` when the warm-up ends (mmengine's LinearLR + CosineAnnealingLR from
  W to T starts the cosine afresh at ``base``);
- one step late: the lr of iteration k is the value for step ``max(k - 1, 0)`` (the first two
  iterations both use the warm-up's start), because the scheduler is stepped after the update;
- ``warmup_lr`` and ``min_lr`` are absolute values shared by every parameter group (with
  layer-wise lr decay the groups differ only in their peak). The published config scales them
  with the lr by the total batch / 512; here they are ratios of the (scaled) base lr, read per
  group as ``initial_lr / lr_scale`` (``lr_scale``: the group's multiplier, set by the
  classification optimizer constructor; 1 when a group has none).
"""
import math

from mmengine.optim.scheduler.lr_scheduler import LRSchedulerMixin
from mmengine.optim.scheduler.param_scheduler import INF, _ParamScheduler
from mmengine.registry import PARAM_SCHEDULERS


@PARAM_SCHEDULERS.register_module()
class TimmCosineLR(LRSchedulerMixin, _ParamScheduler):
    """Cosine over ``[begin, end)`` with a linear warm-up over its first ``warmup`` steps (or
    epochs, with ``by_epoch=True, convert_to_iter_based=True``), as described above.

    Args:
        warmup: length of the warm-up, in the unit of ``begin``/``end``.
        warmup_lr_ratio: the warm-up's start as a fraction of the base lr.
        min_lr_ratio: the cosine's floor as a fraction of the base lr.
        lag: steps the lr trails the schedule (1: as the published loop stepped it; 0: the
            schedule's own value at every step).
    """

    def __init__(self, optimizer, warmup=0, warmup_lr_ratio=0.0, min_lr_ratio=0.0, lag=1,
                 begin=0, end=INF, last_step=-1, by_epoch=True, verbose=False):
        if end == INF:
            raise ValueError('TimmCosineLR needs an end (the length of the whole cosine)')
        if not 0 <= warmup < end - begin:
            raise ValueError(f'warmup must be in [0, {end - begin}), got {warmup}')
        if lag not in (0, 1):
            raise ValueError(f'lag must be 0 or 1, got {lag}')
        self.total = end - begin
        self.warmup = warmup
        self.warmup_lr_ratio = warmup_lr_ratio
        self.min_lr_ratio = min_lr_ratio
        self.lag = lag
        super().__init__(optimizer, begin=begin, end=end, last_step=last_step,
                         by_epoch=by_epoch, verbose=verbose)

    @classmethod
    def build_iter_from_epoch(cls, *args, warmup=0, begin=0, end=INF, by_epoch=True,
                              epoch_length=None, **kwargs):
        """The iteration-based scheduler of an epoch-based config."""
        if not by_epoch:
            raise ValueError('only an epoch-based TimmCosineLR converts to iterations')
        if not epoch_length or epoch_length <= 0:
            raise ValueError(f'epoch_length must be a positive integer, got {epoch_length}')
        # int(): as the published code, int(EPOCHS * iters) and int(WARMUP_EPOCHS * iters)
        end = end if end == INF else int(end * epoch_length)
        return cls(*args, warmup=int(warmup * epoch_length), begin=int(begin * epoch_length),
                   end=end, by_epoch=False, **kwargs)

    def value_at(self, step, peak, reference):
        """The lr at schedule step ``step`` of a group peaking at ``peak`` whose base lr (for
        the shared warm-up start and floor) is ``reference``."""
        warmup_lr = self.warmup_lr_ratio * reference
        min_lr = self.min_lr_ratio * reference
        if step < self.warmup:
            return warmup_lr + step * (peak - warmup_lr) / self.warmup
        if step >= self.total:  # timm's cycle_limit=1: the floor after the cycle
            return min_lr
        return min_lr + 0.5 * (peak - min_lr) * (1 + math.cos(math.pi * step / self.total))

    def _get_value(self):
        step = max(self.last_step - self.lag, 0)
        return [self.value_at(step, peak, peak / group.get('lr_scale', 1.0))
                for peak, group in zip(self.base_values, self.optimizer.param_groups)]
