"""benchmarks/gpu_check.py, the one prepared GPU command (issue 15), rehearsed on the CPU with --smoke as
``python -m benchmarks.gpu_check`` from the repository root (as the GPU machine runs it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.system  # every test runs the check as a subprocess

REPO = Path(__file__).resolve().parent.parent
PARTS = ("a", "b", "c", "d", "e")


def run_check(out: Path, *options: str, timeout: float = 300) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = subprocess.run([sys.executable, "-m", "benchmarks.gpu_check", "--smoke", "--out", str(out), *options],
                          cwd=REPO, capture_output=True, text=True, timeout=timeout)
    path = out / "gpu_check.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return proc, lines


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
    assert set(seen) == set(PARTS)
    assert seen == sorted(seen, key=PARTS.index), "lines are written in part order"
    assert lines[-1]["part"] == "end"
    by_name = {line["name"]: line for line in lines}
    assert {"no host sync FC@32 eager x1", "no host sync FC@32 vmap x2", "FC@32 eager x1", "FC@32 vmap x2",
            "FC@32 loop x2", "FC@32 processes x2", "HME-L-4@32 vmap x2", "FC@32 vmap x2 compile=default",
            "fid-inception bf16 channels-last", "knn 5-NN cpu 2x500x64", "cli score"} <= set(by_name)
    vmap = by_name["FC@32 vmap x2"]["figures"]
    assert vmap["generator_steps_per_s"] > 0 and vmap["runs_per_hour"] > 0 and vmap["step_flops"] > 0
    assert vmap["peak_gpu_mem_gib"] is None and vmap["timing"] == "time.perf_counter"  # CUDA-only figures: null
    assert vmap["runs_per_hour"] == pytest.approx(3600 * 2 / (vmap["seconds_per_step"] * vmap["authors_steps"]),
                                                  rel=1e-3)
    group = by_name["FC@32 processes x2"]["figures"]  # benchmarks.lib.processes: two workers, a barrier
    assert group["processes"] == 2 and len(group["per_process_seconds_per_step"]) == 2 and group["wall_s_all"] > 0
    assert group["seconds_per_step"] >= min(group["per_process_seconds_per_step"])
    assert "stand-in weights: throughput only" in by_name["fid-inception fp32"]["figures"]["weights"]
    assert by_name["cli score"]["figures"]["rc"] == 0
    assert "| a      | FC@32 vmap x2" in proc.stdout  # the summary table


def test_a_failing_part_is_recorded_and_the_next_runs(tmp_path):
    proc, lines = run_check(tmp_path, "--parts", "c,d", "--fail-part", "c")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines[0]["part"] == "probe"
    failed = [line for line in lines if line["part"] == "c"]
    assert len(failed) == 1 and not failed[0]["ok"]
    assert failed[0]["error"]["type"] == "RuntimeError" and "--fail-part c" in failed[0]["error"]["message"]
    assert failed[0]["error"]["traceback"]
    after = [line for line in lines if line["part"] == "d"]
    assert after and all(line["ok"] for line in after)
    assert lines.index(failed[0]) < lines.index(after[0])


def test_no_budget_skips_every_part(tmp_path):
    proc, lines = run_check(tmp_path, "--budget-s", "0", timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines[0]["part"] == "probe"
    parts = [line for line in lines if line["part"] in PARTS]
    assert [line["part"] for line in parts] == list(PARTS)
    assert all(line["skipped"] == "budget" and not line["ok"] for line in parts)
