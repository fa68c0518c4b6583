#!/usr/bin/env bash
# `make bench-train`: the training-speed benchmark, burn against PyTorch on this machine.
# Makes its own virtual environment with PyTorch from PyPI (once; about 3 GB with its CUDA
# wheels, which stay unused) and runs bench/train_speed.py in it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-bench
torch_version=2.3.1
if ! "$venv/bin/python" -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$torch_version')" 2>/dev/null; then
  echo "bench-train: installing PyTorch $torch_version into $venv (once)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "torch==$torch_version" "numpy<2"
fi
exec "$venv/bin/python" bench/train_speed.py "$@"
