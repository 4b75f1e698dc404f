"""Regenerated tables as the thesis prints them -- LaTeX (booktabs fragment) and blocks for Markdown and HTML
(hmogbench/tables/document.py) -- and the diff against the published numbers (blocks).

Numbers: mean ± std over seeds with two decimals (5-NN in percent), parameters as ``params.format_count``.
A table names its feature space in the caption (with the registry's one-line description,
hmogbench/registry/feature_spaces.py); outside the thesis's own space its metric columns carry the space too, and the
diff compares orderings and claims only (hmogbench/tables/significance.py and docs/statistics.md: the
statistics beside each verdict). Where a set has no more samples than the space has dimensions, the
caption says that the FD comes from singular covariances. In the diff every metric is labelled with its space:
ours "FD, pixels", the thesis's "FID, thesis Inception" (``metric_label``, ``published_label``).
"""

from __future__ import annotations

from functools import cache

import pandas as pd

from ..models.params import format_count, head_parameter_count
from ..models.spec import ModelSpec
from ..registry.datasets import get_dataset
from ..registry.feature_spaces import get_space
from .collect import METRICS, STD_DDOF
from .compare import (AGREE_WITHIN, CLAIMS, PUBLISHED_NAMES, PUBLISHED_SPACE, CellTest, Numbers, RankAgreement,
                      agrees, cell_tests, claims_summary, judgements, pooled_std, published_judgements,
                      published_numbers, rank_agreement, ranks, yes_no)
from .document import Block, Heading, Paragraph, Table
from .grid import ThesisTable, thesis_tables
from .significance import (ALPHA, BOOTSTRAP_DRAWS, BOOTSTRAP_SEED, MARGIN, PUBLISHED_DDOF, PUBLISHED_RUNS, Side,
                           published_side)

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
    return ["Model", *(PUBLISHED_NAMES[m] + suffix for m in METRICS[:2]), fd_name, "Param."]


def metric_label(metric: str, space: str, fd_name: str) -> str:
    """Our metric named with its space: '5-NN Real, pixels', 'FD, pixels', 'FID, fid-inception'
    (``fd_name`` as ``FeatureSpace.fd_name`` makes it, without the '(<space>)' it may carry)."""
    name = fd_name.replace(f" ({space})", "") if metric == "fd" else PUBLISHED_NAMES[metric]
    return f"{name}, {space}"


def published_label(metric: str) -> str:
    """The thesis's metric named with its network: 'FID, thesis Inception'."""
    return f"{PUBLISHED_NAMES[metric]}, {PUBLISHED_SPACE}"


def regenerated_numbers(agg: pd.DataFrame, space: str) -> Numbers:
    """model -> metric -> (mean, std) for one space of ``collect.aggregate``'s output."""
    if space not in agg.index.get_level_values("space"):
        return {}
    part = agg.xs(space, level="space")
    return {model: {m: (row[f"{m}_mean"], row[f"{m}_std"]) for m in METRICS}
            for model, row in part.iterrows()}


@cache
def param_count(model: str, dataset: str) -> str:
    """The "Param." cell of ``model`` (its head built on the meta device once per process)."""
    return format_count(head_parameter_count(ModelSpec.parse(model), get_dataset(dataset).image_size))


def table_rows(table: ThesisTable, numbers: Numbers) -> list[list[str]]:
    rows = []
    for model in table.models:
        cells = [fmt(*numbers[model][m]) if model in numbers else MISSING for m in METRICS]
        rows.append([model_label(model), *cells, param_count(model, table.dataset)])
    return rows


def caption(table: ThesisTable, space: str, fd_name: str, seeds: str, steps: str, images: int,
            covariance_note: str = "") -> str:
    """The table's caption, naming exactly its columns (``column_names``); ``covariance_note``:
    ``rank_deficiency_note``'s text, appended when not empty."""
    models = ("FC and the constant-leaf ME and HME models" if table.kind == "constant"
              else "FC, the linear-leaf ME and HME models and the competitors MADGAN, MGAN and MEGAN")
    knn_real, knn_fake, distance, param = column_names(space, fd_name)[1:]
    text = (f"Regenerated thesis Table {table.number}: {models} on {get_dataset(table.dataset).table_title}. "
            f"Columns: {knn_real} and {knn_fake}, 5-NN accuracies in %; {distance}, the Fréchet distance; "
            f"{param}, the generator head's parameters as the thesis counts them. "
            f"Feature space: {space} ({get_space(space).description}). "
            f"Mean ± std over seeds {seeds}; {steps} generator steps; {images} real and fake images.")
    return f"{text} {covariance_note}" if covariance_note else text


def _latex_escape(text: str) -> str:
    text = text.replace("\\", "\x00")
    for char in "&%_#{}$":
        text = text.replace(char, "\\" + char)
    return text.replace("\x00", r"\textbackslash{}").replace("±", r"$\pm$").replace("≤", r"$\leq$")


def booktabs(headers: list[str], rows: list[list[str]], cap: str, label: str, colspec: str,
             small: bool = False) -> str:
    """A booktabs ``table`` environment (needs ``\\usepackage{booktabs}``), every cell and the caption escaped;
    ``small``: in ``\\small`` type; ends with a newline."""
    def line(cells: list[str]) -> str:
        return " & ".join(_latex_escape(c) for c in cells) + r" \\"

    return "\n".join([r"\begin{table}[htbp]", r"\centering", *([r"\small"] if small else []),
                      rf"\caption{{{_latex_escape(cap)}}}", rf"\label{{{label}}}", rf"\begin{{tabular}}{{{colspec}}}",
                      r"\toprule", line(headers), r"\midrule", *map(line, rows), r"\bottomrule", r"\end{tabular}",
                      r"\end{table}", ""])


def latex_table(table: ThesisTable, numbers: Numbers, space: str, fd_name: str, cap: str) -> str:
    """One regenerated thesis table as a booktabs ``table`` environment."""
    return booktabs(column_names(space, fd_name), table_rows(table, numbers), cap,
                    f"tab:hmogbench-{table.dataset}-{table.number}-{space}", "lcccr")


def table_block(table: ThesisTable, numbers: Numbers, space: str, fd_name: str, cap: str) -> Table:
    """One regenerated thesis table, its caption above it."""
    return Table(tuple(column_names(space, fd_name)), tuple(map(tuple, table_rows(table, numbers))),
                 ("left", "right", "right", "right", "right"), f"**Table {table.number}** -- {cap}")


def _agreement_summary(numbers: Numbers, published: Numbers, rows_run: list[str],
                       tests: dict[tuple[str, str], CellTest]) -> list[Block]:
    """How many of the regenerated models and cells agree with the thesis (its own space only), by the
    2-pooled-std rule and by Welch's test with Holm's correction, and the rules."""
    row_ok = [all(agrees(numbers[r][m], published[r][m]) for m in METRICS) for r in rows_run]
    cell_ok = sum(agrees(numbers[r][m], published[r][m]) for r in rows_run for m in METRICS)
    tested = [t for t in tests.values() if t.p is not None]
    differ = sum(bool(t.differs) for t in tested)
    return [Paragraph(f"**{sum(row_ok)} of {len(rows_run)} regenerated models agree with the thesis in all three "
                      f"columns** ({cell_ok} of {len(rows_run) * len(METRICS)} cells); "
                      f"{len(published) - len(rows_run)} of the thesis's {len(published)} models were not run."),
            Paragraph(f"Agreement rule: |Δ| ≤ {AGREE_WITHIN:g}·s_pooled, s_pooled = √((s_regen² + s_pub²)/2), "
                      "s = std over seeds."),
            Paragraph(f"**Welch's t-test: {differ} of {len(tested)} tested cells differ from the thesis** at "
                      f"α = {ALPHA:g} after Holm's correction (family: the {len(tested)} tested cells of this "
                      f"space, every regenerated model × 3 metrics, FC once; {len(tests) - len(tested)} untested: "
                      f"a model with one seed). Two-sided, from means, stds and n: ours n = the model's seeds, "
                      f"std ddof {STD_DDOF}; the thesis's n = {PUBLISHED_RUNS}, std assumed ddof {PUBLISHED_DDOF} "
                      "(not stated); both turned into sample stds (ddof 1). A cell that agrees by the 2-pooled-std "
                      "rule may still differ by Welch's test (n seeds shrink the mean's error by √n), and a "
                      "difference Holm does not flag is no proof of agreement (docs/statistics.md).")]


def rank_text(result: RankAgreement, space: str, fd_name: str) -> str:
    """The rank agreement of the regenerated FD with the published FID, with its p-value, as one sentence."""
    what = (f"Rank agreement of the {result.n} models between {metric_label('fd', space, fd_name)} (regenerated) "
            f"and {published_label('fd')} (published): Spearman ρ = ")
    if result.rho is None:
        return f"{what}n/a ({result.method})."
    return (f"{what}{result.rho:.2f}, one-sided permutation p = {result.p:.3g} ({result.method}; the chance that "
            f"a random ordering of the {result.n} models agrees at least as well).")


def _claims_blocks(ours: Side, dataset: str) -> list[Block]:
    """Each claim with the sentence it tests, judged on the thesis's numbers and on ours, each with its share of
    resamples and its own test."""
    rows = []
    for claim, theirs, here in zip(CLAIMS, published_judgements(dataset), judgements(ours, dataset)):
        name = f"{claim.text} (extra reading)" if claim.extra else claim.text
        rows.append((name, f"{claim.section}: \"{claim.quote}\"", claim.rule, theirs.cell(), theirs.statistic,
                     here.cell(), here.statistic))
    headers = ("claim", "the thesis (section: sentence)", "checked as", "the thesis's numbers", "its test",
               "here", "our test")
    return [Heading("Claims", 3), Paragraph(claims_summary(ours.numbers, dataset) + "."), Table(headers, tuple(rows)),
            Paragraph("(n/a: not every model the claim is about was run; a claim is never judged on part of its "
                      "rows, and an n/a is not a failure.)"),
            Paragraph(f"Verdict: yes / no on the means. \"holds in 97 %\": the share of {BOOTSTRAP_DRAWS:,} "
                      f"resamples (seed {BOOTSTRAP_SEED}) in which the claim holds -- ours: each model's seeds "
                      f"drawn with replacement; the thesis's: {PUBLISHED_RUNS} runs per model drawn from "
                      f"N(mean, s²), s = the printed std·√({PUBLISHED_RUNS - PUBLISHED_DDOF}/{PUBLISHED_RUNS - 1}) (its ddof assumed "
                      f"{PUBLISHED_DDOF}). A stability measure over seeds, not a probability that the "
                      "claim is true. Test: the largest of the claim's one-sided Welch p-values (an "
                      "intersection-union test: p ≤ α rejects \"the claim fails\" for every comparison at once), "
                      f"TOST for \"≈\" at the margin ±{MARGIN * 100:g} % of the pair's mean FD, Kendall's τ for a "
                      "trend over sizes; none with one seed. Rules, assumptions and false-alarm rates: docs/statistics.md.")]


def _p(value: float | None) -> str:
    return MISSING if value is None else f"{value:.2g}"


def _row_cells(model: str, m: str, numbers: Numbers, published: Numbers, tests: dict | None,
               rank: tuple[dict, dict]) -> list[str]:
    """The diff's cells of one (model, metric): Δ, |Δ|/s_pooled, agreement, Welch's p, Holm's adjusted p and
    verdict (``tests``: ``cell_tests``'s, in the thesis's space), or else the FD's ranks."""
    ours, pub = numbers.get(model, {}).get(m), published[model][m]
    if tests is not None:
        if not ours:
            return [MISSING] * 6
        s, test = pooled_std(ours[1], pub[1]), tests[(model, m)]
        return [f"{ours[0] - pub[0]:+.2f}", f"{abs(ours[0] - pub[0]) / s:.1f}" if s > 0 else MISSING,
                yes_no(agrees(ours, pub)), _p(test.p), _p(test.adjusted), yes_no(test.differs)]
    if m != "fd":
        return [""]
    return [f"{rank[0][model]:g} / {rank[1][model]:g}" if ours else MISSING]


CELL_TEST_HEADERS = ("Δ", "Δ over s_pooled", f"agree (≤ {AGREE_WITHIN:g} s_pooled)", "Welch p", "Holm p",
                     f"differs (Holm, α = {ALPHA:g})")


def _rows_table(table: ThesisTable, numbers: Numbers, published: Numbers, space: str, fd_name: str,
                tests: dict | None, rank: tuple[dict, dict]) -> Table:
    """Per row and metric of one thesis table: regenerated beside published, each metric named with its space;
    ``tests`` None: not the thesis's space (ranks instead of Δ and tests)."""
    rows = []
    for model in table.models:
        for m in METRICS:
            ours = numbers.get(model, {}).get(m)
            rows.append((model_label(model), f"{metric_label(m, space, fd_name)} vs {published_label(m)}",
                         fmt(*ours) if ours else MISSING, fmt(*published[model][m]),
                         *_row_cells(model, m, numbers, published, tests, rank)))
    extra = CELL_TEST_HEADERS if tests is not None else ("rank (regenerated / published)",)
    align = ("left", "left", "right", "right") + ("right",) * len(extra)
    return Table(("Model", "metric: regenerated vs published", "regenerated", "published", *extra), tuple(rows),
                 align)


def models_run(dataset: str, numbers: Numbers) -> list[str]:
    """The models of ``dataset``'s thesis tables that ``numbers`` has, sorted (FC once)."""
    return sorted({model for t in thesis_tables(dataset) for model in t.models if model in numbers})


def space_cell_tests(ours: Side, dataset: str) -> dict[tuple[str, str], CellTest]:
    """``cell_tests`` of every cell of ``models_run`` against the thesis's: Holm's family is the space's cells."""
    return cell_tests(ours, published_side(published_numbers(dataset)), models_run(dataset, ours.numbers))


def diff_blocks(dataset: str, space: str, fd_name: str, ours: Side, is_comparable: bool, about: str,
                warning: str = "") -> list[Block]:
    """The diff of one space against the thesis (``ours``: the space's numbers and seeds): agreement and
    per-cell tests (the thesis's space only), rank agreement (``warning``: ``length_warning``'s text, beside
    it), claims and per-row cells."""
    numbers, published, rows_run = ours.numbers, published_numbers(dataset), models_run(dataset, ours.numbers)
    blocks: list[Block] = [Heading(f"{space}: {fd_name}, 5-NN"), Paragraph(about)]
    tests = space_cell_tests(ours, dataset) if is_comparable else None
    if tests is not None:
        blocks += _agreement_summary(numbers, published, rows_run, tests)
    else:
        blocks.append(Paragraph(f"Feature space {space} is not the thesis's: absolute values are **not** compared "
                                "(no per-cell agreement and no per-cell tests); only orderings and the thesis's "
                                "claims are."))
    ours_fd, pub_fd = ({r: n[r]["fd"][0] for r in rows_run} for n in (numbers, published))
    blocks.append(Paragraph(rank_text(rank_agreement(ours_fd, pub_fd), space, fd_name)))
    blocks += [Paragraph(f"**{warning}**")] if warning else []
    blocks += _claims_blocks(ours, dataset)
    for table in thesis_tables(dataset):
        blocks += [Heading(f"Table {table.number}", 3),
                   _rows_table(table, numbers, published, space, fd_name, tests, (ranks(ours_fd), ranks(pub_fd)))]
    return blocks
