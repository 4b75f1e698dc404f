"""One look for every picture of a benchmark run: Agg backend, fonts and dpi, the Okabe-Ito palette, a colour per family."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ..models.spec import ModelSpec  # noqa: E402
from ..runtime.provenance import atomic_path  # noqa: E402

DPI = 120
RC = {"font.family": "DejaVu Sans", "font.size": 8, "axes.titlesize": 8, "axes.labelsize": 8,
      "legend.fontsize": 7, "xtick.labelsize": 7, "ytick.labelsize": 7, "figure.dpi": DPI,
      "savefig.dpi": DPI, "axes.grid": True, "grid.alpha": 0.3}
# Okabe & Ito (2008), colour-blind safe; black last
OKABE_ITO = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#000000")
FAMILY_COLOURS = {"FC": "#000000", "ME": "#E69F00", "ME-L": "#D55E00", "HME": "#56B4E9", "HME-L": "#0072B2",
                  "MADGAN": "#009E73", "MGAN": "#CC79A7", "MEGAN": "#F0E442"}


def family(model: str) -> str:
    """'HME-L-3' -> 'HME-L', 'ME-32' -> 'ME', 'FC' -> 'FC' (from ``ModelSpec.parse``)."""
    spec = ModelSpec.parse(model)
    linear = "-L" if spec.leaves == "linear" else ""
    return f"{spec.family.upper()}{linear}"


def family_colour(model: str) -> str:
    return FAMILY_COLOURS[family(model)]


def colour(i: int) -> str:
    """The i-th colour of the palette (cycling), e.g. for seeds."""
    return OKABE_ITO[i % len(OKABE_ITO)]


@contextmanager
def styled():
    """Matplotlib's rc settings of every picture, for building one."""
    with plt.rc_context(RC):
        yield


def save_figure(fig, path: str | Path) -> Path:
    """Write ``fig`` as PNG atomically (temp file beside ``path``, then rename) and close it."""
    path = Path(path)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path
