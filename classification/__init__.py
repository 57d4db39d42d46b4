"""InternImage (arXiv 2211.05778) and what all three tasks share, split by job:

- ``classification.models``: the model (trunk, layers, heads, variants, checkpoint reading);
  imports only torch, mmengine and ops_dcnv3 and changes no global state;
- ``classification.engine``: the training engine of every task (safe loading, atomic
  checkpoints, layer decay, mixed precision, sharding, config loading, launchers, tasks);
  importing it installs its patches into torch and mmengine;
- ``classification.imagenet``: ImageNet-style classification data, model, metric, pictures and
  the Predictor;
- ``classification.demo_data``: the generated demo data of all three tasks.

Importing this package itself imports none of them: configs name what they need in
``custom_imports``."""
