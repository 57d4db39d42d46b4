#!/usr/bin/env bash
# Distributed evaluation on one node (or several: NNODES, NODE_RANK, MASTER_ADDR) with torchrun:
#   tools/dist_test.sh CONFIG CHECKPOINT NPROC [tools/test.py arguments ...]
# PORT (default 29500) is the rendezvous port.
set -euo pipefail
if [ $# -lt 3 ]; then echo "usage: $0 CONFIG CHECKPOINT NPROC [test.py arguments ...]" >&2; exit 2; fi
source "$(dirname "$0")/launcher_env.sh"
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
exec "$PYTHON" -m torch.distributed.run --nnodes="${NNODES:-1}" --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" --master_port="${PORT:-29500}" \
    --nproc_per_node="$NPROC" "$ROOT/tools/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
