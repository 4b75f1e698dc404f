"""One prepared GPU check: decisive numbers from a short lease, even if it is cut off (issue 15).

    python3 benchmarks/gpu_check.py --out DIR [--smoke] [--budget-s 540] [--parts a,b,c,d,e] [--fail-part NAME]

Every result is appended to DIR/gpu_check.jsonl the moment it is measured (flush + fsync), one JSON object per
line: {"part", "name", "ok", "seconds", "figures" | "error" | "skipped"}. The first line is the environment
probe. Each part runs in its own try/except (a failure is recorded with its traceback's last lines and the next
part runs); before each part, it is skipped ("skipped": "budget") when less of --budget-s is left than the part
is expected to take. At the end a table of the results is printed.

Parts:
  a  first, no host sync: FC@32 one run and 5 seeds vmapped, generator steps 2-5 (no log step, no checkpoint)
     under ``torch.cuda.set_sync_debug_mode('error')``: a synchronisation in the step loop fails the line.
     Then training throughput, batch 128, FC@32 (1x32x32) and HME-L-4@64 (3x64x64), synthetic uint8 data that
     the loop puts on the device as the workflow's runs: eager one run; 5 seeds batched (vmap); 5 seeds looped
     ('loop'); 5 processes at once (``python3 -m hmogbench train``). Generator steps/s after warm-up steps
     (CUDA events, no synchronisation inside the timed steps), runs/hour at the authors' length
     (``hmogbench.config.DEFAULT_STEPS``), peak GPU memory, the FLOP lower bound (``hmogbench.flops``).
  b  one ``torch.compile`` variant of the batched training (``compile_mode`` of ``train_group``), after
     ``torch._dynamo.reset()``: compile time (first step) apart from steady-state steps/s.
  c  Inception features (space 'fid-inception') at batch 500 on 5,000 synthetic images: fp32 (TF32 off), TF32,
     bf16 + channels-last; images/s. Without the FID weights file the network has random stand-in weights
     (throughput only).
  d  5-NN leave-one-out on 2 x 10,000 x 2048 (``hmogbench.metrics.knn``) on the GPU and the CPU; the Fréchet
     distance (``hmogbench.metrics.fid``, numpy/scipy: CPU) and, for comparison, the same formula in torch on
     the GPU.
  e  the CLI chain with --device auto: train (20 steps) -> sample -> features --features pixels -> score.

--smoke runs the same code on the CPU at tiny sizes (well under a minute on 2 cores); CUDA-only figures are null.
The training API is imported in one place (``training_api``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the device machine has the tree, not an installed package

import numpy as np  # noqa: E402
import torch  # noqa: E402

PARTS = ("a", "b", "c", "d", "e")
PART_NAMES = {"a": "train-throughput", "b": "train-compile", "c": "inception-features", "d": "knn-fd",
              "e": "cli-chain"}
# expected seconds per part on the H200 (estimates, see benchmarks/gpu_carry.txt) and in --smoke on 2 CPUs
EXPECTED_S = {"a": 150, "b": 150, "c": 60, "d": 40, "e": 60}
EXPECTED_SMOKE_S = {"a": 25, "b": 8, "c": 6, "d": 2, "e": 15}
# H200 dense peaks, used only where hmogbench.flops has no table (vendor datasheet, SXM, without sparsity)
H200_FALLBACK_PEAKS = {"fp32": 67e12, "tf32": 494.7e12, "bf16": 989.4e12}


def training_api() -> SimpleNamespace:
    """The hmogbench names this check relies on, imported in one place."""
    from hmogbench.config import DEFAULT_STEPS, TrainConfig
    from hmogbench.device import numerics_record, prepare_device, set_numerics
    from hmogbench.training import train_from_config, train_group

    return SimpleNamespace(TrainConfig=TrainConfig, DEFAULT_STEPS=DEFAULT_STEPS, train_from_config=train_from_config,
                           train_group=train_group, prepare_device=prepare_device, set_numerics=set_numerics,
                           numerics_record=numerics_record)


def flops_api() -> SimpleNamespace:
    """``hmogbench.flops``: step FLOPs and the device peak table (None where the module lacks one)."""
    import hmogbench.flops as flops

    return SimpleNamespace(step_flops=flops.step_flops, device_peaks=getattr(flops, "device_peaks", None),
                           inception_flops=getattr(flops, "inception_flops", None))


# ---------------------------------------------------------------------------------------------------------------
# the record


class Recorder:
    """Appends one JSON object per line to ``path``, flushed and fsynced at once."""

    def __init__(self, path: Path):
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(path, "a", encoding="utf-8")
        self.lines: list[dict] = []

    def write(self, record: dict) -> None:
        self.fh.write(json.dumps(record, default=_jsonable, allow_nan=False) + "\n")
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.lines.append(record)

    def close(self) -> None:
        self.fh.close()


def _jsonable(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (Path, torch.device, torch.dtype)):
        return str(value)
    return repr(value)


def _clean(value: Any) -> Any:
    """NaN / inf -> None (strict JSON), recursively."""
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def error_record(exc: BaseException) -> dict:
    lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
    tail = "".join(lines).strip().splitlines()[-12:]
    message = str(exc)
    missing = getattr(exc, "name", None) if isinstance(exc, ImportError) else None
    return {"type": type(exc).__name__, "message": message[:2000], "missing_module": missing, "traceback": tail}


class Check:
    """The running check: settings, device, the record, the time budget."""

    def __init__(self, args: argparse.Namespace):
        self.args, self.smoke = args, args.smoke
        self.device = torch.device("cpu" if args.smoke or not torch.cuda.is_available() else "cuda")
        self.cuda = self.device.type == "cuda"
        self.out = Path(args.out)
        self.rec = Recorder(self.out / "gpu_check.jsonl")
        self.started = time.monotonic()
        self.budget = float(args.budget_s)
        self.work = Path(tempfile.mkdtemp(prefix="gpu_check-"))

    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def write(self, part: str, name: str, ok: bool, seconds: float | None, **values: Any) -> None:
        self.rec.write(_clean({"part": part, "name": name, "ok": ok,
                               "seconds": None if seconds is None else round(seconds, 4), **values}))

    def sync(self) -> None:
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def reset_peak(self) -> None:
        if self.cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(self.device)

    def peak_gib(self) -> float | None:
        return round(torch.cuda.max_memory_allocated(self.device) / 2 ** 30, 4) if self.cuda else None

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
# the probe


def probe(check: Check) -> dict:
    info: dict[str, Any] = {"python": sys.version.split()[0], "executable": sys.executable,
                            "platform": platform.platform(), "torch": torch.__version__,
                            "torch_cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version()
                            if torch.backends.cudnn.is_available() else None,
                            "cuda_available": torch.cuda.is_available(), "device_used": str(check.device),
                            "smoke": check.smoke, "budget_s": check.budget, "cpu_count": os.cpu_count(),
                            "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu_name=torch.cuda.get_device_name(0), gpu_memory_gib=round(props.total_memory / 2 ** 30, 2),
                    gpu_capability=f"{props.major}.{props.minor}", gpu_multiprocessors=props.multi_processor_count)
    else:
        info.update(gpu_name=None, gpu_memory_gib=None)
    info["tf32_flags_at_start"] = {"matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32,
                                   "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                                   "cudnn.benchmark": torch.backends.cudnn.benchmark,
                                   "float32_matmul_precision": torch.get_float32_matmul_precision()}
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv"],
                                 capture_output=True, text=True, timeout=30)
            info["nvidia_smi"] = (out.stdout or out.stderr).strip().splitlines()
        except Exception as exc:  # noqa: BLE001
            info["nvidia_smi"] = f"{type(exc).__name__}: {exc}"
    else:
        info["nvidia_smi"] = None
    try:
        import hmogbench.device as hdev

        info["hmogbench_numerics_policy"] = hdev.set_numerics() if hasattr(hdev, "set_numerics") else None
        info["hmogbench_numerics_record"] = (hdev.numerics_record(check.device)
                                             if hasattr(hdev, "numerics_record") else None)
    except Exception as exc:  # noqa: BLE001
        info["hmogbench_numerics_record"] = error_record(exc)
    modules = {}
    for name in ("torchvision", "scipy", "tqdm", "tabulate", "yaml", "matplotlib", "PIL", "sklearn", "pandas",
                 "jinja2", "pytorch_fid", "mlxtend", "triton"):
        try:
            mod = __import__(name)
            modules[name] = getattr(mod, "__version__", "present")
        except Exception:  # noqa: BLE001
            modules[name] = None
    info["modules"] = modules
    try:
        peaks = flops_api().device_peaks
        entry = peaks(info["gpu_name"]) if peaks and info["gpu_name"] else (None, None)
        info["flops_peak_entry"] = {"entry": entry[0], "peaks": entry[1], "source": "hmogbench.flops.device_peaks"}
    except Exception as exc:  # noqa: BLE001
        info["flops_peak_entry"] = error_record(exc)
    return info


def device_peak_table(check: Check) -> tuple[dict | None, str]:
    if not check.cuda:
        return None, "cpu: no peak table"
    api = flops_api()
    name = torch.cuda.get_device_name(check.device)
    if api.device_peaks is not None:
        entry, peaks = api.device_peaks(name)
        if peaks:
            return peaks, f"hmogbench.flops.DEVICE_PEAKS[{entry!r}]"
    return H200_FALLBACK_PEAKS, "H200 datasheet dense fp32 67, TF32 494.7, bf16 989.4 TFLOP/s (fallback)"


# ---------------------------------------------------------------------------------------------------------------
# part a and b: training


def sizes(check: Check) -> SimpleNamespace:
    if check.smoke:
        return SimpleNamespace(batch=2, warmup=1, timed=1, seeds=2, procs=2, proc_steps=2, images=1, feat_batch=1,
                               knn_n=500, knn_d=64, fd_n=300, fd_d=32, chain_steps=2, chain_images=64,
                               chain_samples=32, compile_models=(("FC", 32, 1),),
                               models=(("FC", 32, 1), ("HME-L-4", 64, 3)), proc_models=("FC",))
    return SimpleNamespace(batch=128, warmup=3, timed=10, seeds=5, procs=5, proc_steps=40, images=5000,
                           feat_batch=500, knn_n=10_000, knn_d=2048, fd_n=10_000, fd_d=2048, chain_steps=20,
                           chain_images=1024, chain_samples=1000, compile_models=(("FC", 32, 1),),
                           models=(("FC", 32, 1), ("HME-L-4", 64, 3)), proc_models=("FC", "HME-L-4"))


def make_config(api: SimpleNamespace, model: str, size: int, channels: int, batch: int, steps: int, device: str,
                seed: int = 2019):
    return api.TrainConfig(model=model, image_size=size, channels=channels, batch_size=batch, steps=steps,
                           checkpoint_every=10 ** 9, log_every=10, samples_every_checkpoint=False, device=device,
                           seed=seed)


class StepClock:
    """Time stamps that do not wait for the device: CUDA events on a GPU (read once the run is over), else
    ``time.perf_counter``. ``stamp()`` at the start and after each step; ``seconds()``: stamps since the first."""

    def __init__(self, check: Check):
        self.cuda, self.device, self.marks = check.cuda, check.device, []

    def stamp(self) -> None:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            self.marks.append(event)
        else:
            self.marks.append(time.perf_counter())

    def seconds(self) -> list[float]:
        if self.cuda:
            torch.cuda.synchronize(self.device)
            return [self.marks[0].elapsed_time(e) / 1000 for e in self.marks]
        return [t - self.marks[0] for t in self.marks]


def training_data(check: Check, size: int, channels: int) -> torch.Tensor:
    """Random uint8 images, (N, C, H, W), N = 40 batches: a new epoch (its order moved to the device) every
    8 generator steps at 5 critic steps, not every step, as with a real data set."""
    n = max(40 * sizes(check).batch, 64)
    return torch.randint(0, 256, (n, channels, size, size), dtype=torch.uint8,
                         generator=torch.Generator().manual_seed(0))


def run_training(check: Check, model: str, size: int, channels: int, seeds: int, how: str, total: int,
                 on_step: Callable[[int], None], compile_mode: str | None = None):
    """The project's loop as the workflow runs it (one run, or a group of ``seeds`` vmapped or looped), for
    ``total`` generator steps; returns the (first) run's config."""
    api, sz = training_api(), sizes(check)
    data = training_data(check, size, channels)  # on the CPU: the loop puts it on the device, as in the workflow
    run_dir = Path(tempfile.mkdtemp(prefix=f"{model}-{how}-", dir=check.work))
    cfgs = [make_config(api, model, size, channels, sz.batch, total, str(check.device), seed=2019 + i)
            for i in range(seeds)]
    try:
        if how == "eager":
            api.train_from_config(cfgs[0], data, run_dir, progress=False, on_step=on_step)
        else:
            api.train_group(cfgs, data, [run_dir / f"seed{c.seed}" for c in cfgs], progress=False,
                            on_step=on_step, mode=how, compile_mode=compile_mode)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    return cfgs[0]


def time_training(check: Check, model: str, size: int, channels: int, seeds: int, how: str,
                  compile_mode: str | None = None) -> dict:
    """Train to warm-up + timed + 1 steps with the project's loop; generator steps/s over the timed steps, from
    CUDA events recorded at each ``on_step`` (no synchronisation inside the loop); the last step (log,
    checkpoint, files) is not timed."""
    api, sz = training_api(), sizes(check)
    warm, timed = sz.warmup, sz.timed
    clock = StepClock(check)
    check.reset_peak()
    check.sync()
    clock.stamp()
    cfg = run_training(check, model, size, channels, seeds, how, warm + timed + 1, lambda step: clock.stamp(),
                       compile_mode)
    ends = clock.seconds()
    step_s = [ends[i + 1] - ends[i] for i in range(warm, warm + timed)]
    per_step = float(np.median(step_s))
    figures = steps_figures(check, cfg, seeds, per_step)
    figures.update(model=model, image=f"{channels}x{size}x{size}", batch=sz.batch, mode=how, seeds=seeds,
                   compile_mode=compile_mode, warmup_steps=warm, timed_steps=timed,
                   first_step_s=round(ends[1] - ends[0], 4), warmup_s=round(ends[warm], 4),
                   timed_mean_s=round((ends[warm + timed] - ends[warm]) / timed, 6),
                   step_s=[round(t, 5) for t in step_s], peak_gpu_mem_gib=check.peak_gib(),
                   numerics=api.numerics_record(check.device), timing="CUDA events" if check.cuda else "perf_counter")
    return figures


def host_syncs(check: Check, model: str, size: int, channels: int, seeds: int, how: str) -> dict:
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
        run_training(check, model, size, channels, seeds, how, total, on_step)
    finally:
        if check.cuda:
            torch.cuda.set_sync_debug_mode(0)
    return {"model": model, "mode": how, "seeds": seeds, "checked_steps": f"2-{total - 1}",
            "host_syncs": 0 if check.cuda else None, "sync_debug_mode": "error" if check.cuda else "n/a (CPU)"}


def steps_figures(check: Check, cfg, seeds: int, seconds_per_step: float) -> dict:
    api, fl = training_api(), flops_api()
    authors = api.DEFAULT_STEPS[cfg.resolved_objective]
    steps_per_s = 1 / seconds_per_step
    flops_step = fl.step_flops(cfg) * seeds
    peaks, peak_source = device_peak_table(check)
    figures = {"seconds_per_step": round(seconds_per_step, 6), "generator_steps_per_s": round(steps_per_s, 3),
               "seed_steps_per_s": round(seeds * steps_per_s, 3), "authors_steps": authors,
               "runs_per_hour": round(3600 * seeds / (authors / steps_per_s), 4),
               "hours_per_run_group": round(authors / steps_per_s / 3600, 3),
               "step_flops": flops_step, "achieved_tflops": round(flops_step * steps_per_s / 1e12, 3),
               "peak_source": peak_source}
    if peaks:
        figures["flop_bound_s_per_step"] = {k: round(flops_step / v, 6) for k, v in peaks.items() if k != "fp64"}
        figures["fraction_of_fp32_peak"] = round(flops_step * steps_per_s / peaks["fp32"], 4)
    return figures


def time_processes(check: Check, model: str, size: int, channels: int) -> dict:
    """``procs`` separate ``python3 -m hmogbench train`` processes at once on one device: wall time for all, and
    each one's steps/s from its last progress line (steps after its first)."""
    api, sz = training_api(), sizes(check)
    data_path = check.work / f"procs-{model}.npy"
    rng = np.random.default_rng(0)
    np.save(data_path, rng.integers(0, 256, (max(40 * sz.batch, 64), size, size, channels), dtype=np.uint8))
    steps = sz.proc_steps
    procs = []
    env = cli_env()
    start = time.perf_counter()
    for i in range(sz.procs):
        out = check.work / f"procs-{model}-{i}"
        cmd = [sys.executable, "-m", "hmogbench", "train", "--data", str(data_path), "--out", str(out),
               "--no-progress", "--set", f"model={model}", "--set", f"image_size={size}", "--set",
               f"channels={channels}", "--set", f"batch_size={sz.batch}", "--set", f"steps={steps}", "--set",
               f"seed={2019 + i}", "--set", f"device={check.device}", "--set", f"progress_every={steps}",
               "--set", "samples_every_checkpoint=false", "--set", "checkpoint_every=1000000000"]
        procs.append(subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    results = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=max(60.0, check.remaining() + 60))
        rate = None
        for line in stdout.splitlines():
            if " steps/s" in line and f"step {steps:,}/" in line:
                rate = float(line.split(" steps/s")[0].rsplit(", ", 1)[1])
        results.append({"rc": p.returncode, "steps_per_s": rate,
                        "stderr_tail": stderr.strip().splitlines()[-5:] if p.returncode else None})
    wall = time.perf_counter() - start
    if any(r["rc"] != 0 for r in results):
        raise RuntimeError(f"train processes failed: {results}")
    cfg = make_config(api, model, size, channels, sz.batch, steps, str(check.device))
    rates = [r["steps_per_s"] for r in results if r["steps_per_s"]]
    figures = {"model": model, "image": f"{channels}x{size}x{size}", "batch": sz.batch, "processes": sz.procs,
               "steps_each": steps, "wall_s_all": round(wall, 3), "per_process_steps_per_s": rates,
               "note": "per-process rate: its steps after the first, from its last progress line; processes "
                       "start (imports, CUDA context) at different times, so their overlap is partial"}
    if len(rates) == sz.procs:
        # all processes at their slowest one's rate: the concurrent aggregate (a lower bound)
        figures.update(steps_figures(check, cfg, sz.procs, 1 / min(rates)))
        figures["aggregate_steps_per_s_sum"] = round(sum(rates), 3)
    figures["wall_seed_steps_per_s"] = round(sz.procs * steps / wall, 3)
    return figures


def part_a(check: Check) -> None:
    sz = sizes(check)
    for how, seeds in (("eager", 1), ("vmap", sz.seeds)):
        check.variant("a", f"no host sync FC@32 {how} x{seeds}",
                      lambda: host_syncs(check, "FC", 32, 1, seeds, how))
    for model, size, channels in sz.models:
        for how, seeds in (("eager", 1), ("vmap", sz.seeds), ("loop", sz.seeds)):
            check.variant("a", f"{model}@{size} {how} x{seeds}",
                          lambda: time_training(check, model, size, channels, seeds, how))
        if model in sz.proc_models:
            check.variant("a", f"{model}@{size} processes x{sz.procs}",
                          lambda: time_processes(check, model, size, channels))


@contextlib.contextmanager
def smoke_compile_backend(check: Check):
    """--smoke on the CPU: torch.compile with backend 'eager' (Dynamo traces the vmapped losses, no AOT autograd
    and C++ codegen, which take minutes on 2 cores); on the GPU the project's own call (inductor) is untouched."""
    if not check.smoke:
        yield "inductor"
        return
    original = torch.compile

    def compile_aot_eager(*args, **kwargs):
        kwargs["backend"] = "eager"
        kwargs.pop("mode", None)  # modes are inductor options
        return original(*args, **kwargs)

    torch.compile = compile_aot_eager
    try:
        yield "eager (smoke: Dynamo tracing only)"
    finally:
        torch.compile = original


def part_b(check: Check) -> None:
    import torch._dynamo

    sz = sizes(check)
    mode = check.args.compile_mode
    for model, size, channels in sz.compile_models:
        def run() -> dict:
            torch._dynamo.reset()
            with smoke_compile_backend(check) as backend:
                figures = time_training(check, model, size, channels, sz.seeds, "vmap", compile_mode=mode)
            figures["compile_backend"] = backend
            figures["compile_s_first_step"] = figures["first_step_s"]
            figures["dynamo_counters"] = {k: dict(v) for k, v in torch._dynamo.utils.counters.items()
                                          if k in ("stats", "graph_break", "recompiles")}
            return figures

        check.variant("b", f"{model}@{size} vmap x{sz.seeds} compile={mode}", run)


# ---------------------------------------------------------------------------------------------------------------
# part c: Inception features


def fid_network(check: Check, precision: str, channels_last: bool):
    """The project's 'fid-inception' Extractor. Its weights file if found; else random stand-in weights of the
    same architecture (pytorch-fid's FID Inception, saved to a temporary file and loaded through the project's
    ``load_space``); without pytorch-fid, torchvision's inception_v3 (nearly the same architecture and FLOPs)
    wrapped in the project's ``Extractor`` with pytorch-fid's input handling."""
    from hmogbench.metrics.spaces import Extractor, fid_preprocess, get_space, load_space
    from hmogbench.metrics.weights import resolve_weights

    try:
        resolve_weights("fid-inception")
        return load_space("fid-inception", device=check.device, precision=precision,
                          channels_last=channels_last), "the FID weights file (found)"
    except FileNotFoundError:
        pass
    try:
        import pytorch_fid.inception  # noqa: F401
    except ImportError:
        pytorch_fid = None
    else:
        pytorch_fid = True
    if pytorch_fid:
        path = check.work / "standin-fid-inception.pth"
        if not path.exists():
            torch.save(standin_fid_state_dict(), path)
        return (load_space("fid-inception", weights=path, device=check.device, precision=precision,
                           channels_last=channels_last),
                "stand-in weights: throughput only (random weights, pytorch-fid's FID Inception architecture, "
                "loaded through hmogbench.metrics.spaces.load_space)")
    import torch.nn.functional as F
    import torchvision
    from hmogbench.metrics.spaces import effective_precision

    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    model.fc = torch.nn.Identity()
    model = model.to(check.device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)

    def forward(images):
        x = F.interpolate(fid_preprocess(images), size=(299, 299), mode="bilinear", align_corners=False)
        return model(2 * x - 1)

    effective = effective_precision(precision, check.device)
    return (Extractor(get_space("fid-inception"), None, check.device, forward, model, effective),
            "stand-in weights and architecture: throughput only (pytorch-fid missing: torchvision inception_v3 "
            "with random weights, pytorch-fid's input handling)")


def standin_fid_state_dict() -> dict:
    """Random weights of pytorch-fid's FID Inception (``fid_inception_v3`` without its download)."""
    from pytorch_fid import inception as pfi

    net = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pfi.FIDInceptionE_1(1280)
    net.Mixed_7c = pfi.FIDInceptionE_2(2048)
    return net.state_dict()


def part_c(check: Check) -> None:
    from hmogbench.device import set_numerics
    from hmogbench.metrics.features import extract_features

    sz = sizes(check)
    images = torch.randint(0, 256, (sz.images, 3, 64, 64), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0))
    fl = flops_api()
    per_image = fl.inception_flops() if fl.inception_flops else None
    peaks, peak_source = device_peak_table(check)
    reference = {}
    for precision, channels_last in (("fp32", False), ("tf32", False), ("bf16", True)):
        def run() -> dict:
            set_numerics(tf32=precision == "tf32")
            extractor, weights_note = fid_network(check, precision, channels_last)
            check.reset_peak()
            if check.cuda:
                extractor(images[:sz.feat_batch])  # warm-up (cuDNN algorithm choice, allocator)
            check.sync()
            start = time.perf_counter()
            feats = extract_features(images, extractor, batch_size=sz.feat_batch)
            check.sync()
            seconds = time.perf_counter() - start
            figures = {"precision": precision, "effective_precision": extractor.precision,
                       "channels_last": channels_last, "images": sz.images, "batch": sz.feat_batch,
                       "images_per_s": round(sz.images / seconds, 2), "timed_s": round(seconds, 4),
                       "weights": weights_note, "feature_dims": int(feats.shape[1]),
                       "peak_gpu_mem_gib": check.peak_gib(),
                       "tf32_flags": {"matmul": torch.backends.cuda.matmul.allow_tf32,
                                      "cudnn": torch.backends.cudnn.allow_tf32}}
            if per_image:
                figures["inception_flops_per_image"] = per_image
                figures["achieved_tflops"] = round(per_image * sz.images / seconds / 1e12, 3)
                if peaks:
                    key = {"fp32": "fp32", "tf32": "tf32", "bf16": "bf16"}[precision]
                    figures["flop_bound_s"] = round(per_image * sz.images / peaks[key], 4)
                    figures["peak_source"] = peak_source
            if "fp32" in reference:
                figures["max_abs_diff_vs_fp32"] = float(np.abs(feats - reference["fp32"]).max())
            else:
                reference["fp32"] = feats
            return figures

        check.variant("c", f"fid-inception {precision}{' channels-last' if channels_last else ''}", run)
    set_numerics(tf32=False)


# ---------------------------------------------------------------------------------------------------------------
# part d: k-NN and FD


def part_d(check: Check) -> None:
    from hmogbench.metrics.fid import frechet_distance, statistics
    from hmogbench.metrics.knn import knn_score

    sz = sizes(check)
    rng = np.random.default_rng(0)
    real = rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32)
    fake = (rng.standard_normal((sz.knn_n, sz.knn_d), dtype=np.float32) + 0.05).astype(np.float32)
    devices = ([check.device] if not check.cuda else [check.device, torch.device("cpu")])
    for device in devices:
        def run_knn() -> dict:
            if device.type == "cuda":
                knn_score(real[:256], fake[:256], 5, device=device)  # warm-up
            check.sync()
            start = time.perf_counter()
            score = knn_score(real, fake, 5, device=device)
            check.sync()
            seconds = time.perf_counter() - start
            n = 2 * sz.knn_n
            return {"device": str(device), "points": n, "dims": sz.knn_d, "k": 5, "seconds": round(seconds, 4),
                    "real_pct": score.real_pct, "fake_pct": score.fake_pct,
                    "fp64_gemm_flops": 2 * n * n * sz.knn_d}

        check.variant("d", f"knn 5-NN {device.type} 2x{sz.knn_n}x{sz.knn_d}", run_knn)

    fr, ff = real[:sz.fd_n, :sz.fd_d], fake[:sz.fd_n, :sz.fd_d]

    def run_fd() -> dict:
        start = time.perf_counter()
        s1, s2 = statistics(fr), statistics(ff)
        stats_s = time.perf_counter() - start
        start = time.perf_counter()
        fd = frechet_distance(*s1, *s2)
        return {"device": "cpu (numpy/scipy; hmogbench.metrics.fid has no torch path)", "n": sz.fd_n,
                "dims": sz.fd_d, "statistics_s": round(stats_s, 4),
                "frechet_distance_s": round(time.perf_counter() - start, 4), "fd": fd}

    fd_cpu = check.variant("d", f"fd hmogbench cpu {sz.fd_n}x{sz.fd_d}", run_fd)

    def run_fd_torch() -> dict:
        """The same formula (Cholesky factors, eigenvalues of the cross Gram matrix) in float64 torch."""
        dev = check.device
        check.sync()
        start = time.perf_counter()
        xs = [torch.as_tensor(x, device=dev, dtype=torch.float64) for x in (fr, ff)]
        mus = [x.mean(0) for x in xs]
        covs = [torch.cov(x.T) for x in xs]
        r1, r2 = (torch.linalg.cholesky(c) for c in covs)
        cross = r1.T @ r2
        ev = torch.linalg.eigvalsh(cross @ cross.T)
        diff = mus[0] - mus[1]
        fd = float(diff @ diff + covs[0].trace() + covs[1].trace() - 2 * ev.clamp(min=0).sqrt().sum())
        check.sync()
        figures = {"device": str(dev), "seconds_incl_statistics": round(time.perf_counter() - start, 4), "fd": fd,
                   "note": "a torch re-implementation for comparison, not hmogbench code"}
        if fd_cpu:
            figures["rel_diff_vs_hmogbench"] = abs(fd - fd_cpu["fd"]) / max(abs(fd_cpu["fd"]), 1e-300)
        return figures

    check.variant("d", f"fd torch-equivalent {check.device.type} {sz.fd_n}x{sz.fd_d}", run_fd_torch)


# ---------------------------------------------------------------------------------------------------------------
# part e: the CLI chain


def cli_env() -> dict:
    env = dict(os.environ)
    if torch.get_num_threads() == 1:  # --smoke: its child processes as the check itself
        env.setdefault("OMP_NUM_THREADS", "1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def part_e(check: Check) -> None:
    sz = sizes(check)
    work = check.work / "chain"
    work.mkdir()
    rng = np.random.default_rng(0)
    real = work / "real.npy"
    np.save(real, rng.integers(0, 256, (sz.chain_images, 32, 32, 1), dtype=np.uint8))
    batch = 8 if check.smoke else 64
    hm = [sys.executable, "-m", "hmogbench"]
    steps = [
        ("train", hm + ["train", "--data", str(real), "--out", str(work / "run"), "--no-progress",
                        "--set", "model=FC", "--set", f"steps={sz.chain_steps}", "--set", f"batch_size={batch}",
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
    failed = False
    for name, cmd in steps:
        def run() -> dict:
            if failed:
                raise RuntimeError("an earlier command of the chain failed")
            start = time.perf_counter()
            p = subprocess.run(cmd, cwd=REPO, env=cli_env(), capture_output=True, text=True,
                               timeout=max(60.0, check.remaining() + 60))
            seconds = time.perf_counter() - start
            figures = {"command": " ".join(cmd[1:]), "rc": p.returncode, "wall_s": round(seconds, 3)}
            if p.returncode != 0:
                raise RuntimeError(f"exit {p.returncode} after {seconds:.1f} s: "
                                   + " | ".join(p.stderr.strip().splitlines()[-8:]))
            figures["stdout_tail"] = p.stdout.strip().splitlines()[-2:] if name != "score" else None
            if name == "score":
                result = json.loads((work / "metrics.json").read_text())
                figures["score"] = {k: result.get(k) for k in ("fd_name", "fd", "knn_real_pct", "knn_fake_pct",
                                                               "kid_mean", "n_real", "n_fake")}
                figures["device"] = result.get("provenance", {}).get("device")
            return figures

        if check.variant("e", f"cli {name}", run) is None:
            failed = True


# ---------------------------------------------------------------------------------------------------------------


PART_FUNCTIONS = {"a": part_a, "b": part_b, "c": part_c, "d": part_d, "e": part_e}


def summary_rows(lines: list[dict]) -> list[tuple]:
    rows = []
    for line in lines[1:]:
        f = line.get("figures") or {}
        if line.get("skipped"):
            result = f"skipped: {line['skipped']}"
        elif not line.get("ok"):
            err = line.get("error") or {}
            result = f"ERROR {err.get('type')}: {str(err.get('message'))[:70]}"
        elif line["part"] in ("a", "b"):
            result = (f"{f.get('generator_steps_per_s')} steps/s, {f.get('runs_per_hour')} runs/h, "
                      f"mem {f.get('peak_gpu_mem_gib')} GiB")
            if line["part"] == "b":
                result += f", compile {f.get('compile_s_first_step')} s"
            if "wall_s_all" in f:
                result += f", wall {f['wall_s_all']} s"
        elif line["part"] == "c":
            result = f"{f.get('images_per_s')} img/s ({f.get('effective_precision')})"
        elif line["part"] == "d":
            result = f"{f.get('seconds', f.get('frechet_distance_s', f.get('seconds_incl_statistics')))} s"
        else:
            result = f"rc {f.get('rc')}, {f.get('wall_s')} s"
        rows.append((line["part"], line["name"], result, line.get("seconds")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="folder of gpu_check.jsonl")
    parser.add_argument("--smoke", action="store_true", help="the same code on the CPU at tiny sizes")
    parser.add_argument("--budget-s", type=float, default=540.0, help="time budget of the whole check (seconds)")
    parser.add_argument("--parts", default=",".join(PARTS), help="comma-separated parts to run (default: all)")
    parser.add_argument("--fail-part", metavar="PART", help="for tests: make this part raise at its start")
    parser.add_argument("--compile-mode", default="default", help="part b's torch.compile mode (default: default)")
    args = parser.parse_args(argv)
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown parts {unknown}; expected some of {PARTS}")

    check = Check(args)
    if args.smoke:
        # one thread: on a small shared CPU box, OpenMP's barriers collapse when other work takes the cores
        torch.set_num_threads(1)
    start = time.perf_counter()
    try:
        check.write("probe", "environment", True, None, figures=probe(check))
    except Exception as exc:  # noqa: BLE001
        check.write("probe", "environment", False, None, error=error_record(exc))
    expected = EXPECTED_SMOKE_S if args.smoke else EXPECTED_S
    for part in parts:
        name = PART_NAMES[part]
        if check.remaining() < expected[part]:
            check.write(part, name, False, 0.0, skipped="budget",
                        figures={"remaining_s": round(check.remaining(), 1), "expected_s": expected[part]})
            continue
        part_start = time.perf_counter()
        try:
            if args.fail_part == part:
                raise RuntimeError(f"--fail-part {part}: a deliberate failure (test)")
            PART_FUNCTIONS[part](check)
        except Exception as exc:  # noqa: BLE001  a failing part must not stop the next
            check.write(part, name, False, time.perf_counter() - part_start, error=error_record(exc))
        else:
            check.write(part, f"{name} done", True, time.perf_counter() - part_start,
                        figures={"expected_s": expected[part]})
    total = time.perf_counter() - start
    check.write("end", "total", True, total, figures={"budget_s": check.budget})
    check.rec.close()
    shutil.rmtree(check.work, ignore_errors=True)
    from tabulate import tabulate

    print(tabulate(summary_rows(check.rec.lines), headers=("part", "measurement", "result", "s"), tablefmt="github"))
    print(f"\n{len(check.rec.lines)} lines -> {check.rec.path} ({total:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
