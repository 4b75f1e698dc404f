"""GPU-hours of the full paper grid (thesis Tables 5.3-5.12: 29 models x 5 seeds x 5 data sets) on one GPU, per
training precision, from the FLOP counts and, given measured rates, from those. Writes
results/bench/grid_estimate.json and prints Markdown tables.

    python -m benchmarks.estimate_grid                                              # FLOPs / assumed share of the peak
    python -m benchmarks.estimate_grid --measured OUT/gpu_check.jsonl --out OUT/grid_estimate.json  # measured rates

Work per run: the paper's training length (``config.DEFAULT_STEPS``: 23,250 generator steps for WGAN-GP, 23,400
for MADGAN/MGAN, 4,650 for MEGAN) x ``flops.step_flops`` at batch 128; evaluation: 10,000 samples (G forward)
and their features in the two Inception spaces (fid-inception, thesis-inception: ``flops.inception_flops`` per
image at 299x299), plus each data set's real test images once per space; the 5-NN (2 x 10,000 x 2048,
float64) is under a second per score and left out.

From the FLOPs (always): seconds = FLOPs / (share x peak) for the shares given (--shares; 1.0 is the hard lower
bound), per training precision (``PRECISIONS``), each at its own datasheet peak (``flops.DEVICE_PEAKS``): fp32,
the faithful default (IEEE fp32, TF32 off), at the fp32 (CUDA-core) peak; the opt-in tf32 and bf16 at their
tensor-core peaks. Evaluation runs at the features' default precision, fp32, in every row. An estimate, not a
measurement.

With --measured (gpu_check's ``gpu_check.jsonl``, or bench_train's JSON): per training precision measured, each
configuration at the achieved FLOP/s of its nearest measured case (``benchmarks.lib.rates``: FC/ME/HME batched,
MADGAN/MGAN/MEGAN one run alone, as the workflow trains them; then the same family, image size, closest FLOPs).
A precision with no case for some (image size, kind) the grid needs is named, not estimated. Features: the fp32
rate of gpu_check's feature line or of --features-measured (bench_features' JSON), else an assumed share of
the fp32 peak.
"""

from __future__ import annotations

import argparse
import functools
import json
from collections import Counter, defaultdict
from pathlib import Path

from benchmarks.lib.rates import missing, nearest, read_measured
from hmogbench.registry.datasets import DATASETS, get_dataset

SEEDS = 5
SAMPLES = 10_000
SPACES = 2  # fid-inception and thesis-inception
ASSUMED_EVAL_SHARE = 0.3  # with --measured and no measured features: the share of the fp32 peak features reach
HEADLINE = "fp32"
EVALUATION = "fp32"  # the features' precision in every row: feature_precision's faithful default
PRECISIONS = {  # training precision (config train_precision): what it is
    "fp32": "IEEE fp32, TF32 off: training's faithful default (hmogbench/runtime/device.py), at the fp32 "
            "(CUDA-core) peak",
    "tf32": "opt-in, train_precision tf32: float32 matmuls and convolutions on TF32 tensor cores, at the TF32 peak",
    "bf16": "opt-in, train_precision bf16: the losses' forwards under bf16 autocast, at the bf16 tensor-core peak "
            "(an optimistic bound: the gradient penalty stays fp32)",
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
            "steps": steps, "step_flops": step, "train_flops_per_run": steps * step,
            "eval_flops_per_run": SAMPLES * (generator + SPACES * inception_flops())}


def flop_estimates(train_total: float, eval_total: float, peaks: dict, shares: list[float]) -> list[dict]:
    """GPU-hours of training (at each training precision's peak) and evaluation (at the fp32 peak) per assumed
    share of the peaks."""
    estimates = []
    for name in PRECISIONS:
        for share in shares:
            train_h = train_total / (share * peaks[name]) / 3600
            eval_h = eval_total / (share * peaks[EVALUATION]) / 3600
            estimates.append({"precision": name, "share": share, "train_gpu_hours": train_h,
                              "eval_gpu_hours": eval_h, "total_gpu_hours": train_h + eval_h})
    return estimates


def refuse_incomplete(path: str, cases: list, needs: set[tuple[int, str]]) -> None:
    """Exit naming what is missing when the headline precision's cases do not cover every (image size, kind) the
    grid needs (before the FLOP counts)."""
    gaps = missing(cases, needs, HEADLINE)
    if gaps:  # every size, and the baseline for the competitors (they are never batched)
        raise SystemExit(f"{path}: no measured configuration at image size "
                         f"{', '.join(sorted({f'{s}x{s}' for s, _ in gaps}))} "
                         f"({', '.join(sorted({k for _, k in gaps}))}); the grid needs every size, batched and "
                         f"baseline, in {HEADLINE} (gpu_check's parts hme, fc, families; or python -m "
                         f"benchmarks.bench_train --sizes 32 64 --variants baseline batched)")


def evaluation_seconds(args, feature_rate: float | None, eval_total: float, peaks: dict) -> tuple[float, str]:
    """Seconds of the grid's evaluation: at the measured fp32 feature rate (--features-measured, else
    ``feature_rate``, gpu_check's fp32 feature line in --measured), else at the assumed share of the fp32 peak;
    and where the rate came from."""
    from hmogbench.training.flops import inception_flops

    if args.features_measured:
        feature_rate = json.loads(Path(args.features_measured).read_text())["results"]["fp32"]["images_per_s"]
    if feature_rate:
        return (eval_total / inception_flops() / feature_rate,
                f"measured fp32 feature extraction ({args.features_measured or args.measured})")
    return eval_total / (ASSUMED_EVAL_SHARE * peaks["fp32"]), f"{ASSUMED_EVAL_SHARE:.0%} of the fp32 peak (assumed)"


def precision_hours(cases: list, runs: list[dict], needs: set, precision: str) -> dict:
    """Training hours of the grid at ``precision``'s measured rates (each configuration at its nearest case, and
    how many configurations each case timed), or what was not measured in it."""
    gaps = missing(cases, needs, precision)
    if gaps:
        return {"missing": [f"{s}x{s} {k}" for s, k in gaps]}
    seconds, used = 0.0, Counter()
    for r in runs:
        case = nearest(cases, r["model"], r["image_size"], r["kind"], precision, r["step_flops"])
        seconds += SEEDS * r["train_flops_per_run"] / case.flops_per_s
        used[case.label] += 1
    return {"train_hours": seconds / 3600, "configurations_per_case": dict(sorted(used.items()))}


def measured_estimate(args, measured: tuple, runs: list[dict], needs: set, eval_total: float, peaks: dict) -> dict:
    """Hours of the grid at the ``measured`` rates (``rates.read_measured``), per training precision (features:
    measured, or assumed)."""
    device, cases, feature_rate = measured
    eval_seconds, eval_source = evaluation_seconds(args, feature_rate, eval_total, peaks)
    by_precision = {p: precision_hours(cases, runs, needs, p) for p in PRECISIONS}
    for hours in by_precision.values():
        if "train_hours" in hours:
            hours["total_hours"] = hours["train_hours"] + eval_seconds / 3600
    return {"source": args.measured, "device": device, "eval_hours": eval_seconds / 3600, "eval_source": eval_source,
            "achieved_flops_per_s": {c.label: c.flops_per_s for c in cases}, "precisions": by_precision,
            "train_hours": by_precision[HEADLINE]["train_hours"], "total_hours": by_precision[HEADLINE]["total_hours"]}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from hmogbench.training.flops import DEVICE_PEAKS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="H100 SXM", choices=list(DEVICE_PEAKS), help="datasheet peaks to use")
    parser.add_argument("--shares", nargs="+", type=float, default=[1.0, 0.3, 0.1],
                        help="assumed achieved shares of the peak (1.0 = lower bound)")
    parser.add_argument("--measured", help="gpu_check's gpu_check.jsonl, or bench_train's JSON, measured on a GPU")
    parser.add_argument("--features-measured", help="bench_features.py JSON measured on a GPU")
    parser.add_argument("--out", default="results/bench/grid_estimate.json")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.lib.tables import grid_table
    from hmogbench.runtime.provenance import provenance, write_json_atomic
    from hmogbench.training import batching_unsupported
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import DEVICE_PEAKS, inception_flops

    args = parse_args(argv)
    peaks = DEVICE_PEAKS[args.device]
    configurations = grid()
    batched = {m: batching_unsupported(TrainConfig(model=m)) is None for m in {m for _, m in configurations}}
    needs = {(get_dataset(d).image_size, "batched" if batched[m] else "baseline") for d, m in configurations}
    measured = read_measured(args.measured) if args.measured else None
    if measured:
        refuse_incomplete(args.measured, measured[1], needs)  # before the FLOP counts
    runs = [{**work(d, m), "batched": batched[m], "kind": "batched" if batched[m] else "baseline"}
            for d, m in configurations]
    real_eval = sum(n for n in REAL_TEST.values()) * SPACES * inception_flops()
    train_total = SEEDS * sum(r["train_flops_per_run"] for r in runs)
    eval_total = SEEDS * sum(r["eval_flops_per_run"] for r in runs) + real_eval
    by_size = defaultdict(float)
    for r in runs:
        by_size[r["image_size"]] += SEEDS * r["train_flops_per_run"]
    precisions = {p: {"training": p, "evaluation": EVALUATION, "note": note} for p, note in PRECISIONS.items()}
    record: dict = {"grid": {"configurations": len(runs), "seeds": SEEDS, "runs": SEEDS * len(runs),
                             "datasets": sorted({r["dataset"] for r in runs}),
                             "batched_configurations": sum(r["batched"] for r in runs)},
                    "train_flops": train_total, "eval_flops": eval_total, "train_flops_by_image_size": dict(by_size),
                    "flop_estimate": {"device": args.device, "peaks": peaks, "headline": HEADLINE,
                                      "precisions": precisions,
                                      "estimates": flop_estimates(train_total, eval_total, peaks, args.shares)},
                    "runs": runs}
    if measured:
        record["measured_estimate"] = measured_estimate(args, measured, runs, needs, eval_total, peaks)
    record["provenance"] = provenance(vars(args))
    write_json_atomic(args.out, record)
    print(grid_table(record))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
