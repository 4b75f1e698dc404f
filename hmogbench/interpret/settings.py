"""The settings of the interpretability figures and their defaults, in one place (torch-free).

``hmogbench figures``' options (interpret/cli.py), ``make_figures``' keywords (interpret/figures.py) and the
workflow's optional config mapping ``figures`` (workflow/rules/common.smk) all take their defaults from
``FIGURE_DEFAULTS``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


def _setting(default: int, text: str):
    """A setting's default and its help text (argparse style: ``%(default)s`` is the default)."""
    return field(default=default, metadata={"help": text})


@dataclass(frozen=True)
class FigureSettings:
    """What one run's figures are drawn from; every value a count or a seed (integers)."""

    samples: int = _setting(500, "M samples for the node averages (thesis: 500)")
    draws: int = _setting(10_000, "z draws for gate statistics, top-gate samples and grids (thesis: 10,000)")
    top: int = _setting(5, "samples per leaf from its most likely z (thesis: 5)")
    grid: int = _setting(64, "images per sample grid (default %(default)s)")
    max_depth: int = _setting(5, "levels of the tree drawn in node_responses.png (default %(default)s: "
                                 "32 bottom nodes)")
    permutations: int = _setting(1000, "random leaf orders for the block-score baseline")
    seed: int = _setting(2019, "seed of the samples' z (the draws use seed + 1)")


FIGURE_DEFAULTS = FigureSettings()


def setting_help() -> dict[str, str]:
    """Setting -> its help text (argparse style: ``%(default)s`` is the default)."""
    return {f.name: f.metadata["help"] for f in fields(FigureSettings)}


def default_settings() -> dict[str, int]:
    """Setting -> default value."""
    return asdict(FIGURE_DEFAULTS)
