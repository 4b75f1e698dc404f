"""Training throughput: generator steps/s and runs per hour of the thesis's WGAN-GP models (5 critic steps per
generator step), one run alone against several seeds batched into one model and S processes at once, side by side
on one device, with the FLOP lower bound of a generator step next to each measured time. Writes
results/bench/train_<device>.json, rewritten (atomically) after every measurement: a run cut short keeps what it
measured ("complete": false until the end).

    python benchmarks/bench_train.py --device cuda                  # the real figures: batch 128, 5 seeds
    python benchmarks/bench_train.py --device cpu --batch-size 32 --steps 3 --warmup 1   # the CPU's

Variants (every one is the project's own training loop on random uint8 images of the right shape, checkpointing
off until the end; the last step, which writes the checkpoint and generator.pt, is not timed):
- baseline: one seed alone, the plain loop (``train_from_config``) exactly as the workflow runs it, no speed
  feature: the straightforward per-run PyTorch eager loop;
- processes: S seeds as S separate processes on the device at once, each the baseline (this script's --worker),
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

Timing: ``on_step`` stamps the clock after every generator step; on CUDA the device is synchronised only at the
start and end of the timed steps, each step's seconds come from CUDA events recorded at ``on_step``. On a
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
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hmogbench.device import prepare_device  # noqa: E402
from common import device_info, synchronize, write_record  # noqa: E402

MODELS = ("FC", "HME-5", "ME-32", "HME-L-4")
VARIANTS = ("baseline", "processes", "batched", "batched-loop", "compiled", "cudagraphs")
DEFAULT_VARIANTS = ("baseline", "processes", "batched", "compiled", "cudagraphs")
GPU_ONLY = {"compiled": "default", "cudagraphs": "reduce-overhead"}
DATA_PLACEMENT = ("on the device for every variant: the same uint8 images (seed 0) made on the CPU and moved to "
                  "the device once before each run (each process of 'processes' moves its own copy)")
WORKER_MARKER = "BENCH_TRAIN_WORKER "


def _training_api() -> SimpleNamespace:
    """The training functions this benchmark times, imported here only (before the package hmogbench.training:
    ``from hmogbench.train import seed_dir, train_from_config, train_seeds`` and ``from hmogbench.batched import
    train_group``)."""
    from hmogbench.training import seed_dir, train_from_config, train_group, train_seeds

    return SimpleNamespace(train_from_config=train_from_config, train_seeds=train_seeds, train_group=train_group,
                           seed_dir=seed_dir)


def _config(model: str, size: int, batch_size: int, steps: int, device: str, seed: int = 2019):
    from hmogbench.config import TrainConfig

    return TrainConfig(model=model, image_size=size, channels=1 if size == 32 else 3, batch_size=batch_size,
                       steps=steps, checkpoint_every=10 ** 9, log_every=10, device=device, seed=seed)


def _images(cfg, device: torch.device) -> torch.Tensor:
    """The training images of every variant: uint8 (N, C, H, W), seed 0, on ``device``; N = 40 batches (at least
    512), so that a new epoch (its order moved to the device) comes every 8 generator steps at 5 critic steps, as
    in ``gpu_check.training_data``, not every step."""
    shape = (max(40 * cfg.batch_size, 512), cfg.channels, cfg.image_size, cfg.image_size)
    return torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0)).to(device)


def _timed(train: Callable[[Callable[[int], None]], object], warmup: int, steps: int, device: torch.device,
           barrier: Callable[[], None] | None = None) -> dict:
    """Run ``train(on_step)``: seconds (wall, and this process's CPU) of each timed generator step, of the warm-up
    (step 0 includes building the models), and the clock at the timed steps' start and end. On CUDA the device is
    synchronised at those two points only and a step's seconds come from CUDA events (no host sync inside the
    timed steps). ``barrier`` runs once, just before the first timed step."""
    cuda = device.type == "cuda"
    stamps: list[float] = []
    cpu_stamps: list[float] = []
    events: list = []

    def mark() -> None:
        stamps.append(time.perf_counter())
        cpu_stamps.append(time.process_time())
        if cuda:
            events.append(torch.cuda.Event(enable_timing=True))
            events[-1].record()

    def on_step(step: int) -> None:
        if len(stamps) in (warmup, warmup + steps):  # this step ends the warm-up or the timed steps
            synchronize(device)
        if barrier is not None and len(stamps) == warmup:
            barrier()
        mark()

    if barrier is not None and warmup == 0:
        barrier()
    synchronize(device)
    mark()  # stamps[i + 1] - stamps[i]: generator step i
    train(on_step)
    synchronize(device)
    timed = range(warmup, warmup + steps)
    step_s = ([events[i].elapsed_time(events[i + 1]) / 1000 for i in timed] if cuda
              else [stamps[i + 1] - stamps[i] for i in timed])
    return {"steps": step_s, "cpu_steps": [cpu_stamps[i + 1] - cpu_stamps[i] for i in timed],
            "warmup_seconds": stamps[warmup] - stamps[0], "window": (stamps[warmup], stamps[warmup + steps])}


def time_variant(variant: str, model: str, size: int, args: argparse.Namespace, device: torch.device) -> dict:
    """Seconds of each timed generator step of ``variant`` (wall and CPU), and of the warm-up."""
    if variant == "processes":
        return time_processes(model, size, args, device)
    api = _training_api()
    cfg = _config(model, size, args.batch_size, args.warmup + args.steps + 1, str(device))
    data = _images(cfg, device)
    seeds = 1 if variant == "baseline" else args.seeds
    with tempfile.TemporaryDirectory() as tmp:
        if variant == "baseline":
            def train(on_step):
                return api.train_from_config(cfg, data, tmp, progress=False, on_step=on_step)
        else:
            cfgs = [_config(model, size, args.batch_size, cfg.steps, str(device), 2019 + i) for i in range(seeds)]

            def train(on_step):
                return api.train_group(cfgs, data, [api.seed_dir(tmp, c.seed) for c in cfgs], progress=False,
                                       on_step=on_step, mode="loop" if variant == "batched-loop" else "vmap",
                                       compile_mode=GPU_ONLY.get(variant))
        return {"seeds": seeds, **_timed(train, args.warmup, args.steps, device)}


def _file_barrier(folder: Path, parties: int, timeout_s: float = 600.0) -> Callable[[], None]:
    """A barrier of ``parties`` processes: each touches a file in ``folder`` and waits for all the others'."""
    def wait() -> None:
        (folder / f"ready-{os.getpid()}").touch()
        deadline = time.monotonic() + timeout_s
        while len(list(folder.glob("ready-*"))) < parties:
            if time.monotonic() > deadline:
                raise TimeoutError(f"barrier: {parties} processes did not all arrive within {timeout_s:.0f} s")
            time.sleep(0.002)
    return wait


def worker(spec: dict) -> dict:
    """One process of the 'processes' variant: the baseline (``train_from_config``), timed from the barrier on."""
    torch.set_num_threads(spec["threads"])
    device = prepare_device(spec["device"])
    api = _training_api()
    cfg = _config(spec["model"], spec["size"], spec["batch_size"], spec["warmup"] + spec["steps"] + 1, str(device),
                  spec["seed"])
    data = _images(cfg, device)
    barrier = _file_barrier(Path(spec["barrier"]), spec["parties"])
    return _timed(lambda on_step: api.train_from_config(cfg, data, spec["out"], progress=False, on_step=on_step),
                  spec["warmup"], spec["steps"], device, barrier)


def _run_workers(specs: list[dict], folder: Path, threads: int) -> tuple[list[dict], float]:
    """Start one worker per spec at once; their results and the wall seconds until the last one ended. If one
    fails, the others are killed (they would wait at the barrier) and the error names its output's tail."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    procs = []
    for i, spec in enumerate(specs):
        log = open(folder / f"worker{i}.log", "w+")
        procs.append((subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)],
                                       stdout=log, stderr=subprocess.STDOUT, env=env, text=True), log))
    while any(p.poll() is None for p, _ in procs):
        if any(p.poll() not in (None, 0) for p, _ in procs):
            for p, _ in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.05)
    wall = time.perf_counter() - start
    results = []
    for p, log in procs:
        log.seek(0)
        lines = log.read().splitlines()
        log.close()
        found = [line for line in lines if line.startswith(WORKER_MARKER)]
        if p.returncode != 0 or not found:
            raise RuntimeError(f"a worker exited {p.returncode}: " + " | ".join(lines[-6:]))
        results.append(json.loads(found[-1][len(WORKER_MARKER):]))
    return results, wall


def time_processes(model: str, size: int, args: argparse.Namespace, device: torch.device) -> dict:
    """S worker processes at once, their timed steps started together: a group step is the wall time from that start
    until all S have done their timed steps, over the steps (every step this average)."""
    threads = max(1, torch.get_num_threads() // args.seeds)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "barrier").mkdir()
        specs = [{"model": model, "size": size, "batch_size": args.batch_size, "warmup": args.warmup,
                  "steps": args.steps, "device": str(device), "threads": threads, "seed": 2019 + i,
                  "barrier": str(Path(tmp) / "barrier"), "parties": args.seeds, "out": str(Path(tmp) / f"run{i}")}
                 for i in range(args.seeds)]
        results, wall = _run_workers(specs, Path(tmp), threads)
    window = max(r["window"][1] for r in results) - min(r["window"][0] for r in results)
    return {"seeds": args.seeds, "steps": [window / args.steps] * args.steps,
            "cpu_steps": [sum(r["cpu_steps"][k] for r in results) for k in range(args.steps)],
            "warmup_seconds": max(r["warmup_seconds"] for r in results), "threads_per_process": threads,
            "wall_seconds_all": wall,
            "process_seconds_per_step": [statistics.median(r["steps"]) for r in results]}


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
        figures[f"runs_per_hour{key}"] = round(3600 * figures["seeds"] / (seconds * steps_per_run), 4)
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
    parser.add_argument("--worker", help=argparse.SUPPRESS)  # one process of the 'processes' variant (JSON spec)
    return parser.parse_args(argv)


def cpu_or_gpu_ceiling(device: torch.device, name: str) -> dict:
    """The FLOP/s the lower bound divides by: the datasheet's dense peaks (GPU), the measured matmul rate (CPU)."""
    from hmogbench.flops import device_peaks, measured_matmul_flops

    if device.type == "cuda":
        peak_name, peaks = device_peaks(name)
        return {"source": f"datasheet, dense ({peak_name})" if peaks else "unknown device: no datasheet peak",
                "flops_per_s": peaks}
    return {"source": "measured fp32 matmul (2048 x 2048) on this CPU; no datasheet peak",
            "flops_per_s": {"fp32_matmul": round(measured_matmul_flops(device), -6)}}


def main() -> None:
    from hmogbench.config import DEFAULT_STEPS
    from hmogbench.flops import step_flops

    args = parse_args()
    if args.worker:
        print(WORKER_MARKER + json.dumps(worker(json.loads(args.worker))), flush=True)
        return
    device = prepare_device(args.device)  # hmogbench/device.py: auto resolved, TF32 off unless $HMOGBENCH_TF32=1
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/train_{device.type}.json")
    steps_per_run = DEFAULT_STEPS["wgan-gp"]
    ceiling = cpu_or_gpu_ceiling(device, at_start["name"])
    print(f"device: {at_start['name']}; ceiling: {ceiling}")
    record = {"benchmark": "training throughput (WGAN-GP, generator steps)", "steps_per_run": steps_per_run,
              "ceiling": ceiling, "data": DATA_PLACEMENT, "complete": False, "results": []}

    def save() -> None:
        write_record(out, record, {k: v for k, v in vars(args).items() if k != "worker"}, device, at_start)

    for size in args.sizes:
        for model in args.models:
            cfg = _config(model, size, args.batch_size, None, str(device))
            record["results"].append({"model": model, "image_size": size, "batch_size": args.batch_size,
                                      "flops_per_generator_step_per_run": step_flops(cfg), "variants": {}})
            measure_entry(record["results"][-1], args, device, ceiling, steps_per_run, save)
    record["complete"] = True
    save()
    print(f"-> {out}")


if __name__ == "__main__":
    main()
