"""Benchmark of precision, recall, density and coverage (hmogbench/metrics/prdc.py) on this machine: seconds, this
process's CPU seconds and peak memory for N real and N fake D-d features (default 10,000 x 10,000 x 2048, the
paper grid's evaluation size). Writes JSON under results/bench/.

    python -m benchmarks.bench_prdc                       # 2 x 10,000 x 2048 on the CPU (about a minute, 2 cores)
    python -m benchmarks.bench_prdc --device cuda         # on a GPU (also its peak memory)
    python -m benchmarks.bench_prdc --n 2000 --out /tmp/prdc.json   # smaller

The features are Inception-like (non-negative, one distribution: density near 1); the time does not depend on
them. Float64 throughout, as the metric.
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.lib.device_probe import device_info
from benchmarks.lib.records import write_record
from benchmarks.lib.timing import timed


def prdc_figures(n: int, dims: int, device: torch.device, block_elements: int | None) -> dict:
    """Seconds (wall, and this process's CPU), memory (peak RSS; peak GPU memory on CUDA; one block's distances)
    and the result of ``prdc_score`` on 2 x ``n`` x ``dims`` float32 features."""
    from hmogbench.metrics.distances import DEFAULT_CHUNK_ELEMENTS
    from hmogbench.metrics.prdc import prdc_score

    rng = np.random.default_rng(0)
    real = np.abs(rng.normal(0.4, 0.3, (n, dims))).astype(np.float32)
    fake = np.abs(rng.normal(0.4, 0.3, (n, dims))).astype(np.float32)
    if device.type == "cuda":
        prdc_score(real[:256], fake[:256], device=device)  # warm-up: CUDA context, cuBLAS handles
        torch.cuda.reset_peak_memory_stats(device)
    cpu_start = time.process_time()
    seconds, score = timed(prdc_score, real, fake, device=device, block_elements=block_elements)
    cpu_seconds = time.process_time() - cpu_start
    block = block_elements or DEFAULT_CHUNK_ELEMENTS.get(device.type, DEFAULT_CHUNK_ELEMENTS["cpu"])
    rows = min(n, max(1, block // n))  # real rows per block (each against all n fake or real points)
    figures = {"n_per_set": n, "dims": dims, "seconds": round(seconds, 2), "process_cpu_seconds": round(cpu_seconds, 2),
               "products_tflop": round(3 * 2 * n * n * dims / 1e12, 3), "block_elements": block, "block_rows": rows,
               "block_mib": round(rows * n * 8 / 2 ** 20, 1),
               "features_float64_mib": round(2 * n * dims * 8 / 2 ** 20, 1),
               "result": score.as_dict()}
    if device.type == "cuda":
        figures["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)
    figures["process_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"precision/recall/density/coverage, 2 x {n:,} x {dims}: {seconds:.1f} s ({cpu_seconds:.1f} s of CPU time "
          f"in this process), peak RSS {figures['process_peak_rss_mib']:.0f} MiB"
          + (f", peak GPU memory {figures['peak_gpu_mib']:.0f} MiB" if device.type == "cuda" else "")
          + f"; blocks of {rows} rows ({figures['block_mib']} MiB of distances); {score}")
    return figures


def main() -> None:
    from hmogbench.runtime.device import prepare_device

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--n", type=int, default=10_000, help="points per set (default: 10,000, the thesis's)")
    parser.add_argument("--dims", type=int, default=2048)
    parser.add_argument("--block-elements", type=int, help="float64 distances per block (default: the device's)")
    parser.add_argument("--out", help="JSON file (default: results/bench/metrics_prdc_<device type>.json)")
    args = parser.parse_args()
    device = prepare_device(args.device)
    at_start = device_info(device)
    record = {"prdc": prdc_figures(args.n, args.dims, device, args.block_elements),
              "torch_threads": torch.get_num_threads()}
    out = Path(args.out or f"results/bench/metrics_prdc_{device.type}.json")
    write_record(out, record, vars(args), device, at_start)
    print(f"-> {out}")


if __name__ == "__main__":
    main()
