"""One prepared GPU check: decisive numbers from a short lease, even if it is cut off (issue 15).

    python3 -m benchmarks.gpu_check --out DIR [--smoke] [--budget-s 540] [--parts a,b,c,d,e] [--fail-part NAME]

Run it from the repository root (hmogbench need not be installed: the root is then on the import path). Every
result is appended to DIR/gpu_check.jsonl the moment it is measured (flush + fsync), one JSON object per line:
{"part", "name", "ok", "seconds", "figures" | "error" | "skipped"}. The first line is the environment probe. Each
part runs in its own try/except (a failure is recorded with its traceback's last lines and the next part runs);
before each part, it is skipped ("skipped": "budget") when less of --budget-s is left than the part is expected
to take. At the end a table of the results is printed.

Parts (built from ``benchmarks.lib``: the step timing, the multi-process method, the device probe, the stand-ins
and the records are those of every benchmark):
  a  first, no host sync: FC@32 one run and 5 seeds vmapped, generator steps 2-5 (no log step, no checkpoint)
     under ``torch.cuda.set_sync_debug_mode('error')``: a synchronisation in the step loop fails the line.
     Then training throughput, batch 128, FC@32 (1x32x32) and HME-L-4@64 (3x64x64), synthetic uint8 images on
     the device: eager one run; 5 seeds batched (vmap); 5 seeds looped ('loop'); 5 processes at once, each one
     run, their timed steps started together at a barrier (``benchmarks.lib.processes``). Generator steps/s
     after warm-up steps (CUDA events, no synchronisation inside the timed steps), runs/hour at the authors'
     length (``DEFAULT_STEPS`` of ``hmogbench.training.config``), peak GPU memory, the FLOP lower bound
     (``hmogbench.training.flops``).
  b  one ``torch.compile`` variant of the batched training (``compile_mode`` of ``train_group``), after
     ``torch._dynamo.reset()``: compile time (first step) apart from steady-state steps/s.
  c  Inception features (space 'fid-inception') at batch 500 on 5,000 synthetic images: fp32 (TF32 off), TF32,
     bf16 + channels-last; images/s. Without the FID weights file the network has random stand-in weights
     (throughput only).
  d  5-NN leave-one-out on 2 x 10,000 x 2048 (``hmogbench.metrics.knn``) on the GPU and the CPU; the Fréchet
     distance (``hmogbench.metrics.fid``, numpy/scipy: CPU) and, for comparison, the same formula in torch on
     the GPU.
  e  the CLI chain with --device auto: train (20 steps) -> sample -> features --features pixels -> score.

--smoke runs the same code on the CPU at tiny sizes (batch 2, 1 timed step, HME-L-4 at 32x32; about a minute on
2 cores); CUDA-only figures are null.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import torch

from benchmarks.lib import standins
from benchmarks.lib.device_probe import ceiling, environment
from benchmarks.lib.processes import time_processes
from benchmarks.lib.records import JsonLines, error_record
from benchmarks.lib.timing import peak_memory_gib, reset_peak_memory, time_steps, timed
from benchmarks.lib.training import channels_of, run_training, runs_per_hour, steps_per_run, train_config

REPO = Path(__file__).resolve().parent.parent
PARTS = ("a", "b", "c", "d", "e")
PART_NAMES = {"a": "train-throughput", "b": "train-compile", "c": "inception-features", "d": "knn-fd",
              "e": "cli-chain"}
# expected seconds per part on the H200 (estimates, see benchmarks/gpu_carry.txt) and in --smoke on 2 CPUs
EXPECTED_S = {"a": 150, "b": 150, "c": 60, "d": 40, "e": 60}
EXPECTED_SMOKE_S = {"a": 25, "b": 8, "c": 6, "d": 2, "e": 15}


def sizes(smoke: bool) -> SimpleNamespace:
    """The sizes of every part: the real ones, or tiny ones for --smoke on the CPU (HME-L-4 at 32x32 there: its
    64x64 steps would take most of the smoke run's time)."""
    if smoke:
        return SimpleNamespace(batch=2, warmup=1, timed=1, seeds=2, procs=2, images=1, feat_batch=1, knn_n=500,
                               knn_d=64, fd_n=300, fd_d=32, chain_steps=2, chain_images=64, chain_samples=32,
                               chain_batch=8, compile_models=(("FC", 32),), models=(("FC", 32), ("HME-L-4", 32)),
                               proc_models=("FC",))
    return SimpleNamespace(batch=128, warmup=3, timed=10, seeds=5, procs=5, images=5000, feat_batch=500,
                           knn_n=10_000, knn_d=2048, fd_n=10_000, fd_d=2048, chain_steps=20, chain_images=1024,
                           chain_samples=1000, chain_batch=64, compile_models=(("FC", 32),),
                           models=(("FC", 32), ("HME-L-4", 64)), proc_models=("FC", "HME-L-4"))


class Check:
    """The running check: settings and sizes, the device and its FLOP/s ceiling, the record, the time budget."""

    def __init__(self, args: argparse.Namespace):
        self.args, self.smoke, self.sz = args, args.smoke, sizes(args.smoke)
        self.device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
        self.cuda = self.device.type == "cuda"
        self.rec = JsonLines(Path(args.out) / "gpu_check.jsonl")
        self.started = time.monotonic()
        self.budget = float(args.budget_s)
        self.work = Path(tempfile.mkdtemp(prefix="gpu_check-"))
        self.ceiling = ceiling(self.device, measure_cpu=False)  # datasheet peaks on a known GPU, else none

    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def write(self, part: str, name: str, ok: bool, seconds: float | None, **values: Any) -> None:
        self.rec.write({"part": part, "name": name, "ok": ok,
                        "seconds": None if seconds is None else round(seconds, 4), **values})

    def variant(self, part: str, name: str, fn: Callable[[], dict]) -> dict | None:
        """Run one measurement; its line (figures or error) is written when it ends. Errors don't propagate."""
        start = time.perf_counter()
        try:
            figures = fn()
        except Exception as exc:  # one failing variant must not lose the others
            self.write(part, name, False, time.perf_counter() - start, error=error_record(exc))
            return None
        finally:
            with contextlib.suppress(Exception):
                import torch._dynamo

                torch._dynamo.reset()
        self.write(part, name, True, time.perf_counter() - start, figures=figures)
        return figures


# ---------------------------------------------------------------------------------------------------------------
# parts a and b: training


def steps_figures(check: Check, cfg, seeds: int, seconds_per_step: float) -> dict:
    """Steps/s, runs/hour and hours per group at the authors' length, FLOPs and the FLOP lower bound of a step
    of ``seeds`` runs of ``cfg`` taking ``seconds_per_step``."""
    from hmogbench.training.flops import step_flops

    authors = steps_per_run(cfg)
    steps_per_s = 1 / seconds_per_step
    flops_step = step_flops(cfg) * seeds
    peaks = check.ceiling["flops_per_s"]
    figures = {"seconds_per_step": round(seconds_per_step, 6), "generator_steps_per_s": round(steps_per_s, 3),
               "seed_steps_per_s": round(seeds * steps_per_s, 3), "authors_steps": authors,
               "runs_per_hour": round(runs_per_hour(seeds, seconds_per_step, authors), 4),
               "hours_per_run_group": round(authors / steps_per_s / 3600, 3), "step_flops": flops_step,
               "achieved_tflops": round(flops_step * steps_per_s / 1e12, 3), "peak_source": check.ceiling["source"]}
    if peaks:
        figures["flop_bound_s_per_step"] = {k: round(flops_step / v, 6) for k, v in peaks.items() if k != "fp64"}
        figures["fraction_of_fp32_peak"] = round(flops_step * steps_per_s / peaks["fp32"], 4)
    return figures


def time_training(check: Check, model: str, size: int, seeds: int, mode: str, compile_mode: str | None = None) -> dict:
    """The project's loop (``mode`` eager: one run; vmap or loop: ``seeds`` seeds) for warm-up + timed + 1
    generator steps, timed by ``timing.time_steps``: generator steps/s over the timed steps (median); the last
    step (log, checkpoint, files) is not timed."""
    from hmogbench.runtime.device import numerics_record

    sz = check.sz
    reset_peak_memory(check.device)
    cfg = {}

    def train(on_step):
        cfg["first"] = run_training(model, size, sz.batch, sz.warmup + sz.timed + 1, check.device, seeds, mode,
                                    on_step, compile_mode=compile_mode)

    times = time_steps(train, sz.warmup, sz.timed, check.device)
    figures = steps_figures(check, cfg["first"], seeds, float(np.median(times["steps"])))
    figures.update(model=model, image=f"{channels_of(size)}x{size}x{size}", batch=sz.batch, mode=mode, seeds=seeds,
                   compile_mode=compile_mode, warmup_steps=sz.warmup, timed_steps=sz.timed,
                   first_step_s=round(times["first_step_seconds"], 4), warmup_s=round(times["warmup_seconds"], 4),
                   timed_mean_s=round(float(np.mean(times["steps"])), 6),
                   step_s=[round(t, 5) for t in times["steps"]], peak_gpu_mem_gib=peak_memory_gib(check.device),
                   numerics=numerics_record(check.device), timing=times["timing"])
    return figures


def host_syncs(check: Check, model: str, size: int, seeds: int, mode: str) -> dict:
    """Generator steps 2 .. n-1 (no log step, no checkpoint) under ``torch.cuda.set_sync_debug_mode('error')``:
    a host-device synchronisation anywhere in those steps raises, and this variant fails naming it. CUDA only;
    on the CPU the same steps run without the mode (there is nothing to synchronise)."""
    total = 6

    def on_step(step: int) -> None:
        if check.cuda and step == 1:
            torch.cuda.set_sync_debug_mode("error")
        if check.cuda and step == total - 1:
            torch.cuda.set_sync_debug_mode(0)

    try:
        run_training(model, size, check.sz.batch, total, check.device, seeds, mode, on_step)
    finally:
        if check.cuda:
            torch.cuda.set_sync_debug_mode(0)
    return {"model": model, "mode": mode, "seeds": seeds, "checked_steps": f"2-{total - 1}",
            "host_syncs": 0 if check.cuda else None, "sync_debug_mode": "error" if check.cuda else "n/a (CPU)"}


def time_process_group(check: Check, model: str, size: int) -> dict:
    """``procs`` one-run processes at once on the device (``processes.time_processes``: the barrier method):
    the group's step is the wall time until all have done their timed steps, over the steps."""
    sz = check.sz
    group = time_processes(model, size, sz.batch, sz.warmup, sz.timed, str(check.device), sz.procs,
                           timeout_s=max(60.0, check.remaining() + 60))
    cfg = train_config(model, size, sz.batch, None, str(check.device))
    figures = steps_figures(check, cfg, sz.procs, group["steps"][0])
    figures.update(model=model, image=f"{channels_of(size)}x{size}x{size}", batch=sz.batch, processes=sz.procs,
                   threads_per_process=group["threads_per_process"], warmup_steps=sz.warmup, timed_steps=sz.timed,
                   wall_s_all=round(group["wall_seconds_all"], 3), timing=group["timing"],
                   per_process_seconds_per_step=[round(t, 5) for t in group["process_seconds_per_step"]])
    return figures


def part_a(check: Check) -> None:
    sz = check.sz
    for mode, seeds in (("eager", 1), ("vmap", sz.seeds)):
        check.variant("a", f"no host sync FC@32 {mode} x{seeds}", lambda: host_syncs(check, "FC", 32, seeds, mode))
    for model, size in sz.models:
        for mode, seeds in (("eager", 1), ("vmap", sz.seeds), ("loop", sz.seeds)):
            check.variant("a", f"{model}@{size} {mode} x{seeds}",
                          lambda: time_training(check, model, size, seeds, mode))
        if model in sz.proc_models:
            check.variant("a", f"{model}@{size} processes x{sz.procs}", lambda: time_process_group(check, model, size))


@contextlib.contextmanager
def smoke_compile_backend(check: Check):
    """--smoke on the CPU: torch.compile with backend 'eager' (Dynamo traces the vmapped losses, no AOT autograd
    and C++ codegen, which take minutes on 2 cores); on the GPU the project's own call (inductor) is untouched."""
    if not check.smoke:
        yield "inductor"
        return
    original = torch.compile

    def compile_eager(*args, **kwargs):
        kwargs["backend"] = "eager"
        kwargs.pop("mode", None)  # modes are inductor options
        return original(*args, **kwargs)

    torch.compile = compile_eager
    try:
        yield "eager (smoke: Dynamo tracing only)"
    finally:
        torch.compile = original


def part_b(check: Check) -> None:
    import torch._dynamo

    mode = check.args.compile_mode
    for model, size in check.sz.compile_models:
        def run() -> dict:
            torch._dynamo.reset()
            with smoke_compile_backend(check) as backend:
                figures = time_training(check, model, size, check.sz.seeds, "vmap", compile_mode=mode)
            figures["compile_backend"] = backend
            figures["compile_s_first_step"] = figures["first_step_s"]
            figures["dynamo_counters"] = {k: dict(v) for k, v in torch._dynamo.utils.counters.items()
                                          if k in ("stats", "graph_break", "recompiles")}
            return figures

        check.variant("b", f"{model}@{size} vmap x{check.sz.seeds} compile={mode}", run)


# ---------------------------------------------------------------------------------------------------------------
# part c: Inception features


def fid_network(check: Check, precision: str, channels_last: bool):
    """(the 'fid-inception' Extractor, where its weights came from): its weights file if found; else random
    stand-in weights of pytorch-fid's FID Inception loaded through the project's ``load_space``; without
    pytorch-fid, torchvision's inception_v3 in the project's ``Extractor`` (``standins``)."""
    from hmogbench.metrics.spaces import load_space
    from hmogbench.metrics.weights import resolve_weights

    options = {"device": check.device, "precision": precision, "channels_last": channels_last}
    try:
        resolve_weights("fid-inception")
        return load_space("fid-inception", **options), "the FID weights file (found)"
    except FileNotFoundError:
        pass
    try:
        path = standins.fid_weights_file(check.work)
    except ImportError:
        return (standins.torchvision_fid_extractor(check.device, precision, channels_last),
                f"{standins.THROUGHPUT_ONLY} (pytorch-fid missing: torchvision inception_v3 with random weights, "
                "pytorch-fid's input handling)")
    return (load_space("fid-inception", weights=path, **options),
            f"{standins.THROUGHPUT_ONLY} (random weights, pytorch-fid's FID Inception architecture, loaded through "
            "hmogbench.metrics.spaces.load_space)")


def feature_figures(check: Check, images: torch.Tensor, precision: str, channels_last: bool, reference: dict) -> dict:
    """Images/s of one precision (after a warm-up batch on CUDA), its FLOP bound, and its features' largest
    difference to fp32's (``reference`` keeps fp32's features)."""
    from hmogbench.runtime.device import set_numerics
    from hmogbench.training.flops import inception_flops
    from hmogbench.metrics.features import extract_features

    sz, peaks = check.sz, check.ceiling["flops_per_s"]
    set_numerics(tf32=precision == "tf32")
    extractor, weights_note = fid_network(check, precision, channels_last)
    reset_peak_memory(check.device)
    if check.cuda:
        extractor(images[:sz.feat_batch])  # warm-up (cuDNN algorithm choice, allocator)
    seconds, feats = timed(extract_features, images, extractor, batch_size=sz.feat_batch, device=check.device)
    per_image = inception_flops()
    figures = {"precision": precision, "effective_precision": extractor.precision, "channels_last": channels_last,
               "images": sz.images, "batch": sz.feat_batch, "images_per_s": round(sz.images / seconds, 2),
               "timed_s": round(seconds, 4), "weights": weights_note, "feature_dims": int(feats.shape[1]),
               "peak_gpu_mem_gib": peak_memory_gib(check.device),
               "tf32_flags": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                              "cudnn": torch.backends.cudnn.allow_tf32},
               "inception_flops_per_image": per_image,
               "achieved_tflops": round(per_image * sz.images / seconds / 1e12, 3)}
    if peaks:
        figures.update(flop_bound_s=round(per_image * sz.images / peaks[precision], 4),
                       peak_source=check.ceiling["source"])
    if "fp32" in reference:
        figures["max_abs_diff_vs_fp32"] = float(np.abs(feats - reference["fp32"]).max())
    else:
        reference["fp32"] = feats
    return figures


def part_c(check: Check) -> None:
    from hmogbench.runtime.device import set_numerics

    images = torch.randint(0, 256, (check.sz.images, 3, 64, 64), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    reference: dict = {}
    try:
        for precision, channels_last in (("fp32", False), ("tf32", False), ("bf16", True)):
            check.variant("c", f"fid-inception {precision}{' channels-last' if channels_last else ''}",
                          lambda: feature_figures(check, images, precision, channels_last, reference))
    finally:
        set_numerics(tf32=False)


# ---------------------------------------------------------------------------------------------------------------
# part d: k-NN and FD


def knn_figures(check: Check, real: np.ndarray, fake: np.ndarray, device: torch.device) -> dict:
    from hmogbench.metrics.knn import knn_score

    if device.type == "cuda":
        knn_score(real[:256], fake[:256], 5, device=device)  # warm-up
    seconds, score = timed(knn_score, real, fake, 5, device=device)
    n, dims = 2 * len(real), real.shape[1]
    return {"device": str(device), "points": n, "dims": dims, "k": 5, "seconds": round(seconds, 4),
            "real_pct": score.real_pct, "fake_pct": score.fake_pct, "fp64_gemm_flops": 2 * n * n * dims}


def fd_figures(real: np.ndarray, fake: np.ndarray) -> dict:
    """hmogbench's Fréchet distance (numpy/scipy, on the CPU): seconds of the statistics and of the distance."""
    from hmogbench.metrics.fid import frechet_distance, statistics

    cpu = torch.device("cpu")
    stats_s, (s1, s2) = timed(lambda: (statistics(real), statistics(fake)), device=cpu)
    fd_s, fd = timed(frechet_distance, *s1, *s2, device=cpu)
    return {"device": "cpu (numpy/scipy; hmogbench.metrics.fid has no torch path)", "n": len(real),
            "dims": real.shape[1], "statistics_s": round(stats_s, 4), "frechet_distance_s": round(fd_s, 4), "fd": fd}


def fd_torch_figures(real: np.ndarray, fake: np.ndarray, device: torch.device, fd_cpu: dict | None) -> dict:
    """The same formula (Cholesky factors, eigenvalues of the cross Gram matrix) in float64 torch on ``device``."""
    def distance() -> float:
        xs = [torch.as_tensor(x, device=device, dtype=torch.float64) for x in (real, fake)]
        mus, covs = [x.mean(0) for x in xs], [torch.cov(x.T) for x in xs]
        r1, r2 = (torch.linalg.cholesky(c) for c in covs)
        cross = r1.T @ r2
        ev = torch.linalg.eigvalsh(cross @ cross.T)
        diff = mus[0] - mus[1]
        return float(diff @ diff + covs[0].trace() + covs[1].trace() - 2 * ev.clamp(min=0).sqrt().sum())

    seconds, fd = timed(distance, device=device)
    figures = {"device": str(device), "seconds_incl_statistics": round(seconds, 4), "fd": fd,
               "note": "a torch re-implementation for comparison, not hmogbench code"}
    if fd_cpu:
        figures["rel_diff_vs_hmogbench"] = abs(fd - fd_cpu["fd"]) / max(abs(fd_cpu["fd"]), 1e-300)
    return figures


def part_d(check: Check) -> None:
    sz = check.sz
    rng = np.random.default_rng(0)
    real = rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32)
    fake = (rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32) + 0.05).astype(np.float32)
    for device in ([check.device, torch.device("cpu")] if check.cuda else [check.device]):
        check.variant("d", f"knn 5-NN {device.type} 2x{sz.knn_n}x{sz.knn_d}",
                      lambda: knn_figures(check, real, fake, device))
    fr, ff = real[:sz.fd_n, :sz.fd_d], fake[:sz.fd_n, :sz.fd_d]
    fd_cpu = check.variant("d", f"fd hmogbench cpu {sz.fd_n}x{sz.fd_d}", lambda: fd_figures(fr, ff))
    check.variant("d", f"fd torch-equivalent {check.device.type} {sz.fd_n}x{sz.fd_d}",
                  lambda: fd_torch_figures(fr, ff, check.device, fd_cpu))


# ---------------------------------------------------------------------------------------------------------------
# part e: the CLI chain


def chain_commands(check: Check, work: Path, real: Path) -> list[tuple[str, list[str]]]:
    """train -> sample -> features (real, fake) -> score, each ``python -m hmogbench ... --device auto``."""
    sz, hm = check.sz, [sys.executable, "-m", "hmogbench"]
    return [
        ("train", hm + ["train", "--data", str(real), "--out", str(work / "run"), "--no-progress",
                        "--set", "model=FC", "--set", f"steps={sz.chain_steps}",
                        "--set", f"batch_size={sz.chain_batch}",
                        "--set", "device=auto", "--set", "checkpoint_every=10"]),
        ("sample", hm + ["sample", str(work / "run"), "--count", str(sz.chain_samples), "--device", "auto",
                         "--out", str(work / "fake.npy"), "--no-progress"]),
        ("features real", hm + ["features", str(real), "--features", "pixels", "--device", "auto",
                                "--out", str(work / "real_features.npy"), "--no-progress"]),
        ("features fake", hm + ["features", str(work / "fake.npy"), "--features", "pixels", "--device", "auto",
                                "--out", str(work / "fake_features.npy"), "--no-progress"]),
        ("score", hm + ["score", str(work / "real_features.npy"), str(work / "fake_features.npy"), "--precomputed",
                        "--device", "auto", "--json", "--out", str(work / "metrics.json"), "--no-progress"]),
    ]


def run_command(check: Check, name: str, cmd: list[str], work: Path) -> dict:
    """One command of the chain (cwd: the repository root, so ``-m hmogbench`` finds the package); for score,
    its figures and device."""
    env = {"OMP_NUM_THREADS": "1"} if torch.get_num_threads() == 1 else {}  # --smoke: the children as the check
    start = time.perf_counter()
    p = subprocess.run(cmd, cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
                       capture_output=True, text=True, timeout=max(60.0, check.remaining() + 60))
    seconds = time.perf_counter() - start
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode} after {seconds:.1f} s: "
                           + " | ".join(p.stderr.strip().splitlines()[-8:]))
    figures = {"command": " ".join(cmd[1:]), "rc": p.returncode, "wall_s": round(seconds, 3),
               "stdout_tail": p.stdout.strip().splitlines()[-2:] if name != "score" else None}
    if name == "score":
        result = json.loads((work / "metrics.json").read_text())
        figures["score"] = {k: result.get(k) for k in ("fd_name", "fd", "knn_real_pct", "knn_fake_pct", "kid_mean",
                                                       "n_real", "n_fake")}
        figures["device"] = result.get("provenance", {}).get("device")
    return figures


def part_e(check: Check) -> None:
    work = check.work / "chain"
    work.mkdir()
    real = work / "real.npy"
    np.save(real, np.random.default_rng(0).integers(0, 256, (check.sz.chain_images, 32, 32, 1), dtype=np.uint8))
    failed = False
    for name, cmd in chain_commands(check, work, real):
        def run() -> dict:
            if failed:
                raise RuntimeError("an earlier command of the chain failed")
            return run_command(check, name, cmd, work)

        failed = check.variant("e", f"cli {name}", run) is None or failed


# ---------------------------------------------------------------------------------------------------------------


PART_FUNCTIONS = {"a": part_a, "b": part_b, "c": part_c, "d": part_d, "e": part_e}


def summary_result(line: dict) -> str:
    """One line of the record as the summary table's 'result' cell."""
    f = line.get("figures") or {}
    if line.get("skipped"):
        return f"skipped: {line['skipped']}"
    if not line.get("ok"):
        err = line.get("error") or {}
        return f"ERROR {err.get('type')}: {str(err.get('message'))[:70]}"
    if line["name"].endswith(" done"):
        return f"done (expected {f.get('expected_s')} s)"
    if "sync_debug_mode" in f:
        return f"host syncs: {f['host_syncs']} (sync debug mode: {f['sync_debug_mode']})"
    if line["part"] in ("a", "b"):
        result = (f"{f.get('generator_steps_per_s')} steps/s, {f.get('runs_per_hour')} runs/h, "
                  f"mem {f.get('peak_gpu_mem_gib')} GiB")
        result += f", compile {f.get('compile_s_first_step')} s" if line["part"] == "b" else ""
        return result + (f", wall {f['wall_s_all']} s" if "wall_s_all" in f else "")
    if line["part"] == "c":
        return f"{f.get('images_per_s')} img/s ({f.get('effective_precision')})"
    if line["part"] == "d":
        return f"{f.get('seconds', f.get('frechet_distance_s', f.get('seconds_incl_statistics')))} s"
    if line["part"] == "e":
        return f"rc {f.get('rc')}, {f.get('wall_s')} s"
    return f"{line.get('seconds')} s"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder of gpu_check.jsonl")
    parser.add_argument("--smoke", action="store_true", help="the same code on the CPU at tiny sizes")
    parser.add_argument("--budget-s", type=float, default=540.0, help="time budget of the whole check (seconds)")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts to run (default: all)")
    parser.add_argument("--fail-part", metavar="PART", help="for tests: make this part raise at its start")
    parser.add_argument("--compile-mode", default="default", help="part b's torch.compile mode (default: default)")
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; expected some of {PARTS}")
    return args


def run_part(check: Check, part: str, expected: float) -> None:
    """One part, or its line 'skipped: budget'; a failure is recorded and does not propagate."""
    name = PART_NAMES[part]
    if check.remaining() < expected:
        check.write(part, name, False, 0.0, skipped="budget",
                    figures={"remaining_s": round(check.remaining(), 1), "expected_s": expected})
        return
    start = time.perf_counter()
    try:
        if check.args.fail_part == part:
            raise RuntimeError(f"--fail-part {part}: a deliberate failure (test)")
        PART_FUNCTIONS[part](check)
    except Exception as exc:  # noqa: BLE001  a failing part must not stop the next
        check.write(part, name, False, time.perf_counter() - start, error=error_record(exc))
    else:
        check.write(part, f"{name} done", True, time.perf_counter() - start, figures={"expected_s": expected})


def main(argv: list[str] | None = None) -> int:
    from tabulate import tabulate

    args = parse_args(argv)
    if args.smoke:
        # one thread: on a small shared CPU box, OpenMP's barriers collapse when other work takes the cores
        torch.set_num_threads(1)
    check = Check(args)
    start = time.perf_counter()
    try:
        check.write("probe", "environment", True, None,
                    figures={**environment(check.device), "smoke": check.smoke, "budget_s": check.budget})
    except Exception as exc:  # noqa: BLE001
        check.write("probe", "environment", False, None, error=error_record(exc))
    for part in args.parts:
        run_part(check, part, (EXPECTED_SMOKE_S if args.smoke else EXPECTED_S)[part])
    total = time.perf_counter() - start
    check.write("end", "total", True, total, figures={"budget_s": check.budget})
    check.rec.close()
    shutil.rmtree(check.work, ignore_errors=True)
    rows = [(line["part"], line["name"], summary_result(line), line.get("seconds")) for line in check.rec.lines[1:]]
    print(tabulate(rows, headers=("part", "measurement", "result", "s"), tablefmt="github"))
    print(f"\n{len(check.rec.lines)} lines -> {check.rec.path} ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
