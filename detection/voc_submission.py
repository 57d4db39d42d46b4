"""The PASCAL VOC evaluation server's result files, for test sets whose labels are withheld (VOC
2012 test, the published CB-InternImage-H VOC 2012 result): mmdet 3.3's VOCMetric needs the
labels and its DumpDetResults writes a pickle the server does not read."""
import os

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger
from mmdet.registry import METRICS


def detection_line(image_id, score, box):
    """One server line: image id, confidence, box in VOC's 1-based pixel coordinates (mmdet's
    VOCDataset subtracted 1 when it read the annotations)."""
    left, top, right, bottom = (float(v) + 1 for v in box)
    return f'{image_id} {float(score):.6f} {left:.1f} {top:.1f} {right:.1f} {bottom:.1f}\n'


@METRICS.register_module()
class VOCSubmissionWriter(BaseMetric):
    """Writes ``<outfile_dir>/results/VOC<year>/Main/comp4_det_<split>_<class>.txt`` (the
    server's "comp4": trained on any data), one file per class, and reports no metric. A
    prediction labelled outside the dataset's classes is an error and nothing is written."""

    default_prefix = 'voc_submission'

    def __init__(self, outfile_dir, year=2012, split='test', collect_device='cpu', prefix=None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.outfile_dir, self.year, self.split = outfile_dir, year, split

    def process(self, data_batch, data_samples):
        for sample in data_samples:
            pred = sample['pred_instances']
            self.results.append((sample['img_id'], pred['bboxes'].cpu().numpy(),
                                 pred['scores'].cpu().numpy(), pred['labels'].cpu().numpy()))

    def class_lines(self, results, num_classes):
        """The server lines of every class, checked before anything is written."""
        lines = [[] for _ in range(num_classes)]
        for image_id, boxes, scores, labels in results:
            bad = labels[(labels < 0) | (labels >= num_classes)]
            if bad.size:
                raise ValueError(f'VOCSubmissionWriter: image {image_id} has a prediction of '
                                 f'class {int(bad[0])}, not one of the {num_classes} classes')
            for box, score, label in zip(boxes, scores, labels.astype(np.int64)):
                lines[label].append(detection_line(image_id, score, box))
        return lines

    def compute_metrics(self, results):
        classes = self.dataset_meta['classes']
        lines = self.class_lines(results, len(classes))
        folder = os.path.join(self.outfile_dir, 'results', f'VOC{self.year}', 'Main')
        os.makedirs(folder, exist_ok=True)
        for name, class_lines in zip(classes, lines):
            with open(os.path.join(folder, f'comp4_det_{self.split}_{name}.txt'), 'w') as f:
                f.writelines(class_lines)
        MMLogger.get_current_instance().info(
            f'wrote the VOC server files of {len(results)} images to {folder}')
        return {}
