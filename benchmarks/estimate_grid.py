"""GPU-hours of the full paper grid (thesis Tables 5.3-5.12: 29 models x 5 seeds x 5 data sets) on one GPU, from
the FLOP counts. Writes results/bench/grid_estimate.json and prints a Markdown table.

    python -m benchmarks.estimate_grid                                         # FLOPs / assumed share of the peak
    python -m benchmarks.estimate_grid --measured results/bench/train_cuda.json   # from measured throughput

Work per run: the paper's training length (``config.DEFAULT_STEPS``: 23,250 generator steps for WGAN-GP, 23,400
for MADGAN/MGAN, 4,650 for MEGAN) x ``flops.step_flops`` at batch 128; evaluation: 10,000 samples (G forward)
and their features in the two Inception spaces (fid-inception, thesis-inception: ``flops.inception_flops`` per
image at 299x299), plus each data set's real test images once per space; the 5-NN (2 x 10,000 x 2048,
float64) is under a second per score and left out.

Without --measured (no GPU measured yet): seconds = FLOPs / (share x peak) for the shares given (--shares; 1.0 is
the hard lower bound), per precision (``PRECISIONS``): the headline is fp32, the project's faithful precision
(IEEE fp32, TF32 off: hmogbench/runtime/device.py), training and features at the device's fp32 (CUDA-core) peak; the
named alternative 'tf32' is the opt-in fast path (HMOGBENCH_TF32=1 training at the TF32 tensor-core peak,
bf16 features). This is an estimate, not a measurement.

With --measured (bench_train.py's JSON from a GPU): the achieved FLOP/s of the measured configurations, per image
size: batched FC/ME/HME runs at the best batched variant's rate (the workflow trains their seeds together), the
competitors (trained one by one) at the baseline's rate; feature extraction at the assumed share of the fp32 peak
unless --features-measured gives bench_features.py's JSON (its fp32 rate is used: the default).
"""

from __future__ import annotations

import argparse
import functools
import json
from collections import defaultdict
from pathlib import Path

from hmogbench.registry.datasets import DATASETS, get_dataset

SEEDS = 5
SAMPLES = 10_000
SPACES = 2  # fid-inception and thesis-inception
ASSUMED_EVAL_SHARE = 0.3  # with --measured and no --features-measured: the share of the fp32 peak features reach
HEADLINE = "fp32"
PRECISIONS = {  # name: the peaks training and evaluation run at, and what that precision is
    "fp32": {"training": "fp32", "evaluation": "fp32",
             "note": "IEEE fp32, TF32 off: training's and the features' faithful default "
                     "(hmogbench/runtime/device.py), at the fp32 (CUDA-core) peak"},
    "tf32": {"training": "tf32", "evaluation": "bf16",
             "note": "opt-in, not the default: training with HMOGBENCH_TF32=1 at the TF32 tensor-core peak, "
                     "features in bf16 (--precision bf16)"},
}
REAL_TEST = {d.name: d.test_images for d in DATASETS if d.in_thesis}  # real test images per thesis set


def grid() -> list[tuple[str, str]]:
    """(dataset, model) of every distinct run configuration of Tables 5.3-5.12 (FC appears in two tables)."""
    from hmogbench.registry.published import load_published

    seen: dict[tuple[str, str], None] = {}
    for row in load_published():
        seen[(row["dataset"], row["model"])] = None
    return list(seen)


@functools.lru_cache(maxsize=None)
def _flops(model: str, size: int, channels: int) -> tuple[int, int]:
    """(FLOPs of one generator step at batch 128, of one generator forward pass) of ``model`` at that image shape:
    the same for every data set of that shape, so counted once."""
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import model_flops, step_flops

    cfg = TrainConfig(model=model, image_size=size, channels=channels)
    return step_flops(cfg), model_flops(cfg).generator


def work(dataset: str, model: str) -> dict:
    """Training and evaluation FLOPs of one run of ``model`` on ``dataset`` at the authors' length."""
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import inception_flops

    size, channels = get_dataset(dataset).image_size, get_dataset(dataset).channels
    cfg = TrainConfig(model=model, dataset=dataset, image_size=size, channels=channels)
    step, generator = _flops(model, size, channels)
    steps = cfg.resolved_steps
    return {"dataset": dataset, "model": model, "image_size": size, "objective": cfg.resolved_objective,
            "steps": steps, "train_flops_per_run": steps * step,
            "eval_flops_per_run": SAMPLES * (generator + SPACES * inception_flops())}


def flop_estimates(train_total: float, eval_total: float, peaks: dict, shares: list[float]) -> list[dict]:
    """GPU-hours of training and evaluation per precision (``PRECISIONS``) and assumed share of its peaks."""
    estimates = []
    for name, p in PRECISIONS.items():
        for share in shares:
            train_h = train_total / (share * peaks[p["training"]]) / 3600
            eval_h = eval_total / (share * peaks[p["evaluation"]]) / 3600
            estimates.append({"precision": name, "share": share, "train_gpu_hours": train_h,
                              "eval_gpu_hours": eval_h, "total_gpu_hours": train_h + eval_h})
    return estimates


def measured_rates(path: str, kinds: list[tuple[int, str]]) -> tuple[dict, dict]:
    """(the bench_train record at ``path``, achieved FLOP/s per (image size, 'batched' | 'baseline')): a batchable
    configuration at the best variant's rate, the baseline included (on a CPU the workflow's default batch mode,
    loop, runs at the baseline's rate). Exits naming what is missing when ``kinds`` (what the grid needs) are not
    all measured."""
    measured = json.loads(Path(path).read_text())
    rates: dict[tuple[int, str], list[float]] = defaultdict(list)
    for entry in measured["results"]:
        variants = {k: v for k, v in entry["variants"].items() if "achieved_flops_per_s" in v}
        if variants:
            rates[(entry["image_size"], "batched")].append(max(v["achieved_flops_per_s"] for v in variants.values()))
        if "baseline" in variants:
            rates[(entry["image_size"], "baseline")].append(variants["baseline"]["achieved_flops_per_s"])
    missing = sorted(set(kinds) - set(rates))
    if missing:  # every size, and the baseline for the competitors (they are never batched)
        raise SystemExit(f"{path}: no measured configuration at image size "
                         f"{', '.join(sorted({f'{s}x{s}' for s, _ in missing}))} "
                         f"({', '.join(sorted({k for _, k in missing}))}); the grid needs every size and the "
                         f"baseline variant (python -m benchmarks.bench_train --sizes 32 64 --variants baseline ...)")
    return measured, {k: sum(v) / len(v) for k, v in rates.items()}


def measured_estimate(args, measured: dict, rate: dict, runs: list[dict], kinds: list, eval_total: float,
                      peaks: dict) -> dict:
    """Hours of the grid at the measured rates (features: measured, or the assumed share of the fp32 peak)."""
    from hmogbench.training.flops import inception_flops

    seconds = sum(SEEDS * r["train_flops_per_run"] / rate[kind] for r, kind in zip(runs, kinds))
    if args.features_measured:
        feats = json.loads(Path(args.features_measured).read_text())["results"]["fp32"]
        eval_seconds = eval_total / inception_flops() / feats["images_per_s"]
        eval_source = f"measured fp32 feature extraction ({args.features_measured})"
    else:
        eval_seconds = eval_total / (ASSUMED_EVAL_SHARE * peaks["fp32"])
        eval_source = f"{ASSUMED_EVAL_SHARE:.0%} of the fp32 peak (assumed)"
    return {"source": args.measured, "device": measured["device"]["name"],
            "achieved_flops_per_s": {f"{s}px {k}": v for (s, k), v in rate.items()},
            "train_hours": seconds / 3600, "eval_hours": eval_seconds / 3600, "eval_source": eval_source,
            "total_hours": (seconds + eval_seconds) / 3600}


def parse_args() -> argparse.Namespace:
    from hmogbench.training.flops import DEVICE_PEAKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="H100 SXM", choices=list(DEVICE_PEAKS), help="datasheet peaks to use")
    parser.add_argument("--shares", nargs="+", type=float, default=[1.0, 0.3, 0.1],
                        help="assumed achieved shares of the peak (1.0 = lower bound)")
    parser.add_argument("--measured", help="bench_train.py JSON measured on a GPU")
    parser.add_argument("--features-measured", help="bench_features.py JSON measured on a GPU")
    parser.add_argument("--out", default="results/bench/grid_estimate.json")
    return parser.parse_args()


def main() -> None:
    from benchmarks.lib.tables import grid_table
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import DEVICE_PEAKS, inception_flops
    from hmogbench.runtime.provenance import provenance, write_json_atomic
    from hmogbench.training import batching_unsupported

    args = parse_args()
    peaks = DEVICE_PEAKS[args.device]
    configurations = grid()
    batched = {m: batching_unsupported(TrainConfig(model=m)) is None for m in {m for _, m in configurations}}
    kinds = [(get_dataset(d).image_size, "batched" if batched[m] else "baseline") for d, m in configurations]
    measured = measured_rates(args.measured, kinds) if args.measured else None  # refused before the FLOP counts
    runs = [{**work(d, m), "batched": batched[m]} for d, m in configurations]
    real_eval = sum(n for n in REAL_TEST.values()) * SPACES * inception_flops()
    train_total = SEEDS * sum(r["train_flops_per_run"] for r in runs)
    eval_total = SEEDS * sum(r["eval_flops_per_run"] for r in runs) + real_eval
    by_size = defaultdict(float)
    for r in runs:
        by_size[r["image_size"]] += SEEDS * r["train_flops_per_run"]
    record: dict = {"grid": {"configurations": len(runs), "seeds": SEEDS, "runs": SEEDS * len(runs),
                             "datasets": sorted({r["dataset"] for r in runs}),
                             "batched_configurations": sum(r["batched"] for r in runs)},
                    "train_flops": train_total, "eval_flops": eval_total, "train_flops_by_image_size": dict(by_size),
                    "flop_estimate": {"device": args.device, "peaks": peaks, "headline": HEADLINE,
                                      "precisions": PRECISIONS,
                                      "estimates": flop_estimates(train_total, eval_total, peaks, args.shares)},
                    "runs": runs}
    if measured:
        record["measured_estimate"] = measured_estimate(args, *measured, runs, kinds, eval_total, peaks)
    record["provenance"] = provenance(vars(args))
    write_json_atomic(args.out, record)
    print(grid_table(record))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
