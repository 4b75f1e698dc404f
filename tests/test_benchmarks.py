"""The benchmark scripts run as modules of the package ``benchmarks``, store what they print with device and
provenance, and their derived figures follow from the measured ones (tiny sizes: this checks the scripts, it
times nothing); docs/performance.md is what ``benchmarks.summarise`` writes from the stored records; the library
holds each method once."""

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hmogbench.training.config import TrainConfig
from hmogbench.training.flops import step_flops

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
PAGE = ROOT / "docs" / "performance.md"
# one torch thread in every benchmark process: two OpenMP threads on a loaded 2-core box stall each other
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(module, *args):
    return subprocess.run([sys.executable, "-m", f"benchmarks.{module}", *map(str, args)], cwd=ROOT, env=ENV,
                          capture_output=True, text=True, timeout=900)


def _bench(module, *args):
    out = _run(module, *args)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    return out.stdout


@pytest.mark.system
@pytest.mark.slow
def test_bench_train_figures_and_what_reads_them(tmp_path):
    path = tmp_path / "train_cpu.json"
    _bench("bench_train", "--device", "cpu", "--models", "FC", "--sizes", 32, "--batch-size", 4, "--steps", 1,
           "--warmup", 0, "--seeds", 2, "--variants", "baseline", "processes", "batched", "batched-loop", "compiled",
           "--out", path)
    rec = json.loads(path.read_text())
    assert rec["device"]["type"] == "cpu" and rec["provenance"]["versions"]["torch"]
    assert rec["device"]["torch_threads"] == 1 and rec["provenance"]["lock"]["sha256"]
    assert rec["complete"] is True and rec["data"].startswith("on the device for every variant")
    (entry,) = rec["results"]
    assert entry["flops_per_generator_step_per_run"] == step_flops(TrainConfig(model="FC", batch_size=4))
    v = entry["variants"]
    assert v["compiled"]["skipped"].startswith("CUDA only")  # said, not silently left out
    base, batched, processes = v["baseline"], v["batched"], v["processes"]
    assert (base["seeds"], processes["seeds"], batched["seeds"], v["batched-loop"]["seeds"]) == (1, 2, 2, 2)
    assert batched["timed_steps"] == processes["timed_steps"] == 1 and batched["seconds_per_step"] > 0
    # S processes at once (benchmarks.lib.processes), each its share of the threads; a group step ends when both
    # processes have done it
    (per_process,) = processes["process_seconds_per_step"]
    assert processes["threads_per_process"] == 1 and len(per_process) == 2
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

    # what reads the record: summarise prints it under a heading naming the file; estimate_grid reads its 32x32
    # rates and refuses it for lacking 64x64 (before counting the grid's FLOPs)
    summary = _bench("summarise", path)
    assert "| FC      |   32 | batched " in summary and "Not measured: compiled (CUDA only" in summary
    assert f"`{path}`: " in summary
    refused = _run("estimate_grid", "--measured", path, "--out", tmp_path / "no.json")
    assert refused.returncode != 0 and not (tmp_path / "no.json").exists()
    assert "train_cpu.json: no measured configuration at image size 64x64 (baseline, batched)" in refused.stderr


@pytest.mark.system
@pytest.mark.slow
def test_bench_loop_cpu_smoke(tmp_path):
    """Both trees really ran: the reference child imported hmogbench (and its training module) from the revision
    materialised into a temporary folder, the working child from this checkout; --concurrent, as the stored
    figures were measured (both trees at once, a core each)."""
    out = tmp_path / "loop_cpu.json"
    _bench("bench_loop_cpu", "--smoke", "--concurrent", "--threads", 1, "--cases", "fc32", "--out", out)
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


@pytest.mark.system
def test_bench_loop_cpu_refuses_a_missing_revision(tmp_path):
    out = _run("bench_loop_cpu", "--reference", "0123456789abcdef", "--out", tmp_path / "no.json")
    assert out.returncode != 0 and len(out.stderr.strip().splitlines()) == 1
    assert "revision '0123456789abcdef' is not in the repository" in out.stderr
    assert not (tmp_path / "no.json").exists()


@pytest.mark.system
@pytest.mark.slow
def test_grid_estimate_from_a_measured_record(tmp_path):
    """The FLOP bounds per precision (fp32 the headline, TF32 named), the hours at a record's measured rates
    (the stored CPU record: both sizes, baseline and batched), and the refusal of a record without the baseline."""
    stored = ROOT / "results" / "bench" / "train_cpu.json"
    out = tmp_path / "grid.json"
    _bench("estimate_grid", "--measured", stored, "--out", out, "--shares", 1.0)
    grid = json.loads(out.read_text())
    assert grid["grid"] == {"configurations": 145, "seeds": 5, "runs": 725, "batched_configurations": 85,
                            "datasets": ["celeba", "fashion-mnist", "flowers", "mnist", "utzap50k"]}
    est = grid["flop_estimate"]
    bounds = {e["precision"]: e for e in est["estimates"]}
    assert est["headline"] == "fp32" and set(bounds) == {"fp32", "tf32", "bf16"}  # the faithful one, the opt-in ones
    assert bounds["fp32"]["train_gpu_hours"] == pytest.approx(grid["train_flops"] / est["peaks"]["fp32"] / 3600)
    assert bounds["tf32"]["train_gpu_hours"] == pytest.approx(grid["train_flops"] / est["peaks"]["tf32"] / 3600)
    assert bounds["fp32"]["eval_gpu_hours"] == pytest.approx(grid["eval_flops"] / est["peaks"]["fp32"] / 3600)
    m = grid["measured_estimate"]
    rec = json.loads(stored.read_text())
    assert set(m["achieved_flops_per_s"]) == {f"{e['model']}@{e['image_size']} {kind} fp32" for e in rec["results"]
                                              for kind in ("baseline", "batched")}  # benchmarks.lib.rates' cases
    assert m["total_hours"] > bounds["fp32"]["total_gpu_hours"]  # a CPU is slower than an H100's peak

    no_baseline = tmp_path / "train_batched_only.json"  # the competitors are never batched: they need the baseline
    no_baseline.write_text(json.dumps({**rec, "results": [
        {**e, "variants": {k: v for k, v in e["variants"].items() if k != "baseline"}} for e in rec["results"]]}))
    refused = _run("estimate_grid", "--measured", no_baseline, "--out", tmp_path / "no.json")
    assert refused.returncode != 0 and "image size 32x32, 64x64 (baseline)" in refused.stderr
    assert not (tmp_path / "no.json").exists()


@pytest.mark.system
def test_performance_page_is_regenerated_from_the_records(tmp_path):
    """docs/performance.md is what `python -m benchmarks.summarise --write` gives from results/bench/*.json: a
    changed record, or a new one, makes it stale."""
    check = _run("summarise", "--check", PAGE)
    assert check.returncode == 0, check.stderr + "\n(run `python -m benchmarks.summarise --write docs/performance.md`)"
    page = PAGE.read_text()
    assert "Generated by `python -m benchmarks.summarise --write docs/performance.md`" in page
    records = sorted((ROOT / "results" / "bench").glob("*.json"))
    assert records and all(f"`results/bench/{p.name}`" in page or f"`{p.name}`" in page for p in records)

    changed = tmp_path / "bench"
    shutil.copytree(ROOT / "results" / "bench", changed)
    loop = json.loads((changed / "loop_cpu.json").read_text())
    loop["results"]["fc32"]["ratio"] = 0.5
    (changed / "loop_cpu.json").write_text(json.dumps(loop))
    stale = _run("summarise", "--check", PAGE, "--records", changed)
    assert stale.returncode == 1 and "docs/performance.md is stale" in stale.stderr


@pytest.mark.system
def test_the_page_says_whether_a_gpu_figure_exists(tmp_path):
    """No CUDA record: the page says no GPU figure exists and the GPU targets are not measured; a CUDA record
    (here a CPU record relabelled) turns both into where it is."""
    page = PAGE.read_text()
    if not any(json.loads(p.read_text()).get("device", {}).get("type") == "cuda"
               for p in (ROOT / "results" / "bench").glob("*.json")):
        assert "**No GPU figure exists yet.**" in page and "is **not measured yet**" in page
    gpu = tmp_path / "bench"
    shutil.copytree(ROOT / "results" / "bench", gpu)
    record = json.loads((gpu / "train_cpu.json").read_text())
    record["device"] = {**record["device"], "type": "cuda", "name": "NVIDIA H100 80GB HBM3"}
    (gpu / "train_cuda.json").write_text(json.dumps(record))
    out = tmp_path / "performance.md"
    _bench("summarise", "--records", gpu, "--write", out)
    written = out.read_text()
    assert "No GPU figure exists yet" not in written and "**GPU figures**: `train_cuda.json` (NVIDIA H100" in written
    assert "target on an H100 is measured: `train_cuda.json` (below)" in written
    others = written.split("### Other records\n", 1)[1]  # every record without a section of its own, in order
    assert "\n`results/bench/train_cuda.json`: NVIDIA H100 80GB HBM3" in others
    grid = json.loads((ROOT / "results" / "bench" / "grid_estimate.json").read_text())
    fp32 = next(e for e in grid["flop_estimate"]["estimates"] if e["precision"] == "fp32" and e["share"] == 1)
    assert f"**about {fp32['total_gpu_hours']:.0f} GPU-hours**" in written  # the headline: the fp32 peak's bound


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def test_benchmarks_are_a_package_without_path_edits_or_long_functions():
    files = sorted(BENCHMARKS.rglob("*.py"))
    assert (BENCHMARKS / "__init__.py").is_file() and (BENCHMARKS / "lib" / "__init__.py").is_file()
    edits = [str(p.relative_to(ROOT)) for p in files if re.search(r"sys\.path\.(insert|append)|PYTHONPATH\"\]\s*=",
                                                                  p.read_text())]
    assert not edits, f"sys.path / PYTHONPATH edited in {edits}: run scripts as `python -m benchmarks.<name>`"
    long = [f"{p.relative_to(ROOT)}:{f.lineno} {f.name} ({f.end_lineno - f.lineno + 1} lines)"
            for p in files for f in _functions(p) if f.end_lineno - f.lineno + 1 > 60]
    assert not long, f"functions over 60 lines: {long}"


@pytest.mark.parametrize("pattern, home", [
    (r"torch\.cuda\.Event\(", "lib/timing.py"),  # the one step-timing method
    (r"def file_barrier|subprocess\.Popen\(\[sys\.executable, \"-m\", \"benchmarks", "lib/processes.py"),
    (r"get_device_properties|nvidia-smi", "lib/device_probe.py"),  # the one device probe
    (r"FIDInception|inception_v3\(", "lib/standins.py"),  # the stand-in networks
    (r"provenance\(|os\.fsync", "lib/records.py"),  # the records
])
def test_each_method_lives_in_one_library_module(pattern, home):
    found = sorted(str(p.relative_to(BENCHMARKS)) for p in BENCHMARKS.rglob("*.py")
                   if re.search(pattern, p.read_text()))
    if home == "lib/records.py":  # estimate_grid computes, measures nothing: its record has no device
        found = [f for f in found if f != "estimate_grid.py"]
    assert found == [home], f"{pattern!r} in {found}, expected only in benchmarks/{home}"
