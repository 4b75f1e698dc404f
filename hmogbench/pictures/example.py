"""The curve of a committed example (``hmogbench example``): FD over generator steps of several models on one
axis, one marked line per (model, seed), with the thesis's published value of each model beside it as a dashed
line labelled "not comparable" (other feature network, far more steps and images)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .style import family_colour, plt, save_figure, styled


@dataclass(frozen=True)
class Series:
    """One run's FD over steps: ``steps`` and ``values`` of equal length, ``label`` e.g. 'FC seed 2019'."""

    model: str
    label: str
    steps: list[int]
    values: list[float]


@dataclass(frozen=True)
class Reference:
    """A published number drawn for scale only: ``value`` of ``model``, described by ``label``."""

    model: str
    value: float
    label: str


def build_example_curve(series: list[Series], references: list[Reference], ylabel: str, title: str):
    """FD over generator steps (linear axes; the y axis starts at 0 so that the references show)."""
    from matplotlib.ticker import MaxNLocator

    if not series:
        raise ValueError("no FD-over-training series to draw")
    with styled():
        fig, ax = plt.subplots(figsize=(6.0, 3.6))
        for s in series:
            ax.plot(s.steps, s.values, color=family_colour(s.model), lw=1.4, marker="o", ms=4, label=s.label,
                    gid=s.label.replace(" ", "_"))
            for step, value in zip(s.steps, s.values):
                ax.annotate(f"{value:.0f}", (step, value), textcoords="offset points", xytext=(0, 5),
                            ha="center", fontsize=6, color=family_colour(s.model))
        for r in references:
            ax.axhline(r.value, color=family_colour(r.model), lw=0.9, ls="--", label=r.label)
        ax.set_ylim(bottom=0)
        steps = sorted({step for s in series for step in s.steps})
        if len(steps) <= 12:
            ax.set_xticks(steps)
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("generator step")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, frameon=False)  # below: never on a line
        fig.tight_layout()
    return fig


def save_example_curve(series: list[Series], references: list[Reference], ylabel: str, title: str,
                       out: str | Path) -> Path:
    """Draw ``build_example_curve`` and write it as PNG at ``out``, atomically."""
    return save_figure(build_example_curve(series, references, ylabel, title), out)
