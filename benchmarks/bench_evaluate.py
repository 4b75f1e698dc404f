"""Evaluation of one (set, model): the old per-step chain of processes against one `hmogbench evaluate` process,
side by side on this machine, then an estimate from the measured parts of a full evaluation on a GPU.
Writes results/bench/evaluate_<device>.json and prints Markdown tables.

    python -m benchmarks.bench_evaluate                                   # mnist-5k FC, 3 seeds, 64 images, CPU
    python -m benchmarks.bench_evaluate --count 200 --seeds 2019 2020 --fid-weights W.pth
    python -m benchmarks.bench_evaluate --device-peaks A100 --features-measured results/bench/features_cuda.json
    python -m benchmarks.bench_evaluate --parts-from results/bench/evaluate_cpu.json --knn-measured KNN.json

(the ``hmogbench`` command next to this Python is run where there is one, e.g. after ``pip install -e .``,
else ``python -m hmogbench``).

Part 1, measured: a tiny FC run per seed is trained (``--steps`` generator steps, mnist-5k; or ``--runs``
given), the real test set's features are taken once per space (shared by both paths, timed apart), then
(a) the chain exactly as the old workflow rules ran it, one process after the other: per seed ``hmogbench
sample``, per seed and space ``hmogbench features`` and ``hmogbench score --precomputed`` (S + 2 S P
processes), and (b) one ``hmogbench evaluate`` process over every seed and space (``--fake-pixels uint8``: the
chain's samples are uint8 files). Both in the spaces pixels and fid-inception (the latter only when its
weights are found: ``--fid-weights``, $HMOGBENCH_FID_WEIGHTS or the usual places). Wall seconds of each path,
process counts, the evaluate path's parts from its log lines (sampling, features per space, scoring: FD, KID,
5-NN on its worker thread; the log gives 0.1 s), the process start-up (``hmogbench --version`` and ``python -c
"import hmogbench.evaluation.job"``, best of 3) and the loading of the networks (in this process). The two paths'
fd, knn_real_pct, knn_fake_pct (and kid_mean) per space and seed are checked to agree.

Part 2, an estimate (not a measurement) of one (set, model) with 5 seeds x 2 spaces (thesis-inception,
fid-inception) x 10,000 images on a GPU (``--device-peaks``, default H100 SXM from hmogbench.training.flops): features
= images x inception_flops / (share x peak) or the images/s of a bench_features.py JSON (--features-measured),
sampling = images x model_flops(cfg).generator / (share x peak), for a 32x32 (mnist) and a 64x64 (celeba)
model; peak = the fp32 (CUDA-core) rate, since hmogbench's default precision is IEEE fp32 with TF32 off
(hmogbench/runtime/device.py; --precision tf32/bf16 for the opt-in paths); FD, 5-NN (and KID when present) seconds
from bench_metrics.py's JSON (--metrics-measured, on the device it names: evaluate runs the FD on the CPU, the
5-NN and KID on the GPU, so a CPU-measured 5-NN is pessimistic; --knn-measured takes it from a GPU's
``--knn-only`` JSON); start-up and network loading as measured here; a CUDA start assumed (--cuda-init-s).
``--parts-from`` an earlier record redoes only the estimate. The real set's features (once per data set and
space, another job) are not included.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from benchmarks.lib.device_probe import device_info
from benchmarks.lib.records import write_record
from benchmarks.lib.standins import thesis_weights_file
from benchmarks.lib.tables import evaluate_estimate_table, evaluate_measured_table
from benchmarks.lib.timing import timed

COMPARED = ("fd", "knn_real_pct", "knn_fake_pct", "kid_mean")  # kid_mean: checked too, where both have it
RTOL = 1e-6
ESTIMATE_SPACES = ("thesis-inception", "fid-inception")
ESTIMATE_SIZES = {32: "mnist", 64: "celeba"}  # image size -> a data set of that size (its channels)
SHARED_INCEPTION = Path(__file__).resolve().parents[2] / "shared" / "data" / "inception"
SAMPLE_LINE = re.compile(r"seed (\d+): (\d+) samples \(z seed \d+\) in ([\d.]+) s")
FEATURE_LINE = re.compile(r"seed (\d+): (\S+) features (\d+) x (\d+) in ([\d.]+) s")
SCORE_LINE = re.compile(r"seed (\d+): .*5-NN real .*\(([\d.]+) s\) -> (\S+)$")


def say(message: str) -> None:
    print(f"[bench_evaluate] {message}", flush=True)


def hmogbench_command() -> list[str]:
    """The ``hmogbench`` console script next to this Python (as the rules call it), else ``python -m``."""
    script = Path(sys.executable).with_name("hmogbench")
    if script.is_file():
        return [str(script)]
    found = shutil.which("hmogbench")
    return [found] if found else [sys.executable, "-m", "hmogbench"]


def run_process(cmd: list[str], label: str, echo: bool = False) -> tuple[float, list[str]]:
    """(wall seconds, stdout lines) of one process; ``echo``: its lines are printed as they come. A failure
    is one line naming the command and its last error line."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line.rstrip("\n"))
        if echo:
            print(f"    {lines[-1]}", flush=True)
    err = proc.stderr.read().strip().splitlines()
    if proc.wait() != 0:
        raise SystemExit(f"{label} failed (exit {proc.returncode}): {' '.join(cmd)}: "
                         f"{err[-1] if err else 'no error output'}")
    return time.perf_counter() - start, lines


def startup_seconds(cmd: list[str], repeats: int = 3) -> float:
    """Best wall seconds of ``repeats`` runs of a do-nothing process (a shared machine only ever slows it)."""
    return min(run_process(cmd, "start-up")[0] for _ in range(repeats))


def find_fid_weights(given: str | None) -> Path | None:
    """The fid-inception weights: given, else the usual search, else the project's shared data folder
    (../shared/data/inception/ next to the checkout); None (fid-inception skipped) if none is found; a given
    file that does not exist is one line naming it."""
    from hmogbench.metrics.weights import resolve_weights

    try:
        return resolve_weights("fid-inception", given).path
    except FileNotFoundError as exc:
        if given:
            raise SystemExit(f"--fid-weights: {exc}") from None
        shared = sorted(SHARED_INCEPTION.glob("pt_inception-2015-12-05*.pth"))
        if shared:
            return resolve_weights("fid-inception", shared[0]).path
        say(f"fid-inception skipped: {str(exc).split('. ')[0]} nor in {SHARED_INCEPTION}")
        return None


def prepare_inputs(args, work: Path, hmog: list[str]) -> tuple[Path, list[Path], dict]:
    """(real test .npy, one run directory per seed, setup seconds): the given ones, else prepared/trained
    in ``work`` (not timed as part of either path)."""
    times = {}
    real = Path(args.real)
    if not real.is_file():
        say(f"{real} not found: preparing mnist-5k in {work / 'data'}")
        times["data_prepare_s"], _ = run_process(hmog + ["data", "prepare", "mnist-5k", "--out", str(work / "data")],
                                                 "hmogbench data prepare")
        real = work / "data" / "mnist-5k" / "test.npy"
    if args.runs:
        runs = [Path(r) for r in args.runs]
        missing = [str(r) for r in runs if not (r / "generator.pt").is_file()]
        if missing:
            raise SystemExit(f"--runs: no generator.pt in {', '.join(missing)}")
        return real, runs, times
    say(f"training {args.model} for {args.steps} steps, seeds {' '.join(map(str, args.seeds))} (setup)")
    out = work / "runs" / args.model
    times["train_s"], _ = run_process(
        hmog + ["train", "--data", "mnist-5k", "--set", f"model={args.model}", "--set", f"steps={args.steps}",
                "--set", "batch_size=8", "--set", f"device={args.device}", "--seeds", *map(str, args.seeds),
                "--out", str(out), "--no-progress"], "hmogbench train")
    return real, [out / f"seed{s}" for s in args.seeds], times


def weights_options(space: str, weights: dict[str, Path]) -> list[str]:
    return ["--weights", str(weights[space])] if space in weights else []


def real_features(args, work: Path, hmog, real: Path, spaces, weights) -> tuple[str, dict]:
    """The real set's features per space (as rule real_features), shared by both paths: (pattern, seconds)."""
    pattern, seconds = str(work / "real" / "{space}" / "real.npy"), {}
    for space in spaces:
        cmd = hmog + ["features", str(real), "--features", space, "--limit", str(args.count),
                      *weights_options(space, weights), "--device", args.device, "--batch-size",
                      str(args.batch_size), "--out", pattern.format(space=space), "--no-progress"]
        seconds[space], _ = run_process(cmd, f"real features ({space})")
        say(f"real features {space}: {seconds[space]:.1f} s (setup, shared by both paths)")
    return pattern, seconds


def run_chain(args, work: Path, hmog, real: Path, runs, spaces, weights, real_pattern: str) -> dict:
    """The old rules sample -> fake_features -> score, one process each, sequentially (their shell lines)."""
    out = work / "chain"
    steps = {"sample": 0.0, "features": {s: 0.0 for s in spaces}, "score": {s: 0.0 for s in spaces}}
    start, processes = time.perf_counter(), 0
    for run in runs:
        seed = run.name.removeprefix("seed")
        samples = out / "samples" / f"seed{seed}.npy"
        seconds, _ = run_process(hmog + ["sample", str(run / "generator.pt"), "--count", str(args.count),
                                         "--at-most-like", str(real), "--device", args.device, "--out",
                                         str(samples), "--no-progress"], "hmogbench sample")
        steps["sample"] += seconds
        processes += 1
        say(f"chain seed {seed}: sample {seconds:.1f} s")
        for space in spaces:
            feats = out / "features" / space / f"seed{seed}.npy"
            seconds, _ = run_process(hmog + ["features", str(samples), "--features", space,
                                             *weights_options(space, weights), "--precision", "fp32", "--device",
                                             args.device, "--batch-size", str(args.batch_size), "--out",
                                             str(feats), "--no-progress"], "hmogbench features")
            score_s, _ = run_process(hmog + ["score", "--precomputed", real_pattern.format(space=space), str(feats),
                                             "--device", args.device, "--out",
                                             str(out / "metrics" / space / f"seed{seed}.json"), "--no-progress"],
                                     "hmogbench score")
            steps["features"][space] += seconds
            steps["score"][space] += score_s
            processes += 2
            say(f"chain seed {seed}: {space} features {seconds:.1f} s, score {score_s:.1f} s")
    return {"wall_s": round(time.perf_counter() - start, 2), "processes": processes,
            "process_seconds": round_tree(steps), "metrics": str(out / "metrics" / "{space}" / "seed{seed}.json")}


def run_evaluate(args, work: Path, hmog, real: Path, runs, spaces, weights, real_pattern: str) -> dict:
    """One ``hmogbench evaluate`` process over every run and space (as rule evaluate), its log parsed."""
    out = str(work / "evaluate" / "{space}" / "{model}" / "seed{seed}.json")
    cmd = hmog + ["evaluate", *[str(r / "generator.pt") for r in runs], "--spaces", *spaces,
                  "--count", str(args.count), "--at-most-like", str(real), "--real-features", real_pattern,
                  "--out", out, *[x for s, p in weights.items() for x in ("--weights", f"{s}={p}")],
                  "--precision", "fp32", "--fake-pixels", "uint8", "--device", args.device,
                  "--batch-size", str(args.batch_size), "--no-progress"]
    say("evaluate: one process, its log:")
    seconds, lines = run_process(cmd, "hmogbench evaluate", echo=True)
    return {"wall_s": round(seconds, 2), "processes": 1, "parts_from_log": parse_parts(lines, spaces),
            "metrics": out.replace("{model}", runs[0].parent.name), "command": " ".join(cmd), "log": lines}


def parse_parts(lines: list[str], spaces) -> dict:
    """Seconds of sampling, features per space and scoring per space (worker thread) summed over seeds."""
    parts = {"sampling_s": 0.0, "features_s": {s: 0.0 for s in spaces}, "scoring_s": {s: 0.0 for s in spaces},
             "seeds_sampled": 0}
    for line in lines:
        if m := SAMPLE_LINE.search(line):
            parts["sampling_s"] += float(m[3])
            parts["seeds_sampled"] += 1
        elif m := FEATURE_LINE.search(line):
            parts["features_s"][m[2]] += float(m[5])
        elif m := SCORE_LINE.search(line):
            parts["scoring_s"][Path(m[3]).parts[-3]] += float(m[2])
    if parts["seeds_sampled"] == 0:
        raise SystemExit("hmogbench evaluate: no '... samples (z seed ...) in ... s' line in its log: "
                         "its log format changed (update the patterns in benchmarks/bench_evaluate.py)")
    parts["log_resolution_s"] = 0.1
    return round_tree(parts)


def read_json(path: str | Path, option: str) -> dict:
    """A JSON file given with ``option``; a missing or unreadable one is one line naming both."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise SystemExit(f"{option} {path}: cannot read it as JSON ({exc.__class__.__name__}: {exc})") from None


def round_tree(value, digits: int = 3):
    if isinstance(value, dict):
        return {k: round_tree(v, digits) for k, v in value.items()}
    return round(value, digits) if isinstance(value, float) else value


def compare(chain_pattern: str, evaluate_pattern: str, spaces, seeds) -> dict:
    """The two paths' figures per space and seed: agree within RTOL? (max relative difference)"""
    worst, rows = 0.0, []
    for space in spaces:
        for seed in seeds:
            a = json.loads(Path(chain_pattern.format(space=space, seed=seed)).read_text())
            b = json.loads(Path(evaluate_pattern.format(space=space, seed=seed)).read_text())
            for key in COMPARED:
                if a.get(key) is None and b.get(key) is None and key == "kid_mean":
                    continue
                if a.get(key) is None or b.get(key) is None:
                    raise SystemExit(f"{key} missing from the chain's or evaluate's record of {space} seed {seed}")
                rel = abs(a[key] - b[key]) / max(abs(a[key]), 1e-12)
                worst = max(worst, rel)
                rows.append({"space": space, "seed": seed, "key": key, "chain": a[key], "evaluate": b[key],
                             "identical": a[key] == b[key]})
    same = worst <= RTOL
    say(f"check: {len(rows)} figures ({', '.join(COMPARED)}) {'agree' if same else 'DIFFER'} "
        f"(max relative difference {worst:.2e}, tolerance {RTOL:g}; {sum(r['identical'] for r in rows)} identical)")
    return {"same_numbers": same, "max_relative_difference": worst, "rtol": RTOL, "keys": list(COMPARED),
            "identical": sum(r["identical"] for r in rows), "compared": len(rows), "values": rows}


def loading_seconds(fid_weights: Path | None, run: Path, device: torch.device, work: Path) -> dict:
    """Seconds to load the networks in this process (already importing hmogbench): one generator, and one
    Inception network (fid-inception's weights, else a seeded stand-in of the thesis's architecture,
    ``standins.thesis_weights_file``, as thesis-inception)."""
    from hmogbench.metrics import load_space
    from hmogbench.training.sampling import load_generator

    space, weights = ("fid-inception", fid_weights) if fid_weights else ("thesis-inception",
                                                                         thesis_weights_file(work))
    generator_s, _ = timed(load_generator, run, device, device=device)
    inception_s, _ = timed(lambda: load_space(space, weights=weights, device=device), device=device)  # timed's device=
    return {"generator_s": round(generator_s, 3), "inception_s": round(inception_s, 3), "inception_space": space}


def measure(args, work: Path, device: torch.device) -> dict:
    """Part 1: both paths on this machine, the check, start-up and loading."""
    hmog = hmogbench_command()
    fid_weights = find_fid_weights(args.fid_weights)
    spaces = ["pixels"] + (["fid-inception"] if fid_weights else [])
    weights = {"fid-inception": fid_weights} if fid_weights else {}
    real, runs, setup = prepare_inputs(args, work, hmog)
    seeds = [json.loads((r / "run.json").read_text())["config"]["seed"] if (r / "run.json").is_file()
             else int(r.name.removeprefix("seed")) for r in runs]
    real_pattern, setup["real_features_s"] = real_features(args, work, hmog, real, spaces, weights)
    say(f"chain: {len(runs)} sample + {2 * len(runs) * len(spaces)} features/score processes, sequentially")
    chain = run_chain(args, work, hmog, real, runs, spaces, weights, real_pattern)
    evaluate = run_evaluate(args, work, hmog, real, runs, spaces, weights, real_pattern)
    check = compare(chain["metrics"], evaluate["metrics"], spaces, seeds)
    say("start-up and network loading")
    startup = {"hmogbench_version_s": round(startup_seconds(hmog + ["--version"]), 3),
               "import_evaluation_s": round(startup_seconds([sys.executable, "-c", "import hmogbench.evaluation.job"]), 3)}
    return {"set": "mnist-5k", "model": runs[0].parent.name, "seeds": seeds, "spaces": spaces, "count": args.count,
            "fid_weights": str(fid_weights) if fid_weights else None, "setup_s": round_tree(setup),
            "old_chain": chain, "evaluate": evaluate, "check": check, "startup": startup,
            "loading": loading_seconds(fid_weights, runs[0], device, work)}


def measured_metrics(path: str | None, knn_path: str | None, images: int) -> dict:
    """Seconds of one FD, one 5-NN and one KID (per seed and space: ``per_score_s``) from bench_metrics.py's
    JSON: the keys ``frechet_distance.seconds``, ``knn.seconds``, ``kid.seconds`` (``knn_path``: the 5-NN from
    another such JSON, e.g. ``--knn-only`` on a GPU); each one absent is named in ``missing`` and left out of
    the total. Where the FD block times the statistics apart (``statistics_seconds``, both sets), ``seconds``
    is the distance alone: the statistics are added, scaled to ``images`` per set (linear in N)."""
    out: dict = {"source": path, "missing": []}
    if path is None:
        out["missing"].append("no bench_metrics.py JSON (--metrics-measured; default results/bench/metrics_cpu.json)"
                              ": FD, 5-NN and KID left out")
        return out
    for part, key, label in (("fd", "frechet_distance", "FD"), ("knn", "knn", "5-NN"), ("kid", "kid", "KID")):
        file = knn_path if part == "knn" and knn_path else path
        record = read_json(file, "--knn-measured" if file == knn_path else "--metrics-measured")
        block = record.get(key)
        if not isinstance(block, dict) or not isinstance(block.get("seconds"), (int, float)):
            out["missing"].append(f"{file}: no '{key}.seconds' (bench_metrics.py has not measured it): "
                                  f"{label} left out of the total")
            continue
        out[part] = {**{k: v for k, v in block.items() if isinstance(v, (int, float, str))},
                     "per_score_s": block["seconds"], "source": metric_source(part, block, record, file)}
        if part == "fd" and isinstance(block.get("statistics_seconds"), (int, float)) and block.get("n_per_set"):
            out[part]["per_score_s"] += block["statistics_seconds"] * images / block["n_per_set"]
            out[part]["source"] += f"; + statistics {block['statistics_seconds']} s scaled to {images:,} per set"
    return out


def metric_source(part: str, block: dict, record: dict, file: str) -> str:
    """Where one metrics figure comes from, in words (a CPU-measured 5-NN or KID runs on the GPU in evaluate)."""
    where = block.get("where") or record.get("device", {}).get("name", "unknown device")
    shape = f"2 x {block['n_per_set']} x {block['dims']}, " if "n_per_set" in block and "dims" in block else ""
    on_cpu = part != "fd" and record.get("device", {}).get("type") == "cpu"
    return (f"measured ({shape}{block['seconds']} s each) on {where} ({file})"
            + ("; evaluate runs it on the GPU: pessimistic" if on_cpu else ""))


def feature_rate(args, peaks: dict) -> dict:
    """Images/s of one Inception space: bench_features.py's measured figure, else FLOPs / (share x peak)."""
    from hmogbench.training.flops import inception_flops

    if args.features_measured:
        record = read_json(args.features_measured, "--features-measured")
        variant = record.get("results", {}).get(args.features_variant, {})
        if "images_per_s" not in variant:
            raise SystemExit(f"--features-measured {args.features_measured}: no results.{args.features_variant}"
                             ".images_per_s (bench_features.py's figures; --features-variant)")
        return {"images_per_s": variant["images_per_s"], "measured": True,
                "source": f"measured ({args.features_variant}) on {record['device']['name']}"}
    flops = inception_flops()
    return {"images_per_s": args.share * peaks[args.precision] / flops, "measured": False,
            "flops_per_image": flops,
            "source": f"assumed: {flops / 1e9:.2f} GFLOPs per 299x299 image / ({args.share:.0%} of the "
                      f"{args.device_peaks} {args.precision} peak)"}


def sampling_seconds(args, size: int, images: int, peaks: dict) -> tuple[float, int]:
    """(seconds, FLOPs per sample) of the generator's forward passes: FLOPs / (share x peak)."""
    from hmogbench.training.config import TrainConfig
    from hmogbench.training.flops import model_flops

    cfg = TrainConfig(model=args.model, dataset=ESTIMATE_SIZES[size], image_size=size, channels=1 if size == 32 else 3)
    g = model_flops(cfg).generator
    return images * g / (args.share * peaks[args.precision]), g


def estimate_size(args, size: int, parts_here: dict, rate: dict, metrics: dict, peaks: dict) -> dict:
    """The parts (seconds) of one (set, model) at ``size``: seeds x spaces x images on the GPU."""
    seeds, spaces, images = args.estimate_seeds, len(ESTIMATE_SPACES), args.estimate_images
    sampling, g = sampling_seconds(args, size, seeds * images, peaks)
    parts = {"start-up": parts_here["startup_s"], "CUDA initialisation": args.cuda_init_s,
             "network loading": parts_here["generator_s"] * seeds + parts_here["inception_s"] * spaces,
             "sampling": sampling, "features": seeds * spaces * images / rate["images_per_s"]}
    scoring = {name: metrics[key]["per_score_s"] * seeds * spaces for key, name in
               (("fd", "FD"), ("knn", "5-NN"), ("kid", "KID")) if key in metrics}
    parts.update(scoring)
    fixed = sum(parts[k] for k in ("start-up", "CUDA initialisation", "network loading"))
    device_per_seed = (parts["sampling"] + parts["features"]) / seeds
    worker_per_seed = sum(scoring.values()) / seeds
    pipelined = fixed + device_per_seed + (seeds - 1) * max(device_per_seed, worker_per_seed) + worker_per_seed
    return {"image_size": size, "generator_flops_per_sample": g, "parts_s": round_tree(parts),
            "total_serial_s": round(sum(parts.values()), 2), "total_overlapped_s": round(pipelined, 2)}


def here_parts(measured: dict) -> dict:
    """Start-up and loading seconds measured here (those the estimate takes as they are)."""
    loading = measured["loading"]
    return {"startup_s": max(measured["startup"].values()), "generator_s": loading["generator_s"],
            "inception_s": loading["inception_s"]}


def estimate(args, measured: dict, here_device: str) -> dict:
    """Part 2: the full evaluation of one (set, model) on ``args.device_peaks``, per image size."""
    from hmogbench.training.flops import DEVICE_PEAKS

    peaks, parts_here = DEVICE_PEAKS[args.device_peaks], here_parts(measured)
    rate, metrics = feature_rate(args, peaks), measured_metrics(args.metrics_measured, args.knn_measured,
                                                                   args.estimate_images)
    for line in metrics["missing"]:
        say(line)
    sizes = [estimate_size(args, size, parts_here, rate, metrics, peaks) for size in ESTIMATE_SIZES]
    sources = {"start-up": f"measured here on {here_device} (max of hmogbench --version, import)",
               "CUDA initialisation": "assumed (--cuda-init-s)",
               "network loading": f"measured here on {here_device}: generator x seeds + Inception x spaces",
               "sampling": f"assumed: model_flops(cfg).generator / ({args.share:.0%} of the {args.device_peaks} "
                           f"{args.precision} peak)",
               "features": rate["source"],
               **{name: metrics[key]["source"] for key, name in (("fd", "FD"), ("knn", "5-NN"), ("kid", "KID"))
                  if key in metrics}}
    return {"what": f"one (set, {args.model}): {args.estimate_seeds} seeds x {len(ESTIMATE_SPACES)} spaces "
                    f"({', '.join(ESTIMATE_SPACES)}) x {args.estimate_images:,} images",
            "gpu": args.device_peaks, "peaks": peaks, "precision": args.precision, "share": args.share,
            "feature_rate": rate, "metrics_measured": metrics, "sources": sources, "sizes": sizes,
            "not_included": ["the real set's features (once per data set and space, rule real_features)",
                             "resizing to 299x299 and host-device copies (memory-bound, not in the FLOPs)"],
            "overlap": "total_overlapped_s: sampling + features on the main thread, FD/KID/5-NN of the previous "
                       "seed on the worker thread (t = fixed + D + (S-1) max(D, C) + C per seed; the GPU "
                       "shared by features and 5-NN/KID is not modelled)"}


def parse_args() -> argparse.Namespace:
    from hmogbench.training.flops import DEVICE_PEAKS

    default_metrics = Path("results/bench/metrics_cpu.json")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", help="device of both paths (cpu, cuda[:N])")
    parser.add_argument("--model", default="FC")
    parser.add_argument("--seeds", type=int, nargs="+", default=[2019, 2020, 2021])
    parser.add_argument("--steps", type=int, default=2, help="generator steps of the tiny training runs")
    parser.add_argument("--runs", nargs="+", help="existing run directories instead of training (one per seed)")
    parser.add_argument("--real", default="results/data/mnist-5k/test.npy",
                        help="real test images (uint8 .npy; prepared in the work folder if absent)")
    parser.add_argument("--count", type=int, default=64, help="images per seed (and real images)")
    parser.add_argument("--batch-size", type=int, default=100, help="feature batch (config feature_batch_size)")
    parser.add_argument("--fid-weights", help="fid-inception weights (default: the usual search)")
    parser.add_argument("--work", help="folder for runs, samples, features and records (default: a temporary one)")
    parser.add_argument("--parts-from", help="an earlier evaluate JSON: redo only the estimate from its parts")
    parser.add_argument("--device-peaks", default="H100 SXM", choices=list(DEVICE_PEAKS))
    parser.add_argument("--precision", default="fp32", choices=["fp32", "tf32", "bf16"],
                        help="peak of the estimate (fp32: hmogbench's default, TF32 off)")
    parser.add_argument("--share", type=float, default=0.3, help="assumed achieved share of the peak")
    parser.add_argument("--features-measured", help="bench_features.py JSON: its images/s instead of FLOPs")
    parser.add_argument("--features-variant", default="fp32", help="which of its results (default fp32)")
    parser.add_argument("--metrics-measured", default=str(default_metrics) if default_metrics.is_file() else None,
                        help="bench_metrics.py JSON (FD, 5-NN, KID seconds)")
    parser.add_argument("--knn-measured", help="bench_metrics.py JSON for the 5-NN alone (e.g. --knn-only on a GPU)")
    parser.add_argument("--estimate-seeds", type=int, default=5)
    parser.add_argument("--estimate-images", type=int, default=10_000)
    parser.add_argument("--cuda-init-s", type=float, default=1.0, help="assumed CUDA context + library start")
    parser.add_argument("--out", help="JSON (default results/bench/evaluate_<device type>.json)")
    return parser.parse_args()


def main() -> None:
    from hmogbench.runtime.device import prepare_device

    args = parse_args()
    device = prepare_device(args.device)
    at_start = device_info(device)
    out = Path(args.out or f"results/bench/evaluate_{device.type}.json")
    if args.parts_from:
        measured = read_json(args.parts_from, "--parts-from").get("measured")
        if not isinstance(measured, dict):
            raise SystemExit(f"--parts-from {args.parts_from}: no 'measured' figures (not a bench_evaluate.py record)")
        say(f"parts from {args.parts_from} (measured on {measured['device']}); estimate only")
    else:
        with tempfile.TemporaryDirectory(prefix="bench_evaluate_") as tmp:
            work = Path(args.work or tmp)
            measured = {**measure(args, work, device), "device": at_start["name"], "work": str(work)}
    est = estimate(args, measured, measured["device"])
    print(f"\n{evaluate_measured_table(measured)}\n\n{evaluate_estimate_table(est)}", flush=True)
    record = {"benchmark": "evaluate: old per-step chain vs one hmogbench evaluate process; GPU estimate",
              "measured": measured, "estimate": est,
              "what_is_what": f"'measured': wall seconds on {measured['device']} (this record's device); "
                              f"'estimate': {est['gpu']} from FLOPs/assumed shares, the metrics JSON's device "
                              "and the start-up/loading measured here, as 'estimate.sources' says per part"}
    print(f"-> {write_record(out, record, vars(args), device, at_start)}")


if __name__ == "__main__":
    main()
