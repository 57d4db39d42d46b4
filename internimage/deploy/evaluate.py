"""Evaluates an exported whole model (``runtime.ExportedModel``) with a config's test set and
test evaluator, as tools/test.py evaluates the PyTorch model: each test image is read as the
config's pipeline reads it, given to ONNX Runtime as loaded, and its results, put into the
task's data sample, go to the same metrics."""
import mmcv
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope
from mmengine.structures import InstanceData, PixelData

from internimage.engine.errors import UsageError
from internimage.engine.progress import progress_bar
from internimage.engine.tasks import task_of

from .runtime import ExportedModel

TASK_OF_EXPORT = {'detection': 'detection', 'instance_segmentation': 'detection',
                  'segmentation': 'segmentation'}


def image_reader(pipeline):
    """Reads an image file as the pipeline's LoadImageFromFile does."""
    load = next((step for step in pipeline if step['type'].split('.')[-1] ==
                 'LoadImageFromFile'), {})
    flag = load.get('color_type', 'color')
    backend = load.get('imdecode_backend', 'cv2')
    return lambda path: mmcv.imread(path, flag=flag, backend=backend)


def attach(sample, result):
    """Puts an ExportedModel result into the data sample where the metrics read it."""
    if 'label_map' in result:
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(result['label_map'])[None])
        return sample
    predicted = dict(bboxes=torch.from_numpy(result['boxes']),
                     scores=torch.from_numpy(result['scores']),
                     labels=torch.from_numpy(result['labels']))
    if 'masks' in result:
        predicted['masks'] = torch.from_numpy(result['masks'])
    sample.pred_instances = InstanceData(**predicted)
    return sample


def evaluate_exported(cfg, path, progress=True):
    """The metrics of the exported model at ``path`` on the test set of ``cfg``."""
    model = ExportedModel(path)
    task = task_of(cfg).name
    if TASK_OF_EXPORT[model.task] != task:
        raise UsageError(f'{path} holds a {model.task} model; the config is for {task}')
    from mmengine.registry import DATASETS
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        dataset = DATASETS.build(cfg.test_dataloader.dataset)
        evaluator = Evaluator(cfg.test_evaluator)
    evaluator.dataset_meta = dataset.metainfo
    if list(dataset.metainfo['classes']) != list(model.classes):
        raise UsageError(f'{path} was exported with the classes {model.classes}; the test set '
                         f'has {list(dataset.metainfo["classes"])}')
    read = image_reader(cfg.test_dataloader.dataset.get('pipeline', []))
    advance = progress_bar(len(dataset)) if progress else None
    for index in range(len(dataset)):
        sample = dataset[index]['data_samples']
        evaluator.process([attach(sample, model(read(sample.img_path)))])
        if advance:
            advance()
    return evaluator.evaluate(len(dataset))
