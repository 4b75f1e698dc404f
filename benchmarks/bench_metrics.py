"""Benchmark of the metrics layer on this machine: feature extraction (images/s) per space, the exact 5-NN
on 2 x N x D features (seconds), and the Fréchet distance for D = 2048 (seconds), hmogbench's and
pytorch-fid's on the same statistics. Writes JSON under results/bench/.

    python -m benchmarks.bench_metrics [--device cuda] [--knn-n 10000] [--images 32]
    python -m benchmarks.bench_metrics --device cuda --knn-only     # the GPU 5-NN figure alone (target: < 1 s)
    python -m benchmarks.bench_metrics --fd-only                    # the Fréchet distances alone (CPU)

The Fréchet distance: statistics of two sets of 4096 (full rank) and of 300 (rank-deficient) synthetic
2048-d features with a decaying spectrum, like Inception's; for each, hmogbench's ``frechet_distance``,
pytorch-fid's ``calculate_frechet_distance`` (``scipy.linalg.sqrtm``) and torch-fidelity's formula (the
eigenvalues of the non-symmetric product), seconds and relative differences.

The k-NN runs first so that the process's peak memory after it (process_peak_rss_mib) is the k-NN's.

fid-inception needs its weights (--fid-weights, $HMOGBENCH_FID_WEIGHTS or resources/inception/; skipped
if absent). thesis-inception runs with seeded stand-in weights of the same architecture: same speed.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from benchmarks.lib.device_probe import device_info
from benchmarks.lib.records import write_record
from benchmarks.lib.standins import thesis_weights_file
from benchmarks.lib.tables import metrics_table
from benchmarks.lib.timing import timed


def bench_extraction(space: str, weights: Path | None, images: torch.Tensor, device: torch.device,
                     batch_size: int) -> dict:
    from hmogbench.metrics import extract_features, load_space

    extractor = load_space(space, weights=weights, device=device)
    extract_features(images[:2], extractor, batch_size=batch_size)  # warm-up
    seconds, features = timed(extract_features, images, extractor, batch_size=batch_size, device=device)
    return {"images": len(images), "image_shape": list(images.shape[1:]), "batch_size": batch_size,
            "seconds": round(seconds, 4), "images_per_s": round(len(images) / seconds, 2),
            "feature_dims": int(features.shape[1]),
            "weights": extractor.weights.as_dict() if extractor.weights else None}


def decaying_features(n: int, dims: int, seed: int, decay: float = 1.0) -> np.ndarray:
    """(n, dims) float32 non-negative features whose covariance spectrum decays as i^-decay, in random axes."""
    rng = np.random.default_rng(seed)
    axes, _ = np.linalg.qr(rng.normal(size=(dims, dims)))
    scale = np.arange(1, dims + 1) ** (-decay / 2)
    return np.abs(0.3 + 0.5 * (rng.normal(size=(n, dims)) * scale) @ axes.T).astype(np.float32)


def torch_fidelity_frechet(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """torch-fidelity 0.4's ``fid_statistics_to_metric``: the roots of ``np.linalg.eigvals(sigma1 @ sigma2)``."""
    diff = mu1 - mu2
    tr_covmean = np.sum(np.sqrt(np.linalg.eigvals(sigma1.dot(sigma2)).astype("complex128")).real)
    return float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean)


def exact_frechet(real: np.ndarray, fake: np.ndarray) -> float:
    """The distance from two (n, D) feature sets themselves, for n <= D: Tr((S1 S2)^(1/2)) is the sum of the
    singular values of A1 A2^T / (n - 1) (A the centred features, n x n): no roots of rounding-noise eigenvalues."""
    x, y = real.astype(np.float64), fake.astype(np.float64)
    a, b, diff = x - x.mean(axis=0), y - y.mean(axis=0), x.mean(axis=0) - y.mean(axis=0)
    nuclear = np.linalg.svd(a @ b.T, compute_uv=False).sum() / (len(a) - 1)
    return float(diff @ diff + ((a * a).sum() + (b * b).sum()) / (len(a) - 1) - 2 * nuclear)


def best_of(repeats: int, fn, *args) -> tuple[float, list[float], float]:
    """(fastest seconds, all seconds, value) of ``repeats`` CPU runs of ``fn(*args)``: other processes on a
    shared machine slow single runs down."""
    runs = [timed(fn, *args, device=torch.device("cpu")) for _ in range(repeats)]
    seconds = [t for t, _ in runs]
    return min(seconds), [round(t, 4) for t in seconds], float(runs[0][1])


def bench_frechet(n: int, dims: int, repeats: int) -> dict:
    """Seconds and values of the three Fréchet distances on the statistics of two (n, dims) feature sets; for
    n <= dims also their relative differences to the exact value (``exact_frechet``)."""
    from pytorch_fid.fid_score import calculate_frechet_distance

    from hmogbench.metrics import frechet_distance, statistics

    cpu = torch.device("cpu")
    real, fake = decaying_features(n, dims, 1), decaying_features(n, dims, 2, decay=1.2)
    stats_seconds, stats = timed(lambda: (*statistics(real), *statistics(fake)), device=cpu)
    ours_seconds, ours_runs, ours = best_of(repeats, frechet_distance, *stats)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy 1.16-1.17: sqrtm's disp is deprecated
        ref_seconds, ref_runs, ref = best_of(repeats, calculate_frechet_distance, *stats)
        tf_seconds, tf_runs, tf = best_of(repeats, torch_fidelity_frechet, *stats)
    print(f"Fréchet distance, D = {dims}, 2 x {n} features: hmogbench {ours_seconds:.2f} s, pytorch-fid "
          f"{ref_seconds:.2f} s, torch-fidelity's formula {tf_seconds:.2f} s; relative differences to pytorch-fid "
          f"{(ours - ref) / ref:.1e} (hmogbench), {(tf - ref) / ref:.1e} (torch-fidelity)")
    record = {"dims": dims, "n_per_set": n, "seconds": round(ours_seconds, 4), "where": "cpu (numpy/scipy)",
              "seconds_of_each_run": ours_runs, "statistics_seconds": round(stats_seconds, 3), "fd": ours,
              "pytorch_fid": {"seconds": round(ref_seconds, 4), "seconds_of_each_run": ref_runs, "fd": ref},
              "torch_fidelity_formula": {"seconds": round(tf_seconds, 4), "seconds_of_each_run": tf_runs, "fd": tf},
              "relative_difference_to_pytorch_fid": (ours - ref) / ref,
              "torch_fidelity_relative_difference_to_pytorch_fid": (tf - ref) / ref,
              "speedup_vs_pytorch_fid": round(ref_seconds / ours_seconds, 1)}
    if n <= dims:
        exact = exact_frechet(real, fake)
        record["exact"] = {"fd": exact, "relative_differences": {
            name: (value - exact) / exact for name, value in (("hmogbench", ours), ("pytorch_fid", ref),
                                                               ("torch_fidelity_formula", tf))}}
        print("  relative differences to the exact value: " + ", ".join(
            f"{name} {value:.1e}" for name, value in record["exact"]["relative_differences"].items()))
    return record


def frechet_figures(dims: int, repeats: int) -> dict:
    """``bench_frechet`` for full-rank (2 x 4096) and rank-deficient (2 x 300) statistics; the first is the
    headline figure (the keys ``dims``, ``n_per_set``, ``seconds`` (the fastest run) and ``where``)."""
    return {**bench_frechet(4096, dims, repeats), "rank_deficient": bench_frechet(300, dims, repeats)}


def knn_figures(n: int, dims: int, device: torch.device) -> dict:
    """Seconds (wall, and this process's CPU) of the exact 5-NN on 2 x ``n`` x ``dims`` Inception-like features
    (non-negative, one distribution: ~50%), its memory and result."""
    from hmogbench.metrics import knn_score
    from hmogbench.metrics.distances import DEFAULT_CHUNK_ELEMENTS

    rng = np.random.default_rng(0)
    real = np.abs(rng.normal(0.4, 0.3, (n, dims))).astype(np.float32)
    fake = np.abs(rng.normal(0.4, 0.3, (n, dims))).astype(np.float32)
    if device.type == "cuda":
        knn_score(real[:256], fake[:256], 5, device=device)  # warm-up: CUDA context, cuBLAS handles
    cpu_start = time.process_time()
    seconds, knn = timed(knn_score, real, fake, 5, device=device)
    cpu_seconds = time.process_time() - cpu_start
    chunk = max(1, DEFAULT_CHUNK_ELEMENTS.get(device.type, 2 ** 24) // (2 * n))
    figures = {"n_per_set": n, "dims": dims, "k": 5, "seconds": round(seconds, 2),
               "process_cpu_seconds": round(cpu_seconds, 2), "chunk_rows": chunk,
               "distance_chunk_mib": round(chunk * 2 * n * 8 / 2 ** 20, 1), "real_pct": knn.real_pct,
               "fake_pct": knn.fake_pct}
    if device.type == "cuda":
        figures["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)
    figures["process_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"5-NN 2 x {n} x {dims}: {seconds:.2f} s ({cpu_seconds:.1f} s of CPU time in this process)")
    return figures


def extraction_figures(args: argparse.Namespace, device: torch.device) -> dict:
    """Images/s per space: fid-inception (its weights; skipped without them), thesis-inception (seeded stand-in
    weights of the same architecture: same speed), pixels."""
    from hmogbench.metrics.weights import resolve_weights

    images = torch.randint(0, 256, (args.images, 3, args.image_size, args.image_size),
                           generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    extraction = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            fid_weights = resolve_weights("fid-inception", args.fid_weights).path
        except FileNotFoundError as exc:
            extraction["fid-inception"] = {"skipped": str(exc)}
        else:
            extraction["fid-inception"] = bench_extraction("fid-inception", fid_weights, images, device,
                                                           args.batch_size)
        extraction["thesis-inception"] = bench_extraction("thesis-inception", thesis_weights_file(Path(tmp)),
                                                          images, device, args.batch_size)
        extraction["thesis-inception"]["weights"] = "seeded stand-in (same architecture and speed)"
    extraction["pixels"] = bench_extraction("pixels", None, images, device, args.batch_size)
    for space, figures in extraction.items():
        print(f"{space}: {figures.get('images_per_s', figures.get('skipped'))} images/s")
    return extraction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--images", type=int, default=32, help="images per feature-extraction timing")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--knn-n", type=int, default=10_000, help="points per set (the thesis: 10,000)")
    parser.add_argument("--knn-dim", type=int, default=2048)
    parser.add_argument("--fid-weights", help="fid-inception weights (default: the usual search)")
    parser.add_argument("--knn-only", action="store_true", help="time the k-NN only (no feature extraction, no FD)")
    parser.add_argument("--fd-only", action="store_true",
                        help="time the Fréchet distances only (CPU; no feature extraction, no k-NN)")
    parser.add_argument("--fd-repeats", type=int, default=3,
                        help="runs of each Fréchet distance; the fastest is reported (default: 3)")
    parser.add_argument("--out", help="JSON file (default: results/bench/metrics_<device type>.json; "
                                      "with --knn-only: knn_<device type>.json; with --fd-only: "
                                      "metrics_fd_cpu.json)")
    return parser.parse_args()


def main() -> None:
    from hmogbench.runtime.device import prepare_device

    args = parse_args()
    if args.fd_only:
        device = torch.device("cpu")
        at_start = device_info(device)
        record = {"frechet_distance": frechet_figures(args.knn_dim, args.fd_repeats)}
        out = Path(args.out or "results/bench/metrics_fd_cpu.json")
    else:
        device = prepare_device(args.device)  # auto resolved, TF32 off unless $HMOGBENCH_TF32=1
        at_start = device_info(device)
        out = Path(args.out or f"results/bench/{'knn' if args.knn_only else 'metrics'}_{device.type}.json")
        record = {"knn": knn_figures(args.knn_n, args.knn_dim, device)}  # first: the peak RSS below is its
        if not args.knn_only:
            record.update(feature_extraction=extraction_figures(args, device),
                          frechet_distance=frechet_figures(args.knn_dim, args.fd_repeats))
    record["torch_threads"] = torch.get_num_threads()
    write_record(out, record, vars(args), device, at_start)
    print(metrics_table(record))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
