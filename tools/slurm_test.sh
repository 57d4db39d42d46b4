#!/usr/bin/env bash
# Evaluation under SLURM, one task per GPU:
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=5] [SRUN_ARGS=...] \
#   tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [tools/test.py arguments ...]
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG CHECKPOINT [test.py arguments ...]" >&2; exit 2
fi
source "$(dirname "$0")/launcher_env.sh"
PARTITION=$1 JOB_NAME=$2 CONFIG=$3 CHECKPOINT=$4
shift 4
srun_tasks "$PARTITION" "$JOB_NAME" test.py "$CONFIG" "$CHECKPOINT" --launcher slurm "$@"
