"""What the workflow's jobs really need on this CPU: peak RSS and wall time of real `hmogbench` jobs, each run as a
subprocess under ``/usr/bin/time`` (the table behind hmogbench/workflow/job_resources.py). Writes
results/bench/job_resources_cpu.json after every measurement and prints a Markdown table.

    python -m benchmarks.bench_job_resources            # ~4-5 minutes on 2 CPU cores

Rows: data prepare (CelebA 5,000-image subset, MNIST-5k); the smoke grid's train job (FC and HME-L-2, 2 seeds,
batch 16, 32x32, 3 steps); FC 32x32 at batch 128 with 1 and 2 torch threads; the largest HME-L of the CelebA
grid (HME-L-5) at 64x64x3, batch 128; real features (pixels, fid-inception); evaluate jobs of the smoke kind
(pixels, 200 images, 2 seeds) and in fid-inception (100 images, 1 seed; needs the FID weights file).
Per train row: seconds per generator step of the whole job (all its seeds; from the last progress line's
steps/s, which leaves out the first, warm-up step) and the start-up (wall - steps x per step).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.lib.tables import job_resources_table

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path("/work/shared/data")
FID_WEIGHTS = SHARED / "inception" / "pt_inception-2015-12-05-RECON-fcNaN.pth"


def measure(cmd: list[str], log: Path, threads: int | None = None) -> dict:
    """Run ``cmd`` under /usr/bin/time; its wall seconds, peak RSS (MB) and the log text."""
    stats = log.with_suffix(".time")
    env = dict(os.environ)
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    start = time.perf_counter()
    with open(log, "w") as out:
        rc = subprocess.run(["/usr/bin/time", "-o", str(stats), "-f", "%e %M", *cmd], stdout=out,
                            stderr=subprocess.STDOUT, env=env).returncode
    wall = time.perf_counter() - start
    text = log.read_text()
    if rc != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({rc}):\n{text[-3000:]}")
    _, rss_kb = stats.read_text().split()[-2:]
    return {"wall_s": round(wall, 2), "peak_rss_mb": round(int(rss_kb) / 1024, 1), "log": text}


def train_row(tmp: Path, name: str, *, data: str, model: str, dataset: str, size: int, channels: int, batch: int,
              steps: int, seeds: list[int], threads: int | None = None) -> dict:
    settings = dict(model=model, dataset=dataset, image_size=size, channels=channels, batch_size=batch,
                    device="cpu", steps=steps, checkpoint_every=500)
    cmd = ["hmogbench", "train", "--data", data, *[f"--set={k}={v}" for k, v in settings.items()],
           "--seeds", *map(str, seeds), "--out", str(tmp / "runs" / name), "--no-progress"]
    m = measure(cmd, tmp / f"{name}.log", threads)
    # last progress line of each trained group (one line for batched seeds, one per seed otherwise)
    rates = [float(r) for r in re.findall(r"\(100%\), ([0-9.e+-]+) steps/s", m["log"])]
    per_step = sum(1 / r for r in rates) if rates else m["wall_s"] / steps
    return {"job": "train", "name": name, "model": model, "image_size": size, "channels": channels,
            "batch_size": batch, "steps": steps, "seeds": len(seeds), "threads": threads or os.cpu_count(),
            "device": "cpu", "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
            "s_per_step": round(per_step, 4), "startup_s": round(max(m["wall_s"] - steps * per_step, 0.0), 2)}


def features_row(tmp: Path, name: str, *, images: str, space: str, count: int, size: int, channels: int,
                 weights: Path | None) -> dict:
    out = tmp / "features" / space / f"{name}.npy"
    cmd = ["hmogbench", "features", images, "--features", space, "--limit", str(count), "--device", "cpu",
           "--batch-size", "100", "--out", str(out), "--no-progress"] + (["--weights", str(weights)] if weights else [])
    m = measure(cmd, tmp / f"{name}.log")
    return {"job": "real_features", "name": name, "space": space, "eval_images": count, "image_size": size,
            "channels": channels, "device": "cpu", "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"],
            "features_path": str(out).replace(f"/{space}/", "/{space}/")}


def evaluate_row(tmp: Path, name: str, *, runs: list[Path], real: str, space: str, count: int, size: int,
                 channels: int, model: str, real_features: str, weights: Path | None) -> dict:
    cmd = ["hmogbench", "evaluate", *map(str, runs), "--spaces", space, "--count", str(count),
           "--at-most-like", real, "--real-features", real_features,
           "--out", str(tmp / "metrics" / name / "{space}" / "seed{seed}.json"), "--device", "cpu",
           "--batch-size", "100",
           "--no-progress"] + (["--weights", f"{space}={weights}"] if weights else [])
    m = measure(cmd, tmp / f"{name}.log")
    return {"job": "evaluate", "name": name, "model": model, "spaces": [space], "eval_images": count,
            "seeds": len(runs), "image_size": size, "channels": channels, "device": "cpu",
            "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"]}


def prepare_row(tmp: Path, name: str, dataset: str, images: int, extra: list[str]) -> dict:
    cmd = ["hmogbench", "data", "prepare", dataset, "--out", str(tmp / "data"), "--workers", "2",
           "--no-progress", *extra]
    m = measure(cmd, tmp / f"{name}.log")
    return {"job": "prepare", "name": name, "dataset": dataset, "dataset_images": images, "device": "cpu",
            "wall_s": m["wall_s"], "peak_rss_mb": m["peak_rss_mb"]}


def measure_training(tmp: Path, add, keep, have_celeba: bool) -> None:
    """Data preparation and training rows (``add`` records a row, ``keep`` reuses one already measured)."""
    add(prepare_row(tmp, "prepare-mnist-5k", "mnist-5k", 5_000, []))
    if have_celeba:
        add(prepare_row(tmp, "prepare-celeba-5k", "celeba", 5_000, ["--raw-dir", str(SHARED), "--test-count", "500"]))
    mnist = str(tmp / "data" / "mnist-5k" / "train.npy")
    smoke = dict(data=mnist, dataset="mnist", size=32, channels=1, batch=16, steps=3, seeds=[2019, 2020])
    add(train_row(tmp, "smoke-FC", model="FC", **smoke))  # always: the evaluation rows use its runs
    for model in ("HME-L-2", "MADGAN-4"):
        if not keep(f"smoke-{model}"):
            add(train_row(tmp, f"smoke-{model}", model=model, **smoke))
    for threads in (1, 2):
        if not keep(f"FC-32-b128-t{threads}"):
            add(train_row(tmp, f"FC-32-b128-t{threads}", model="FC", data=mnist, dataset="mnist", size=32,
                          channels=1, batch=128, steps=3, seeds=[2019], threads=threads))
    if not keep("HME-L-2-32-b128"):
        add(train_row(tmp, "HME-L-2-32-b128", model="HME-L-2", data=mnist, dataset="mnist", size=32, channels=1,
                      batch=128, steps=3, seeds=[2019]))
    if have_celeba and not keep("HME-L-5-64-b128"):
        add(train_row(tmp, "HME-L-5-64-b128", model="HME-L-5", data=str(tmp / "data/celeba/train.npy"),
                      dataset="celeba", size=64, channels=3, batch=128, steps=2, seeds=[2019]))


def measure_evaluation(tmp: Path, add, have_celeba: bool) -> str | None:
    """Feature and evaluation rows (pixels; fid-inception where its weights and CelebA are here); -> why not."""
    mnist_test = str(tmp / "data" / "mnist-5k" / "test.npy")
    pixels = features_row(tmp, "real-pixels-mnist-200", images=mnist_test, space="pixels", count=200, size=32,
                          channels=1, weights=None)
    add(pixels)
    smoke_runs = [tmp / "runs/smoke-FC/seed2019", tmp / "runs/smoke-FC/seed2020"]
    add(evaluate_row(tmp, "smoke-FC-pixels-200", runs=smoke_runs, real=mnist_test, space="pixels", count=200,
                     size=32, channels=1, model="FC", real_features=pixels["features_path"], weights=None))
    if not (FID_WEIGHTS.is_file() and have_celeba):
        return f"fid-inception rows: no {FID_WEIGHTS} (or no CelebA)"
    celeba_test = str(tmp / "data/celeba/test.npy")
    real = features_row(tmp, "real-fid-celeba-100", images=celeba_test, space="fid-inception", count=100,
                        size=64, channels=3, weights=FID_WEIGHTS)
    add(real)
    mnist_fid = features_row(tmp, "real-fid-mnist-100", images=mnist_test, space="fid-inception", count=100,
                             size=32, channels=1, weights=FID_WEIGHTS)
    add(mnist_fid)
    add(evaluate_row(tmp, "smoke-FC-fid-100", runs=smoke_runs[:1], real=mnist_test, space="fid-inception",
                     count=100, size=32, channels=1, model="FC", real_features=mnist_fid["features_path"],
                     weights=FID_WEIGHTS))
    if (tmp / "runs/HME-L-5-64-b128/seed2019").is_dir():  # not re-trained with --resume
        add(evaluate_row(tmp, "HME-L-5-fid-100", runs=[tmp / "runs/HME-L-5-64-b128/seed2019"], real=celeba_test,
                         space="fid-inception", count=100, size=64, channels=3, model="HME-L-5",
                         real_features=real["features_path"], weights=FID_WEIGHTS))
    return None


def main() -> None:
    import torch

    from benchmarks.lib.device_probe import device_info
    from benchmarks.lib.records import write_record

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "results/bench/job_resources_cpu.json"))
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows already in --out (by name) and measure only the missing ones")
    args = parser.parse_args()
    old = {r["name"]: r for r in json.loads(Path(args.out).read_text())["rows"]} if args.resume else {}
    cpu = torch.device("cpu")
    at_start = device_info(cpu)
    what = "peak RSS (MB, /usr/bin/time %M) and wall seconds of real hmogbench jobs on the CPU"
    rows: list[dict] = []
    skipped: list[str] = []

    def add(row: dict) -> None:  # each row is on disk the moment it is measured
        rows.append(row)
        write_record(args.out, {"what": what, "rows": rows, "skipped": skipped}, vars(args), cpu, at_start)
        print(f"{row['job']:14s} {row['name']:28s} {row['peak_rss_mb']:8.0f} MB {row['wall_s']:7.1f} s", flush=True)

    def keep(name: str) -> bool:
        if name in old:
            rows.append(old[name])
        return name in old

    have_celeba = (SHARED / "celeba" / "img_align_celeba_89x109").is_dir()
    if not have_celeba:
        skipped.append("celeba rows: no CelebA images under /work/shared/data")
    with tempfile.TemporaryDirectory(prefix="bench-job-resources-") as name:
        measure_training(Path(name), add, keep, have_celeba)
        why_not = measure_evaluation(Path(name), add, have_celeba)
    skipped.extend([why_not] if why_not else [])
    for r in rows:
        r.pop("features_path", None)
    write_record(args.out, {"what": what, "rows": rows, "skipped": skipped}, vars(args), cpu, at_start)
    print(job_resources_table({"rows": rows}))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
