"""The files of one data set: ``<dataset>.tex``, ``.md`` and ``.diff.md``, and the same tables and diff as HTML
pages (``.html`` with the LaTeX as text after the tables, ``.diff.html``), all from the same blocks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..registry.feature_spaces import get_space, in_table_order
from ..runtime.provenance import provenance, write_text_atomic
from ..workflow.paths import TABLE_FILES
from .collect import METRICS, STD_DDOF, aggregate, read_records, selection_note
from .compare import claims_summary, judged_verdicts, length_warning
from .document import Bullets, Heading, Paragraph, Preformatted, to_html, to_markdown
from .extended import write_extended
from .grid import thesis_tables
from .render import (caption, comparable, diff_blocks, latex_table, rank_deficiency_note, regenerated_numbers,
                     space_cell_tests, table_block)
from .significance import Seeds, regenerated_side


def _feature_dims(part) -> int | None:
    """D of one space's records; None when any record predates ``feature_dims``."""
    dims = part.feature_dims
    return None if dims.isna().any() else int(dims.max())


def seed_values(part) -> Seeds:
    """model -> metric -> its seeds' values, (n,), from one space's records (``collect.read_records``'s rows)."""
    return {model: {m: group[m].to_numpy(dtype=float) for m in METRICS} for model, group in part.groupby("model")}


def _space_facts(df, agg, space: str) -> dict:
    part, agg_part = df[df.space == space], agg.xs(space, level="space")
    status = part.weights_status.iloc[0]
    seeds, steps = ", ".join(map(str, sorted(set(part.seed)))), ", ".join(sorted(set(agg_part.steps)))
    images = int(part.n_fake.min())
    smallest = int(min(part.n_real.min(), part.n_fake.min()))
    note = " ".join(filter(None, (rank_deficiency_note(smallest, _feature_dims(part)), selection_note(part))))
    about = (f"Feature space **{space}**: {get_space(space).description}; weights {status or 'none'}. "
             f"Seeds {seeds}; generator steps {steps}; {images} images per set. {note}").rstrip()
    numbers = regenerated_numbers(agg, space)
    return {"fd_name": part.fd_name.iloc[0], "comparable": comparable(space, status), "seeds": seeds,
            "steps": steps, "images": images, "numbers": numbers, "covariance_note": note, "about": about,
            "side": regenerated_side(numbers, seed_values(part))}


def _steps_by_model(df) -> dict[str, set]:
    """model -> the generator steps its runs trained (None where a record does not say)."""
    return {model: {None if pd.isna(s) else int(s) for s in group.steps}
            for model, group in df.groupby("model")}


def _summary_line(dataset: str, space: str, facts: dict) -> str:
    """One space in the diff's summary: what is compared (with the per-cell Welch tests in the thesis's space),
    how many models, the claims judged and n/a."""
    verdicts = judged_verdicts(facts["numbers"], dataset)
    compared = "orderings and claims only"
    if facts["comparable"]:
        tested = [t for t in space_cell_tests(facts["side"], dataset).values() if t.p is not None]
        compared = (f"absolute values compared; Welch + Holm: {sum(bool(t.differs) for t in tested)} of "
                    f"{len(tested)} tested cells differ")
    return (f"**{space}** ({compared}): {len(facts['numbers'])} models; {claims_summary(facts['numbers'], dataset)}."
            + (f" {verdicts}." if verdicts else ""))


def write_tables(dataset: str, metrics_files: list, out_dir: str | Path) -> list[Path]:
    """Aggregate ``metrics_files`` (all ``dataset``'s) and write the files of ``TABLE_FILES`` atomically;
    returns their paths in that order."""
    df = read_records(list(metrics_files), dataset)
    agg = aggregate(df)
    info = provenance({"dataset": dataset, "metrics_files": len(df), "std_ddof": STD_DDOF})
    stamp = Paragraph(f"hmogbench {info['versions'].get('hmogbench', '')}, git {info.get('git_commit') or 'unknown'}, "
                      f"{info['time_utc']}; {len(df)} metrics files; std over seeds with ddof={STD_DDOF}", italic=True)
    tex = [f"% Regenerated thesis tables for {dataset} ({stamp.text}).", "% Needs \\usepackage{booktabs}.", ""]
    md = [Heading(f"{dataset}: regenerated thesis tables", 1), stamp]
    warning = length_warning(_steps_by_model(df))
    summary, sections = [], []
    for space in in_table_order(df.space.unique()):
        facts = _space_facts(df, agg, space)
        for table in thesis_tables(dataset):
            cap = caption(table, space, facts["fd_name"], facts["seeds"], facts["steps"], facts["images"],
                          facts["covariance_note"])
            tex.append(latex_table(table, facts["numbers"], space, facts["fd_name"], cap))
            md.append(table_block(table, facts["numbers"], space, facts["fd_name"], cap))
        sections += diff_blocks(dataset, space, facts["fd_name"], facts["side"], facts["comparable"],
                                facts["about"], warning)
        summary.append(_summary_line(dataset, space, facts))
    diff = [Heading(f"{dataset}: regenerated vs published", 1), stamp, *([Paragraph(f"**{warning}**")] if warning else []),
            Paragraph("Summary per feature space (details and the agreement rule below):"), Bullets(tuple(summary)),
            *sections]
    latex = "\n".join(tex).rstrip() + "\n"
    texts = {"tex": latex, "md": to_markdown(md), "diff.md": to_markdown(diff),
             "html": to_html([*md, Heading(f"LaTeX ({dataset}.tex)"), Preformatted(latex)], md[0].text),
             "diff.html": to_html(diff, diff[0].text)}
    paths = [Path(out_dir) / f"{dataset}.{ext}" for ext in TABLE_FILES]
    for path, ext in zip(paths, TABLE_FILES):
        write_text_atomic(path, texts[ext])
    return paths + write_extended(dataset, df, agg, out_dir, stamp)  # EXTENDED_FILES, after TABLE_FILES
