"""One prepared GPU check: the deciding figures from one command of at most 7 minutes, even if it is cut off.

    python -m benchmarks.gpu_check --out "$OUT" --budget-s 380     # then: python -m benchmarks.estimate_grid \
        --measured "$OUT/gpu_check.jsonl" --out "$OUT/grid_estimate.json"
    python -m benchmarks.gpu_check --out DIR --smoke               # the same code on the CPU at tiny sizes (CI)

Run it from the repository root (hmogbench need not be installed: the root is then on the import path). Every
result is appended to OUT/gpu_check.jsonl the moment it is measured (flush + fsync; the only file it writes), one
JSON object per line: {"part", "name", "ok", "seconds", "figures" | "error" | "skipped"}. The first line is the
environment probe. Each measurement runs in its own try/except (a failure is recorded with its traceback's last
lines and the next one runs). Before each part, it is skipped ("skipped": "budget") when less of --budget-s is
left than the part is expected to take (``PARTS``); a part that runs has a deadline, the budget left or 3 x its
expected seconds, whichever comes first (--smoke: the budget left): a measurement still running then is stopped
(SIGALRM: "PartDeadline"), the part's later ones are skipped ("deadline"), and child processes are killed with
their process groups. At the end: a table of every line, and per case the batched / eager ratio and the share of
the FLOP bound reached.

Parts, in the order of their value (training at batch 128, synthetic uint8 images on the device; generator
steps/s after warm-up steps, CUDA events, no synchronisation inside the timed steps; runs/hour at the authors'
length; peak GPU memory; the FLOP lower bound, ``hmogbench.training.flops``, and the share of the datasheet peaks
reached; all from ``benchmarks.lib``):
  hme         HME-L-4@64 (3x64x64, 90 % of the grid's FLOPs are 64x64): one run eager, then 5 seeds batched (vmap)
  fc          FC@32 (1x32x32, launch-bound): eager, then batched
  families    MADGAN-8, MGAN-8, MEGAN-8 at 64x64, eager (the 60 of 145 configurations that cannot be batched)
  syncs       no host sync: FC@32 and HME-L-4@64, eager and batched, generator steps 2 to the first epoch boundary
              (the data order's next pass moved to the device) under torch.cuda.set_sync_debug_mode('error')
  features    Inception features (space 'fid-inception') at batch 500 on 5,000 images: fp32, TF32, bf16 +
              channels-last; images/s, FLOP bound (11.4 GFLOP/image), difference to fp32 relative to fp32's norm
  knn-fd      5-NN leave-one-out on 2 x 10,000 x 2048 on the GPU and the CPU; the Frechet distance (numpy/scipy,
              CPU) and the same formula in torch on the GPU
  loop        FC@32 and HME-L-4@64, 5 seeds in mode 'loop' (one after another in one process)
  processes   FC@32 and HME-L-4@64, 5 one-run processes at once, their timed steps started together at a barrier
              (``benchmarks.lib.processes``), 20 timed steps each
  precision   training precision tf32, then bf16 (config train_precision): HME-L-4@64 and FC@32, batched and eager
  compile     FC@32 and HME-L-4@64 batched with torch.compile mode 'reduce-overhead' (CUDA graphs; --compile-mode),
              after torch._dynamo.reset(): compile time (first step) apart from steady-state steps/s. Last: its
              compile can take minutes.

--smoke runs the same code on the CPU at tiny sizes (batch 2, 1 timed step, 32x32, K=2 for the families, FC alone
for processes, precision and compile; torch.compile with backend 'eager'); CUDA-only figures are null.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np
import torch

from benchmarks.lib import standins
from benchmarks.lib.device_probe import ceiling, environment
from benchmarks.lib.processes import time_processes
from benchmarks.lib.records import JsonLines, error_record
from benchmarks.lib.tables import gpu_check_cases_table, gpu_check_summary_table
from benchmarks.lib.timing import peak_memory_gib, reset_peak_memory, time_steps, timed
from benchmarks.lib.training import (
    channels_of,
    first_epoch_boundary,
    run_training,
    runs_per_hour,
    steps_per_run,
    train_config,
)

DEFAULT_BUDGET_S = {False: 380.0, True: 1800.0}  # on the GPU (a 15-minute lease: room for one rerun); --smoke
DEADLINE_FACTOR = 3  # a part's deadline: this many times its expected seconds (never past the budget)


def sizes(smoke: bool) -> SimpleNamespace:
    """The sizes of every part: the real ones, or tiny ones for --smoke on the CPU (32x32 only, K=2; the families
    at batch 4, MGAN's smallest: 2 fakes per generator for its BatchNorm)."""
    if smoke:
        return SimpleNamespace(
            batch=2, family_batch=4, warmup=1, timed=1, proc_timed=1, seeds=2, procs=2, images=1, feat_batch=1,
            knn_n=500, knn_d=64, fd_n=300, fd_d=32, hme=("HME-L-4", 32), fc=("FC", 32),
            families=(("MADGAN-2", 32), ("MGAN-2", 32), ("MEGAN-2", 32)), sync_max_steps=4, proc_cases=(("FC", 32),),
            precision_cases=((("FC", 32), "vmap"),), compile_cases=(("FC", 32),))
    return SimpleNamespace(
        batch=128, family_batch=128, warmup=3, timed=10, proc_timed=20, seeds=5, procs=5, images=5000, feat_batch=500,
        knn_n=10_000, knn_d=2048, fd_n=10_000, fd_d=2048, hme=("HME-L-4", 64), fc=("FC", 32),
        families=(("MADGAN-8", 64), ("MGAN-8", 64), ("MEGAN-8", 64)), sync_max_steps=None,
        proc_cases=(("FC", 32), ("HME-L-4", 64)),
        precision_cases=((("HME-L-4", 64), "vmap"), (("HME-L-4", 64), "eager"), (("FC", 32), "vmap"),
                         (("FC", 32), "eager")),
        compile_cases=(("FC", 32), ("HME-L-4", 64)))


class PartDeadline(Exception):
    """A measurement ran past its part's deadline."""


@contextlib.contextmanager
def alarm(seconds: float):
    """Raise ``PartDeadline`` in this (main) thread after ``seconds`` (SIGALRM), unless the block ended first."""
    def ring(signum, frame):
        raise PartDeadline(f"passed the part's deadline ({seconds:.0f} s left when this measurement started)")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Check:
    """The running check: settings and sizes, the device and its FLOP/s ceiling, the record, the budget and the
    running part's deadline."""

    def __init__(self, args: argparse.Namespace):
        self.args, self.smoke, self.sz = args, args.smoke, sizes(args.smoke)
        self.device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
        self.cuda = self.device.type == "cuda"
        self.rec = JsonLines(Path(args.out) / "gpu_check.jsonl")
        self.started = time.monotonic()
        self.budget = float(args.budget_s)
        self.deadline = self.started + self.budget
        self.work = Path(tempfile.mkdtemp(prefix="gpu_check-"))
        self.ceiling = ceiling(self.device, measure_cpu=False)  # datasheet peaks on a known GPU, else none

    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def part_left(self) -> float:
        """Seconds until the running part's deadline."""
        return self.deadline - time.monotonic()

    def write(self, part: str, name: str, ok: bool, seconds: float | None, **values: Any) -> None:
        self.rec.write({"part": part, "name": name, "ok": ok,
                        "seconds": None if seconds is None else round(seconds, 4), **values})

    def variant(self, part: str, name: str, fn: Callable[[], dict]) -> dict | None:
        """Run one measurement within the part's deadline; its line (figures, error, or skipped: deadline) is
        written when it ends. Errors don't propagate."""
        if self.part_left() <= 0:
            self.write(part, name, False, 0.0, skipped="deadline")
            return None
        start = time.perf_counter()
        try:
            with alarm(self.part_left()):
                figures = fn()
        except Exception as exc:  # one failing variant must not lose the others
            self.write(part, name, False, time.perf_counter() - start, error=error_record(exc))
            return None
        finally:
            if "torch._dynamo" in sys.modules:  # after a compile: the next one starts from a clean cache
                with contextlib.suppress(Exception):
                    sys.modules["torch._dynamo"].reset()
        self.write(part, name, True, time.perf_counter() - start, figures=figures)
        return figures


# ---------------------------------------------------------------------------------------------------------------
# training: throughput, host syncs, processes


def steps_figures(check: Check, cfg, seeds: int, seconds_per_step: float) -> dict:
    """Steps/s, runs/hour and hours per group at the authors' length, FLOPs, the achieved FLOP/s and its share of
    the datasheet peaks (the FLOP lower bound over the time) of a step of ``seeds`` runs of ``cfg``."""
    from hmogbench.training.flops import step_flops

    authors = steps_per_run(cfg)
    steps_per_s = 1 / seconds_per_step
    per_run = step_flops(cfg)
    achieved = per_run * seeds * steps_per_s
    figures = {"seconds_per_step": round(seconds_per_step, 6), "generator_steps_per_s": round(steps_per_s, 3),
               "seed_steps_per_s": round(seeds * steps_per_s, 3), "authors_steps": authors,
               "runs_per_hour": round(runs_per_hour(seeds, seconds_per_step, authors), 4),
               "hours_per_run_group": round(authors / steps_per_s / 3600, 3), "step_flops": per_run * seeds,
               "step_flops_per_run": per_run, "achieved_flops_per_s": round(achieved, -6),
               "achieved_tflops": round(achieved / 1e12, 3), "peak_source": check.ceiling["source"]}
    peaks = {k: v for k, v in (check.ceiling["flops_per_s"] or {}).items() if k != "fp64"}
    if peaks:
        figures["flop_bound_s_per_step"] = {k: round(per_run * seeds / v, 6) for k, v in peaks.items()}
        figures["share_of_peak"] = {k: round(achieved / v, 4) for k, v in peaks.items()}
    return figures


def time_training(check: Check, model: str, size: int, mode: str, precision: str = "fp32",
                  compile_mode: str | None = None, batch: int | None = None) -> dict:
    """The project's loop (``mode`` eager: one run; vmap or loop: ``seeds`` seeds) in training precision
    ``precision`` at ``batch`` (default: the sizes' batch) for warm-up + timed + 1 generator steps, timed by
    ``timing.time_steps``: generator steps/s over the timed steps (median); the last step (log, checkpoint,
    files) is not timed."""
    from hmogbench.runtime.device import numerics_record
    from hmogbench.training.precision import recorded

    sz = check.sz
    seeds, batch = 1 if mode == "eager" else sz.seeds, batch or sz.batch
    reset_peak_memory(check.device)
    ran = {}

    def train(on_step):
        ran["cfg"], ran["record"] = run_training(model, size, batch, sz.warmup + sz.timed + 1, check.device,
                                                 seeds, mode, on_step, compile_mode=compile_mode, precision=precision)

    times = time_steps(train, sz.warmup, sz.timed, check.device)
    figures = steps_figures(check, ran["cfg"], seeds, float(np.median(times["steps"])))
    figures.update(model=model, image_size=size, image=f"{channels_of(size)}x{size}x{size}", batch=batch,
                   mode=mode, seeds=seeds, precision=recorded(ran["record"]), requested_precision=precision,
                   compile_mode=compile_mode, warmup_steps=sz.warmup, timed_steps=sz.timed,
                   first_step_s=round(times["first_step_seconds"], 4), warmup_s=round(times["warmup_seconds"], 4),
                   timed_mean_s=round(float(np.mean(times["steps"])), 6),
                   step_s=[round(t, 5) for t in times["steps"]], peak_gpu_mem_gib=peak_memory_gib(check.device),
                   numerics=numerics_record(check.device), timing=times["timing"])
    return figures


def run_name(model: str, size: int, mode: str, seeds: int, precision: str = "fp32", compile_mode: str | None = None
             ) -> str:
    """A training line's name: 'HME-L-4@64 vmap x5', '... bf16', '... compile=reduce-overhead'."""
    return (f"{model}@{size} {mode} x{seeds}" + (f" {precision}" if precision != "fp32" else "")
            + (f" compile={compile_mode}" if compile_mode else ""))


def train_cases(check: Check, part: str, cases, precision: str = "fp32", compile_mode: str | None = None,
                batch: int | None = None) -> None:
    """One line per ((model, size), mode) of ``cases``, timed by ``time_training``."""
    for (model, size), mode in cases:
        seeds = 1 if mode == "eager" else check.sz.seeds
        check.variant(part, run_name(model, size, mode, seeds, precision, compile_mode),
                      lambda: time_training(check, model, size, mode, precision, compile_mode, batch))


def host_syncs(check: Check, model: str, size: int, mode: str) -> dict:
    """Generator steps 2 .. the first epoch boundary (no log step, no checkpoint) under
    ``torch.cuda.set_sync_debug_mode('error')``: a host-device synchronisation anywhere in those steps raises, and
    this line fails naming it. CUDA only; on the CPU the same steps run without the mode (nothing to synchronise;
    --smoke stops after ``sync_max_steps``)."""
    seeds = 1 if mode == "eager" else check.sz.seeds
    boundary = first_epoch_boundary(train_config(model, size, check.sz.batch, None, "cpu"))
    total = min(boundary + 1, check.sz.sync_max_steps or boundary + 1)

    def on_step(step: int) -> None:
        if check.cuda and step in (1, total - 1):
            torch.cuda.set_sync_debug_mode("error" if step == 1 else 0)

    try:
        run_training(model, size, check.sz.batch, total, check.device, seeds, mode, on_step)
    finally:
        if check.cuda:
            torch.cuda.set_sync_debug_mode(0)
    return {"model": model, "image_size": size, "sync_mode": mode, "seeds": seeds,
            "checked_steps": f"2-{total - 1}", "first_epoch_boundary_step": boundary,
            "covers_epoch_boundary": total - 1 >= boundary, "host_syncs": 0 if check.cuda else None,
            "sync_debug_mode": "error" if check.cuda else "n/a (CPU)"}


def time_process_group(check: Check, model: str, size: int) -> dict:
    """``procs`` one-run processes at once on the device (``processes.time_processes``: the barrier method, each
    process killed with its group at the part's deadline): the group's step is the wall time until all have done
    their timed steps, over the steps."""
    sz = check.sz
    group = time_processes(model, size, sz.batch, sz.warmup, sz.proc_timed, str(check.device), sz.procs,
                           timeout_s=max(1.0, check.part_left()))
    cfg = train_config(model, size, sz.batch, None, str(check.device))
    figures = steps_figures(check, cfg, sz.procs, group["steps"][0])
    figures.update(model=model, image_size=size, image=f"{channels_of(size)}x{size}x{size}", batch=sz.batch,
                   mode="processes", processes=sz.procs, threads_per_process=group["threads_per_process"],
                   warmup_steps=sz.warmup, timed_steps=sz.proc_timed, wall_s_all=round(group["wall_seconds_all"], 3),
                   timing=group["timing"], first_step_s=round(group["first_step_seconds"], 4),
                   per_process_seconds_per_step=[round(t, 5) for t in group["process_seconds_per_step"]])
    return figures


def part_hme(check: Check) -> None:
    train_cases(check, "hme", ((check.sz.hme, "eager"), (check.sz.hme, "vmap")))


def part_fc(check: Check) -> None:
    train_cases(check, "fc", ((check.sz.fc, "eager"), (check.sz.fc, "vmap")))


def part_families(check: Check) -> None:
    train_cases(check, "families", [(case, "eager") for case in check.sz.families], batch=check.sz.family_batch)


def part_syncs(check: Check) -> None:
    for model, size in (check.sz.fc, check.sz.hme):
        for mode in ("eager", "vmap"):
            seeds = 1 if mode == "eager" else check.sz.seeds
            check.variant("syncs", f"no host sync {model}@{size} {mode} x{seeds}",
                          lambda: host_syncs(check, model, size, mode))


def part_loop(check: Check) -> None:
    train_cases(check, "loop", ((check.sz.fc, "loop"), (check.sz.hme, "loop")))


def part_processes(check: Check) -> None:
    for model, size in check.sz.proc_cases:
        check.variant("processes", f"{model}@{size} processes x{check.sz.procs}",
                      lambda: time_process_group(check, model, size))


def part_precision(check: Check) -> None:
    for precision in ("tf32", "bf16"):
        train_cases(check, "precision", check.sz.precision_cases, precision)


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


def part_compile(check: Check) -> None:
    import torch._dynamo

    mode = check.args.compile_mode
    for model, size in check.sz.compile_cases:
        def run() -> dict:
            torch._dynamo.reset()
            with smoke_compile_backend(check) as backend:
                figures = time_training(check, model, size, "vmap", compile_mode=mode)
            figures.update(compile_backend=backend, compile_s_first_step=figures["first_step_s"],
                           dynamo_counters={k: dict(v) for k, v in torch._dynamo.utils.counters.items()
                                            if k in ("stats", "graph_break", "recompiles")})
            return figures

        check.variant("compile", run_name(model, size, "vmap", check.sz.seeds, compile_mode=mode), run)


# ---------------------------------------------------------------------------------------------------------------
# Inception features


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
    """Images/s of one precision (after a warm-up batch on CUDA), its FLOP bound, and its features' difference to
    fp32's relative to fp32's (Frobenius norms; ``reference`` keeps fp32's features)."""
    from hmogbench.metrics.features import extract_features
    from hmogbench.runtime.device import set_numerics
    from hmogbench.training.flops import inception_flops

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
        ref = reference["fp32"].astype(np.float64)
        figures["rel_diff_vs_fp32"] = float(np.linalg.norm(feats - ref) / max(np.linalg.norm(ref), 1e-300))
    else:
        reference["fp32"] = feats
    return figures


def part_features(check: Check) -> None:
    from hmogbench.runtime.device import set_numerics

    images = torch.randint(0, 256, (check.sz.images, 3, 64, 64), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    reference: dict = {}
    try:
        for precision, channels_last in (("fp32", False), ("tf32", False), ("bf16", True)):
            check.variant("features", f"fid-inception {precision}{' channels-last' if channels_last else ''}",
                          lambda: feature_figures(check, images, precision, channels_last, reference))
    finally:
        set_numerics(tf32=False)


# ---------------------------------------------------------------------------------------------------------------
# k-NN and FD


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


def part_knn_fd(check: Check) -> None:
    sz = check.sz
    rng = np.random.default_rng(0)
    real = rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32)
    fake = (rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32) + 0.05).astype(np.float32)
    for device in ([check.device, torch.device("cpu")] if check.cuda else [check.device]):
        check.variant("knn-fd", f"knn 5-NN {device.type} 2x{sz.knn_n}x{sz.knn_d}",
                      lambda: knn_figures(check, real, fake, device))
    fr, ff = real[:sz.fd_n, :sz.fd_d], fake[:sz.fd_n, :sz.fd_d]
    fd_cpu = check.variant("knn-fd", f"fd hmogbench cpu {sz.fd_n}x{sz.fd_d}", lambda: fd_figures(fr, ff))
    check.variant("knn-fd", f"fd torch-equivalent {check.device.type} {sz.fd_n}x{sz.fd_d}",
                  lambda: fd_torch_figures(fr, ff, check.device, fd_cpu))


# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One part: what it runs, and its expected seconds on an H100/H200 (estimates, benchmarks/gpu_carry.txt)
    and in --smoke on 2 CPU cores."""

    run: Callable[[Check], None]
    expected_s: float
    smoke_s: float


PARTS = {"hme": Part(part_hme, 30, 6), "fc": Part(part_fc, 15, 3), "families": Part(part_families, 25, 5),
         "syncs": Part(part_syncs, 30, 6), "features": Part(part_features, 30, 6), "knn-fd": Part(part_knn_fd, 25, 2),
         "loop": Part(part_loop, 20, 4), "processes": Part(part_processes, 60, 10),
         "precision": Part(part_precision, 50, 3), "compile": Part(part_compile, 90, 8)}  # in the order of value


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder of gpu_check.jsonl (on a lent machine: $OUT)")
    parser.add_argument("--smoke", action="store_true", help="the same code on the CPU at tiny sizes")
    parser.add_argument("--budget-s", type=float, help="time budget of the whole check, seconds (default: "
                        f"{DEFAULT_BUDGET_S[False]:g}; --smoke {DEFAULT_BUDGET_S[True]:g})")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts to run (default: all)")
    parser.add_argument("--fail-part", metavar="PART", help="for tests: make this part raise at its start")
    parser.add_argument("--compile-mode", default="reduce-overhead",
                        help="the compile part's torch.compile mode (default: reduce-overhead, CUDA graphs)")
    args = parser.parse_args(argv)
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in args.parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; expected some of {', '.join(PARTS)}")
    if args.budget_s is None:
        args.budget_s = DEFAULT_BUDGET_S[args.smoke]
    return args


def run_part(check: Check, name: str) -> None:
    """One part within its deadline, or its line 'skipped: budget'; a failure is recorded and does not
    propagate."""
    expected = PARTS[name].smoke_s if check.smoke else PARTS[name].expected_s
    if check.remaining() < expected:
        check.write(name, name, False, 0.0, skipped="budget",
                    figures={"remaining_s": round(check.remaining(), 1), "expected_s": expected})
        return
    cap = check.remaining() if check.smoke else min(check.remaining(), DEADLINE_FACTOR * expected)
    check.deadline = time.monotonic() + cap
    start = time.perf_counter()
    try:
        if check.args.fail_part == name:
            raise RuntimeError(f"--fail-part {name}: a deliberate failure (test)")
        PARTS[name].run(check)
    except Exception as exc:  # noqa: BLE001  a failing part must not stop the next
        check.write(name, name, False, time.perf_counter() - start, error=error_record(exc))
    else:
        check.write(name, f"{name} done", True, time.perf_counter() - start,
                    figures={"expected_s": expected, "deadline_s": round(cap, 1)})


def main(argv: list[str] | None = None) -> int:
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
        run_part(check, part)
    total = time.perf_counter() - start
    check.write("end", "total", True, total, figures={"budget_s": check.budget})
    check.rec.close()
    shutil.rmtree(check.work, ignore_errors=True)
    print(gpu_check_summary_table(check.rec.lines[1:]))
    print("\n" + gpu_check_cases_table(check.rec.lines))
    print(f"\n{len(check.rec.lines)} lines -> {check.rec.path} ({total:.1f} s); the grid from these rates: "
          f"python -m benchmarks.estimate_grid --measured {check.rec.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
