"""The "Param." column of thesis Tables 5.3-5.12: parameters of the first-layer head only.

The thesis does not count the shared convolutional trunk ("the parameter count does not include
the convolutional part"). Counts here are taken from the built modules themselves (on the meta
device, so even the 27.9M-parameter heads cost no memory), then formatted as the thesis prints
them: truncated, not rounded -- whole thousands below one million ("268K" for 268,507), millions
with two decimals above ("1.65M" for 1,655,087; "13.24M" for 13,241,403).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..registry.published import DATASET_IMAGE_SIZE, load_published
from .generator import Z_DIM
from .heads import build_head
from .spec import ModelSpec
from .trunk import head_out_features


def head_parameter_count(spec: ModelSpec, image_size: int, z_dim: int = Z_DIM) -> int:
    """Number of parameters of ``spec``'s first layer at ``image_size`` (32 or 64)."""
    with torch.device("meta"):
        head = build_head(spec, z_dim, head_out_features(image_size))
    return sum(p.numel() for p in head.parameters())


def format_count(n: int) -> str:
    """Thesis formatting, truncating: 413,696 -> '413K'; 1,074,331 -> '1.07M'; 27,000,832 -> '27.00M'."""
    if n < 1_000_000:
        return f"{n // 1000}K"
    hundredths = n // 10_000
    return f"{hundredths // 100}.{hundredths % 100:02d}M"


@dataclass(frozen=True)
class ParamRow:
    table: str
    dataset: str
    model: str
    image_size: int
    count: int
    printed: str

    @property
    def ours(self) -> str:
        return format_count(self.count)

    @property
    def matches(self) -> bool:
        return self.ours == self.printed


def parameter_rows() -> list[ParamRow]:
    """One row per row of thesis Tables 5.3-5.12, with our count and the printed one."""
    rows, cache = [], {}
    for rec in load_published():
        size = DATASET_IMAGE_SIZE[rec["dataset"]]
        key = (rec["model"], size)
        if key not in cache:
            cache[key] = head_parameter_count(ModelSpec.parse(rec["model"]), size)
        rows.append(ParamRow(rec["table"], rec["dataset"], rec["model"], size, cache[key], rec["params_printed"]))
    return rows
