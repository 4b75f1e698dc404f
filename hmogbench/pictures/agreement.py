"""Regenerated vs published, one thesis table in one feature space: three panels (distance, 5-NN real %,
5-NN fake %), published on x, regenerated on y, y = x and the diff's agreement band
(|Δ| ≤ AGREE_WITHIN · pooled std, hmogbench.tables.compare). Outside the thesis's own space (verified
weights) only orderings are comparable, so ranks are plotted instead of values (whole-number ticks; tied models
share the mean rank). Models tied on a panel are named above it; the legend lies below the panels, off the data."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..tables.collect import aggregate, read_records
from ..tables.compare import AGREE_WITHIN, Numbers, agrees, pooled_std, published_numbers, ranks
from ..tables.grid import ThesisTable, thesis_tables
from ..tables.render import comparable, regenerated_numbers
from .style import family, family_colour, plt, save_figure, styled

PANELS = ("fd", "knn_real", "knn_fake")
UNITS = {"fd": "", "knn_real": " %", "knn_fake": " %"}


@dataclass(frozen=True)
class Agreement:
    """What one figure shows: the table, space, distance's name, whether values (or ranks) are compared,
    and the numbers (model -> metric -> (mean, std)) of the models run, both sides."""

    table: ThesisTable
    space: str
    fd_name: str
    comparable: bool
    regenerated: Numbers
    published: Numbers


def find_table(dataset: str, number: str) -> ThesisTable:
    """The thesis table ``number`` ('5.3') of ``dataset``; an error names the valid numbers."""
    tables = thesis_tables(dataset)
    for table in tables:
        if table.number == str(number):
            return table
    raise ValueError(f"--table {number}: {dataset}'s thesis tables are {', '.join(t.number for t in tables)}")


def collect_agreement(dataset: str, metrics_files: list, number: str, space: str) -> Agreement:
    """Read and aggregate the files as ``hmogbench tables`` does; keep the table's models that were run."""
    table = find_table(dataset, number)
    df = read_records(list(metrics_files), dataset)
    if space not in set(df.space):
        raise ValueError(f"--space {space}: no metrics files of that space (they are {', '.join(sorted(set(df.space)))})")
    part = df[df.space == space]
    numbers = regenerated_numbers(aggregate(df), space)
    published = published_numbers(dataset)
    run = [m for m in table.models if m in numbers]
    return Agreement(table, space, part.fd_name.iloc[0], comparable(space, part.weights_status.iloc[0]),
                     {m: numbers[m] for m in run}, {m: published[m] for m in run})


def axis_label(data: Agreement, metric: str, side: str) -> str:
    """Two lines: 'published FID' / 'regenerated FD (pixels)' (or '5-NN real accuracy (%)'), then the features;
    ranks say so ('rank of ..., 1 = lowest')."""
    fd = "FID" if side == "published" else data.fd_name  # the thesis's column is FID (its own extractor)
    name = {"fd": fd, "knn_real": "5-NN real acc. (%)", "knn_fake": "5-NN fake acc. (%)"}[metric]
    space = "thesis's Inception features" if side == "published" else f"{data.space} features"
    if not data.comparable:
        return f"rank of {side} {name}\n(1 = lowest; {space})"
    return f"{side} {name}\n({space})"


def _panel_values(data: Agreement, metric: str):
    """(models, x, y, x_err, y_err) of one panel: means and stds, or ranks (no error bars)."""
    models = list(data.regenerated)
    pub = {m: data.published[m][metric] for m in models}
    reg = {m: data.regenerated[m][metric] for m in models}
    if data.comparable:
        x, xe = (np.array([pub[m][i] for m in models]) for i in (0, 1))
        y, ye = (np.array([reg[m][i] for m in models]) for i in (0, 1))
        return models, x, y, xe, ye
    rx, ry = ranks({m: pub[m][0] for m in models}), ranks({m: reg[m][0] for m in models})
    return models, np.array([rx[m] for m in models]), np.array([ry[m] for m in models]), None, None


def _band(ax, data: Agreement, metric: str, models: list[str], x: np.ndarray) -> None:
    """Shade y = x ± AGREE_WITHIN · pooled std, the tolerance of each model's cell, over the sorted x."""
    tol = np.array([AGREE_WITHIN * pooled_std(data.regenerated[m][metric][1], data.published[m][metric][1])
                    for m in models])
    order = np.argsort(x)
    xs, ts = x[order], tol[order]
    ax.fill_between(xs, xs - ts, xs + ts, color="0.6", alpha=0.25, lw=0, gid="band",
                    label=f"agreement band (|Δ| ≤ {AGREE_WITHIN:g}·pooled std)")


def tie_groups(values: dict[str, float]) -> list[tuple[float, list[str]]]:
    """(value, models) of each value two or more models share exactly (as ``ranks`` ties them), by value."""
    groups: dict[float, list[str]] = {}
    for model, value in values.items():
        groups.setdefault(value, []).append(model)
    return sorted((v, ms) for v, ms in groups.items() if len(ms) > 1)


def tie_note(values: dict[str, float], side: str, unit: str) -> str:
    """'' without ties; else e.g. 'regenerated: all 8 models tie at 100.00 %: no ordering' or
    'published: FC = ME-32 at 99.10 % (same rank)', one line per tied value."""
    lines = []
    for value, models in tie_groups(values):
        if len(models) == len(values):
            lines.append(f"{side}: all {len(models)} models tie at {value:.2f}{unit}: no ordering")
        else:
            lines.append(f"{side}: {' = '.join(models)} at {value:.2f}{unit} (same rank)")
    return "\n".join(lines)


def _label_ties(ax, data: Agreement, metric: str) -> None:
    """Above the panel (off the data): the models tied on either side, if any (gid 'ties')."""
    notes = [tie_note({m: numbers[m][metric][0] for m in data.regenerated}, side, UNITS[metric])
             for side, numbers in (("published", data.published), ("regenerated", data.regenerated))]
    if text := "\n".join(n for n in notes if n):
        ax.set_title(text, fontsize=7, color="0.2", gid="ties")


def _label_offsets(x: np.ndarray, y: np.ndarray) -> list[int]:
    """Vertical label offsets (points): above each point, but alternately below along a row of equal y (a tie),
    so neighbouring labels on one row do not run into each other."""
    offsets = [3] * len(y)
    for value in set(y.tolist()):
        row = sorted(np.flatnonzero(y == value), key=lambda i: x[i])
        for k, i in enumerate(row):
            offsets[i] = 3 if k % 2 == 0 else -3
    return offsets


def draw_panel(ax, data: Agreement, metric: str) -> None:
    """One panel: points coloured by family and labelled by model, error bars, y = x, band (values only);
    whole-number rank ticks (ranks only); ties named above it."""
    from matplotlib.ticker import MaxNLocator
    models, x, y, xe, ye = _panel_values(data, metric)
    colours = [family_colour(m) for m in models]
    if xe is not None:
        _band(ax, data, metric, models, x)
        ax.errorbar(x, y, xerr=xe, yerr=ye, fmt="none", ecolor="0.5", elinewidth=0.7, capsize=1.5)
    ok = [data.comparable and agrees(data.regenerated[m][metric], data.published[m][metric]) for m in models]
    ax.scatter(x, y, c=colours, s=22, edgecolors="black", linewidths=0.5, zorder=3, gid="points")
    for m, xi, yi, good, dy in zip(models, x, y, ok, _label_offsets(x, y)):
        ax.annotate(m + (" ✓" if good else ""), (xi, yi), xytext=(3, dy), textcoords="offset points", fontsize=6,
                    va="bottom" if dy > 0 else "top")
    lo, hi = min(x.min(), y.min()), max(x.max(), y.max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.plot([lo - pad, hi + pad], [lo - pad, hi + pad], color="0.3", lw=0.8, ls="--", gid="identity",
            label="y = x")
    if not data.comparable:
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(integer=True))
    _label_ties(ax, data, metric)
    ax.set_xlabel(axis_label(data, metric, "published"))
    ax.set_ylabel(axis_label(data, metric, "regenerated"))


def _legend(fig, ax, models: list[str]) -> None:
    """Below the panels, off the data (gid 'legend'): one marker per family of ``models``, then ``ax``'s
    y = x (and band)."""
    from matplotlib.lines import Line2D
    first: dict[str, str] = {}  # family -> its first model, in the table's order
    for m in models:
        first.setdefault(family(m), m)
    handles = [Line2D([], [], marker="o", ls="", markerfacecolor=family_colour(m), markeredgecolor="black",
                      label=fam) for fam, m in first.items()]
    handles += ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.5, -0.02)).set_gid("legend")


def build_agreement(data: Agreement):
    """The three-panel figure of ``data``; raises when no model of the table was run."""
    if not data.regenerated:
        raise ValueError(f"table {data.table.number}, {data.space}: none of its models has regenerated numbers")
    n, m = len(data.regenerated), len(data.table.models)
    mode = "values (± std over seeds)" if data.comparable else "RANKS only: absolute values not comparable here"
    with styled():
        fig, axes = plt.subplots(1, 3, figsize=(12, 4.2))
        for ax, metric in zip(axes, PANELS):
            draw_panel(ax, data, metric)
        _legend(fig, axes[0], list(data.regenerated))
        fig.suptitle(f"{data.table.dataset}, Table {data.table.number} ({data.table.kind} leaves), {data.space} "
                     f"features: regenerated vs published\n{mode}; {n} of {m} models run")
        fig.tight_layout(rect=(0, 0.05, 1, 0.93), w_pad=2.5)
    return fig


def save_agreement(dataset: str, metrics_files: list, number: str, space: str, out: str | Path) -> Path:
    """Build the figure from the metrics files and write it to ``out`` (PNG, atomically)."""
    return save_figure(build_agreement(collect_agreement(dataset, metrics_files, number, space)), out)
