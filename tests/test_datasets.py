"""The data-set registry (hmogbench/registry/datasets.py) and the workflow's paths (hmogbench/workflow/paths.py): the entries are
the thesis's sets and agree with their raw files and published tables, no other code lists the sets, and one
new entry (plus its own code) is a new set for the catalog, the config schema, the grid, job sizes and the CLI."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from hmogbench.registry import datasets
from hmogbench.workflow import job_resources as jr
from hmogbench.workflow import paths
from hmogbench.cli import build_parser
from hmogbench.workflow.config_schema import SCHEMA_PATH, render_schema
from hmogbench.data import catalog
from hmogbench.data.fixtures import make_fixture
from hmogbench.data.prepare import prepare_dataset
from hmogbench.registry.datasets import Dataset, dataset_names, get_dataset, has_fixture, in_thesis
from hmogbench.registry.published import load_published
from hmogbench.tables.grid import run_settings, thesis_tables

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")  # a word as the sets are named ('fashion-mnist')


def test_the_registry_is_the_thesis_sets():
    assert dataset_names() == ("mnist", "fashion-mnist", "celeba", "utzap50k", "flowers", "mnist-5k")
    assert dataset_names(in_thesis) == dataset_names()[:5] and dataset_names(has_fixture) == dataset_names()[2:5]
    assert [(d.image_size, d.channels) for d in datasets.DATASETS] == [(32, 1)] * 2 + [(64, 3)] * 3 + [(32, 1)]
    # thesis 5.1: random hold-outs of 10,000 (CelebA), 5,000 (UTZap50K), 1,000 (Flowers); MNIST-like sets: official
    assert {d.name: d.test_count for d in datasets.DATASETS} == {
        "mnist": None, "fashion-mnist": None, "celeba": 10_000, "utzap50k": 5_000, "flowers": 1_000, "mnist-5k": 1_000}
    assert [get_dataset(n).table_title for n in dataset_names(in_thesis)] == [
        "MNIST", "Fashion MNIST", "CelebA", "UTZap50K", "Oxford Flowers"]
    with pytest.raises(ValueError, match="unknown data set 'cifar10'; expected one of mnist, fashion-mnist, "):
        get_dataset("cifar10")
    with pytest.raises(ValueError, match="'mnist-5k'; the thesis tables cover mnist, fashion-mnist, celeba"):
        thesis_tables("mnist-5k")


def test_a_bad_entry_is_refused_with_its_name():
    with pytest.raises(ValueError, match="data set 'x': channels 2"):
        Dataset("x", "X", 32, 2, 10, 10, "hmogbench.data.catalog:MNIST")
    with pytest.raises(ValueError, match=r"data set 'x': tables \('5.3',\)"):
        Dataset("x", "X", 32, 1, 10, 10, "hmogbench.data.catalog:MNIST", tables=("5.3",))


@pytest.mark.parametrize("name", dataset_names())
def test_each_entry_agrees_with_its_raw_files(name):
    entry, spec = get_dataset(name), catalog.get_spec(name)
    assert (spec.name, spec.image_size, spec.test_count) == (name, entry.image_size, entry.test_count)
    assert spec.mode == ("L" if entry.channels == 1 else "RGB") and catalog.DATASETS[name] == spec
    full = [s.expected_count for s in spec.sources if s.expected_count and not s.subset]
    if full:  # the published image count is the two splits together
        assert entry.train_images + entry.test_images == max(full)
    assert ("hmogbench data download" in spec.obtain) is bool(spec.downloads)
    assert (spec.fixture is not None) is entry.fixture  # raw_files refuses an entry that disagrees


def test_the_published_tables_are_the_registry_tables():
    assert {(row["table"], row["dataset"]) for row in load_published()} == {
        (number, d.name) for d in datasets.DATASETS for number in d.tables}
    for name in dataset_names(in_thesis):
        assert tuple(t.number for t in thesis_tables(name)) == get_dataset(name).tables


def _listings(path: Path) -> list[str]:
    """Where a file writes two or more set names together outside prose: a list, tuple, set or dict literal of
    them, or a string (not a docstring) naming three; in a .smk file, a line (outside comments) naming two."""
    names, text, found = set(dataset_names()), path.read_text(encoding="utf-8"), []
    if path.suffix != ".py":
        return [f"{path.name}:{n}" for n, line in enumerate(text.splitlines(), 1)
                if len(set(NAME.findall(line.split("#")[0])) & names) >= 2]
    tree = ast.parse(text)
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and ast.get_docstring(node)}
    for node in ast.walk(tree):
        if isinstance(node, (ast.List, ast.Tuple, ast.Set, ast.Dict)):
            items = [*node.keys, *node.values] if isinstance(node, ast.Dict) else node.elts
            hits = {e.value for e in items if isinstance(e, ast.Constant) and e.value in names}
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            hits = set(NAME.findall(node.value)) & names
            hits = hits if len(hits) >= 3 else set()
        else:
            continue
        if len(hits) >= 2:
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_other_code_lists_the_sets(tmp_path):
    files = [*(ROOT / "hmogbench").rglob("*.py"), *(ROOT / "workflow").rglob("*.smk"), ROOT / "Snakefile"]
    found = [hit for path in files if path != ROOT / "hmogbench" / "registry" / "datasets.py" for hit in _listings(path)]
    assert found == [], "derive these from hmogbench/registry/datasets.py"
    probe = tmp_path / "probe.py"  # the check sees a mapping and a help text, not a docstring
    probe.write_text('"""mnist, celeba and flowers."""\n'
                     'SIZES = {"mnist": 32, "celeba": 64}\nHELP = "mnist, celeba or flowers"\n')
    assert _listings(probe) == ["probe.py:2", "probe.py:3"]


def test_the_registry_paths_and_catalog_are_torch_free():
    code = ("import sys, hmogbench.registry.datasets, hmogbench.workflow.paths, hmogbench.workflow.config_schema, hmogbench.data.catalog as c, "
            "hmogbench.tables.grid as g; c.get_spec('celeba'); g.run_settings('flowers'); "
            "hmogbench.workflow.config_schema.generated_values(); sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_paths_fill_some_fields_and_keep_the_others():
    assert paths.fields(paths.GRID) == ["dataset", "model", "seed"]
    assert paths.fill(paths.METRICS, dataset="mnist", model="FC") == "results/metrics/{space}/mnist/FC/seed{seed}.json"
    assert paths.fill(paths.TABLE, dataset="celeba", ext="diff.md") == "tables/celeba.diff.md"
    assert paths.fill(paths.METRICS_FILE, space="*", dataset="mnist", model="*", seed="*") == "*/mnist/*/seed*.json"
    with pytest.raises(ValueError, match=r"has no field\(s\) sed"):
        paths.fill(paths.GENERATOR, sed=1)


# made up: Oxford Flowers at 32x32, from the flowers' raw files (its own code: none beyond the entry)
FLOWERS_32 = Dataset("flowers-32", "Oxford Flowers 102 at 32x32", 32, 3, 7_189, 1_000,
                     "hmogbench.data.catalog:FLOWERS", raw_subdir="flowers102", fixture=True)


def test_one_entry_is_a_new_set(monkeypatch, tmp_path):
    monkeypatch.setattr(datasets, "DATASETS", (*datasets.DATASETS, FLOWERS_32))
    # the catalog: its raw layouts, download command, fixture; prepared at its own size
    spec = catalog.get_spec("flowers-32")
    assert "flowers-32" in catalog.DATASETS and spec.sources == catalog.FLOWERS.sources and spec.mode == "RGB"
    assert spec.obtain.endswith("`hmogbench data download flowers-32`")
    make_fixture("flowers-32", tmp_path / "raw", count=20)
    manifest = prepare_dataset("flowers-32", tmp_path / "raw", tmp_path / "out", progress=False)
    train = np.load(tmp_path / "out" / "train.npy")
    assert manifest["dataset"] == "flowers-32" and train.shape[1:] == (32, 32, 3) and train.dtype == np.uint8
    # the config schema, regenerated: a set to prepare and train on, not a table set (no published tables)
    props = yaml.safe_load(render_schema(SCHEMA_PATH.read_text()))["properties"]
    assert props["datasets"]["items"]["enum"][-1] == props["train_source"]["additionalProperties"]["enum"][-1] \
        == props["fixtures"]["items"]["enum"][-1] == "flowers-32"
    table_sets = props["datasets"]["default"] + props["figures"]["properties"]["datasets"]["items"]["enum"]
    assert "flowers-32" not in table_sets
    # the grid's run settings, job sizes, the CLI's choices, the workflow's wildcard
    assert run_settings("flowers-32") == {"dataset": "flowers-32", "image_size": 32, "channels": 3}
    assert jr.train_images("flowers-32") == 7_189 and jr.train_images("flowers-32", size_mb=3.072) == 1_000
    parser = build_parser()
    assert parser.parse_args(["data", "prepare", "flowers-32"]).datasets == ["flowers-32"]
    assert parser.parse_args(["data", "fixture", "flowers-32"]).dataset == "flowers-32"
    assert re.fullmatch(datasets.wildcard_pattern(), "flowers-32") and not re.fullmatch(datasets.wildcard_pattern(),
                                                                                           "flowers-3")


def test_an_entry_naming_missing_raw_files_or_fixture_is_refused(monkeypatch):
    broken = Dataset("broken", "B", 32, 1, 10, 10, "hmogbench.data.catalog:NO_SUCH_FILES")
    promised = Dataset("promised", "P", 32, 1, 10, 10, "hmogbench.data.catalog:MNIST", fixture=True)
    monkeypatch.setattr(datasets, "DATASETS", (*datasets.DATASETS, broken, promised))
    with pytest.raises(ValueError, match="'broken': its registry entry names raw files 'hmogbench.data.catalog:NO_"):
        catalog.get_spec("broken")
    with pytest.raises(ValueError, match="'promised': registry fixture=True but .*:MNIST has no fixture layout"):
        catalog.get_spec("promised")
