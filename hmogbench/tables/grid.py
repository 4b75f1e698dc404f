"""The paper grid: which models each data set's two thesis tables hold, in the thesis's row order.

Per data set: one table of constant-leaf mixtures (Tables 5.3-5.7, thesis 5.4: FC, HME-5..8, ME-32..256)
and one of linear-leaf mixtures (thesis 5.4) and competitors (thesis 5.5) (Tables 5.8-5.12: FC, HME-L-2..5,
ME-L-4..32, MADGAN, MGAN, MEGAN with 4..32 generators) -- 29 distinct models, FC in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ..registry.datasets import get_dataset, thesis_dataset
from ..registry.published import load_published

SEEDS = (2019, 2020, 2021, 2022, 2023)  # thesis: five runs, the authors' seeds


@dataclass(frozen=True)
class ThesisTable:
    """One published table: its number ('5.3'), data set, kind ('constant' or 'linear') and models in order."""

    number: str
    dataset: str
    kind: str
    models: tuple[str, ...]


@cache
def thesis_tables(dataset: str) -> tuple[ThesisTable, ThesisTable]:
    """The (constant, linear) tables of ``dataset`` (its registry entry's numbers), rows in the thesis's order."""
    numbers = thesis_dataset(dataset).tables
    by_table: dict[str, list[str]] = {number: [] for number in numbers}
    for row in load_published():
        if row["dataset"] == dataset and row["table"] in by_table:
            by_table[row["table"]].append(row["model"])
    empty = [number for number, models in by_table.items() if not models]
    if empty:
        raise ValueError(f"{dataset}: no rows of Table(s) {', '.join(empty)} in hmogbench/resources/thesis_tables.csv")
    return tuple(ThesisTable(n, dataset, kind, tuple(by_table[n]))  # type: ignore[return-value]
                 for n, kind in zip(numbers, ("constant", "linear")))


def paper_models(dataset: str) -> list[str]:
    """Every distinct model of ``dataset``'s two tables, in table order (FC once): 29 names."""
    seen: dict[str, None] = {}
    for table in thesis_tables(dataset):
        seen.update(dict.fromkeys(table.models))
    return list(seen)


def run_settings(dataset: str) -> dict[str, int | str]:
    """TrainConfig keys fixed by the data set: image size (32 or 64) and channels (1 or 3), from the registry."""
    entry = get_dataset(dataset)
    return {"dataset": dataset, "image_size": entry.image_size, "channels": entry.channels}
