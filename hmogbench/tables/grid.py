"""The paper grid: which models each data set's two thesis tables hold, in the thesis's row order.

Per data set (thesis 5.5): one table of constant-leaf mixtures (Tables 5.3-5.7: FC, HME-5..8,
ME-32..256) and one of linear-leaf mixtures and competitors (Tables 5.8-5.12: FC, HME-L-2..5,
ME-L-4..32, MADGAN, MGAN, MEGAN with 4..32 generators) -- 29 distinct models, FC in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..published import DATASET_IMAGE_SIZE, load_published

DATASETS = tuple(DATASET_IMAGE_SIZE)  # mnist, fashion-mnist, celeba, utzap50k, flowers
DATASET_CHANNELS = {"mnist": 1, "fashion-mnist": 1, "celeba": 3, "utzap50k": 3, "flowers": 3}
SEEDS = (2019, 2020, 2021, 2022, 2023)  # thesis: five runs, the authors' seeds


@dataclass(frozen=True)
class ThesisTable:
    """One published table: its number ('5.3'), data set, kind ('constant' or 'linear') and models in order."""

    number: str
    dataset: str
    kind: str
    models: tuple[str, ...]


@lru_cache(maxsize=None)
def thesis_tables(dataset: str) -> tuple[ThesisTable, ThesisTable]:
    """The (constant, linear) tables of ``dataset``, rows in the thesis's order."""
    if dataset not in DATASET_IMAGE_SIZE:
        raise ValueError(f"unknown data set {dataset!r}; the thesis tables cover {list(DATASET_IMAGE_SIZE)}")
    by_table: dict[str, list[str]] = {}
    for row in load_published():
        if row["dataset"] == dataset:
            by_table.setdefault(row["table"], []).append(row["model"])
    numbers = sorted(by_table, key=lambda t: tuple(int(p) for p in t.split(".")))
    if len(numbers) != 2:
        raise ValueError(f"expected two published tables for {dataset}, found {numbers}")
    return tuple(ThesisTable(n, dataset, kind, tuple(by_table[n]))  # type: ignore[return-value]
                 for n, kind in zip(numbers, ("constant", "linear")))


def paper_models(dataset: str) -> list[str]:
    """Every distinct model of ``dataset``'s two tables, in table order (FC once): 29 names."""
    seen: dict[str, None] = {}
    for table in thesis_tables(dataset):
        seen.update(dict.fromkeys(table.models))
    return list(seen)


def run_settings(dataset: str) -> dict[str, int | str]:
    """TrainConfig keys fixed by the data set: image size (32 or 64) and channels (1 or 3)."""
    return {"dataset": dataset, "image_size": DATASET_IMAGE_SIZE[dataset], "channels": DATASET_CHANNELS[dataset]}
