#!/usr/bin/env bash
# Every GPU benchmark of the performance work, one after another, on the first CUDA device; then the grid's
# GPU-hours from the measured figures. Each line is also a command of its own. Writes results/bench/*_cuda.json
# and results/bench/grid_estimate.json. Real MNIST for the FID check: prepared from $RAW_DIR (default
# ../shared/data) if not prepared yet, else the embedded 5,000 digits.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
if [ ! -f results/data/mnist/manifest.json ] && [ -d "${RAW_DIR:-../shared/data}/mnist" ]; then
    python -m hmogbench data prepare mnist --raw-dir "${RAW_DIR:-../shared/data}"
fi
python benchmarks/bench_train.py --device cuda "$@"
python benchmarks/bench_features.py --device cuda
python benchmarks/bench_metrics.py --device cuda --knn-only
python benchmarks/estimate_grid.py --measured results/bench/train_cuda.json \
    --features-measured results/bench/features_cuda.json
