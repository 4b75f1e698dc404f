"""benchmarks/gpu_check.py, the one prepared GPU command, rehearsed on the CPU with --smoke as
``python -m benchmarks.gpu_check`` from the repository root (as the GPU machine runs it); its deadlines; and
benchmarks/estimate_grid.py's GPU-hours per training precision from a gpu_check JSONL (a synthetic one)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PARTS = ("hme", "fc", "families", "syncs", "features", "knn-fd", "loop", "processes", "precision", "compile")


def run_check(out: Path, *options: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--smoke", "--out", str(out), *options],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    path = out / "gpu_check.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return proc, lines


@pytest.mark.system
@pytest.mark.slow
def test_smoke_run_passes_every_part(tmp_path):
    proc, lines = run_check(tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines and lines[0]["part"] == "probe" and lines[0]["ok"], lines[:1]
    probe = lines[0]["figures"]
    for key in ("torch", "python", "torch_cuda", "gpu_name", "tf32_flags_at_start", "hmogbench_numerics_record",
                "modules", "flops_peak_entry"):
        assert key in probe
    assert probe["device"]["type"] == "cpu" and probe["smoke"] is True  # benchmarks.lib.device_probe's record
    errors = [line for line in lines if not line["ok"]]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    seen = [line["part"] for line in lines[1:-1]]
    assert list(dict.fromkeys(seen)) == list(PARTS), "every part, in the order of value"
    assert lines[-1]["part"] == "end"
    by_name = {line["name"]: line["figures"] for line in lines}
    assert {"HME-L-4@32 eager x1", "HME-L-4@32 vmap x2", "FC@32 eager x1", "FC@32 vmap x2", "MADGAN-2@32 eager x1",
            "MGAN-2@32 eager x1", "MEGAN-2@32 eager x1", "no host sync HME-L-4@32 vmap x2", "FC@32 loop x2",
            "fid-inception bf16 channels-last", "knn 5-NN cpu 2x500x64", "FC@32 processes x2", "FC@32 vmap x2 tf32",
            "FC@32 vmap x2 bf16", "FC@32 vmap x2 compile=reduce-overhead"} <= set(by_name)
    vmap = by_name["FC@32 vmap x2"]
    assert vmap["generator_steps_per_s"] > 0 and vmap["step_flops"] == 2 * vmap["step_flops_per_run"] > 0
    assert vmap["peak_gpu_mem_gib"] is None and vmap["timing"] == "time.perf_counter"  # CUDA-only figures: null
    assert vmap["runs_per_hour"] == pytest.approx(3600 * 2 / (vmap["seconds_per_step"] * vmap["authors_steps"]),
                                                  rel=1e-3)
    # the training precision ran as run.json records it: tf32 is fp32 on a CPU, bf16 is bf16
    assert (by_name["FC@32 vmap x2 tf32"]["requested_precision"], by_name["FC@32 vmap x2 tf32"]["precision"]) == (
        "tf32", "fp32")
    assert by_name["FC@32 vmap x2 bf16"]["precision"] == "bf16"
    sync = by_name["no host sync HME-L-4@32 vmap x2"]
    assert sync["first_epoch_boundary_step"] == 52 and sync["checked_steps"] == "2-3"  # 512 images, batch 2
    group = by_name["FC@32 processes x2"]  # benchmarks.lib.processes: two workers, a barrier
    assert len(group["per_process_seconds_per_step"]) == 2 and group["wall_s_all"] > 0
    assert group["seconds_per_step"] >= min(group["per_process_seconds_per_step"])
    assert "stand-in weights: throughput only" in by_name["fid-inception fp32"]["weights"]
    assert 0 <= by_name["fid-inception bf16 channels-last"]["rel_diff_vs_fp32"] < 0.5  # relative, not absolute
    assert re.search(r"\| hme +\| HME-L-4@32 vmap x2 +\|", proc.stdout)  # the summary table
    assert re.search(r"\| HME-L-4@32 +\| fp32 +\|", proc.stdout) and "batched ÷ eager" in proc.stdout  # per case


@pytest.mark.system
def test_a_failing_part_is_recorded_and_the_next_runs(tmp_path):
    proc, lines = run_check(tmp_path, "--parts", "features,knn-fd", "--fail-part", "features")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines[0]["part"] == "probe"
    failed = [line for line in lines if line["part"] == "features"]
    assert len(failed) == 1 and not failed[0]["ok"]
    assert failed[0]["error"]["type"] == "RuntimeError" and "--fail-part features" in failed[0]["error"]["message"]
    assert failed[0]["error"]["traceback"]
    after = [line for line in lines if line["part"] == "knn-fd"]
    assert after and all(line["ok"] for line in after)
    assert lines.index(failed[0]) < lines.index(after[0])


@pytest.mark.system
def test_no_budget_skips_every_part(tmp_path):
    proc, lines = run_check(tmp_path, "--budget-s", "0", timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines[0]["part"] == "probe"
    parts = [line for line in lines if line["part"] in PARTS]
    assert [line["part"] for line in parts] == list(PARTS)
    assert all(line["skipped"] == "budget" and not line["ok"] for line in parts)


def test_a_measurement_past_its_deadline_is_stopped_and_its_part_skips_the_rest(tmp_path):
    from benchmarks.gpu_check import Check, parse_args

    check = Check(parse_args(["--smoke", "--out", str(tmp_path)]))
    check.deadline = time.monotonic() + 0.3
    start = time.monotonic()
    assert check.variant("x", "slow", lambda: time.sleep(20) or {}) is None
    assert check.variant("x", "next", lambda: {"ran": True}) is None
    assert time.monotonic() - start < 5
    check.rec.close()
    slow, later = check.rec.lines
    assert slow["error"]["type"] == "PartDeadline" and later["skipped"] == "deadline"


def test_a_child_past_its_deadline_is_killed_with_its_process_group(tmp_path):
    """``processes.run_commands``: a child still running at its deadline is killed, and so is what it started."""
    from benchmarks.lib.processes import run_commands

    start = time.monotonic()
    codes, outputs, _ = run_commands([["sh", "-c", "sleep 60 & echo $!; wait"]], tmp_path, dict(os.environ), 0.5)
    assert time.monotonic() - start < 10 and codes == [-9]
    grandchild = int(outputs[0][0])
    time.sleep(0.2)
    state = Path(f"/proc/{grandchild}/stat")
    assert not state.exists() or state.read_text().split(") ")[1][0] in "ZX", "the grandchild outlived its group"


GRID = [("mnist", "FC"), ("mnist", "MGAN-4"), ("celeba", "HME-L-4"), ("celeba", "ME-32"), ("celeba", "MADGAN-8")]


def synthetic_jsonl(path: Path, drop: tuple = ()) -> Path:
    """A gpu_check.jsonl of made-up rates (not a measurement): fp32 and bf16 cover every (size, kind), tf32 lacks
    the 32x32 one-run case; one fp32 feature line."""
    def line(model, size, mode, precision, tflops, flops_per_run=1e11):
        return {"part": "x", "name": f"{model}@{size} {mode} {precision}", "ok": True, "figures": {
            "model": model, "image_size": size, "mode": mode, "precision": precision, "compile_mode": None,
            "achieved_flops_per_s": tflops * 1e12, "step_flops_per_run": flops_per_run}}

    lines = [{"part": "probe", "name": "environment", "ok": True, "figures": {"gpu_name": "SYNTHETIC (test)"}},
             line("FC", 32, "eager", "fp32", 2), line("FC", 32, "vmap", "fp32", 10),
             line("HME-L-4", 64, "eager", "fp32", 20), line("HME-L-4", 64, "vmap", "fp32", 40),
             line("MADGAN-8", 64, "eager", "fp32", 25), line("FC", 32, "loop", "fp32", 99),
             line("FC", 32, "vmap", "tf32", 30), line("HME-L-4", 64, "vmap", "tf32", 100),
             line("HME-L-4", 64, "eager", "tf32", 60),
             *[line(m, s, mode, "bf16", 80) for m, s, mode in (("FC", 32, "eager"), ("FC", 32, "vmap"),
                                                                ("HME-L-4", 64, "eager"), ("HME-L-4", 64, "vmap"))],
             {"part": "features", "name": "fid-inception fp32", "ok": True,
              "figures": {"precision": "fp32", "images_per_s": 1000.0}}]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines if x["name"] not in drop))
    return path


def test_estimate_grid_prints_gpu_hours_per_precision_from_a_gpu_check_jsonl(tmp_path, monkeypatch, capsys):
    """Each configuration at its nearest measured case (same kind and precision, then family, then image size):
    ME-32 at 64x64 is timed by HME-L-4@64 batched, MGAN-4 at 32x32 by FC@32 alone; tf32, with no one-run case at
    32x32, is named as not measured; a record lacking an fp32 case the grid needs is refused before any FLOP count."""
    from benchmarks import estimate_grid

    monkeypatch.setattr(estimate_grid, "grid", lambda: GRID)
    jsonl = synthetic_jsonl(tmp_path / "gpu_check.jsonl")
    estimate_grid.main(["--measured", str(jsonl), "--out", str(tmp_path / "grid.json"), "--shares", "1"])
    record = json.loads((tmp_path / "grid.json").read_text())
    m = record["measured_estimate"]
    assert m["device"] == "SYNTHETIC (test)" and m["eval_source"].startswith("measured fp32 feature extraction")
    fp32, tf32, bf16 = (m["precisions"][p] for p in ("fp32", "tf32", "bf16"))
    assert fp32["configurations_per_case"] == {"FC@32 baseline fp32": 1, "FC@32 batched fp32": 1,
                                               "HME-L-4@64 batched fp32": 2, "MADGAN-8@64 baseline fp32": 1}
    rates = {"FC": 10e12, "MGAN-4": 2e12, "HME-L-4": 40e12, "ME-32": 40e12, "MADGAN-8": 25e12}
    runs = {r["model"]: r for r in record["runs"]}
    assert fp32["train_hours"] == pytest.approx(sum(5 * runs[k]["train_flops_per_run"] / v for k, v in rates.items())
                                                / 3600)
    assert tf32 == {"missing": ["32x32 baseline"]} and bf16["train_hours"] < fp32["train_hours"]
    bounds = {e["precision"]: e["train_gpu_hours"] for e in record["flop_estimate"]["estimates"]}
    assert bounds["fp32"] > bounds["tf32"] > bounds["bf16"] > 0  # each precision at its own peak
    out = capsys.readouterr().out
    assert f"| fp32 | {fp32['train_hours']:,.1f} |" in out and f"| bf16 | {bf16['train_hours']:,.1f} |" in out
    assert "| tf32 | not measured: 32x32 baseline |" in out

    partial = synthetic_jsonl(tmp_path / "partial.jsonl", drop=("FC@32 eager fp32",))
    monkeypatch.setattr(estimate_grid, "work", lambda *a: pytest.fail("FLOPs counted before the refusal"))
    with pytest.raises(SystemExit, match=r"partial.jsonl: no measured configuration at image size 32x32 \(baseline\)"):
        estimate_grid.main(["--measured", str(partial), "--out", str(tmp_path / "no.json")])
