"""The workflow's config schema: generated from the registries (regenerating gives the committed file), and
config values from the command line typed by it: `--config seeds=[2019,2020]` (strings from Snakemake) means
the integers, as the schema says."""

from pathlib import Path

import pytest
import yaml
from workflow_runs import run_snakemake

from hmogbench.workflow.config_schema import SCHEMA_PATH, coerce, generated_values, main, render_schema

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


def test_the_schema_is_generated_from_the_registries():
    """Regenerating the file gives it back unchanged, and the registries' values sit where the workflow reads."""
    assert SCHEMA_PATH == ROOT / "workflow" / "schemas" / "config.schema.yaml"
    text = SCHEMA_PATH.read_text(encoding="utf-8")
    assert render_schema(text) == text, "stale: run python -m hmogbench.workflow.config_schema --write"
    values, props = generated_values(), SCHEMA["properties"]
    assert props["datasets"]["items"]["enum"] == values["datasets"]
    assert props["train_source"]["additionalProperties"]["enum"] == values["datasets"]
    assert props["datasets"]["default"] == values["thesis_datasets"] == ["mnist", "fashion-mnist", "celeba",
                                                                         "utzap50k", "flowers"]
    assert props["fixtures"]["items"]["enum"] == values["fixture_datasets"] == ["celeba", "utzap50k", "flowers"]
    assert props["models"]["oneOf"][1]["items"]["pattern"] == values["model_names"]
    assert props["figures"]["properties"]["models"]["items"]["pattern"] == values["mixture_names"]
    assert props["feature_spaces"]["items"]["enum"] == values["feature_spaces"]
    assert list(props["inception_weights"]["properties"]) == ["fid-inception", "thesis-inception"]


def test_a_stale_schema_is_caught_and_rewritten(tmp_path):
    stale = tmp_path / "config.schema.yaml"
    stale.write_text(SCHEMA_PATH.read_text().replace(", mnist-5k]", "]", 1))
    assert main(["--check", "--schema", str(stale)]) == 1
    assert main(["--write", "--schema", str(stale)]) == 0 and stale.read_text() == SCHEMA_PATH.read_text()
    assert main(["--check", "--schema", str(stale)]) == 0


def test_an_unknown_or_unused_generated_key_is_named():
    text = SCHEMA_PATH.read_text()
    line = len(text.splitlines()) + 1
    with pytest.raises(ValueError, match=f"config.schema.yaml line {line}: unknown generated key 'colours'"):
        render_schema(text + "  extra: []  # generated: colours\n")
    with pytest.raises(ValueError, match="no line is marked `# generated:` precisions"):
        render_schema(text.replace("  # generated: precisions", ""))


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
    """The command a user typed: seeds given on the command line plan one training per seed list; eval_every
    (typed from its text too) adds the snapshots to training, their scores to evaluate and their plot."""
    out = run_snakemake(["-n", "--cores", "1", "--directory", str(tmp_path), "--snakefile", str(ROOT / "Snakefile"),
                         "tables/mnist.md", "results/plots/mnist/FC/over_training.png", "--config", "seeds=[2019,2020]",
                         "models=[FC]", "eval_every=500"], ROOT, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    assert "--seeds 2019 2020" in out.stdout
    assert "--full-length" in out.stdout  # config steps null: the authors' length, asked for explicitly
    assert "--set=eval_every=500" in out.stdout
    assert ("--over-training-out 'results/metrics_over_training/thesis-inception/mnist/FC/seed{seed}.json' "
            "--over-training-space thesis-inception --over-training-count 1000 --select final") in out.stdout
    assert "hmogbench plot over-training results/metrics_over_training/thesis-inception/mnist/FC/seed2019.json" \
        in out.stdout
