"""The three files of one data set: ``<dataset>.tex``, ``<dataset>.md`` and ``<dataset>.diff.md``."""

from __future__ import annotations

from pathlib import Path

from ..registry.feature_spaces import get_space, in_table_order
from ..runtime.provenance import provenance, write_text_atomic
from .collect import STD_DDOF, aggregate, read_records
from .compare import CLAIMS, published_numbers, yes_no
from .grid import thesis_tables
from .render import (caption, comparable, diff_markdown, latex_table, markdown_table, rank_deficiency_note,
                     regenerated_numbers)


def _feature_dims(part) -> int | None:
    """D of one space's records; None when any record predates ``feature_dims``."""
    dims = part.feature_dims
    return None if dims.isna().any() else int(dims.max())


def _space_facts(df, agg, space: str) -> dict:
    part, agg_part = df[df.space == space], agg.xs(space, level="space")
    status = part.weights_status.iloc[0]
    seeds = sorted(set(part.seed))
    smallest = int(min(part.n_real.min(), part.n_fake.min()))
    return {"fd_name": part.fd_name.iloc[0], "status": status, "comparable": comparable(space, status),
            "seeds": ", ".join(map(str, seeds)), "steps": ", ".join(sorted(set(agg_part.steps))),
            "images": int(part.n_fake.min()), "numbers": regenerated_numbers(agg, space),
            "covariance_note": rank_deficiency_note(smallest, _feature_dims(part))}


def write_tables(dataset: str, metrics_files: list, out_dir: str | Path) -> list[Path]:
    """Aggregate ``metrics_files`` (all ``dataset``'s) and write the three files atomically; returns their paths."""
    df = read_records(list(metrics_files), dataset)
    agg = aggregate(df)
    spaces = in_table_order(df.space.unique())
    info = provenance({"dataset": dataset, "metrics_files": len(df), "std_ddof": STD_DDOF})
    stamp = (f"hmogbench {info['versions'].get('hmogbench', '')}, git {info.get('git_commit') or 'unknown'}, "
             f"{info['time_utc']}; {len(df)} metrics files; std over seeds with ddof={STD_DDOF}")
    tex, md, diff = [f"% Regenerated thesis tables for {dataset} ({stamp}).", "% Needs \\usepackage{booktabs}.", ""], \
        [f"# {dataset}: regenerated thesis tables", "", f"_{stamp}_", ""], \
        [f"# {dataset}: regenerated vs published", "", f"_{stamp}_", ""]
    published = published_numbers(dataset)
    summary, sections = [], []
    for space in spaces:
        facts = _space_facts(df, agg, space)
        about = (f"Feature space **{space}**: {get_space(space).description}; weights {facts['status'] or 'none'}. "
                 f"Seeds {facts['seeds']}; generator steps {facts['steps']}; {facts['images']} images per set. "
                 f"{facts['covariance_note']}").rstrip()
        for table in thesis_tables(dataset):
            cap = caption(table, space, facts["fd_name"], facts["seeds"], facts["steps"], facts["images"],
                          facts["covariance_note"])
            tex.append(latex_table(table, facts["numbers"], space, facts["fd_name"], cap))
            md.append(markdown_table(table, facts["numbers"], space, facts["fd_name"], cap))
        sections.append(diff_markdown(dataset, space, facts["fd_name"], facts["numbers"], facts["comparable"], about))
        held = sum(c.verdict(facts["numbers"], dataset) is True for c in CLAIMS)
        held_pub = sum(c.verdict(published, dataset) is True for c in CLAIMS)
        claims = "; ".join(f"{c.text}: {yes_no(c.verdict(facts['numbers'], dataset))}" for c in CLAIMS)
        summary.append(f"- **{space}** ({'absolute values compared' if facts['comparable'] else 'orderings and claims only'}): "
                       f"{len(facts['numbers'])} models; {held} of {len(CLAIMS)} claims hold here "
                       f"({held_pub} in the thesis's numbers). {claims}.")
    diff += ["Summary per feature space (details and the agreement rule below):", "", *summary, "", *sections]
    out_dir = Path(out_dir)
    paths = [out_dir / f"{dataset}{ext}" for ext in (".tex", ".md", ".diff.md")]
    for path, lines in zip(paths, (tex, md, diff)):
        write_text_atomic(path, "\n".join(lines).rstrip() + "\n")
    return paths
