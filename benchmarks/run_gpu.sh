#!/usr/bin/env bash
# The full GPU benchmarks on a GPU of your own (hours of them are fine): bench_train, bench_features,
# bench_metrics --knn-only, then the grid's GPU-hours from the measured figures (estimate_grid). Each line is
# also a command of its own (run from the repository root: `python -m` puts it on the import path, so hmogbench
# need not be installed); writes results/bench/*_cuda.json and results/bench/grid_estimate.json. A failing step
# does not stop the others (the exit status says whether any failed); bench_train writes its JSON after every
# measurement. Real MNIST for the FID check: prepared from $RAW_DIR (default ../shared/data) if not prepared yet,
# else the embedded 5,000 digits. Then `python -m benchmarks.summarise --write docs/performance.md`.
# For a lent GPU of a few minutes, use the one budgeted command instead: python3 -m benchmarks.gpu_check --out DIR
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
PY="${PYTHON:-$(command -v python3 || command -v python)}"
failed=()
step() { echo "== $*"; "$@" || failed+=("$*"); }
if [ ! -f results/data/mnist/manifest.json ] && [ -d "${RAW_DIR:-../shared/data}/mnist" ]; then
    step "$PY" -m hmogbench data prepare mnist --raw-dir "${RAW_DIR:-../shared/data}"
fi
step "$PY" -m benchmarks.bench_train --device cuda "$@"
step "$PY" -m benchmarks.bench_features --device cuda
step "$PY" -m benchmarks.bench_metrics --device cuda --knn-only
step "$PY" -m benchmarks.estimate_grid --measured results/bench/train_cuda.json \
    --features-measured results/bench/features_cuda.json
if [ ${#failed[@]} -gt 0 ]; then
    printf 'failed: %s\n' "${failed[@]}" >&2
    exit 1
fi
