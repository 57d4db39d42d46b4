"""Runs a whole model written by ``export.py`` with ONNX Runtime, numpy and onnx (which reads
the file's metadata) alone, no torch, mmdet or mmseg (a file exported with ``--mode custom``
also needs torch and ops_dcnv3, whose compiled op runs its DCNv3 nodes): the metadata says the
task, classes and outputs; images go in as loaded; plain per-image results come out."""
import json

import numpy as np

METADATA_PREFIX = 'internimage.'


def read_metadata(props):
    """The metadata ``export.py`` wrote, from an onnx ModelProto or a session's
    ``get_modelmeta().custom_metadata_map``."""
    if not isinstance(props, dict):
        props = {p.key: p.value for p in props.metadata_props}
    return {k[len(METADATA_PREFIX):]: json.loads(v) for k, v in props.items()
            if k.startswith(METADATA_PREFIX)}


class ExportedModel:
    """``model(image)`` -> dict of numpy arrays for one HxWx3 uint8 image (the config's channel
    order: BGR as OpenCV and mmcv load it); ``model([images])`` -> a list, images of one size
    run as one batch. Detection: ``boxes`` (K, 4) xyxy, ``scores``, ``labels`` (and ``masks``
    (K, H, W) bool); segmentation: ``label_map`` (H, W)."""

    def __init__(self, path, providers=('CPUExecutionProvider',), session_options=None):
        import onnx
        import onnxruntime
        metadata = read_metadata(onnx.load(str(path), load_external_data=False))
        if metadata.get('dcnv3') == 'custom':
            from ops_dcnv3.onnxruntime_ops import session_options as with_custom_ops
            session_options = with_custom_ops(session_options)
        self.session = onnxruntime.InferenceSession(str(path), sess_options=session_options,
                                                    providers=list(providers))
        self.metadata = metadata
        if 'task' not in self.metadata:
            raise ValueError(f'{path} is not a whole model written by tools/export.py (no '
                             f'{METADATA_PREFIX}task in its metadata)')
        self.task = self.metadata['task']
        self.classes = self.metadata['classes']
        self.outputs = self.metadata['outputs']

    def __call__(self, images):
        single = isinstance(images, np.ndarray) and images.ndim != 4
        images = [images] if single else list(images)
        for index, image in enumerate(images):
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f'image {index}: expected an HxWx3 uint8 array, got shape '
                                 f'{image.shape} and dtype {image.dtype}')
        by_size = {}
        for index, image in enumerate(images):
            by_size.setdefault(image.shape, []).append(index)
        results = [None] * len(images)
        for indexes in by_size.values():
            batch = np.stack([images[i].transpose(2, 0, 1) for i in indexes]).astype(np.float32)
            outputs = dict(zip(self.outputs, self.session.run(None, {'image': batch})))
            for row, index in enumerate(indexes):
                results[index] = self._image_result(outputs, row)
        return results[0] if single else results

    @staticmethod
    def _image_result(outputs, row):
        if 'label_map' in outputs:
            return dict(label_map=outputs['label_map'][row])
        keep = (outputs['labels'][row] >= 0) & (outputs['scores'][row] > 0)  # not padding
        return {name: outputs[name][row][keep] for name in ('boxes', 'scores', 'labels', 'masks')
                if name in outputs}
