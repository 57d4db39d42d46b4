# Sourced by the dist_* and slurm_* launchers: the repository root and the Python to run
# (PYTHON from the environment, else the set-up's .venv, else python on the PATH).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON="$ROOT/.venv/bin/python"; else PYTHON=python; fi
fi
