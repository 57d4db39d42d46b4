"""Whole-model deployment: ``export.export_model`` writes a detector or segmentor of a config to
ONNX with its test-time pre- and post-processing in the graph; ``runtime.ExportedModel`` runs
such a file with ONNX Runtime, numpy and onnx alone; ``evaluate.evaluate_exported`` gives its
metrics on a config's test set (docs/deployment.md). Submodules import on use: runtime needs neither
torch nor mmdet/mmseg."""
