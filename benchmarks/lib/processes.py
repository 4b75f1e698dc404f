"""S training processes at once on one device (the benchmarks' one multi-process method): each process is the
one-run baseline (``train_from_config``), they start their timed steps together at a file barrier, and a group
step is the wall time from that start until all S have done their timed steps, over the steps.

A worker runs as ``python -m benchmarks.lib.processes SPEC`` (cwd: the repository root) and prints its timings
after ``MARKER`` as one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[2]
MARKER = "BENCH_PROCESS_RESULT "


def file_barrier(folder: Path, parties: int, timeout_s: float = 600.0) -> Callable[[], None]:
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
    """One process: ``spec``'s baseline run, its steps timed (``timing.time_steps``) from the barrier on."""
    import torch

    from benchmarks.lib.timing import time_steps
    from benchmarks.lib.training import run_training
    from hmogbench.runtime.device import prepare_device

    torch.set_num_threads(spec["threads"])
    device = prepare_device(spec["device"])  # TF32 off unless $HMOGBENCH_TF32=1, as the workflow's runs
    barrier = file_barrier(Path(spec["barrier"]), spec["parties"])
    total = spec["warmup"] + spec["steps"] + 1

    def train(on_step):
        return run_training(spec["model"], spec["size"], spec["batch_size"], total, device, 1, "eager", on_step,
                            seed=spec["seed"], out=spec["out"])

    return time_steps(train, spec["warmup"], spec["steps"], device, barrier)


def run_workers(specs: list[dict], folder: Path, threads: int, timeout_s: float) -> tuple[list[dict], float]:
    """Start one worker per spec at once; their results and the wall seconds until the last one ended. If one
    fails or ``timeout_s`` passes, the others are killed (they would wait at the barrier) and the error names
    the failing worker's output tail."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    procs = []
    for i, spec in enumerate(specs):
        log = open(folder / f"worker{i}.log", "w+")
        procs.append((subprocess.Popen([sys.executable, "-m", "benchmarks.lib.processes", json.dumps(spec)],
                                       cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env, text=True), log))
    while any(p.poll() is None for p, _ in procs):
        late = time.perf_counter() - start > timeout_s
        if late or any(p.poll() not in (None, 0) for p, _ in procs):
            for p, _ in procs:
                if p.poll() is None:
                    p.kill()
        time.sleep(0.05)
    wall = time.perf_counter() - start
    results = []
    for i, (p, log) in enumerate(procs):
        log.seek(0)
        lines = log.read().splitlines()
        log.close()
        found = [line for line in lines if line.startswith(MARKER)]
        if p.returncode != 0 or not found:
            raise RuntimeError(f"worker {i} of {len(procs)} exited {p.returncode} after {wall:.0f} s (limit "
                               f"{timeout_s:.0f} s): " + " | ".join(lines[-6:]))
        results.append(json.loads(found[-1][len(MARKER):]))
    return results, wall


def time_processes(model: str, size: int, batch_size: int, warmup: int, steps: int, device: str, parties: int,
                   threads: int | None = None, timeout_s: float = 3600.0) -> dict:
    """``parties`` worker processes at once (seeds 2019, 2020, ...), each with ``threads`` torch threads (default:
    this process's threads over ``parties``). ``steps``: the group step (wall from the common start until the last
    one's timed steps ended, over the steps) repeated per timed step; ``cpu_steps``: all processes' CPU seconds of
    each step; ``process_seconds_per_step``: each process's median step."""
    import torch

    from benchmarks.lib.training import FIRST_SEED

    threads = threads or max(1, torch.get_num_threads() // parties)
    with tempfile.TemporaryDirectory(prefix="bench-processes-") as tmp:
        (Path(tmp) / "barrier").mkdir()
        specs = [{"model": model, "size": size, "batch_size": batch_size, "warmup": warmup, "steps": steps,
                  "device": device, "threads": threads, "seed": FIRST_SEED + i, "barrier": str(Path(tmp) / "barrier"),
                  "parties": parties, "out": str(Path(tmp) / f"run{i}")} for i in range(parties)]
        results, wall = run_workers(specs, Path(tmp), threads, timeout_s)
    window = max(r["window"][1] for r in results) - min(r["window"][0] for r in results)
    return {"seeds": parties, "steps": [window / steps] * steps,
            "cpu_steps": [sum(r["cpu_steps"][k] for r in results) for k in range(steps)],
            "first_step_seconds": max(r["first_step_seconds"] for r in results),
            "warmup_seconds": max(r["warmup_seconds"] for r in results), "threads_per_process": threads,
            "wall_seconds_all": wall, "process_seconds_per_step": [statistics.median(r["steps"]) for r in results],
            "timing": results[0]["timing"]}


if __name__ == "__main__":
    print(MARKER + json.dumps(worker(json.loads(sys.argv[1]))), flush=True)
