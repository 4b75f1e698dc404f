"""Training throughput: generator steps/s and runs per hour of the thesis's WGAN-GP models (5 critic steps per
generator step), one run alone against several seeds batched into one model and S processes at once, side by side
on one device, with the FLOP lower bound of a generator step next to each measured time. Writes
results/bench/train_<device>.json, rewritten (atomically) after every measurement: a run cut short keeps what it
measured ("complete": false until the end).

    python -m benchmarks.bench_train --device cuda                  # the real figures: batch 128, 5 seeds
    python -m benchmarks.bench_train --device cpu --batch-size 32 --steps 3 --warmup 1   # the CPU's

Variants (every one is the project's own training loop on random uint8 images of the right shape, checkpointing
off until the end; the last step, which writes the checkpoint and generator.pt, is not timed):
- baseline: one seed alone, the plain loop (``train_from_config``) exactly as the workflow runs it, no speed
  feature: the straightforward per-run PyTorch eager loop;
- processes: S seeds as S separate processes on the device at once, each the baseline (``benchmarks.lib.processes``),
  threads split between them (torch threads // S each); they start their timed steps together (a barrier after
  the warm-up); its step is the wall time until all S have done their timed steps, over the steps (every step
  that average): S runs' total wall time -> runs/hour;
- batched: S seeds as one vmapped model (``train_group``, mode vmap), eager;
- batched-loop: S seeds, mode loop (the CPU default: bit-identical to seeds alone; no faster than one by one);
- compiled: batched + ``torch.compile`` of the vmapped losses (mode 'default');
- cudagraphs: batched + ``torch.compile(mode='reduce-overhead')`` (CUDA graphs).
compiled and cudagraphs run on CUDA only (on the CPU they are skipped: compiling takes minutes here and the CPU
is not where the grid runs); each starts after ``torch._dynamo.reset()`` (the set-ups share one code object: past
Dynamo's recompile limit they would silently run eager). A variant that fails is recorded with its error.

Data (the record's "data"): every variant gets its images on the device, the same way: the same uint8 tensor
(seed 0) is made on the CPU and moved to the device once, before the variant's run (each process moves its own).

Timing (``benchmarks.lib.timing.time_steps``): ``on_step`` stamps the clock after every generator step; on CUDA
the device is synchronised only at the start and end of the timed steps, each step's seconds come from CUDA events
recorded at ``on_step``. On a
machine shared with other processes the wall-clock figures measure the load as much as the code: --repeats R
measures every variant R times, interleaved; the figures give the median step time (runs_per_hour) and the best
one (runs_per_hour_best), and the CPU time per step (this process; for processes: all S).

Runs per hour = S * 3600 / (seconds per generator step of the group * generator steps of one run), a run being
the paper's length (23,250 generator steps for WGAN-GP, ``config.DEFAULT_STEPS``). The FLOP lower bound is
``flops.step_flops`` (S runs: S times one run) over the device's dense peak (``flops.DEVICE_PEAKS``; on the CPU
the measured fp32 matmul rate instead).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path
from typing import Callable

import torch

from benchmarks.lib.device_probe import ceiling as flops_ceiling, device_info
from benchmarks.lib.processes import time_processes
from benchmarks.lib.records import write_record
from benchmarks.lib.tables import train_table
from benchmarks.lib.timing import time_steps
from benchmarks.lib.training import run_training, runs_per_hour, train_config

MODELS = ("FC", "HME-5", "ME-32", "HME-L-4")
VARIANTS = ("baseline", "processes", "batched", "batched-loop", "compiled", "cudagraphs")
DEFAULT_VARIANTS = ("baseline", "processes", "batched", "compiled", "cudagraphs")
GPU_ONLY = {"compiled": "default", "cudagraphs": "reduce-overhead"}
MODES = {"baseline": "eager", "batched": "vmap", "batched-loop": "loop", "compiled": "vmap", "cudagraphs": "vmap"}
DATA_PLACEMENT = ("on the device for every variant: the same uint8 images (seed 0) made on the CPU and moved to "
                  "the device once before each run (each process of 'processes' moves its own copy)")


def time_variant(variant: str, model: str, size: int, args: argparse.Namespace, device: torch.device) -> dict:
    """Seconds of each timed generator step of ``variant`` (wall and CPU), and of the warm-up."""
    if variant == "processes":
        return time_processes(model, size, args.batch_size, args.warmup, args.steps, str(device), args.seeds)
    seeds = 1 if variant == "baseline" else args.seeds

    def train(on_step):
        return run_training(model, size, args.batch_size, args.warmup + args.steps + 1, device, seeds,
                            MODES[variant], on_step, compile_mode=GPU_ONLY.get(variant))

    return {"seeds": seeds, **time_steps(train, args.warmup, args.steps, device)}


def summarise(samples: list[dict]) -> dict:
    """One variant's repeats -> its figures: median and best (minimum) seconds per generator step."""
    steps = [t for s in samples for t in s["steps"]]
    cpu_steps = [t for s in samples for t in s["cpu_steps"]]
    seeds = samples[0]["seeds"]
    median, best = statistics.median(steps), min(steps)
    figures = {"seeds": seeds, "seconds_per_step": round(median, 5), "best_seconds_per_step": round(best, 5),
               "timed_steps": len(steps), "repeats": len(samples),
               "warmup_seconds": round(max(s["warmup_seconds"] for s in samples), 3),
               "generator_steps_per_s": round(seeds / median, 4),
               "process_cpu_seconds_per_step": round(statistics.median(cpu_steps), 4)}
    if "threads_per_process" in samples[0]:  # processes
        figures.update(threads_per_process=samples[0]["threads_per_process"],
                       wall_seconds_all=[round(s["wall_seconds_all"], 3) for s in samples],
                       process_seconds_per_step=[[round(t, 5) for t in s["process_seconds_per_step"]]
                                                 for s in samples])
    return figures


def variant_figures(samples: list[dict], flops_run: float, ceiling: dict, steps_per_run: int) -> dict:
    """``summarise`` plus runs per hour, achieved FLOP/s and the FLOP lower bound of the step."""
    figures = summarise(samples)
    flops = flops_run * figures["seeds"]
    for key, seconds in (("", figures["seconds_per_step"]), ("_best", figures["best_seconds_per_step"])):
        figures[f"runs_per_hour{key}"] = round(runs_per_hour(figures["seeds"], seconds, steps_per_run), 4)
    figures["achieved_flops_per_s"] = round(flops / figures["seconds_per_step"], -6)
    peaks = ceiling["flops_per_s"] or {}
    figures["lower_bound_seconds_per_step"] = {k: flops / v for k, v in peaks.items()}
    figures["fraction_of_ceiling"] = {k: round(figures["achieved_flops_per_s"] / v, 4) for k, v in peaks.items()}
    return figures


def add_vs_baseline(variants: dict) -> None:
    """Each variant's runs per hour (median and best) over the baseline's."""
    base = variants.get("baseline", {})
    for figures in variants.values():
        for key in ("", "_best"):
            if base.get(f"runs_per_hour{key}") and f"runs_per_hour{key}" in figures:
                figures[f"runs_per_hour{key}_vs_baseline"] = round(
                    figures[f"runs_per_hour{key}"] / base[f"runs_per_hour{key}"], 3)


def measure_entry(entry: dict, args: argparse.Namespace, device: torch.device, ceiling: dict, steps_per_run: int,
                  save: Callable[[], None]) -> None:
    """Every variant of one model and size, ``args.repeats`` times interleaved; ``entry["variants"]`` is
    brought up to date and ``save()`` called after every measurement."""
    samples: dict[str, list[dict]] = {v: [] for v in args.variants}
    notes: dict[str, dict] = {v: {"skipped": "CUDA only (torch.compile / CUDA graphs are measured on the GPU; on "
                                             "this CPU compiling takes minutes)"}
                              for v in args.variants if v in GPU_ONLY and device.type != "cuda"}
    label = f"{entry['model']} {entry['image_size']}x{entry['image_size']}"
    for repeat in range(args.repeats):
        for variant in (v for v in args.variants if v not in notes):
            try:
                samples[variant].append(time_variant(variant, entry["model"], entry["image_size"], args, device))
            except Exception as exc:  # one failing variant (e.g. a compile error) must not lose the others
                notes[variant] = {"error": f"{type(exc).__name__}: {exc}"[:2000]}
                print(f"{label} {variant}: FAILED {type(exc).__name__}: {exc}", flush=True)
            finally:
                if variant in GPU_ONLY:
                    import torch._dynamo

                    torch._dynamo.reset()  # the next compile set-up starts from a clean cache
            flops_run = entry["flops_per_generator_step_per_run"]
            entry["variants"] = {v: notes.get(v) or variant_figures(samples[v], flops_run, ceiling, steps_per_run)
                                 for v in args.variants if v in notes or samples[v]}
            add_vs_baseline(entry["variants"])
            save()
            if variant not in notes:
                f = entry["variants"][variant]
                print(f"{label} {variant} (S={f['seeds']}, repeat {repeat + 1}/{args.repeats}): "
                      f"{f['seconds_per_step']:.4g} s/step (best {f['best_seconds_per_step']:.4g}), "
                      f"{f['runs_per_hour']:.3g} runs/h, bound {f['lower_bound_seconds_per_step']}", flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto", help="auto (cuda if available, else cpu), cpu, cuda[:N]")
    parser.add_argument("--models", nargs="+", default=list(MODELS))
    parser.add_argument("--sizes", nargs="+", type=int, default=[32, 64], choices=(32, 64))
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--seeds", type=int, default=5, help="seeds per batched group and processes at once (S)")
    parser.add_argument("--steps", type=int, default=20, help="timed generator steps per variant")
    parser.add_argument("--warmup", type=int, default=3, help="untimed generator steps first (compilation)")
    parser.add_argument("--variants", nargs="+", default=list(DEFAULT_VARIANTS), choices=VARIANTS)
    parser.add_argument("--repeats", type=int, default=1,
                        help="measure every variant this many times, interleaved (on a shared CPU: the best step "
                             "time then shows the code, the median the machine's load)")
    parser.add_argument("--out", help="JSON file (default: results/bench/train_<device type>.json)")
    return parser.parse_args(argv)


def main() -> None:
    from hmogbench.training.config import DEFAULT_STEPS
    from hmogbench.runtime.device import prepare_device
    from hmogbench.training.flops import step_flops

    args = parse_args()
    device = prepare_device(args.device)  # auto resolved, TF32 off unless $HMOGBENCH_TF32=1
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/train_{device.type}.json")
    steps_per_run = DEFAULT_STEPS["wgan-gp"]
    ceiling = flops_ceiling(device)
    print(f"device: {at_start['name']}; ceiling: {ceiling}")
    record = {"benchmark": "training throughput (WGAN-GP, generator steps)", "steps_per_run": steps_per_run,
              "ceiling": ceiling, "data": DATA_PLACEMENT, "complete": False, "results": []}

    def save() -> None:
        write_record(out, record, vars(args), device, at_start)

    for size in args.sizes:
        for model in args.models:
            cfg = train_config(model, size, args.batch_size, None, str(device))
            record["results"].append({"model": model, "image_size": size, "batch_size": args.batch_size,
                                      "flops_per_generator_step_per_run": step_flops(cfg), "variants": {}})
            measure_entry(record["results"][-1], args, device, ceiling, steps_per_run, save)
    record["complete"] = True
    save()
    print(train_table(record))
    print(f"-> {out}")


if __name__ == "__main__":
    main()
