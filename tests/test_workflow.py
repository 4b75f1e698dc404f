"""The Snakemake workflow parses, lints clean, plans the toy target and prepares every data set."""

import importlib.util
import json
import re
import shutil

import numpy as np
import pytest
import torch
from workflow_runs import ROOT, SMOKE_MODELS, SMOKE_SEEDS, run_snakemake

pytestmark = [pytest.mark.system, pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                reason="snakemake not installed (pip install -e '.[test]' installs it)")]


def _run(*args, cwd=ROOT):
    return run_snakemake(list(args), cwd, timeout=600)


def test_dry_run_plans_the_toy_experiments(tmp_path):
    out = _run("-n", "--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"))
    assert out.returncode == 0, out.stderr
    assert "rule toy:" in out.stdout and "results/toy/summary.md" in out.stdout


def test_lint_is_clean():
    out = _run("--lint")
    assert out.returncode == 0, out.stdout + out.stderr


@pytest.mark.slow
def test_the_sets_prepare_through_snakemake(shared_data, tmp_path):
    """`prepare_all_data` through Snakemake: a real set from `raw_dir` (the Flowers subset), a fixture (UTZap50K)
    and mnist-5k from the installed package, then nothing to do. (Every rule runs the same `hmogbench data prepare`:
    the real MNIST, Fashion-MNIST and CelebA files are prepared, with their checksums, in tests/test_data.py.)"""
    sets = ["utzap50k", "flowers", "mnist-5k"]
    words = ["--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"), "prepare_all_data",
             "--config", f"raw_dir={shared_data}", "fixtures=[utzap50k]", f"datasets=[{','.join(sets)}]"]
    out = _run(*words)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    expected = {"utzap50k": (48, 12, 3), "flowers": (656, 163, 3), "mnist-5k": (4_000, 1_000, 1)}
    for name, (train, test, channels) in expected.items():
        manifest = json.loads((tmp_path / "results" / "data" / name / "manifest.json").read_text())
        assert manifest["arrays"]["train.npy"]["shape"][::3] == [train, channels], name
        assert manifest["arrays"]["test.npy"]["shape"][0] == test, name
        assert manifest["source"].get("fixture", False) is (name == "utzap50k"), name
        assert (tmp_path / "logs" / "data" / f"{name}.log").exists()
    again = _run("-n", *words)  # a re-run has nothing to do
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def _job_counts(stdout: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run: rule -> job count."""
    table = stdout.split("Job stats:")[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M)}


def test_paper_grid_dry_run(tmp_path):
    """The default config is the paper grid: 5 sets x 29 models x 5 seeds, 2 feature spaces, one training job
    per (set, model) training all five seeds; interpretability figures of every mixture."""
    out = _run("-n", "--cores", "8", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"))
    assert out.returncode == 0, out.stderr[-3000:]
    counts = _job_counts(out.stdout)
    # the default target: tables, the figures of every HME (40) and ME (40) model's first seed, the toy runs
    assert counts["figures_hme"] == counts["figures_me"] == 5 * 8 and counts["toy"] == 1
    assert counts["train"] == counts["evaluate"] == 5 * 29  # one evaluation job per (set, model): all seeds, spaces
    assert "sample" not in counts and "score" not in counts and sum(counts.values()) <= 1000
    assert counts["real_features"] == 5 * 2 and counts["tables"] == 5 and counts["prepare_data"] == 5
    assert "--seeds 2019 2020 2021 2022 2023 --batch-mode auto" in out.stdout
    assert "--features fid-inception --limit 10000 --precision fp32" in out.stdout  # the fp32 reference
    assert "--spaces thesis-inception fid-inception --count 10000" in out.stdout
    assert "eval_every" not in out.stdout and "over-training" not in out.stdout  # FD over training: off
    per_seed = _run("-n", "--cores", "8", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
                    "tables/celeba.tex", "--config", "batch_seeds=False")
    assert per_seed.returncode == 0, per_seed.stderr[-3000:]
    assert _job_counts(per_seed.stdout)["train"] == 29 * 5


@pytest.mark.skipif(importlib.util.find_spec("snakemake_executor_plugin_slurm") is None,
                    reason="snakemake-executor-plugin-slurm not installed (pip install -e '.[test]' installs it)")
def test_paper_grid_dry_run_with_the_slurm_profile(tmp_path):
    out = _run("-n", "--profile", str(ROOT / "profiles" / "slurm"), "--directory", str(tmp_path),
               "--snakefile", str(ROOT / "Snakefile"), "tables/celeba.tex")
    assert out.returncode == 0, out.stderr[-3000:]
    counts = _job_counts(out.stdout)
    assert counts["train"] == counts["evaluate"] == 29


@pytest.mark.slow
@pytest.mark.xdist_group("smoke-run")
def test_smoke_grid_end_to_end(smoke_run, tmp_path):
    """The shared smoke run (conftest.py: trained on and compared with the embedded mnist-5k, in pixels; the FID
    network's path is tested against pytorch-fid in test_score.py, and at ~12 images/s it is too slow for a CPU run
    of the DAG): real .tex/.md/.diff.md files whose numbers are the run's metrics, temporary files removed, a re-run
    with nothing to do, and the resume of a lost generator."""
    work = smoke_run
    metrics = sorted((work / "results" / "metrics").glob("*/mnist/*/seed*.json"))
    assert len(metrics) == len(SMOKE_MODELS) * len(SMOKE_SEEDS)
    records = [json.loads(p.read_text()) for p in metrics]
    assert {r["fd_name"] for r in records} == {"FD (pixels)"}
    assert {r["real"] for r in records} == {"results/features/pixels/mnist/real.npy"}
    assert all(r["n_real"] == r["n_fake"] == 64 for r in records)
    assert all(r["fake_source"]["config"]["extra"] == {"train_data": "mnist-5k"} for r in records)
    assert all(r["fake_source"]["steps_trained"] == 2 for r in records)
    assert all(set(r["prdc"]) >= {"precision", "recall", "density", "coverage"} for r in records)  # beyond the thesis
    for run in (work / "results" / "runs" / "mnist").glob("*/seed*"):  # a short run logs every step: curves show
        assert (run / "losses.csv").read_text().count("\n") == 1 + 2, run  # header + one row per step
        assert json.loads((run / "run.json").read_text())["data"]["name"] == "mnist-5k", run  # as prepared

    # the tables hold the mean over seeds of exactly these records
    md = (work / "tables" / "mnist.md").read_text()
    for model in SMOKE_MODELS:
        runs = [r for r in records if r["fake_source"]["config"]["model"] == model]
        if model == "HME-2":  # not a row of the MNIST tables (HME-5 is)
            continue
        for key in ("fd", "knn_real_pct"):
            mean, std = np.mean([r[key] for r in runs]), np.std([r[key] for r in runs])
            assert re.search(rf"\| {re.escape(model)} .*{mean:.2f} ± {std:.2f}", md), (model, key, mean, std)
    real = json.loads((work / "results" / "features" / "pixels" / "mnist" / "real.json").read_text())
    assert real["n"] == 64 and real["images"] == "results/data/mnist-5k/test.npy"  # the real set: mnist-5k's test split
    extended = (work / "tables" / "mnist.extended.md").read_text()  # the thesis's rows, FD ... coverage
    fc = next(line for line in extended.splitlines() if line.startswith("| FC (baseline)"))
    assert "| Coverage |" in " ".join(extended.split()) and "--" not in fc, fc
    tex = (work / "tables" / "mnist.tex").read_text()
    assert tex.count(r"\begin{tabular}") == 2 and tex.count(r"\toprule") == 2  # Tables 5.3 and 5.8
    diff = (work / "tables" / "mnist.diff.md").read_text()
    assert "### Claims" in diff and "Linear mixtures beat FC on FID" in diff
    assert "absolute values are **not** compared" in diff  # pixels is not the thesis's space
    # logs for every rule; samples and fake features stayed in memory (keep_samples, keep_features: false)
    assert (work / "logs" / "train" / "mnist" / "FC.log").exists()
    assert (work / "logs" / "evaluate" / "mnist" / "MGAN-4.log").exists()
    assert not (work / "results" / "samples").exists()
    assert not list((work / "results" / "features").rglob("seed*.npy"))
    assert not list((work / "results").rglob("*.tmp"))
    assert (work / "results" / "runs" / "mnist" / "MGAN-4" / "seed2020" / "generator.pt").exists()
    args = ("tables/mnist.diff.md", "--cores", "2", "--configfile", "config/smoke.yaml", "tiny.yaml")
    again = _run("-n", *args, cwd=work)
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr

    # asking for a lost generator re-runs its training job, which resumes both seeds from their checkpoints
    copy = tmp_path / "copy"
    shutil.copytree(work, copy, symlinks=True)
    run = copy / "results" / "runs" / "mnist" / "FC"
    before = {seed: torch.load(run / f"seed{seed}" / "generator.pt", weights_only=False)["generator"]
              for seed in SMOKE_SEEDS}
    (run / "seed2019" / "generator.pt").unlink()
    redo = _run("results/runs/mnist/FC/seed2019/generator.pt", *args[1:], cwd=copy)
    assert redo.returncode == 0, redo.stdout[-3000:] + redo.stderr[-3000:]
    for seed in SMOKE_SEEDS:
        info = json.loads((run / f"seed{seed}" / "run.json").read_text())
        assert info["status"] == "complete" and info["resumed_from"] == 2
        assert info["batch"] == {"batched": True, "seeds": list(SMOKE_SEEDS), "mode": "loop", "compile": None}
    for seed in SMOKE_SEEDS:  # the lost one rewritten from its checkpoint as the uninterrupted run wrote it
        after = torch.load(run / f"seed{seed}" / "generator.pt", weights_only=False)["generator"]
        assert all(torch.equal(after[k], before[seed][k]) for k in before[seed]), seed


@pytest.mark.parametrize("override, key", [("eval_images=5", "eval_images"), ("models=[FOO-3]", "FOO-3"),
                                           ("feature_spaces=[clip]", "clip"), ("seeds=[]", "seeds"),
                                           ("batch_mode=fast", "batch_mode")])
def test_config_schema_names_the_bad_key(tmp_path, override, key):
    out = _run("-n", "--cores", "1", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
               "all_tables", "--config", override)
    text = out.stdout + out.stderr
    (line,) = [line for line in text.splitlines() if line.startswith("hmogbench workflow: ")]  # one line, not
    assert out.returncode != 0 and key in line and "Failed validating" not in text  # jsonschema's dump


def test_config_schema_rejects_unknown_sets(tmp_path):
    out = _run("-n", "--cores", "1", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
               "prepare_all_data", "--config", "datasets=[cifar10]")
    text = out.stdout + out.stderr
    (line,) = [line for line in text.splitlines() if line.startswith("hmogbench workflow: ")]
    assert out.returncode != 0 and "cifar10" in line and "mnist" in line and "Failed validating" not in text
