"""The embedded demo data of all three tasks, rendered from a seed instead of shipped or
downloaded: coloured shapes on textured backgrounds (``shapes``), written once (``write_once``)
as an ImageNet folder set (``classification``), COCO instances (``detection``) and an ADE20K-
layout set (``segmentation``), each with ``generate(out_dir, seed=...)``."""
