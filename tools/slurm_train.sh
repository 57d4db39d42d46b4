#!/usr/bin/env bash
# Training under SLURM, one task per GPU:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [tools/train.py arguments ...]
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py arguments ...]" >&2; exit 2
fi
source "$(dirname "$0")/launcher_env.sh"
PARTITION=$1 JOB_NAME=$2 CONFIG=$3 WORK_DIR=$4
shift 4
srun_tasks "$PARTITION" "$JOB_NAME" train.py "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@"
