"""S training processes at once on one device (the benchmarks' one multi-process method): each process is the
one-run baseline (``train_from_config``), they start their timed steps together at a file barrier, and a group
step is the wall time from that start until all S have done their timed steps, over the steps.

A worker runs as ``python -m benchmarks.lib.processes SPEC`` (cwd: the repository root) and prints its timings
after ``MARKER`` as one JSON line.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
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


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and every process it started (it leads its own session: ``start_new_session``)."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run_commands(commands: list[list[str]], folder: Path, env: dict, timeout_s: float
                 ) -> tuple[list[int], list[list[str]], float]:
    """Start every command at once from the repository root, each in a session of its own, its output in
    ``folder``/worker<i>.log; wait until all have ended, one has failed or ``timeout_s`` has passed (or this process
    is interrupted), then kill every one still running with its process group. Returns their exit codes, output
    lines and the wall seconds."""
    start = time.perf_counter()
    procs, logs = [], []
    try:
        for i, cmd in enumerate(commands):
            logs.append(open(folder / f"worker{i}.log", "w+"))  # noqa: SIM115  closed below
            procs.append(subprocess.Popen(cmd, cwd=ROOT, stdout=logs[-1], stderr=subprocess.STDOUT, env=env,
                                          text=True, start_new_session=True))
        while any(p.poll() is None for p in procs):
            if time.perf_counter() - start > timeout_s or any(p.poll() not in (None, 0) for p in procs):
                break
            time.sleep(0.05)
    finally:
        for p in procs:
            kill_group(p)
    outputs = []
    for log in logs:
        log.seek(0)
        outputs.append(log.read().splitlines())
        log.close()
    return [p.returncode for p in procs], outputs, time.perf_counter() - start


def run_workers(specs: list[dict], folder: Path, threads: int, timeout_s: float) -> tuple[list[dict], float]:
    """One worker per spec at once (``run_commands``); their results and the wall seconds until the last one ended.
    If one fails or ``timeout_s`` passes, the others are killed (they would wait at the barrier) and the error
    names the failing worker's output tail."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    commands = [[sys.executable, "-m", "benchmarks.lib.processes", json.dumps(spec)] for spec in specs]
    codes, outputs, wall = run_commands(commands, folder, env, timeout_s)
    results = []
    for i, (code, lines) in enumerate(zip(codes, outputs)):
        found = [line for line in lines if line.startswith(MARKER)]
        if code != 0 or not found:
            raise RuntimeError(f"worker {i} of {len(specs)} exited {code} after {wall:.0f} s (limit "
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
