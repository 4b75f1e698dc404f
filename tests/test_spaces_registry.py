"""The feature-space registry (hmogbench/registry/feature_spaces.py): its entries are consistent, everything that
names spaces reads them (CLI, workflow wildcard, tables, cache key; the config schema is generated from it,
tests/test_config_schema.py), and a new space is one entry."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from hmogbench.registry import feature_spaces
from hmogbench.cli import build_parser
from hmogbench.workflow.config_schema import generated_values
from hmogbench.registry.feature_spaces import (PRECISION_NAMES, SPACES, VERIFIED_STATUSES, FeatureSpace, get_space,
                                      in_table_order, spaces_with_weights, wildcard_pattern)
from hmogbench.metrics import spaces as space_functions
from hmogbench.metrics.cache import cache_meta
from hmogbench.metrics.score import fd_name
from hmogbench.metrics.spaces import PRECISIONS, load_space
from hmogbench.tables.grid import thesis_tables
from hmogbench.tables.render import caption, column_names, comparable

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", list(SPACES))
def test_each_entry_is_consistent(name):
    space = SPACES[name]
    assert space.name == name and space.description and "\n" not in space.description
    assert callable(getattr(space_functions, space.preprocess))
    assert space.network is None or callable(getattr(space_functions, space.network))
    assert space.weights is None or space.network is not None  # weights are a network's
    assert space.precisions[0] == "fp32" and set(space.precisions) <= set(PRECISION_NAMES)
    assert space.code_version >= 1
    if space.weights is not None:
        source = space.weights
        assert source.env_var.startswith("HMOGBENCH_") and source.url.endswith("/" + source.file_names[0])
        assert set(source.accepted.values()) <= set(VERIFIED_STATUSES)
        assert all(re.fullmatch(r"[0-9a-f]{64}|[0-9a-f]{8}", key) for key in source.accepted)
        prefix = Path(source.file_names[0]).stem.rsplit("-", 1)[1]  # torch.hub checks the download by it
        assert any(key.startswith(prefix) for key in source.accepted)


def test_entries_differ_where_they_must():
    orders = [space.table_order for space in SPACES.values()]
    env_vars = [space.weights.env_var for space in SPACES.values() if space.weights]
    assert len(set(orders)) == len(orders) and len(set(env_vars)) == len(env_vars)
    assert tuple(PRECISIONS) == PRECISION_NAMES  # the torch types of spaces.py, one per registry name
    assert in_table_order(SPACES) == ["thesis-inception", "fid-inception", "pixels"]
    assert spaces_with_weights() == ("fid-inception", "thesis-inception")


def test_distance_names():
    assert [n for n, s in SPACES.items() if s.fd_name("official") == "FID"] == ["fid-inception"]
    for name, space in SPACES.items():
        status = "official" if space.weights else None
        assert space.fd_name(status) == ("FID" if name == "fid-inception" else f"FD ({name})")
        assert space.fd_name(status, "bf16") == space.fd_name(status) + " [bf16 features]"
        assert space.fd_name("unverified") == ("FD (unverified weights)" if space.weights else f"FD ({name})")
    assert get_space("fid-inception").fd_name("reconstruction", "tf32") == "FID [tf32 features]"


def test_only_the_thesis_space_with_verified_weights_is_comparable():
    judged = {(name, status): comparable(name, status) for name in SPACES
              for status in ("official", "reconstruction", "unverified", None)}
    assert {key for key, ok in judged.items() if ok} == {("thesis-inception", "official"),
                                                         ("thesis-inception", "reconstruction")}
    assert column_names("thesis-inception", "FD")[1] == "5-NN Real"
    assert column_names("pixels", "FD")[1] == "5-NN Real (pixels)"


def test_the_cli_offers_the_registry_spaces():
    commands = next(a for a in build_parser()._actions if a.dest == "command").choices

    def option(command, dest):
        return next(a for a in commands[command]._actions if a.dest == dest)

    assert option("score", "features").choices == option("features", "features").choices == list(SPACES)
    assert all(f"${SPACES[n].weights.env_var} ({n})" in option("score", "weights").help
               for n in spaces_with_weights())


def test_the_workflow_wildcard_matches_exactly_the_registry_names():
    pattern = wildcard_pattern()
    assert all(re.fullmatch(pattern, name) for name in SPACES)
    assert not any(re.fullmatch(pattern, name) for name in ("fid", "pixels2", "thesis-inception/x", "FID"))
    assert "space=space_pattern()" in (ROOT / "workflow" / "rules" / "common.smk").read_text()


def test_the_registry_and_the_tables_import_no_torch():
    code = ("import sys, hmogbench.registry.feature_spaces, hmogbench.tables.collect; "
            "sys.exit('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_a_new_space_is_one_entry(monkeypatch):
    """A planted entry (no new code: it reuses ``fid_preprocess``) is loadable, named, cached, tabled and
    matched by the workflow's wildcard."""
    gray = FeatureSpace("rgb-pixels", "pixels as three channels, not the thesis's extractor", table_order=5,
                        preprocess="fid_preprocess", code_version=3)
    monkeypatch.setattr(feature_spaces, "SPACES", {**SPACES, gray.name: gray})
    extractor = load_space("rgb-pixels", precision="bf16")
    images = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    assert extractor(images).shape == (2, 48) and extractor.precision == "fp32"  # no network: nothing to round
    assert fd_name(extractor) == "FD (rgb-pixels)"
    assert cache_meta(images, extractor)["code_version"].endswith("rgb-pixels v3")
    assert in_table_order(["rgb-pixels", "pixels", "thesis-inception"]) == ["thesis-inception", "pixels",
                                                                           "rgb-pixels"]
    assert re.fullmatch(feature_spaces.wildcard_pattern(), "rgb-pixels")
    assert generated_values()["feature_spaces"][-1] == "rgb-pixels"  # the config schema, regenerated, offers it
    cap = caption(thesis_tables("mnist")[0], "rgb-pixels", "FD (rgb-pixels)", "2019", "7", 100)
    assert "Feature space: rgb-pixels (pixels as three channels, not the thesis's extractor)" in cap
    assert not comparable("rgb-pixels", None)


def test_an_entry_naming_a_missing_function_is_refused(monkeypatch):
    broken = FeatureSpace("broken", "x", table_order=9, preprocess="no_such_function")
    monkeypatch.setattr(feature_spaces, "SPACES", {**SPACES, broken.name: broken})
    with pytest.raises(ValueError, match="registry names 'no_such_function', expected a function of "
                                         "hmogbench.metrics.spaces"):
        load_space("broken")
