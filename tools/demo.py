"""The README's main job: checks the compiled DCNv3 op against the reference, generates the
embedded data sets, then for each task trains the demo config on the CPU, evaluates it and saves
pictures, all under one work dir (work_dirs/demo by default), ending with a summary.

    python tools/demo.py [--work-dir DIR] [--tasks classification detection segmentation]"""
import argparse
import json
import os
import subprocess
import sys
import time

import torch

import ops_dcnv3
from internimage.engine.tasks import TASKS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parity_report():
    """Max difference of forward and gradients, compiled op vs reference, in float64."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 14, 14, 64, generator=g, dtype=torch.float64)
    offset = (torch.rand(2, 14, 14, 4 * 9 * 2, generator=g, dtype=torch.float64) - 0.5) * 6
    mask = torch.rand(2, 14, 14, 4, 9, generator=g, dtype=torch.float64).softmax(-1)
    mask = mask.reshape(2, 14, 14, -1)
    args = (3, 3, 1, 1, 1, 1, 1, 1, 4, 16, 2.0, 256, False)
    results = {}
    for name, fn in (('compiled', ops_dcnv3.dcnv3), ('reference', ops_dcnv3.dcnv3_reference)):
        leaves = [t.clone().requires_grad_(True) for t in (x, offset, mask)]
        out = fn(*leaves, *args)
        out.backward(torch.ones_like(out))
        results[name] = [out.detach()] + [t.grad for t in leaves]
    return [f'{label:<12} max |compiled - reference| = {(a - b).abs().max().item():.3e}'
            f'  (max |reference| = {b.abs().max().item():.3e})'
            for label, a, b in zip(('output', 'grad input', 'grad offset', 'grad mask'),
                                   results['compiled'], results['reference'])]


def run(*args):
    """Runs one of our tools with this Python, from the repository root; stops on failure."""
    print('[demo] $ python ' + ' '.join(args), flush=True)
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def last_checkpoint(work_dir):
    with open(os.path.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def pretrained_options(task, work_root):
    """The segmentation demo fine-tunes the classification demo's network: its backbone starts
    from that run's last checkpoint in this work dir."""
    if task != 'segmentation':
        return []
    classification_dir = os.path.join(work_root, 'classification')
    if not os.path.isfile(os.path.join(classification_dir, 'last_checkpoint')):
        sys.exit('the segmentation demo starts from the classification demo\'s weights: run '
                 'python tools/demo.py --tasks classification segmentation')
    checkpoint = last_checkpoint(classification_dir)
    return ['--cfg-options', f'model.backbone.init_cfg.checkpoint={checkpoint}']


def run_task(task, work_root):
    """Train, test with pictures (and an image_demo picture); returns the test metrics."""
    config, image = TASKS[task].demo_config, TASKS[task].demo_image
    work_dir = os.path.join(work_root, task)
    start = time.time()
    run('tools/train.py', config, '--work-dir', work_dir, *pretrained_options(task, work_root))
    trained = time.time() - start
    checkpoint = last_checkpoint(work_dir)
    run('tools/test.py', config, checkpoint, '--work-dir', work_dir,
        '--show-dir', os.path.join(work_dir, 'pictures'))
    if image:
        run('tools/image_demo.py', image, config, checkpoint,
            '--out-file', os.path.join(work_dir, 'pictures', 'image_demo.png'))
    with open(os.path.join(work_dir, 'test_metrics.json')) as f:
        metrics = json.load(f)['metrics']
    return dict(metrics=metrics, train_seconds=round(trained), checkpoint=checkpoint)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--work-dir', default='work_dirs/demo')
    parser.add_argument('--tasks', nargs='+', choices=list(TASKS), default=list(TASKS))
    args = parser.parse_args()
    work_root = os.path.abspath(args.work_dir)
    os.makedirs(work_root, exist_ok=True)
    if not ops_dcnv3.EXTENSION_AVAILABLE:
        sys.exit('the compiled DCNv3 op is not built: run `make setup` first')

    print('[demo] DCNv3: compiled op vs reference (float64)')
    report = parity_report()
    print('\n'.join(report))
    with open(os.path.join(work_root, 'dcnv3_parity.txt'), 'w') as f:
        f.write('\n'.join(report) + '\n')

    for task in args.tasks:
        run('tools/generate_demo_data.py', '--task', task)
    path = os.path.join(work_root, 'summary.json')
    summary = {}
    if os.path.isfile(path):  # a run of some tasks keeps the others' results
        with open(path) as f:
            summary = json.load(f)
    for task in args.tasks:
        print(f'[demo] {task}: training the demo config on the CPU', flush=True)
        summary[task] = run_task(task, work_root)
        print(f'[demo] {task}: {summary[task]}', flush=True)
    with open(path, 'w') as f:
        json.dump(summary, f, indent=1)
    print(f'[demo] done; metrics in {path}, pictures in {work_root}/<task>/pictures')


if __name__ == '__main__':
    main()
