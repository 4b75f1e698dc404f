"""Benchmark of the metrics layer on this machine: feature extraction (images/s) per space, the exact 5-NN
on 2 x N x D features (seconds), and the Fréchet distance for D = 2048 (seconds). Writes JSON under
results/bench/.

    python benchmarks/bench_metrics.py [--device cuda] [--knn-n 10000] [--images 32]
    python benchmarks/bench_metrics.py --device cuda --knn-only     # the GPU 5-NN figure alone (target: < 1 s)

(with hmogbench installed from this checkout, e.g. ``pip install -e .``, or PYTHONPATH=. from its root).
The k-NN runs first so that the process's peak memory after it (process_peak_rss_mib) is the k-NN's.

fid-inception needs its weights (--fid-weights, $HMOGBENCH_FID_WEIGHTS or resources/inception/; skipped
if absent). thesis-inception runs with seeded stand-in weights of the same architecture: same speed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hmogbench.device import prepare_device  # noqa: E402
from common import device_info, timed, write_record  # noqa: E402


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


def stand_in_thesis_weights(folder: Path) -> Path:
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False, transform_input=True)
    path = folder / "stand-in-inception_v3.pth"
    torch.save(model.state_dict(), path)
    return path


def main() -> None:
    from hmogbench.metrics import fid_from_features, knn_score
    from hmogbench.metrics.knn import DEFAULT_CHUNK_ELEMENTS
    from hmogbench.metrics.weights import resolve_weights

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--images", type=int, default=32, help="images per feature-extraction timing")
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--knn-n", type=int, default=10_000, help="points per set (the thesis: 10,000)")
    parser.add_argument("--knn-dim", type=int, default=2048)
    parser.add_argument("--fid-weights", help="fid-inception weights (default: the usual search)")
    parser.add_argument("--knn-only", action="store_true", help="time the k-NN only (no feature extraction, no FD)")
    parser.add_argument("--out", help="JSON file (default: results/bench/metrics_<device type>.json; "
                                      "with --knn-only: knn_<device type>.json)")
    args = parser.parse_args()
    device = prepare_device(args.device)  # hmogbench/device.py: auto resolved, TF32 off unless $HMOGBENCH_TF32=1
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/{'knn' if args.knn_only else 'metrics'}_{device.type}.json")

    rng = np.random.default_rng(0)  # Inception-like features (non-negative), one distribution: ~50%
    real = np.abs(rng.normal(0.4, 0.3, (args.knn_n, args.knn_dim))).astype(np.float32)
    fake = np.abs(rng.normal(0.4, 0.3, (args.knn_n, args.knn_dim))).astype(np.float32)
    if device.type == "cuda":
        knn_score(real[:256], fake[:256], 5, device=device)  # warm-up: CUDA context, cuBLAS handles
    cpu_start = time.process_time()
    seconds, knn = timed(knn_score, real, fake, 5, device=device)
    cpu_seconds = time.process_time() - cpu_start
    n = 2 * args.knn_n
    chunk = max(1, DEFAULT_CHUNK_ELEMENTS.get(device.type, 2 ** 24) // n)
    knn_figures = {"n_per_set": args.knn_n, "dims": args.knn_dim, "k": 5, "seconds": round(seconds, 2),
                   "process_cpu_seconds": round(cpu_seconds, 2),
                   "chunk_rows": chunk, "distance_chunk_mib": round(chunk * n * 8 / 2 ** 20, 1),
                   "real_pct": knn.real_pct, "fake_pct": knn.fake_pct}
    if device.type == "cuda":
        knn_figures["peak_gpu_mib"] = round(torch.cuda.max_memory_allocated(device) / 2 ** 20, 1)
    knn_figures["process_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(f"5-NN 2 x {args.knn_n} x {args.knn_dim}: {seconds:.2f} s ({cpu_seconds:.1f} s of CPU time in this process)")
    if args.knn_only:
        print(f"-> {write_record(out, {'knn': knn_figures}, vars(args), device, at_start)}")
        return

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
        extraction["thesis-inception"] = bench_extraction("thesis-inception", stand_in_thesis_weights(Path(tmp)),
                                                          images, device, args.batch_size)
        extraction["thesis-inception"]["weights"] = "seeded stand-in (same architecture and speed)"
    extraction["pixels"] = bench_extraction("pixels", None, images, device, args.batch_size)
    for space, figures in extraction.items():
        print(f"{space}: {figures.get('images_per_s', figures.get('skipped'))} images/s")

    fd_seconds, _ = timed(fid_from_features, real[:4096], fake[:4096], device=torch.device("cpu"))
    print(f"Fréchet distance, D = {args.knn_dim} (statistics + sqrtm, CPU): {fd_seconds:.1f} s")

    record = {"feature_extraction": extraction, "knn": knn_figures,
              "frechet_distance": {"dims": args.knn_dim, "n_per_set": 4096, "seconds": round(fd_seconds, 2),
                                   "where": "cpu (numpy/scipy)"},
              "torch_threads": torch.get_num_threads()}
    print(f"-> {write_record(out, record, vars(args), device, at_start)}")


if __name__ == "__main__":
    main()
