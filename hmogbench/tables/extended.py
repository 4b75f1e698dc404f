"""The extended table of one data set (beyond the thesis): the rows of its two thesis tables with FD, KID, 5-NN Real,
5-NN Fake, precision, recall, density and coverage (``collect.EXTENDED``), mean ± std over seeds, one pair of tables
per feature space. Written as ``<dataset>.extended.md``, ``.extended.tex`` (booktabs) and ``.extended.html`` (the
report's page; Markdown and HTML from the same blocks). The thesis tables themselves keep the thesis's columns.

'--': a model not run, or records without the metric (written by an older hmogbench).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from ..metrics.prdc import K_DC, K_PR
from ..registry.feature_spaces import get_space, in_table_order
from ..runtime.provenance import write_text_atomic
from ..workflow.paths import EXTENDED_FILES
from .collect import EXTENDED, selection_note
from .document import Block, Heading, Paragraph, Table, to_html, to_markdown
from .grid import ThesisTable, thesis_tables
from .render import MISSING, booktabs, model_label

DECIMALS = {"fd": 2, "kid": 4, "knn_real": 2, "knn_fake": 2, "precision": 3, "recall": 3, "density": 3,
            "coverage": 3}
NAMES = {"kid": "KID", "knn_real": "5-NN Real", "knn_fake": "5-NN Fake", "precision": "Precision",
         "recall": "Recall", "density": "Density", "coverage": "Coverage"}
SPACE_NAMED = ("kid", "knn_real", "knn_fake")  # headers that carry the space outside the thesis's


def extended_columns(space: str, fd_name: str) -> list[str]:
    """Model, then one header per ``collect.EXTENDED`` metric: the FD by its own name (``fd_name``); KID and the
    5-NN scores name the space outside the thesis's (as the thesis tables' headers and ``hmogbench score`` do);
    precision, recall, density and coverage, which have no thesis or Inception namesake, do not."""
    suffix = "" if get_space(space).thesis_comparable else f" ({space})"
    return ["Model", *(fd_name if m == "fd" else NAMES[m] + (suffix if m in SPACE_NAMED else "") for m in EXTENDED)]


def cell(row: pd.Series | None, metric: str) -> str:
    """'mean ± std' of one metric of an ``aggregate`` row, '--' where the row is missing or the mean NaN."""
    if row is None or math.isnan(row[f"{metric}_mean"]):
        return MISSING
    digits = DECIMALS[metric]
    return f"{row[f'{metric}_mean']:.{digits}f} ± {row[f'{metric}_std']:.{digits}f}"


def extended_caption(table: ThesisTable, space: str, fd_name: str, seeds: str, steps: str, images: int,
                     note: str = "") -> str:
    """The caption, naming exactly the columns of ``extended_columns``; ``note``: ``collect.selection_note``'s
    sentence (which snapshot of each run is scored), appended when not empty."""
    columns = extended_columns(space, fd_name)[1:]
    return (f"Extended Table {table.number} (the thesis's rows, metrics beyond it) on "
            f"{space} ({get_space(space).description}). Columns: {columns[0]}, the Fréchet distance; {columns[1]}, "
            f"the kernel distance (unbiased squared MMD, cubic polynomial kernel, mean over subsets); {columns[2]} "
            f"and {columns[3]}, 5-NN accuracies in %; {columns[4]} and {columns[5]}, improved precision and recall "
            f"(Kynkäänniemi et al. 2019, k = {K_PR}); {columns[6]} and {columns[7]}, density and coverage (Naeem et "
            f"al. 2020, k = {K_DC}). Mean ± std over seeds {seeds}; {steps} generator steps; {images} real and "
            f"fake images. '--': not run, or records without the metric." + (f" {note}" if note else ""))


def _space_tables(dataset: str, df: pd.DataFrame, agg: pd.DataFrame, space: str) -> tuple[list[Block], list[str]]:
    """One space's blocks (heading, then per thesis table its caption and rows) and LaTeX tables."""
    part, fd_name = df[df.space == space], df[df.space == space].fd_name.iloc[0]
    numbers = agg.xs(space, level="space")
    seeds = ", ".join(map(str, sorted(set(part.seed))))
    steps = ", ".join(sorted(set(numbers.steps)))
    headers = extended_columns(space, fd_name)
    blocks: list[Block] = [Heading(f"{space}: {fd_name}, KID, 5-NN, precision, recall, density, coverage")]
    tex = []
    for table in thesis_tables(dataset):
        rows = [[model_label(model), *(cell(numbers.loc[model] if model in numbers.index else None, m)
                                       for m in EXTENDED)] for model in table.models]
        cap = extended_caption(table, space, fd_name, seeds, steps, int(part.n_fake.min()), selection_note(part))
        blocks.append(Table(tuple(headers), tuple(map(tuple, rows)), ("left",) + ("right",) * len(EXTENDED),
                            f"**Extended Table {table.number}** -- {cap}"))
        tex.append(booktabs(headers, rows, cap, f"tab:hmogbench-{table.dataset}-{table.number}-{space}-extended",
                            "l" + "c" * len(EXTENDED), small=True))
    return blocks, tex


def write_extended(dataset: str, df: pd.DataFrame, agg: pd.DataFrame, out_dir: str | Path,
                   stamp: Paragraph) -> list[Path]:
    """The files of ``EXTENDED_FILES`` from ``collect.read_records``' rows ``df`` and their ``aggregate`` ``agg``,
    written atomically; ``stamp``: the tables' provenance line. Returns their paths in that order."""
    title = f"{dataset}: extended tables (FD, KID, 5-NN, precision, recall, density, coverage)"
    md: list[Block] = [Heading(title, 1), stamp,
                       Paragraph("The thesis's rows with metrics beyond its tables; docs/metrics.md says what each "
                                 "means and when it is meaningful.")]
    tex = [f"% Extended tables for {dataset} ({stamp.text}).", "% Needs \\usepackage{booktabs}.", ""]
    for space in in_table_order(df.space.unique()):
        blocks, tables = _space_tables(dataset, df, agg, space)
        md += blocks
        tex += tables
    texts = {"extended.md": to_markdown(md), "extended.tex": "\n".join(tex).rstrip() + "\n",
             "extended.html": to_html(md, title)}
    paths = [Path(out_dir) / f"{dataset}.{ext}" for ext in EXTENDED_FILES]
    for path, ext in zip(paths, EXTENDED_FILES):
        write_text_atomic(path, texts[ext])
    return paths
