"""Reading a config with its command-line overrides: the one checked way every tool loads a
config (train, test, get_flops, image_demo, export, extract_features, convert_checkpoint)."""
import os

from mmengine.config import Config


def check_overrides(cfg, options):
    """Refuses overrides of top-level keys the config does not have: a typo such as
    ``train_cgf.max_epochs=1`` would otherwise be added silently and change nothing."""
    unknown = sorted({key.split('.')[0] for key in options} - set(cfg.keys()))
    if unknown:
        raise SystemExit(f'--cfg-options: unknown config key(s) {unknown}; the config has '
                         f'{sorted(cfg.keys())}')


def load_config(path, cfg_options=None):
    """The mmengine Config of the file ``path`` with ``cfg_options`` (``--cfg-options``, a
    dict of dotted keys) checked and applied; a missing file or unknown key stops the tool with
    a message that names it."""
    if not os.path.isfile(path):
        raise SystemExit(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        check_overrides(cfg, cfg_options)
        cfg.merge_from_dict(cfg_options)
    return cfg
