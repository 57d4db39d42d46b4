#!/usr/bin/env bash
# Distributed training on one node (or several: NNODES, NODE_RANK, MASTER_ADDR) with torchrun:
#   tools/dist_train.sh CONFIG NPROC [tools/train.py arguments ...]
# One process per GPU; without GPUs the processes train on CPUs over gloo. PORT (default 29500)
# is the rendezvous port.
set -euo pipefail
if [ $# -lt 2 ]; then echo "usage: $0 CONFIG NPROC [train.py arguments ...]" >&2; exit 2; fi
source "$(dirname "$0")/launcher_env.sh"
CONFIG=$1
NPROC=$2
shift 2
exec "$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$ROOT/tools/train.py" "$CONFIG" --launcher pytorch "$@"
