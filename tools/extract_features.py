"""Saves the features of InternImage's levels for the images of a classification config:

    python tools/extract_features.py CONFIG CHECKPOINT [--out FILE.npz] [--levels 0 1 2 3]
                                     [--split test|val|train] [--spatial] [--max-images N]
                                     [--cfg-options KEY=VALUE ...]

The images and their test transform come from the config's dataloader of ``--split`` (no
augmentation for val/test); the checkpoint may be any layout ``internimage.models.load_checkpoint``
reads (ours or the published ones). Each level is average-pooled to (N, C) unless ``--spatial``
keeps its (N, H, W, C) map. The .npz holds ``level_<i>`` arrays, ``labels``, ``paths`` and
``classes``: what linear probes and retrieval experiments start from. The tool runs in one
process (no --launcher)."""
import argparse
import os

import numpy as np
import torch
from mmengine.registry import DATA_SAMPLERS, DATASETS, MODELS, DefaultScope
from torch.utils.data import DataLoader

from internimage.engine.launch import (add_common_arguments, exits_on_usage_error,
                                       launcher_config, require_checkpoint)
from internimage.engine.progress import progress_bar
from internimage.models import load_checkpoint


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('config', help='classification config file')
    parser.add_argument('checkpoint', help='checkpoint file (ours or a published one)')
    parser.add_argument('--out', help='output .npz (default: <work dir>/features_<split>.npz)')
    parser.add_argument('--levels', type=int, nargs='+', default=[0, 1, 2, 3],
                        help='levels to save, 0 (stride 4) .. 3 (stride 32)')
    parser.add_argument('--split', choices=['test', 'val', 'train'], default='test',
                        help="whose dataloader's images and transform to use")
    parser.add_argument('--spatial', action='store_true',
                        help='keep each level as an (N, H, W, C) map instead of pooling it')
    parser.add_argument('--max-images', type=int, help='stop after this many images')
    add_common_arguments(parser, distributed=False)  # one process: no --launcher
    return parser.parse_args(argv)


def build_classifier(cfg, checkpoint):
    """The config's InternImageClassifier with the checkpoint's weights, in eval mode."""
    model = MODELS.build(cfg.model)
    classifier = getattr(model, 'classifier', model)
    if not hasattr(classifier, 'forward_levels'):
        raise SystemExit(f'{type(classifier).__name__} has no InternImage levels; '
                         'extract_features needs a classification config')
    load_checkpoint(classifier, checkpoint)
    return classifier.eval()


def build_loader(cfg, split):
    loader_cfg = cfg.get(f'{split}_dataloader')
    if loader_cfg is None:
        raise SystemExit(f'the config has no {split}_dataloader')
    dataset_cfg = loader_cfg.dataset
    if split == 'train':  # the training images with the test transform, no augmentation
        dataset_cfg = dict(dataset_cfg, transform=cfg.test_dataloader.dataset.transform,
                           test_mode=True)
    dataset = DATASETS.build(dataset_cfg)
    sampler = DATA_SAMPLERS.build(dict(type='DefaultSampler', shuffle=False), default_args=dict(
        dataset=dataset))
    return dataset, DataLoader(dataset, batch_size=loader_cfg.batch_size, sampler=sampler,
                               num_workers=loader_cfg.get('num_workers', 0),
                               collate_fn=torch.utils.data.default_collate)


@torch.no_grad()
def extract(classifier, loader, levels, spatial, max_images=None):
    """{level: array} of the features and the labels, in dataset order (progress per image)."""
    features = {level: [] for level in levels}
    labels, seen = [], 0
    total = len(loader.dataset) if max_images is None else min(max_images, len(loader.dataset))
    advance = progress_bar(total)
    for batch in loader:
        outputs = classifier.forward_levels(batch['inputs'])
        for level in levels:
            output = outputs[level]  # NHWC
            features[level].append((output if spatial else output.mean(dim=(1, 2))).numpy())
        labels.append(np.asarray(batch['data_samples']))
        advance(min(len(batch['inputs']), total - seen))
        seen += len(batch['inputs'])
        if max_images is not None and seen >= max_images:
            break
    print()
    limit = slice(None, max_images)
    return ({level: np.concatenate(parts)[limit] for level, parts in features.items()},
            np.concatenate(labels)[limit])


@exits_on_usage_error
def main(argv=None):
    args = parse_args(argv)
    require_checkpoint(args.checkpoint)
    cfg = launcher_config(args)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        classifier = build_classifier(cfg, args.checkpoint)
        bad = [level for level in args.levels if not 0 <= level < len(classifier.levels)]
        if bad:
            raise SystemExit(f'--levels {bad}: the model has levels '
                             f'0..{len(classifier.levels) - 1}')
        dataset, loader = build_loader(cfg, args.split)
    features, labels = extract(classifier, loader, args.levels, args.spatial, args.max_images)
    out = args.out or os.path.join(cfg.work_dir, f'features_{args.split}.npz')
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    paths = [path for path, _ in dataset.samples[:len(labels)]]
    np.savez(out, labels=labels, paths=np.asarray(paths), classes=np.asarray(dataset.classes or []),
             **{f'level_{level}': array for level, array in features.items()})
    shapes = ', '.join(f'level_{level} {tuple(a.shape)}' for level, a in features.items())
    print(f'{len(labels)} images -> {out}: {shapes}')


if __name__ == '__main__':
    main()
