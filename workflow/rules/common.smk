# Configuration and helpers shared by the rules (no rules here).
from pathlib import Path

from snakemake.utils import validate

from hmogbench.data.catalog import DATASETS


configfile: str(Path(workflow.current_basedir).parents[1] / "config" / "config.yaml")


validate(config, schema="../schemas/config.schema.yaml")

FIXTURE_DIR = "resources/fixtures"
RAW_SUBDIR_TO_SET = {spec.raw_subdir: name for name, spec in DATASETS.items() if spec.raw_subdir}


def raw_dir_of(wildcards):
    """Where `hmogbench data prepare` reads this set's raw files from."""
    return FIXTURE_DIR if wildcards.dataset in config["fixtures"] else config["raw_dir"]


def fixture_marker(wildcards):
    """A fixture set depends on its FIXTURE.json (so the fixture is made first); others on nothing."""
    if wildcards.dataset in config["fixtures"]:
        return f"{FIXTURE_DIR}/{DATASETS[wildcards.dataset].raw_subdir}/FIXTURE.json"
    return []


def fixture_set(wildcards):
    return RAW_SUBDIR_TO_SET[wildcards.raw_subdir]
