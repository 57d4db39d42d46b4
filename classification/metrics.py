"""Top-k accuracy for mmengine's Evaluator (the ImageNet top-1/top-5 numbers)."""
import torch
from mmengine.evaluator import BaseMetric
from mmengine.registry import METRICS


@METRICS.register_module()
class TopKAccuracy(BaseMetric):
    """Percentage of samples whose label is among the ``topk`` highest scores, for each k."""

    default_prefix = 'accuracy'

    def __init__(self, topk=(1, 5), collect_device='cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk = tuple(topk)
        if not self.topk or min(self.topk) < 1:
            raise ValueError(f'topk must be positive integers, got {topk}')

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            score = sample['pred_score']
            ranked = score.topk(min(max(self.topk), score.numel())).indices.cpu()
            hits = (ranked == sample['gt_label']).nonzero()
            # Rank of the true class among the top max(topk); max(topk) when not among them.
            rank = int(hits[0, 0]) if len(hits) else max(self.topk)
            self.results.append(dict(rank=rank, num_classes=score.numel()))

    def compute_metrics(self, results):
        ranks = torch.tensor([r['rank'] for r in results])
        num_classes = results[0]['num_classes']
        return {f'top{k}': float((ranks < k).float().mean() * 100)
                for k in self.topk if k <= num_classes}
