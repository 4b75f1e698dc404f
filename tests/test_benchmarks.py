"""The benchmark scripts run, store what they print with device and provenance, and their derived figures follow
from the measured ones (tiny sizes: this checks the scripts, it times nothing)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hmogbench.config import TrainConfig
from hmogbench.flops import step_flops

ROOT = Path(__file__).resolve().parents[1]


def _bench(script, *args):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


@pytest.fixture(scope="module")
def train_record(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "train_cpu.json"
    _bench("bench_train.py", "--device", "cpu", "--models", "FC", "--sizes", 32, 64, "--batch-size", "4", "--steps", 2,
           "--warmup", 0, "--seeds", 2, "--variants", "baseline", "processes", "batched", "batched-loop", "compiled", "--out",
           path)
    return path, json.loads(path.read_text())


def test_bench_train_figures(train_record):
    _, rec = train_record
    assert rec["device"]["type"] == "cpu" and rec["provenance"]["versions"]["torch"]
    assert rec["complete"] is True and rec["data"].startswith("on the device for every variant")
    entry, _ = rec["results"]
    assert entry["flops_per_generator_step_per_run"] == step_flops(TrainConfig(model="FC", batch_size=4))
    v = entry["variants"]
    assert v["compiled"]["skipped"].startswith("CUDA only")  # said, not silently left out
    base, batched = v["baseline"], v["batched"]
    processes = v["processes"]
    assert (base["seeds"], processes["seeds"], batched["seeds"], v["batched-loop"]["seeds"]) == (1, 2, 2, 2)
    assert batched["timed_steps"] == processes["timed_steps"] == 2 and batched["seconds_per_step"] > 0
    # S processes at once, each its share of the threads; a group step ends when both processes have done it
    (per_process,) = processes["process_seconds_per_step"]
    assert processes["threads_per_process"] >= 1 and len(per_process) == 2
    assert processes["seconds_per_step"] >= min(per_process) and processes["wall_seconds_all"][0] > 0
    # The stored figures are rounded (bench_train: seconds to 5 decimals, runs per hour to 4, ratios to 3; a CPU's
    # 0.0142 runs/h keeps 3 significant digits), and each derived figure is computed from the stored, rounded one it
    # derives from: the same formula and the same rounding give it exactly.
    for figures in (base, processes, batched):
        for key in ("", "_best"):
            seconds = figures[f"{'best_' if key else ''}seconds_per_step"]
            assert figures[f"runs_per_hour{key}"] == round(3600 * figures["seeds"] / (seconds * rec["steps_per_run"]),
                                                           4)
            assert figures[f"runs_per_hour{key}_vs_baseline"] == round(
                figures[f"runs_per_hour{key}"] / base[f"runs_per_hour{key}"], 3)
    ceiling = rec["ceiling"]["flops_per_s"]["fp32_matmul"]
    assert batched["lower_bound_seconds_per_step"]["fp32_matmul"] == pytest.approx(
        2 * entry["flops_per_generator_step_per_run"] / ceiling)


def test_bench_loop_cpu_smoke(tmp_path):
    """Both trees really ran: the reference child imported hmogbench (and its training module) from the revision
    materialised into a temporary folder, the working child from this checkout; --concurrent, as the stored
    figures were measured (both trees at once, a core each)."""
    out = tmp_path / "loop_cpu.json"
    _bench("bench_loop_cpu.py", "--smoke", "--concurrent", "--threads", 1, "--cases", "fc32", "--out", out)
    rec = json.loads(out.read_text())
    assert rec["complete"] is True and rec["smoke"] is True and rec["threshold"] == 0.97
    assert rec["reference"]["revision"] == "930d7a6" and rec["reference"]["commit"].startswith("930d7a6")
    assert rec["provenance"]["lock"]["sha256"] and rec["device"]["cpu_model"] and rec["device"]["cpu_count"]
    assert set(rec["results"]) == {"fc32"} and rec["concurrent"] is True
    for case in rec["results"].values():
        ref, work = case["reference"], case["working"]
        assert case["errors"] == {}
        ref_file = Path(ref["hmogbench_file"])
        assert ref_file.parts[-3] == "reference" and not ref_file.is_relative_to(ROOT)
        assert ref["module"] == "hmogbench.train" and Path(ref["module_file"]).parent == ref_file.parent
        assert Path(work["hmogbench_file"]).resolve().is_relative_to(ROOT.resolve())
        assert ref["torch_threads"] == work["torch_threads"] == 1
        assert len(ref["rounds_s_per_step_median"]) == len(work["rounds_s_per_step_median"]) == 1
        assert case["ratio"] == round(ref["s_per_step_median"] / work["s_per_step_median"], 4)
        assert case["round_ratios"] == [case["ratio"]] and case["ok"] == (case["ratio"] >= 0.97)


def test_bench_loop_cpu_refuses_a_missing_revision(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_loop_cpu.py"), "--reference",
                          "0123456789abcdef", "--out", str(tmp_path / "no.json")], cwd=ROOT, capture_output=True,
                         text=True)
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1
    assert "revision '0123456789abcdef' is not in the repository" in out.stderr
    assert not (tmp_path / "no.json").exists()


def test_grid_estimate_and_summary_from_the_measured_file(train_record, tmp_path):
    path, rec = train_record
    out = tmp_path / "grid.json"
    _bench("estimate_grid.py", "--measured", path, "--out", out, "--shares", 1.0)
    grid = json.loads(out.read_text())
    assert grid["grid"] == {"configurations": 145, "seeds": 5, "runs": 725, "batched_configurations": 85,
                            "datasets": ["celeba", "fashion-mnist", "flowers", "mnist", "utzap50k"]}
    (bound,) = grid["flop_estimate"]["estimates"]
    assert bound["train_gpu_hours"] == pytest.approx(grid["train_flops"] / grid["flop_estimate"]["peaks"]["tf32"] / 3600)
    measured = grid["measured_estimate"]
    assert set(measured["achieved_flops_per_s"]) == {"32px batched", "32px baseline", "64px batched", "64px baseline"}
    assert measured["total_hours"] > bound["total_gpu_hours"]  # a CPU is slower than an H100's peak

    only_32 = tmp_path / "train_32.json"
    only_32.write_text(json.dumps({**rec, "results": [e for e in rec["results"] if e["image_size"] == 32]}))
    refused = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "estimate_grid.py"), "--measured",
                              str(only_32), "--out", str(tmp_path / "no.json")], cwd=ROOT, capture_output=True, text=True)
    assert refused.returncode != 0 and "train_32.json: no measured configuration at image size 64x64" in refused.stderr
    assert not (tmp_path / "no.json").exists()
    no_baseline = tmp_path / "train_batched_only.json"  # the competitors are never batched: they need the baseline
    no_baseline.write_text(json.dumps({**rec, "results": [
        {**e, "variants": {k: v for k, v in e["variants"].items() if k != "baseline"}} for e in rec["results"]]}))
    refused = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "estimate_grid.py"), "--measured",
                              str(no_baseline), "--out", str(tmp_path / "no.json")], cwd=ROOT, capture_output=True,
                             text=True)
    assert refused.returncode != 0 and "image size 32x32, 64x64 (baseline)" in refused.stderr

    summary = _bench("summarise.py", path)
    assert "| FC      |   32 | batched " in summary and "Not measured: compiled (CUDA only" in summary
