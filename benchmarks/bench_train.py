"""Training throughput: generator steps/s and runs per hour of the thesis's WGAN-GP models (5 critic steps per
generator step), one run alone against several seeds batched into one model, side by side on one device, with the
FLOP lower bound of a generator step next to each measured time. Writes results/bench/train_<device>.json.

    python benchmarks/bench_train.py --device cuda                  # the real figures: batch 128, 5 seeds
    python benchmarks/bench_train.py --device cpu --batch-size 32 --steps 3 --warmup 1   # the CPU's

Variants (every one is the project's own training loop, ``train.train_runs``, on random images of the right
shape, checkpointing off until the end; the last step, which writes the checkpoint and generator.pt, is not
timed):
- baseline: one seed alone, the plain loop (``train_from_config``), no speed feature: the straightforward
  per-run PyTorch eager loop;
- batched: S seeds as one vmapped model (``batched.train_group``, mode vmap, data on the GPU), eager;
- batched-loop: S seeds, mode loop (the CPU default: bit-identical to seeds alone; no faster than one by one);
- compiled: batched + ``torch.compile`` of the vmapped losses (mode 'default');
- cudagraphs: batched + ``torch.compile(mode='reduce-overhead')`` (CUDA graphs).
compiled and cudagraphs run on CUDA only (on the CPU they are skipped: compiling takes minutes here and the CPU
is not where the grid runs); a variant that fails is recorded with its error, the others still run.

On a machine shared with other processes the wall-clock figures measure the load as much as the code: --repeats R
measures every variant R times, interleaved; the figures give the median step time (runs_per_hour) and the best one
(runs_per_hour_best), and this process's CPU time per step.

Runs per hour = S * 3600 / (seconds per generator step of the group * generator steps of one run), a run being
the paper's length (23,250 generator steps for WGAN-GP, ``config.DEFAULT_STEPS``). The FLOP lower bound is
``flops.step_flops`` (S runs: S times one run) over the device's dense peak (``flops.DEVICE_PEAKS``; on the CPU
the measured fp32 matmul rate instead).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hmogbench.device import prepare_device  # noqa: E402
from common import device_info, synchronize, write_record  # noqa: E402

MODELS = ("FC", "HME-5", "ME-32", "HME-L-4")
VARIANTS = ("baseline", "batched", "batched-loop", "compiled", "cudagraphs")
DEFAULT_VARIANTS = ("baseline", "batched", "compiled", "cudagraphs")
GPU_ONLY = {"compiled": "default", "cudagraphs": "reduce-overhead"}


def time_variant(variant: str, model: str, size: int, args: argparse.Namespace, device: torch.device) -> dict:
    """Seconds (wall and this process's CPU) of each timed generator step of ``variant``, and of the warm-up."""
    from hmogbench.batched import train_group
    from hmogbench.config import TrainConfig
    from hmogbench.train import train_from_config

    channels = 1 if size == 32 else 3
    total = args.warmup + args.steps + 1  # the last step checkpoints and finishes: not timed
    cfg = TrainConfig(model=model, image_size=size, channels=channels, batch_size=args.batch_size, steps=total,
                      checkpoint_every=10 ** 9, log_every=10, device=str(device))
    data = torch.randint(0, 256, (max(4 * args.batch_size, 512), channels, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(0))
    stamps: list[float] = []
    cpu_stamps: list[float] = []

    def on_step(step: int) -> None:
        synchronize(device)
        stamps.append(time.perf_counter())
        cpu_stamps.append(time.process_time())

    seeds = 1 if variant == "baseline" else args.seeds
    with tempfile.TemporaryDirectory() as tmp:
        synchronize(device)
        start, cpu_start = time.perf_counter(), time.process_time()
        if variant == "baseline":
            train_from_config(cfg, data, tmp, progress=False, on_step=on_step)
        else:
            cfgs = [TrainConfig.from_dict({**cfg.to_dict(), "seed": 2019 + i}) for i in range(seeds)]
            train_group(cfgs, data, [Path(tmp) / f"seed{c.seed}" for c in cfgs], progress=False, on_step=on_step,
                        mode="loop" if variant == "batched-loop" else "vmap", compile_mode=GPU_ONLY.get(variant))
    ends = [start] + stamps  # ends[i + 1] - ends[i]: generator step i (step 0 includes building the models)
    cpu_ends = [cpu_start] + cpu_stamps  # CPU time of this process, all threads
    timed = range(args.warmup, args.warmup + args.steps)
    return {"seeds": seeds, "steps": [ends[i + 1] - ends[i] for i in timed],
            "cpu_steps": [cpu_ends[i + 1] - cpu_ends[i] for i in timed], "warmup_seconds": ends[args.warmup] - start}


def summarise(samples: list[dict]) -> dict:
    """One variant's repeats -> its figures: median and best (minimum) seconds per generator step."""
    steps = [t for s in samples for t in s["steps"]]
    cpu_steps = [t for s in samples for t in s["cpu_steps"]]
    seeds = samples[0]["seeds"]
    median, best = statistics.median(steps), min(steps)
    return {"seeds": seeds, "seconds_per_step": round(median, 5), "best_seconds_per_step": round(best, 5),
            "timed_steps": len(steps), "repeats": len(samples),
            "warmup_seconds": round(max(s["warmup_seconds"] for s in samples), 3),
            "generator_steps_per_s": round(seeds / median, 4),
            "process_cpu_seconds_per_step": round(statistics.median(cpu_steps), 4)}


def main() -> None:
    from hmogbench.config import DEFAULT_STEPS, TrainConfig
    from hmogbench.flops import device_peaks, measured_matmul_flops, step_flops

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64], choices=(32, 64))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=5, help="seeds per batched group (S)")
    parser.add_argument("--steps", type=int, default=20, help="timed generator steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed generator steps first (compilation)")
    parser.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeats", type=int, default=1,
                        help="measure every variant this many times, interleaved (on a shared CPU: the best step "
                             "time then shows the code, the median the machine's load)")
    parser.add_argument("--out", help="JSON file (default: results/bench/train_<device type>.json)")
    args = parser.parse_args()
    device = prepare_device(args.device)  # hmogbench/device.py: auto resolved, TF32 off unless $HMOGBENCH_TF32=1
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/train_{device.type}.json")
    steps_per_run = DEFAULT_STEPS["wgan-gp"]
    if device.type == "cuda":
        peak_name, peaks = device_peaks(at_start["name"])
        ceiling = {"source": f"datasheet, dense ({peak_name})" if peaks else "unknown device: no datasheet peak",
                   "flops_per_s": peaks}
    else:
        ceiling = {"source": "measured fp32 matmul (2048 x 2048) on this CPU; no datasheet peak",
                   "flops_per_s": {"fp32_matmul": round(measured_matmul_flops(device), -6)}}
    print(f"device: {at_start['name']}; ceiling: {ceiling}")

    results = []
    for size in args.sizes:
        for model in args.models:
            cfg = TrainConfig(model=model, image_size=size, channels=1 if size == 32 else 3, batch_size=args.batch_size)
            flops_run = step_flops(cfg)
            entry = {"model": model, "image_size": size, "batch_size": args.batch_size,
                     "flops_per_generator_step_per_run": flops_run, "variants": {}}
            samples: dict[str, list[dict]] = {v: [] for v in args.variants}
            for _ in range(args.repeats):
                for variant in args.variants:
                    if variant in GPU_ONLY and device.type != "cuda":
                        entry["variants"][variant] = {"skipped": "CUDA only (torch.compile / CUDA graphs are measured "
                                                                 "on the GPU; on this CPU compiling takes minutes)"}
                        continue
                    if "error" in entry["variants"].get(variant, {}):
                        continue
                    try:
                        samples[variant].append(time_variant(variant, model, size, args, device))
                    except Exception as exc:  # one failing variant (e.g. a compile error) must not lose the others
                        entry["variants"][variant] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
                        print(f"{model} {size}x{size} {variant}: FAILED {type(exc).__name__}: {exc}", flush=True)
            for variant, runs in samples.items():
                if not runs or variant in entry["variants"]:
                    continue
                figures = summarise(runs)
                flops = flops_run * figures["seeds"]
                for key, seconds in (("", figures["seconds_per_step"]), ("_best", figures["best_seconds_per_step"])):
                    figures[f"runs_per_hour{key}"] = round(3600 * figures["seeds"] / (seconds * steps_per_run), 4)
                figures["achieved_flops_per_s"] = round(flops / figures["seconds_per_step"], -6)
                figures["lower_bound_seconds_per_step"] = {k: flops / v for k, v in (ceiling["flops_per_s"] or {}).items()}
                figures["fraction_of_ceiling"] = {k: round(figures["achieved_flops_per_s"] / v, 4)
                                                  for k, v in (ceiling["flops_per_s"] or {}).items()}
                entry["variants"][variant] = figures
                print(f"{model} {size}x{size} {variant} (S={figures['seeds']}): {figures['seconds_per_step']:.4g} s/step "
                      f"(best {figures['best_seconds_per_step']:.4g}), {figures['runs_per_hour']:.3g} runs/h, "
                      f"{flops / 1e12:.3g} TFLOP/step, bound {figures['lower_bound_seconds_per_step']}", flush=True)
            base = entry["variants"].get("baseline", {})
            for figures in entry["variants"].values():
                for key in ("", "_best"):
                    if base.get(f"runs_per_hour{key}") and f"runs_per_hour{key}" in figures:
                        figures[f"runs_per_hour{key}_vs_baseline"] = round(
                            figures[f"runs_per_hour{key}"] / base[f"runs_per_hour{key}"], 3)
            results.append(entry)

    record = {"benchmark": "training throughput (WGAN-GP, generator steps)", "steps_per_run": steps_per_run,
              "ceiling": ceiling, "results": results}
    print(f"-> {write_record(out, record, vars(args), device, at_start)}")


if __name__ == "__main__":
    main()
