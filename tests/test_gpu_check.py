"""benchmarks/gpu_check.py, the one prepared GPU command (issue 15), rehearsed on the CPU with --smoke."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "gpu_check.py"
PARTS = ("a", "b", "c", "d", "e")


def run_check(out: Path, *options: str, timeout: float = 240) -> tuple[subprocess.CompletedProcess, list[dict]]:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(out), *options], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    path = out / "gpu_check.jsonl"
    lines = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return proc, lines


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    return run_check(tmp_path_factory.mktemp("gpu_check"))


def test_smoke_run_passes_every_part(smoke):
    proc, lines = smoke
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines and lines[0]["part"] == "probe" and lines[0]["ok"], lines[:1]
    probe = lines[0]["figures"]
    for key in ("torch", "python", "torch_cuda", "gpu_name", "tf32_flags_at_start", "hmogbench_numerics_record"):
        assert key in probe
    errors = [line for line in lines if not line["ok"]]
    assert not errors, json.dumps(errors, indent=1)[:4000]
    seen = [line["part"] for line in lines[1:-1]]
    assert set(seen) == set(PARTS)
    assert seen == sorted(seen, key=PARTS.index), "lines are written in part order"
    assert lines[-1]["part"] == "end"
    names = {line["name"] for line in lines}
    assert {"FC@32 eager x1", "FC@32 vmap x2", "FC@32 loop x2", "FC@32 processes x2", "HME-L-4@64 vmap x2",
            "cli score"} <= names
    by_name = {line["name"]: line for line in lines}
    vmap = by_name["FC@32 vmap x2"]["figures"]
    assert vmap["generator_steps_per_s"] > 0 and vmap["runs_per_hour"] > 0 and vmap["step_flops"] > 0
    assert vmap["peak_gpu_mem_gib"] is None  # CUDA-only figures are null on the CPU
    assert by_name["cli score"]["figures"]["rc"] == 0
    assert "|" in proc.stdout  # the summary table


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
