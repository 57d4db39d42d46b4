"""InternImage (arXiv 2211.05778) and what classification, detection and segmentation share:

- ``internimage.models``: the model (trunk, layers, heads, the variant and pretrained tables,
  checkpoint reading and conversion); imports only torch, mmengine and ops_dcnv3 and changes no
  global state;
- ``internimage.engine``: the training engine of every task (safe loading, atomic checkpoints,
  layer decay, mixed precision, sharding, config loading, launchers, task descriptors);
  importing it installs its patches into torch and mmengine;
- ``internimage.demo_data``: the generated demo data of all three tasks.

Importing this package itself imports none of them: configs name what they need in
``custom_imports``."""
