"""The Snakemake workflow parses, lints clean, and plans the toy target."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                reason="snakemake not installed (pip install -e '.[test]' installs it)")


def _run(*args):
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_dry_run_plans_the_toy_experiments(tmp_path):
    out = _run("-n", "--cores", "2", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"))
    assert out.returncode == 0, out.stderr
    assert "rule toy:" in out.stdout and "results/toy/summary.md" in out.stdout


def test_lint_is_clean():
    out = _run("--lint")
    assert out.returncode == 0, out.stdout + out.stderr
