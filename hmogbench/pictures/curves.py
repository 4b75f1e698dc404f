"""Training curves of one (data set, model): every loss column of each seed's ``<run>/losses.csv`` over
generator steps (raw faint, EMA-smoothed solid, one colour per seed; a seed with at most MARK_UP_TO rows: its
points, marked and unsmoothed, so even a one-row run shows), on whole-number steps, and steps/s from run.json."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..training.files import LOSSES, RUN_INFO
from ..training.records import trained_on
from .style import colour, plt, save_figure, styled

EMA = 0.9  # weight of the past in the smoothed curve
MARK_UP_TO = 30  # a seed with at most this many rows is drawn as marked points, not smoothed


@dataclass(frozen=True)
class Run:
    """One seed's run: directory, seed, losses (a 'step' column and one per loss), run.json (or {})."""

    path: Path
    seed: int | None
    losses: pd.DataFrame
    info: dict

    @property
    def label(self) -> str:
        return f"seed {self.seed}" if self.seed is not None else self.path.name

    @property
    def steps_per_s(self) -> float | None:
        """(steps_done - resumed_from) / seconds_this_session, None where run.json records no timing."""
        secs, done = self.info.get("seconds_this_session"), self.info.get("steps_done")
        if not secs or done is None:
            return None
        return (done - (self.info.get("resumed_from") or 0)) / secs


def _seed(path: Path, info: dict) -> int | None:
    """run.json's config seed (or 'seed'), else the folder name seed<N>, else None."""
    seed = (info.get("config") or {}).get("seed", info.get("seed"))
    if seed is None and (m := re.fullmatch(r"seed(\d+)", path.name)):
        seed = m.group(1)
    return None if seed is None else int(seed)


def read_run(path: str | Path) -> Run:
    """``path``/losses.csv (needed: a 'step' column and a row) and ``path``/run.json (optional)."""
    path = Path(path)
    csv_path, info_path = path / LOSSES, path / RUN_INFO
    if not csv_path.is_file():
        raise FileNotFoundError(f"{csv_path} does not exist; expected a run directory of `hmogbench train`")
    try:
        losses = pd.read_csv(csv_path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise ValueError(f"{csv_path}: expected a CSV with a header 'step,<loss>,...' ({exc})") from None
    if "step" not in losses.columns or len(losses.columns) < 2 or not len(losses):
        raise ValueError(f"{csv_path}: expected a header 'step,<loss>,...' and at least one row, "
                         f"got columns {list(losses.columns)} and {len(losses)} rows")
    try:
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    except json.JSONDecodeError as exc:
        raise ValueError(f"{info_path}: not JSON ({exc})") from None
    return Run(path, _seed(path, info), losses, info)


def smooth(values: pd.Series, weight: float = EMA) -> pd.Series:
    """Exponential moving mean (``weight`` on the past, bias-corrected as pandas' adjust=True)."""
    return values.ewm(alpha=1 - weight).mean()


def loss_columns(runs: list[Run]) -> list[str]:
    """Every loss column of any run, first-seen order (objectives log different ones)."""
    return list(dict.fromkeys(c for r in runs for c in r.losses.columns if c != "step"))


def few_rows(run: Run) -> bool:
    """Whether ``run`` has at most MARK_UP_TO rows (drawn as marked points, unsmoothed)."""
    return len(run.losses) <= MARK_UP_TO


def _title(runs: list[Run]) -> str:
    config = runs[0].info.get("config") or {}
    names = (trained_on(runs[0].info), config.get("model"))  # the set as prepared: mnist-5k, not mnist
    what = " / ".join(str(n) for n in names if n) or str(runs[0].path.parent)
    rates = [(r.label, r.steps_per_s) for r in runs]
    timing = ", ".join(f"{lab}: {v:.2f} steps/s" for lab, v in rates if v is not None)
    untimed = [lab for lab, v in rates if v is None]
    if untimed:
        timing += ("; " if timing else "") + f"no timing in run.json for {', '.join(untimed)}"
    few = [few_rows(r) for r in runs]
    drawn = f"EMA {EMA:g}, raw faint"
    if all(few):
        drawn = "each logged row marked, not smoothed"
    elif any(few):
        drawn += f"; seeds of ≤ {MARK_UP_TO} rows marked, not smoothed"
    seeds = f"{len(runs)} seed{'s' if len(runs) > 1 else ''}"
    return f"{what}: training losses over generator steps ({seeds}; {drawn})\n{timing}"


def _steps_axis(ax, runs: list[Run]) -> None:
    """Whole-number ticks from step 0 to the last logged step, padded (one step alone is not a 0.3-step axis)."""
    from matplotlib.ticker import MaxNLocator
    last = max(int(r.losses.step.max()) for r in runs)
    pad = max(0.5, 0.02 * last)
    ax.set_xlim(-pad, last + pad)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _draw_seed(ax, i: int, run: Run, col: str) -> None:
    """Run ``run``'s ``col``: raw values (faint; gid 'raw') and the smoothed curve (gid 'smoothed'), or, with few
    rows, the raw values alone, marked (gid 'raw')."""
    steps, values = run.losses.step, run.losses[col]
    if few_rows(run):
        ax.plot(steps, values, color=colour(i), lw=1.0, marker="o", ms=4, label=run.label, gid="raw")
        return
    ax.plot(steps, values, color=colour(i), alpha=0.2, lw=0.6, gid="raw")
    ax.plot(steps, smooth(values), color=colour(i), lw=1.2, label=run.label, gid="smoothed")


def build_curves(runs: list[Run]):
    """One panel per loss column: per seed the raw values (faint; gid 'raw') and the smoothed curve (gid
    'smoothed'); x: generator steps."""
    if not runs:
        raise ValueError("no run directories given")
    columns = loss_columns(runs)
    ncols = min(3, len(columns))
    nrows = -(-len(columns) // ncols)
    with styled():
        fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows + 0.6), squeeze=False)
        for ax, col in zip(axes.flat, columns):
            for i, run in enumerate(runs):
                if col in run.losses:
                    _draw_seed(ax, i, run, col)
            _steps_axis(ax, runs)
            ax.set_title(col)
            ax.set_xlabel("generator step")
            ax.set_ylabel(f"{col} (loss value, {'critic' if col.startswith('d_') else 'generator'})")
            ax.legend(loc="best")
        for ax in list(axes.flat)[len(columns):]:
            ax.set_axis_off()
        fig.suptitle(_title(runs))
        fig.tight_layout()
    return fig


def save_curves(run_dirs: list, out: str | Path) -> Path:
    """Read the run directories and write their curves to ``out`` (PNG, atomically)."""
    return save_figure(build_curves([read_run(p) for p in run_dirs]), out)
