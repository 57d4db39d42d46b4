# Sourced by the dist_* and slurm_* launchers: the repository root and the Python to run
# (PYTHON from the environment, else the set-up's .venv, else python on the PATH).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi

# One task per GPU under srun: srun_tasks PARTITION JOB_NAME TOOL [TOOL arguments ...] runs
# tools/TOOL with the arguments as given (the callers pass --launcher slurm); GPUS,
# GPUS_PER_NODE, CPUS_PER_TASK and SRUN_ARGS come from the environment.
srun_tasks() {
    local partition=$1 job_name=$2 tool=$3
    shift 3
    local gpus=${GPUS:-8}
    local per_node=${GPUS_PER_NODE:-$(( gpus < 8 ? gpus : 8 ))}
    # SRUN_ARGS holds several words on purpose
    # shellcheck disable=SC2086
    srun -p "$partition" --job-name="$job_name" --gres="gpu:$per_node" --ntasks="$gpus" \
        --ntasks-per-node="$per_node" --cpus-per-task="${CPUS_PER_TASK:-5}" --kill-on-bad-exit=1 \
        ${SRUN_ARGS:-} "$PYTHON" -u "$ROOT/tools/$tool" "$@"
}
