"""The model-family registry (hmogbench.registry.families): names round-trip, the workflow's wildcard, the generated schema
patterns and job_resources accept exactly its names, every family builds, counts and trains, and one new entry
is enough for a new family."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hmogbench.registry import families
from hmogbench.workflow import job_resources as jr
from hmogbench.workflow.config_schema import generated_values, render_schema
from hmogbench.training.config import DEFAULT_D_STEPS, DEFAULT_STEPS, OBJECTIVES, TrainConfig
from hmogbench.registry.families import LEAF_KINDS, Family
from hmogbench.training.flops import STEP_FLOPS, step_flops
from hmogbench.models.generator import build_discriminator, build_generator
from hmogbench.models.spec import COMPETITORS, FAMILIES, MIXTURES, ModelSpec
from hmogbench.training.objectives import build_objective
from hmogbench.models.params import head_parameter_count

ROOT = Path(__file__).resolve().parents[1]
# names the registry must reject or not call canonical (wrong family, size, leaves, case, zero padding)
NON_CANONICAL = ["HME", "FC-3", "FC-L", "MADGAN-L-4", "MEGAN-L-2", "tree-5", "ME-0", "ME-01", "me-4", " ME-4",
                 "HME-L", "ME--4", "GAN-3", "FCX", "ME-4-L", ""]


def members(family: Family, sizes=(1, 2, 3)) -> list[str]:
    """Canonical names of ``family`` at ``sizes`` with each of its leaf kinds."""
    if family.size is None:
        return [family.name]
    return [families.model_name(family.key, s, kind) for s in sizes for kind in family.leaf_kinds]


def smallest(family: Family) -> str:
    return members(family, sizes=(2,))[0]


def is_canonical(name: str) -> bool:
    try:
        return ModelSpec.parse(name).name == name
    except ValueError:
        return False


CANDIDATES = [n for f in families.FAMILIES for n in members(f, (1, 4, 32, 256))] + NON_CANONICAL


def test_the_registry_is_the_thesis_families():
    assert FAMILIES == ("fc", "me", "hme", "madgan", "mgan", "megan")
    assert MIXTURES == ("me", "hme") and COMPETITORS == ("madgan", "mgan", "megan")
    assert [families.family_of(k).num_generators(3) for k in FAMILIES] == [1, 3, 8, 3, 3, 3]
    assert {k: families.family_of(k).objective for k in FAMILIES} == {
        "fc": "wgan-gp", "me": "wgan-gp", "hme": "wgan-gp", "madgan": "madgan", "mgan": "mgan", "megan": "megan"}
    with pytest.raises(ValueError, match="unknown model family 'gan'"):
        families.family_of("gan")


@pytest.mark.parametrize("family", families.FAMILIES, ids=lambda f: f.key)
def test_every_name_round_trips(family):
    for name in members(family):
        spec = ModelSpec.parse(name)
        assert spec.family == family.key and spec.name == name and str(spec) == name
        assert ModelSpec(spec.family, spec.size, spec.leaves) == spec
        assert ModelSpec.parse(name.lower()) == spec
    assert ("-L-" in " ".join(members(family))) is ("linear" in family.leaf_kinds)


def test_names_outside_the_registry_are_rejected_with_the_reason():
    for bad, reason in [("HME", "needs a size"), ("FC-3", "takes no size"), ("MADGAN-L-4", "linear leaves only"),
                        ("tree-5", "cannot parse"), ("ME-0", "needs a size >= 1")]:
        with pytest.raises(ValueError, match=reason):
            ModelSpec.parse(bad)
        with pytest.raises(ValueError, match=reason):
            jr.default_steps(bad)


def test_wildcard_schema_and_job_resources_accept_exactly_the_registry_names():
    pattern = families.name_pattern()
    schema = generated_values()["model_names"]  # the config schema's pattern (tests/test_config_schema.py: fresh)
    accepted = [n for n in CANDIDATES if is_canonical(n)]
    assert set(CANDIDATES) - set(accepted) >= {"ME-0", "ME-01", "me-4", "MADGAN-L-4"}
    assert [n for n in CANDIDATES if re.fullmatch(pattern, n)] == accepted
    assert [n for n in CANDIDATES if re.search(schema, n)] == accepted
    for name in CANDIDATES:
        try:
            ModelSpec.parse(name)
        except ValueError:
            with pytest.raises(ValueError):
                jr.default_steps(name)
        else:
            assert jr.default_steps(name) == DEFAULT_STEPS[ModelSpec.parse(name).objective]


def test_the_snakemake_wildcards_are_the_registry_patterns():
    text = (ROOT / "workflow" / "rules" / "common.smk").read_text()
    constraints = text.split("wildcard_constraints:\n", 1)[1].split("\n\n", 1)[0]
    (constraint,) = re.findall(r"^\s*model=(.*)$", constraints, re.MULTILINE)
    assert constraint.startswith("families.name_pattern(),")
    figures = (ROOT / "workflow" / "rules" / "figures.smk").read_text()  # one rule per gated family
    assert "for family in families.family_keys(families.is_mixture):" in figures
    assert re.search(r"model=families\.family_of\(family\)\.pattern\(\),", figures)


def test_the_figures_schema_takes_the_mixtures():
    pattern = generated_values()["mixture_names"]
    assert re.search(pattern, "HME-L-3") and re.search(pattern, "ME-4") and not re.search(pattern, "MADGAN-4")
    assert not re.search(pattern, "FC") and not re.search(pattern, "HME-03")


def test_step_tables_are_the_registry_objectives():
    assert set(OBJECTIVES) == set(families.OBJECTIVES) == set(STEP_FLOPS)
    assert DEFAULT_STEPS == {"wgan-gp": 23_250, "ns": 23_250, "madgan": 23_400, "mgan": 23_400, "megan": 4_650}
    assert DEFAULT_D_STEPS == {"wgan-gp": 5, "ns": 1, "madgan": 1, "mgan": 1, "megan": 5}


def _has_batch_norm(module: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in module.modules())


@pytest.mark.parametrize("family", families.FAMILIES, ids=lambda f: f.key)
def test_every_family_builds_counts_and_answers_batchability(family):
    name = smallest(family)
    spec, cfg = ModelSpec.parse(name), TrainConfig(model=name)
    with torch.device("meta"):
        G = build_generator(spec, 32, 1)
        D = build_discriminator(spec, 32, 1)
    assert D.out.out_features == family.discriminator_outputs(spec.size) >= 1
    assert G.num_generators == spec.num_generators
    assert head_parameter_count(spec, 32) > 0 and head_parameter_count(spec, 64) > head_parameter_count(spec, 32)
    assert step_flops(cfg) > 0
    build_objective(family.objective, DEFAULT_D_STEPS[family.objective], spec.num_generators)
    build_objective(family.toy_objective, 1, spec.num_generators)
    batch_norm = _has_batch_norm(G.trunk) and _has_batch_norm(D)
    assert batch_norm is family.batch_norm and (family.unbatchable is None) is not batch_norm
    assert family.unbatchable is None or family.name in family.unbatchable


def test_the_registry_stays_torch_free():
    code = ("import sys; from hmogbench.registry import families; from hmogbench.interpret.outputs import figure_targets; "
            "families.parse_name('HME-L-3'); families.name_pattern(); families.default_steps('MEGAN-4'); "
            "figure_targets(['mnist'], ['HME-5', 'FC'], [1]); assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


GME = Family("gme", "depth", "hmogbench.models.heads:mixture_head", "wgan-gp", "ns", leaf_kinds=LEAF_KINDS,
             gating="softmax")  # made up: a softmax gate over 2^d leaves


def test_one_entry_is_a_new_family(monkeypatch):
    monkeypatch.setattr(families, "FAMILIES", (*families.FAMILIES, GME))
    spec = ModelSpec.parse("GME-L-3")
    assert (spec.family, spec.size, spec.leaves, spec.num_generators, spec.name) == ("gme", 3, "linear", 8, "GME-L-3")
    assert re.fullmatch(families.name_pattern(), "GME-3") and not re.fullmatch(families.name_pattern(), "GME-03")
    # the regenerated config schema takes it, as a model and as a mixture with figures
    schema = render_schema((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())
    assert schema.count("|GME(-L)?-[1-9][0-9]*") == 2 and re.search(generated_values()["mixture_names"], "GME-L-3")
    # the same network as ME-8 / ME-L-8, so the same parameters and FLOPs
    for ours, same in (("GME-3", "ME-8"), ("GME-L-3", "ME-L-8")):
        assert head_parameter_count(ModelSpec.parse(ours), 64) == head_parameter_count(ModelSpec.parse(same), 64)
        assert step_flops(TrainConfig(model=ours)) == step_flops(TrainConfig(model=same))
    assert jr.default_steps("GME-3") == 23_250
    job = jr.train_resources(model="GME-3", image_size=32, channels=1, batch_size=128, steps=100, seeds=1,
                             device="cpu", train_images=1000)
    assert job.mem_mb > 0 and job.runtime >= jr.MIN_TRAIN_MIN
