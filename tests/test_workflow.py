"""The Snakemake workflow parses, lints clean, plans the toy target and prepares every data set."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                reason="snakemake not installed (pip install -e '.[test]' installs it)")


def _run(*args):
    # rules call `hmogbench`: put this interpreter's scripts first on PATH (a venv need not be activated)
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def test_dry_run_plans_the_toy_experiments(tmp_path):
    out = _run("-n", "--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"))
    assert out.returncode == 0, out.stderr
    assert "rule toy:" in out.stdout and "results/toy/summary.md" in out.stdout


def test_lint_is_clean():
    out = _run("--lint")
    assert out.returncode == 0, out.stdout + out.stderr


def test_all_six_sets_prepare_through_snakemake(shared_data, tmp_path):
    """The real files for MNIST, Fashion-MNIST and the CelebA / Flowers subsets, a fixture for UTZap50K,
    mnist-5k from the installed package."""
    sets = ["mnist", "fashion-mnist", "celeba", "utzap50k", "flowers", "mnist-5k"]
    out = _run("--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
               "prepare_all_data", "--config", f"raw_dir={shared_data}", "fixtures=[utzap50k]",
               f"datasets=[{','.join(sets)}]")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    expected = {"mnist": (60_000, 10_000, 1), "fashion-mnist": (60_000, 10_000, 1), "celeba": (4_000, 1_000, 3),
                "utzap50k": (48, 12, 3), "flowers": (656, 163, 3), "mnist-5k": (4_000, 1_000, 1)}
    for name, (train, test, channels) in expected.items():
        manifest = json.loads((tmp_path / "results" / "data" / name / "manifest.json").read_text())
        assert manifest["arrays"]["train.npy"]["shape"][::3] == [train, channels], name
        assert manifest["arrays"]["test.npy"]["shape"][0] == test, name
        assert manifest["source"].get("fixture", False) is (name == "utzap50k"), name
        assert (tmp_path / "logs" / "data" / f"{name}.log").exists()
    # a re-run has nothing to do
    again = _run("-n", "--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
                 "prepare_all_data", "--config", f"raw_dir={shared_data}", "fixtures=[utzap50k]",
                 f"datasets=[{','.join(sets)}]")
    assert again.returncode == 0 and "Nothing to be done" in again.stdout + again.stderr


def test_config_schema_rejects_unknown_sets(tmp_path):
    out = _run("-n", "--cores", "1", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
               "prepare_all_data", "--config", "datasets=[cifar10]")
    assert out.returncode != 0 and "cifar10" in out.stdout + out.stderr
