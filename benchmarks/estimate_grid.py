"""GPU-hours of the full paper grid (thesis Tables 5.3-5.12: 29 models x 5 seeds x 5 data sets) on one GPU, from
the FLOP counts. Writes results/bench/grid_estimate.json and prints a Markdown table.

    python benchmarks/estimate_grid.py                                         # FLOPs / assumed share of the peak
    python benchmarks/estimate_grid.py --measured results/bench/train_cuda.json   # from measured throughput

Work per run: the paper's training length (``config.DEFAULT_STEPS``: 23,250 generator steps for WGAN-GP, 23,400
for MADGAN/MGAN, 4,650 for MEGAN) x ``flops.step_flops`` at batch 128; evaluation: 10,000 samples (G forward)
and their features in the two Inception spaces (fid-inception, thesis-inception: ``flops.inception_flops`` per
image at 299x299), plus each data set's real test images once per space; the 5-NN (2 x 10,000 x 2048,
float64) is under a second per score and left out.

Without --measured (no GPU measured yet): seconds = FLOPs / (share x peak), peak = the device's dense TF32
tensor-core rate (PyTorch's default fp32 training runs its convolutions, nearly all of the FLOPs, on TF32), for
the shares given (--shares; 1.0 is the hard lower bound). This is an estimate, not a measurement.

With --measured (bench_train.py's JSON from a GPU): the achieved FLOP/s of the measured configurations, per image
size: batched FC/ME/HME runs at the best batched variant's rate (the workflow trains their seeds together), the
competitors (trained one by one) at the baseline's rate; feature extraction at the assumed share of the bf16 peak
unless --features-measured gives bench_features.py's JSON (its fp32 rate is used: the default).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SEEDS = 5
SAMPLES = 10_000
SPACES = 2  # fid-inception and thesis-inception
REAL_TEST = {"mnist": 10_000, "fashion-mnist": 10_000, "celeba": 10_000, "utzap50k": 5_000, "flowers": 1_000}


def grid() -> list[tuple[str, str]]:
    """(dataset, model) of every distinct run configuration of Tables 5.3-5.12 (FC appears in two tables)."""
    from hmogbench.published import load_published

    seen: dict[tuple[str, str], None] = {}
    for row in load_published():
        seen[(row["dataset"], row["model"])] = None
    return list(seen)


def work(dataset: str, model: str) -> dict:
    from hmogbench.config import TrainConfig
    from hmogbench.flops import inception_flops, model_flops, step_flops
    from hmogbench.published import DATASET_IMAGE_SIZE

    size = DATASET_IMAGE_SIZE[dataset]
    cfg = TrainConfig(model=model, dataset=dataset, image_size=size, channels=1 if size == 32 else 3)
    steps = cfg.resolved_steps
    train = steps * step_flops(cfg)
    evaluate = SAMPLES * (model_flops(cfg).generator + SPACES * inception_flops())
    return {"dataset": dataset, "model": model, "image_size": size, "objective": cfg.resolved_objective,
            "steps": steps, "train_flops_per_run": train, "eval_flops_per_run": evaluate}


def main() -> None:
    from hmogbench.training import batching_unsupported
    from hmogbench.config import TrainConfig
    from hmogbench.flops import DEVICE_PEAKS, inception_flops
    from hmogbench.provenance import provenance, write_json_atomic

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="H100 SXM", choices=list(DEVICE_PEAKS), help="datasheet peaks to use")
    parser.add_argument("--shares", nargs="+", type=float, default=[1.0, 0.3, 0.1],
                        help="assumed achieved shares of the peak (1.0 = lower bound)")
    parser.add_argument("--measured", help="bench_train.py JSON measured on a GPU")
    parser.add_argument("--features-measured", help="bench_features.py JSON measured on a GPU")
    parser.add_argument("--out", default="results/bench/grid_estimate.json")
    args = parser.parse_args()
    peaks = DEVICE_PEAKS[args.device]

    runs = [work(d, m) for d, m in grid()]
    for r in runs:
        r["batched"] = batching_unsupported(TrainConfig(model=r["model"])) is None
    real_eval = sum(n for n in REAL_TEST.values()) * SPACES * inception_flops()
    train_total = SEEDS * sum(r["train_flops_per_run"] for r in runs)
    eval_total = SEEDS * sum(r["eval_flops_per_run"] for r in runs) + real_eval
    record: dict = {"grid": {"configurations": len(runs), "seeds": SEEDS, "runs": SEEDS * len(runs),
                             "datasets": sorted({r["dataset"] for r in runs}),
                             "batched_configurations": sum(r["batched"] for r in runs)},
                    "train_flops": train_total, "eval_flops": eval_total,
                    "runs": runs}
    by_size = defaultdict(float)
    for r in runs:
        by_size[r["image_size"]] += SEEDS * r["train_flops_per_run"]
    record["train_flops_by_image_size"] = dict(by_size)

    lines = [f"Full grid: {len(runs)} configurations x {SEEDS} seeds = {SEEDS * len(runs)} trainings; "
             f"training {train_total:.3g} FLOPs, evaluation {eval_total:.3g} FLOPs."]
    record["flop_estimate"] = {"device": args.device, "peak_used": "tf32 dense (training), bf16 dense (features)",
                               "peaks": peaks, "estimates": []}
    lines += ["", f"| share of {args.device} peak (assumed) | training GPU-h | evaluation GPU-h | total GPU-h |",
              "|---|---|---|---|"]
    for share in args.shares:
        train_h = train_total / (share * peaks["tf32"]) / 3600
        eval_h = eval_total / (share * peaks["bf16"]) / 3600
        record["flop_estimate"]["estimates"].append({"share": share, "train_gpu_hours": train_h,
                                                     "eval_gpu_hours": eval_h, "total_gpu_hours": train_h + eval_h})
        label = "100% (lower bound)" if share == 1 else f"{share:.0%}"
        lines.append(f"| {label} | {train_h:.1f} | {eval_h:.2f} | {train_h + eval_h:.1f} |")

    if args.measured:
        measured = json.loads(Path(args.measured).read_text())
        rates: dict[tuple[int, str], list[float]] = defaultdict(list)
        for entry in measured["results"]:
            variants = {k: v for k, v in entry["variants"].items() if "achieved_flops_per_s" in v}
            # a batchable configuration runs at the best variant's rate, the baseline included (on a CPU the
            # workflow's default batch mode, loop, runs at the baseline's rate)
            if variants:
                rates[(entry["image_size"], "batched")].append(max(v["achieved_flops_per_s"] for v in variants.values()))
            if "baseline" in variants:
                rates[(entry["image_size"], "baseline")].append(variants["baseline"]["achieved_flops_per_s"])
        rate = {k: sum(v) / len(v) for k, v in rates.items()}
        kinds = [(r["image_size"], "batched" if r["batched"] else "baseline") for r in runs]
        missing = sorted(set(kinds) - set(rate))
        if missing:  # every size, and the baseline for the competitors (they are never batched)
            raise SystemExit(f"{args.measured}: no measured configuration at image size "
                             f"{', '.join(sorted({f'{s}x{s}' for s, _ in missing}))} "
                             f"({', '.join(sorted({k for _, k in missing}))}); the grid needs every size and the "
                             f"baseline variant (bench_train.py --sizes 32 64 --variants baseline ...)")
        seconds = sum(SEEDS * r["train_flops_per_run"] / rate[kind] for r, kind in zip(runs, kinds))
        if args.features_measured:
            feats = json.loads(Path(args.features_measured).read_text())["results"]["fp32"]
            eval_seconds = eval_total / inception_flops() / feats["images_per_s"]
            eval_source = f"measured fp32 feature extraction ({args.features_measured})"
        else:
            eval_seconds = eval_total / (0.3 * peaks["bf16"])
            eval_source = "30% of the bf16 peak (assumed)"
        record["measured_estimate"] = {"source": args.measured, "device": measured["device"]["name"],
                                       "achieved_flops_per_s": {f"{s}px {k}": v for (s, k), v in rate.items()},
                                       "train_hours": seconds / 3600, "eval_hours": eval_seconds / 3600,
                                       "eval_source": eval_source,
                                       "total_hours": (seconds + eval_seconds) / 3600}
        lines += ["", f"Measured on {measured['device']['name']}: training {seconds / 3600:.1f} h, evaluation "
                      f"{eval_seconds / 3600:.2f} h ({eval_source}); total {(seconds + eval_seconds) / 3600:.1f} h "
                      f"on that device."]

    record["provenance"] = provenance(vars(args))
    write_json_atomic(args.out, record)
    print("\n".join(lines))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
