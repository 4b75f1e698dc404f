"""Regenerated tables as the thesis prints them -- LaTeX (booktabs fragment) and Markdown -- and the
diff against the published numbers (Markdown).

Numbers: mean ± std over seeds with two decimals (5-NN in percent), parameters as ``params.format_count``.
A table names its feature space in the caption (with the registry's one-line description,
hmogbench/registry/feature_spaces.py); outside the thesis's own space its metric columns carry the space too, and the
diff compares orderings and claims only. Where a set has no more samples than the space has dimensions, the
caption says that the FD comes from singular covariances.
"""

from __future__ import annotations

import pandas as pd
from tabulate import tabulate

from ..models.params import format_count, head_parameter_count
from ..models.spec import ModelSpec
from ..registry.datasets import get_dataset
from ..registry.feature_spaces import get_space
from .compare import (AGREE_WITHIN, CLAIMS, Numbers, agrees, pooled_std, published_numbers, ranks, spearman,
                      yes_no)
from .grid import ThesisTable, thesis_tables

MISSING = "--"


def comparable(space: str, weights_status: str | None) -> bool:
    """Absolute values may be compared with the thesis only in its own space with verified weights."""
    return get_space(space).comparable(weights_status)


def rank_deficiency_note(n: int, dims: int | None) -> str:
    """'' unless the smaller set's n samples give a rank-deficient dims-d covariance (rank <= n - 1 < dims);
    ``dims`` None (a record without feature_dims): ''."""
    if dims is None or n > dims:
        return ""
    return (f"N = {n} ≤ {dims}: the {dims}-d covariance is rank-deficient, so the FD is computed from "
            "singular covariances.")


def model_label(model: str) -> str:
    return "FC (baseline)" if model == "FC" else model


def fmt(mean: float, std: float) -> str:
    return f"{mean:.2f} ± {std:.2f}"


def column_names(space: str, fd_name: str) -> list[str]:
    """Model, 5-NN Real, 5-NN Fake, <distance>, Param. -- metric names carry the space outside the thesis's."""
    suffix = "" if get_space(space).thesis_comparable else f" ({space})"
    return ["Model", f"5-NN Real{suffix}", f"5-NN Fake{suffix}", fd_name, "Param."]


def regenerated_numbers(agg: pd.DataFrame, space: str) -> Numbers:
    """model -> metric -> (mean, std) for one space of ``collect.aggregate``'s output."""
    if space not in agg.index.get_level_values("space"):
        return {}
    part = agg.xs(space, level="space")
    return {model: {m: (row[f"{m}_mean"], row[f"{m}_std"]) for m in ("knn_real", "knn_fake", "fd")}
            for model, row in part.iterrows()}


def param_count(model: str, dataset: str) -> str:
    return format_count(head_parameter_count(ModelSpec.parse(model), get_dataset(dataset).image_size))


def table_rows(table: ThesisTable, numbers: Numbers) -> list[list[str]]:
    rows = []
    for model in table.models:
        cells = [fmt(*numbers[model][m]) if model in numbers else MISSING for m in ("knn_real", "knn_fake", "fd")]
        rows.append([model_label(model), *cells, param_count(model, table.dataset)])
    return rows


def caption(table: ThesisTable, space: str, fd_name: str, seeds: str, steps: str, images: int,
            covariance_note: str = "") -> str:
    """The table's caption; ``covariance_note``: ``rank_deficiency_note``'s text, appended when not empty."""
    what = ("5-NN accuracies and FID scores of ME and HME models" if table.kind == "constant"
            else "5-NN accuracies and FID scores")
    text = (f"Regenerated thesis Table {table.number}: {what} on {get_dataset(table.dataset).table_title}. "
            f"Feature space: {space} ({get_space(space).description}); distance: {fd_name}. "
            f"Mean ± std over seeds {seeds}; {steps} generator steps; {images} real and fake images.")
    return f"{text} {covariance_note}" if covariance_note else text


def _latex_escape(text: str) -> str:
    text = text.replace("\\", "\x00")
    for char in "&%_#{}$":
        text = text.replace(char, "\\" + char)
    return text.replace("\x00", r"\textbackslash{}").replace("±", r"$\pm$").replace("≤", r"$\leq$")


def latex_table(table: ThesisTable, numbers: Numbers, space: str, fd_name: str, cap: str) -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``)."""
    head = " & ".join(_latex_escape(c) for c in column_names(space, fd_name)) + r" \\"
    body = "\n".join(" & ".join(_latex_escape(c) for c in row) + r" \\" for row in table_rows(table, numbers))
    label = f"tab:hmogbench-{table.dataset}-{table.number}-{space}"
    return "\n".join([
        r"\begin{table}[htbp]", r"\centering", rf"\caption{{{_latex_escape(cap)}}}", rf"\label{{{label}}}",
        r"\begin{tabular}{lcccr}", r"\toprule", head, r"\midrule", body, r"\bottomrule", r"\end{tabular}",
        r"\end{table}", ""])


def markdown_table(table: ThesisTable, numbers: Numbers, space: str, fd_name: str, cap: str) -> str:
    grid = tabulate(table_rows(table, numbers), headers=column_names(space, fd_name), tablefmt="github",
                    disable_numparse=True, colalign=("left", "right", "right", "right", "right"))
    return f"**Table {table.number}** -- {cap}\n\n{grid}\n"


def diff_markdown(dataset: str, space: str, fd_name: str, numbers: Numbers, is_comparable: bool, about: str) -> str:
    """The diff of one space against the thesis: summary, claims, rank agreement and per-row cells."""
    published = published_numbers(dataset)
    tables = thesis_tables(dataset)
    lines = [f"## {space}: {fd_name}, 5-NN", "", about, ""]
    rows_run = sorted({model for t in tables for model in t.models if model in numbers})  # FC once
    cells = [(model, m) for model in rows_run for m in ("knn_real", "knn_fake", "fd")]
    if is_comparable:
        row_ok = [all(agrees(numbers[r][m], published[r][m]) for m in ("knn_real", "knn_fake", "fd")) for r in rows_run]
        cell_ok = sum(agrees(numbers[r][m], published[r][m]) for r, m in cells)
        lines += [f"**{sum(row_ok)} of {len(rows_run)} regenerated models agree with the thesis in all three "
                  f"columns** ({cell_ok} of {len(cells)} cells); "
                  f"{len(published) - len(rows_run)} of the thesis's {len(published)} models were not run.", "",
                  f"Agreement rule: |Δ| ≤ {AGREE_WITHIN:g}·s_pooled, s_pooled = √((s_regen² + s_pub²)/2), "
                  "s = std over seeds.", ""]
    else:
        lines += [f"Feature space {space} is not the thesis's: absolute values are **not** compared; "
                  "only orderings and the thesis's claims are.", ""]
    rho = spearman({r: numbers[r]["fd"][0] for r in rows_run}, {r: published[r]["fd"][0] for r in rows_run})
    lines += [f"Rank agreement of the {len(rows_run)} models' {fd_name} with the thesis's FID: Spearman ρ = "
              + ("n/a (fewer than 3 models)" if rho is None else f"{rho:.2f}"), "", "### Claims", ""]
    claim_rows = [(c.text, c.rule, c.source, yes_no(c.verdict(published, dataset)), yes_no(c.verdict(numbers, dataset))) for c in CLAIMS]
    lines += [tabulate(claim_rows, headers=("claim", "checked as", "where", "holds in the thesis's numbers",
                                            "holds here"), tablefmt="github"), ""]
    lines += ["(n/a: not every model the claim is about was run; a claim is never judged on part of its rows.)", ""]
    reg_rank = ranks({r: numbers[r]["fd"][0] for r in rows_run})
    pub_rank = ranks({r: published[r]["fd"][0] for r in rows_run})
    for table in tables:
        lines += [f"### Table {table.number}", ""]
        out = []
        for model in table.models:
            for m, name in (("knn_real", "5-NN Real"), ("knn_fake", "5-NN Fake"), ("fd", fd_name)):
                ours, pub = numbers.get(model, {}).get(m), published[model][m]
                row = [model_label(model), name, fmt(*ours) if ours else MISSING, fmt(*pub)]
                if is_comparable:
                    row += [f"{ours[0] - pub[0]:+.2f}" if ours else MISSING,
                            f"{abs(ours[0] - pub[0]) / pooled_std(ours[1], pub[1]):.1f}"
                            if ours and pooled_std(ours[1], pub[1]) > 0 else MISSING,
                            yes_no(agrees(ours, pub)) if ours else MISSING]
                elif m == "fd":
                    row += [f"{reg_rank[model]:g} / {pub_rank[model]:g}" if ours else MISSING]
                else:
                    row += [""]
                out.append(row)
        headers = ["Model", "column", "regenerated", "published"]
        headers += ["Δ", "Δ over s_pooled", "agree"] if is_comparable else ["rank of FD (regenerated / published)"]
        lines += [tabulate(out, headers=headers, tablefmt="github", disable_numparse=True), ""]
    return "\n".join(lines)
