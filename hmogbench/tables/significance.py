"""The statistics of the diff (docs/statistics.md): Welch's t-test of a regenerated cell against the published
one, Holm's correction over a family of cells, interval tests (TOST) at a stated margin, and bootstrap
resamples over seeds from which a claim's share of holding resamples is counted.

Standard deviations. Ours are over seeds with ddof = ``collect.STD_DDOF`` (0, the population std); the thesis
does not say which it printed, and ``PUBLISHED_DDOF`` assumes the same. Every t-test first turns a std into the
sample std (ddof 1): s·√((n − ddof)/(n − 1)). Were the thesis's stds ddof 1 already, its sample stds come out
√(5/4) = 1.12 times too large: its side of every test is then conservative (larger p-values, fewer alarms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from collections.abc import Sequence

import numpy as np
from scipy import stats

from .collect import METRICS, STD_DDOF

Numbers = dict[str, dict[str, tuple[float, float]]]  # model -> metric -> (mean, std over runs)
Seeds = dict[str, dict[str, np.ndarray]]  # model -> metric -> its runs' values, (n,)
Resampled = dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]  # model -> metric -> (means, stds), (draws,) each

ALPHA = 0.05  # every test's level; Holm's family-wise rate
PUBLISHED_RUNS = 5  # the thesis: "All models are run five times with different random seeds" (5.2.4)
PUBLISHED_DDOF = 0  # assumed (not stated in the thesis); see the module's docstring
MARGIN = 0.10  # the equivalence margin: ± this fraction of a pair's mean FD
BOOTSTRAP_DRAWS = 1_000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Summary:
    """One cell as a t-test sees it: mean and std over ``n`` runs, the std computed with ``ddof``."""

    mean: float
    std: float
    n: int
    ddof: int = STD_DDOF

    @property
    def sample_std(self) -> float | None:
        """The ddof-1 std (None with fewer than 2 runs: no spread is known)."""
        return None if self.n < 2 else self.std * math.sqrt((self.n - self.ddof) / (self.n - 1))


def welch_p(a: Summary, b: Summary, *, shift: float = 0.0, alternative: str = "two-sided") -> float | None:
    """p-value of Welch's t-test (scipy.stats.ttest_ind_from_stats) of mean_a − mean_b = ``shift`` against
    ``alternative`` ('two-sided', 'less': the difference is below ``shift``, 'greater'); None when a side has
    fewer than 2 runs or neither side varies."""
    sa, sb = a.sample_std, b.sample_std
    if sa is None or sb is None or sa == sb == 0:
        return None
    result = stats.ttest_ind_from_stats(a.mean - shift, sa, a.n, b.mean, sb, b.n, equal_var=False,
                                        alternative=alternative)
    return float(result.pvalue)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the input's order: the i-th smallest of m is multiplied by
    m − i + 1, made non-decreasing, capped at 1. Rejecting where adjusted ≤ α keeps the family-wise error
    rate ≤ α under any dependence."""
    m = len(p_values)
    order = np.argsort(np.asarray(p_values, dtype=float), kind="stable")
    stepped = np.maximum.accumulate([(m - i) * float(p_values[j]) for i, j in enumerate(order)]) if m else []
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()


def interval_p(a: Summary, b: Summary, low: float, high: float) -> float | None:
    """p-value of "low < mean_a − mean_b < high" (TOST: the larger of the one-sided Welch p's against each
    finite bound; one bound -inf or inf: a one-sided non-inferiority test); None as ``welch_p``."""
    ps = ([welch_p(a, b, shift=low, alternative="greater")] if low > -math.inf else []) + \
         ([welch_p(a, b, shift=high, alternative="less")] if high < math.inf else [])
    return None if None in ps else max(ps)  # type: ignore[type-var]


@dataclass(frozen=True)
class Side:
    """One side of the diff: ``numbers`` (mean, std with ``ddof``) over ``runs[model]`` runs; ``seeds``, the
    runs' own values where known (ours), else None (the thesis: only its printed mean and std)."""

    numbers: Numbers
    runs: dict[str, int]
    ddof: int
    seeds: Seeds | None = None

    def summary(self, model: str, metric: str = "fd") -> Summary:
        mean, std = self.numbers[model][metric]
        return Summary(mean, std, self.runs[model], self.ddof)

    def restricted(self, models: Sequence[str]) -> Side:
        """The same side with only ``models``."""
        return replace(self, numbers={m: self.numbers[m] for m in models})


def regenerated_side(numbers: Numbers, seeds: Seeds) -> Side:
    """Our side: the seeds' values of every model of ``numbers``."""
    return Side(numbers, {m: len(seeds[m][METRICS[0]]) for m in numbers}, STD_DDOF, seeds)


def published_side(numbers: Numbers) -> Side:
    """The thesis's side: its printed mean ± std, ``PUBLISHED_RUNS`` runs each, ddof ``PUBLISHED_DDOF``."""
    return Side(numbers, dict.fromkeys(numbers, PUBLISHED_RUNS), PUBLISHED_DDOF)


def _runs_of(side: Side, model: str, rng: np.random.Generator, draws: int) -> np.ndarray:
    """(draws, n, metrics) resampled runs of one model: ours drawn with replacement from its seeds; the
    thesis's drawn from N(mean, sample std²) per metric, independently (their correlation is not printed)."""
    n = side.runs[model]
    if side.seeds is not None:
        values = np.stack([np.asarray(side.seeds[model][m], dtype=float) for m in METRICS], axis=1)  # (n, 3)
        return values[rng.integers(0, n, (draws, n))]
    summaries = [side.summary(model, m) for m in METRICS]
    mean = np.array([s.mean for s in summaries])
    spread = np.array([s.sample_std or 0.0 for s in summaries])
    return mean + spread * rng.standard_normal((draws, n, len(METRICS)))


def resamples(side: Side, models: Sequence[str], draws: int = BOOTSTRAP_DRAWS,
              seed: int = BOOTSTRAP_SEED) -> Resampled:
    """``draws`` resamples of ``models`` at once: each model's runs redrawn (``_runs_of``; one generator seeded
    with ``seed``, models in sorted order), then their mean and std (the side's ddof) taken as in the tables:
    model -> metric -> (means, stds), each (draws,)."""
    rng = np.random.default_rng(seed)
    out: Resampled = {}
    for model in sorted(models):
        runs = _runs_of(side, model, rng, draws)  # (draws, n, metrics)
        mean, std = runs.mean(axis=1), runs.std(axis=1, ddof=side.ddof)
        out[model] = {m: (mean[:, i], std[:, i]) for i, m in enumerate(METRICS)}
    return out


def kendall_trend(x: Sequence[float], y: Sequence[float]) -> tuple[float, float]:
    """Kendall's τ-b of ``y`` against ``x`` and its one-sided p-value for a falling trend (τ < 0): exact over
    all orderings without ties (scipy's 'auto'), else asymptotic."""
    result = stats.kendalltau(x, y, method="auto", alternative="less")
    return float(result.statistic), float(result.pvalue)
