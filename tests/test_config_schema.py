"""Workflow config values from the command line typed by the schema: `--config seeds=[2019,2020]` (strings
from Snakemake) means the integers, as the schema says."""

import subprocess
import sys
from pathlib import Path

import yaml

from hmogbench.config_schema import coerce

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


def test_strings_are_typed_by_the_schema():
    config = {"seeds": ["2019", "2020"], "steps": "null", "batch_size": "16", "keep_samples": "True",
              "models": ["FC", "HME-5"], "train_overrides": {"lr": "1e-4"}, "device": "cpu",
              "figures": {"seeds": ["7"], "device": "auto"}, "train_compile": "null"}
    coerce(config, SCHEMA)
    assert config["seeds"] == [2019, 2020] and config["batch_size"] == 16 and config["steps"] is None
    assert config["keep_samples"] is True and config["figures"] == {"seeds": [7], "device": "auto"}
    assert config["models"] == ["FC", "HME-5"] and config["device"] == "cpu"
    assert config["train_overrides"] == {"lr": "1e-4"}  # free-form: `hmogbench train` types it by TrainConfig
    assert config["train_compile"] == "null"  # a string field keeps its text ('null' is a string there)


def test_what_does_not_read_as_the_type_is_left_for_the_schema_to_name():
    config = {"seeds": ["2019", "twenty"], "batch_size": "1.5"}
    coerce(config, SCHEMA)
    assert config == {"seeds": [2019, "twenty"], "batch_size": "1.5"}


def test_snakemake_config_list_of_seeds(tmp_path):
    """The command a user typed: seeds given on the command line plan one training per seed list."""
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--directory", str(tmp_path),
                          "--snakefile", str(ROOT / "Snakefile"), "tables/mnist.md", "--config",
                          "seeds=[2019,2020]", "models=[FC]"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "--seeds 2019 2020" in out.stdout
