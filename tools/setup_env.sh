#!/usr/bin/env bash
# Idempotent set-up of the project: .venv, the pinned stack of requirements.txt, mmcv 2.1.0 with
# ops built from its sdist, and our DCNv3 extension. Every step checks whether it is already done
# and says so, so a second run takes seconds.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
CACHE="$ROOT/.cache"
MMCV_VERSION=2.1.0
cd "$ROOT"
mkdir -p "$CACHE"

say() { echo "[setup] $*"; }
pip_install() { "$PY" -m pip install --progress-bar off "$@"; }

# 1. virtual environment
if [ -x "$PY" ]; then
  say "virtual env .venv exists, skipping"
else
  say "creating virtual env .venv"
  python3 -m venv "$VENV"
fi

# 2. torch first: mmcv's build imports it (pip takes the pinned wheels from local disk)
TORCH_PIN="$(grep -E '^torch==' requirements.txt)"
VISION_PIN="$(grep -E '^torchvision==' requirements.txt)"
if "$PY" -c "import torch, torchvision, sys; sys.exit(0 if 'torch=='+torch.__version__.split('+')[0] == '$TORCH_PIN' else 1)" 2>/dev/null; then
  say "$TORCH_PIN already installed, skipping"
else
  say "installing $TORCH_PIN $VISION_PIN (a few minutes)"
  pip_install "$TORCH_PIN" "$VISION_PIN"
  pip_install "setuptools<82" wheel "$(grep -E '^ninja==' requirements.txt)" "numpy>=2,<3"
fi

# 3. mmcv with ops: no wheel exists for this torch; its setup.py pins C++17 but torch needs C++20
if "$PY" -c "import mmcv, mmcv._ext, sys; sys.exit(0 if mmcv.__version__ == '$MMCV_VERSION' else 1)" 2>/dev/null; then
  say "mmcv $MMCV_VERSION with ops already built, skipping"
else
  say "building mmcv $MMCV_VERSION with ops from its sdist (about 10 minutes on 2 cores)"
  SRC="$CACHE/mmcv-$MMCV_VERSION"
  if [ ! -f "$SRC/setup.py" ]; then
    "$PY" -m pip download --no-deps --no-binary :all: --no-build-isolation -d "$CACHE" "mmcv==$MMCV_VERSION"
    tar xzf "$CACHE/mmcv-$MMCV_VERSION.tar.gz" -C "$CACHE"
  fi
  sed -i 's/-std=c++17/-std=c++20/g' "$SRC/setup.py"
  (cd "$SRC" && MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="${MAX_JOBS:-2}" \
    "$PY" -m pip install --progress-bar off --no-build-isolation --no-cache-dir --no-deps .)
fi

# 4. the rest of the pinned stack
REQ_STAMP="$VENV/.requirements.sha256"
REQ_HASH="$(sha256sum requirements.txt | cut -d' ' -f1)"
if [ -f "$REQ_STAMP" ] && [ "$(cat "$REQ_STAMP")" = "$REQ_HASH" ]; then
  say "requirements.txt already installed, skipping"
else
  say "installing requirements.txt"
  pip_install -r requirements.txt
  echo "$REQ_HASH" > "$REQ_STAMP"
fi

# 4b. mmdeploy without its dependencies (requirements.txt, "whole-model export")
MMDEPLOY_VERSION=1.3.1
if "$PY" -c "import importlib.metadata as m, sys; sys.exit(0 if m.version('mmdeploy') == '$MMDEPLOY_VERSION' else 1)" 2>/dev/null; then
  say "mmdeploy $MMDEPLOY_VERSION already installed, skipping"
else
  say "installing mmdeploy $MMDEPLOY_VERSION without its dependencies"
  pip_install --no-deps "mmdeploy==$MMDEPLOY_VERSION"
fi

# 5. our packages and the DCNv3 extension: an editable install of the repository (pyproject.toml;
#    `pip install --no-build-isolation --no-deps -e .`), so they import from anywhere in the venv
#    (mmdet/mmseg's own scripts load them through custom_imports) without path entries; it builds
#    ops_dcnv3/_C*.so in place. ops_dcnv3/build.py skips it when the installed distribution is
#    an editable install of this checkout and the extension's sources, build scripts, torch and
#    build settings are unchanged, and reinstalls (rebuilding the extension) otherwise.
"$PY" "$ROOT/ops_dcnv3/build.py"
say "done: activate with 'source .venv/bin/activate'"
