"""FD over training of one (data set, model): each seed's over-training file (``hmogbench evaluate
--over-training-out``, a JSON list of metrics records with their generator step) drawn as the FD over generator
steps, one marked line per seed, and beside it the recall where the records carry precision/recall (``prdc``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..training.records import trained_on
from .style import colour, plt, save_figure, styled


@dataclass(frozen=True)
class SeedCurve:
    """One seed's records (by step) from one over-training file."""

    path: Path
    seed: int
    records: list[dict]

    @property
    def steps(self) -> list[int]:
        return [r["step"] for r in self.records]


def read_over_training_file(path: str | Path) -> SeedCurve:
    """One over-training file -> its seed and records by step; a one-line error for anything else."""
    path = Path(path)
    try:
        records = json.loads(path.read_text())
        seed = int(records[0]["fake_source"]["config"]["seed"])
        ok = all(isinstance(r["step"], int) and isinstance(r["fd"], (int, float)) for r in records)
    except FileNotFoundError:
        raise FileNotFoundError(f"over-training file {path} does not exist") from None
    except (ValueError, KeyError, TypeError, IndexError):
        ok = False
    if not ok:
        raise ValueError(f"{path}: expected a non-empty JSON list of metrics records, each with an integer 'step', "
                         "an 'fd' and fake_source.config.seed (hmogbench evaluate --over-training-out)")
    return SeedCurve(path, seed, sorted(records, key=lambda r: r["step"]))


def recall(record: dict) -> float | None:
    """The record's recall (its ``prdc`` entry), None where it has none."""
    return (record.get("prdc") or {}).get("recall")


def _title(curves: list[SeedCurve]) -> str:
    record = curves[0].records[0]
    config = record["fake_source"]["config"]
    what = " / ".join(str(n) for n in (trained_on({}, config), config.get("model")) if n)
    images = sorted({int(r["n_fake"]) for c in curves for r in c.records})
    seeds = ", ".join(str(c.seed) for c in curves)
    return (f"{what}: {record['fd_name']} over generator steps, each generator snapshot scored on "
            f"{', '.join(map(str, images))} samples\nseeds {seeds}")


def _panel(ax, curves: list[SeedCurve], value, label: str, title: str) -> None:
    """One metric (``value(record)``) over steps: a marked line per seed (gid 'seed<N>')."""
    from matplotlib.ticker import MaxNLocator

    for i, curve in enumerate(curves):
        points = [(s, value(r)) for s, r in zip(curve.steps, curve.records) if value(r) is not None]
        ax.plot([s for s, _ in points], [v for _, v in points], color=colour(i), lw=1.2, marker="o", ms=4,
                label=f"seed {curve.seed}", gid=f"seed{curve.seed}")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generator step")
    ax.set_ylabel(label)
    ax.set_title(title)
    ax.legend(loc="best")


def build_over_training(curves: list[SeedCurve]):
    """FD over generator steps (and recall, where any record has it), every seed in each panel."""
    if not curves:
        raise ValueError("no over-training files given")
    names = {r["fd_name"] for c in curves for r in c.records}
    if len(names) > 1:
        raise ValueError(f"over-training files of different distances mixed: {sorted(names)}")
    name = names.pop()
    panels = [(lambda r: r["fd"], name, f"{name}: lower is better")]
    k = {(r.get("prdc") or {}).get("k_pr") for c in curves for r in c.records if recall(r) is not None}
    if k:
        panels.append((recall, "recall", f"recall (k = {', '.join(map(str, sorted(k)))}): the share of real "
                                         "images covered, higher is better"))
    with styled():
        fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.4), squeeze=False)
        for ax, (value, label, title) in zip(axes.flat, panels):
            _panel(ax, curves, value, label, title)
        if k:
            axes.flat[1].set_ylim(-0.03, 1.03)  # a share: its whole range
        fig.suptitle(_title(curves))
        fig.tight_layout()
    return fig


def save_over_training(files: list, out: str | Path) -> Path:
    """Read the seeds' over-training files and write their picture to ``out`` (PNG, atomically)."""
    return save_figure(build_over_training([read_over_training_file(f) for f in files]), out)
