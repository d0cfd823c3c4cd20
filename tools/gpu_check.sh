#!/usr/bin/env bash
# The GPU check (tools/gpu_check.py says what it runs): one script, one JSON file.
#   bash tools/gpu_check.sh [--device cuda|cpu] [--out gpu_check.json] [--fashion DIR]
# On a bare GPU machine that has PyTorch and Triton but not this package's other needs, make them travel:
# `bash tools/gpu_wheels.sh` (here, once) fills .whl/ and data/fashion-mnist/; carry both with the repository.
# `--device cpu` is the dry run, on any machine that has the package's development install.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=$(command -v python3 || command -v python)
if ! "$PY" -c "import snntorch, nbdev, fastcore, IPython" 2>/dev/null; then
  [ -d .whl ] || { echo "snntorch/nbdev are missing and there is no .whl/: run tools/gpu_wheels.sh where pip works" >&2; exit 2; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 2
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
# the notebooks run `spiking-sae` as a command: without an install, a stand-in on the PATH
if ! command -v spiking-sae >/dev/null; then
  mkdir -p /tmp/gpu-check-bin
  printf '#!/bin/sh\nexec "%s" -c "from spiking_sae.cli import main; main()" "$@"\n' "$PY" > /tmp/gpu-check-bin/spiking-sae
  chmod +x /tmp/gpu-check-bin/spiking-sae; export PATH="/tmp/gpu-check-bin:$PATH"
fi
ARGS=("$@")
[ -d data/fashion-mnist ] && [[ " $* " != *" --fashion "* ]] && ARGS+=(--fashion data/fashion-mnist)
exec "$PY" tools/gpu_check.py "${ARGS[@]}"
