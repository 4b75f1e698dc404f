"""Training rates measured on a device, as the cases that time the paper grid's configurations (torch-free).

A case is one measured training configuration: model, image size, kind, training precision and its achieved
FLOP/s (``hmogbench.training.flops.step_flops`` of its runs over the measured seconds per generator step). Kinds:
'batched', the seeds of one configuration trained as one group (what the workflow runs for FC/ME/HME on a GPU:
vmap), and 'baseline', one run alone (how MADGAN/MGAN/MEGAN train, their seeds one after another). Cases are read
from gpu_check's JSON lines (its eager and vmap lines) or from bench_train's record (baseline: the baseline
variant; batched: the best variant, the baseline included, as on a CPU the workflow's default 'loop' runs at the
baseline's rate).

A configuration trains at the FLOP/s of its nearest case (``nearest``): the same kind and precision, then the same
family, then the same image size, then the closest FLOPs per step.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

KINDS = {"eager": "baseline", "vmap": "batched"}  # gpu_check's modes that the workflow runs on a GPU -> kinds


@dataclass(frozen=True)
class Case:
    """One measured configuration: ``flops_per_s`` achieved by all its runs together, ``flops_per_step`` of one
    run's generator step."""

    model: str
    image_size: int
    kind: str
    precision: str
    flops_per_s: float
    flops_per_step: float

    @property
    def label(self) -> str:
        return f"{self.model}@{self.image_size} {self.kind} {self.precision}"


def family(model: str) -> str:
    """A model's family as the rates tell them apart: 'hme', 'hme-l' (linear leaves), 'madgan', ..."""
    from hmogbench.registry.families import parse_name

    key, _, leaves = parse_name(model)
    return key + ("-l" if leaves == "linear" else "")


def from_gpu_check(lines: list[dict]) -> tuple[str, list[Case]]:
    """(the GPU's name, the cases) of gpu_check's JSON lines: every measured eager or vmap training line without
    torch.compile, at the precision it ran in."""
    probe = next((line.get("figures") or {} for line in lines if line.get("part") == "probe"), {})
    device = probe.get("gpu_name") or (probe.get("device") or {}).get("name") or "unknown device"
    cases = [Case(f["model"], f["image_size"], KINDS[f["mode"]], f["precision"], f["achieved_flops_per_s"],
                  f["step_flops_per_run"])
             for f in (line.get("figures") or {} for line in lines if line.get("ok"))
             if f.get("mode") in KINDS and not f.get("compile_mode") and f.get("achieved_flops_per_s")]
    return device, cases


def from_bench_train(record: dict) -> tuple[str, list[Case]]:
    """(the device's name, the cases) of bench_train's record: per entry, the baseline variant and the best
    variant (the batched kind), at the precision of the record's numerics (TF32 in effect or not)."""
    tf32 = (record.get("provenance", {}).get("numerics") or {}).get("tf32_in_effect")
    precision = "tf32" if tf32 else "fp32"
    cases = []
    for entry in record["results"]:
        variants = {k: v for k, v in entry["variants"].items() if "achieved_flops_per_s" in v}
        kinds = {"batched": max((v["achieved_flops_per_s"] for v in variants.values()), default=None),
                 "baseline": variants.get("baseline", {}).get("achieved_flops_per_s")}
        cases += [Case(entry["model"], entry["image_size"], kind, precision, rate,
                       entry["flops_per_generator_step_per_run"]) for kind, rate in kinds.items() if rate]
    return record["device"]["name"], cases


def read_measured(path: str | Path) -> tuple[str, list[Case], float | None]:
    """(device, cases, fp32 feature images/s or None) of gpu_check's ``gpu_check.jsonl`` (its fp32 'features'
    line) or of a bench_train JSON record (no features)."""
    text = Path(path).read_text(encoding="utf-8")
    if not str(path).endswith(".jsonl"):
        return (*from_bench_train(json.loads(text)), None)
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]
    features = [line["figures"]["images_per_s"] for line in lines if line.get("ok") and line.get("part") == "features"
                and (line.get("figures") or {}).get("precision") == "fp32"]
    return (*from_gpu_check(lines), features[0] if features else None)


def missing(cases: list[Case], needs: set[tuple[int, str]], precision: str) -> list[tuple[int, str]]:
    """The (image size, kind) pairs of ``needs`` that no case of ``precision`` measured."""
    have = {(c.image_size, c.kind) for c in cases if c.precision == precision}
    return sorted(needs - have)


def nearest(cases: list[Case], model: str, size: int, kind: str, precision: str, flops_per_step: float
            ) -> Case | None:
    """The case that times ``model`` at ``size`` px: of the cases of ``kind`` and ``precision``, the one of the
    same family, then of the same image size, then the closest FLOPs per step; None if none has that kind and
    precision."""
    fits = [c for c in cases if c.kind == kind and c.precision == precision]
    return min(fits, default=None, key=lambda c: (family(c.model) != family(model), c.image_size != size,
                                                  abs(math.log(c.flops_per_step / flops_per_step))))
