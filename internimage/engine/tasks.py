"""One descriptor per task: what the tools need to know about classification, detection and
segmentation, looked up from a config's ``default_scope`` (or by name) instead of being spread
over each tool. Modules are named as strings and imported on use, so the engine does not import
mmdet, mmseg or the task packages until a tool asks for them."""
import importlib
from dataclasses import dataclass
from typing import Optional

from .errors import UsageError


@dataclass(frozen=True)
class Task:
    name: str
    scope: Optional[str]  # the configs' default_scope
    data_sample: Optional[str]  # 'module:Class' of the task's data samples (None: plain labels)
    # submodules that run in bfloat16 under --amp on a CPU (None: the whole model)
    cpu_bf16_modules: Optional[tuple]
    flops_input: tuple  # (H, W) of the published FLOPs counts
    demo_data: str  # module whose generate(out_dir, seed=...) writes the demo data
    demo_data_dir: str
    demo_config: str
    demo_image: Optional[str]  # a demo image for tools/image_demo.py
    image_demo: Optional[str]  # module with run_image_demo(config, checkpoint, image, out_file)
    # module with layout_for(model_cfg, source_names): the released checkpoints' layouts
    checkpoint_layouts: str = 'internimage.models.conversion'

    def data_sample_class(self):
        if self.data_sample is None:
            return None
        module, name = self.data_sample.split(':')
        return getattr(importlib.import_module(module), name)

    def generate_demo_data(self, out_dir=None, seed=0, progress=None):
        """Writes the task's demo data (kept when complete); ``progress(total)`` gives the
        callable called once per written image (``internimage.engine.progress.progress_bar``)."""
        module = importlib.import_module(self.demo_data)
        return module.generate(out_dir or self.demo_data_dir, seed=seed, progress=progress)

    def released_layout(self, model_cfg, source_names):
        """The conversion Layout of a released checkpoint with entries ``source_names`` for
        the model ``model_cfg`` of this task."""
        module = importlib.import_module(self.checkpoint_layouts)
        return module.layout_for(model_cfg, source_names)

    def image_demo_module(self):
        if self.image_demo is None:
            raise UsageError(f'image_demo works for detection and segmentation configs, not '
                             f'for {self.name}')
        return importlib.import_module(self.image_demo)


TASKS = {task.name: task for task in (
    Task('classification', scope=None, data_sample=None, cpu_bf16_modules=None,
         flops_input=(224, 224), demo_data='internimage.demo_data.classification',
         demo_data_dir='data/demo/shapes_cls',
         demo_config='configs/classification/demo/internimage_demo_shapes.py',
         demo_image=None, image_demo=None),
    # mmcv's CPU NMS and RoIAlign take float32 only: bfloat16 for backbone and neck
    Task('detection', scope='mmdet', data_sample='mmdet.structures:DetDataSample',
         cpu_bf16_modules=('backbone', 'neck'), flops_input=(800, 1280),
         demo_data='internimage.demo_data.detection', demo_data_dir='data/demo/coco_shapes',
         demo_config='configs/detection/demo/mask_rcnn_internimage_demo_shapes.py',
         demo_image='data/demo/coco_shapes/val/000001.png', image_demo='detection.visualize',
         checkpoint_layouts='detection.checkpoint_layouts'),
    Task('segmentation', scope='mmseg', data_sample='mmseg.structures:SegDataSample',
         cpu_bf16_modules=None, flops_input=(512, 2048),
         demo_data='internimage.demo_data.segmentation', demo_data_dir='data/demo/ade_shapes',
         demo_config='configs/segmentation/demo/upernet_internimage_demo_shapes.py',
         demo_image='data/demo/ade_shapes/images/validation/000000.jpg',
         image_demo='segmentation.visualize',
         checkpoint_layouts='segmentation.checkpoint_layouts'),
)}


def task_of(cfg):
    """The task of a config, by its ``default_scope``; UsageError for a scope of no task."""
    scope = cfg.get('default_scope')
    for task in TASKS.values():
        if task.scope == scope:
            return task
    raise UsageError(f'unsupported default_scope {scope!r}: the project has '
                     + ', '.join(f'{t.name} ({t.scope!r})' for t in TASKS.values()))
