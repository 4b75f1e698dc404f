"""Regenerated vs published numbers: per-cell agreement, rank agreement and the thesis's claims.

Agreement rule (per cell, mean and std over seeds): |Δ| ≤ 2·s_pooled with
s_pooled = sqrt((s_regen² + s_pub²) / 2) -- the difference of the two means within two pooled standard
deviations of a single run. Only meaningful in the thesis's own feature space (thesis-inception with
verified weights); in any other space only orderings and claims are compared. Beside it, the diff gives each
cell's Welch p-value and Holm's verdict (hmogbench/tables/significance.py, docs/statistics.md).

Rank agreement: Spearman's ρ with a one-sided permutation p-value (the chance that a random ordering of the
same models agrees at least as well): exact over all n! orderings up to ``EXACT_UP_TO`` models, else
Monte-Carlo over ``PERMUTATION_DRAWS`` orderings drawn with ``PERMUTATION_SEED``. Runs shorter than the
authors' length (hmogbench.registry.families.default_steps) get a warning beside it.

Claims (``CLAIMS``): each quotes the sentence of the thesis it tests, with its section, and is judged on the means
(yes / no / n/a), on bootstrap resamples over seeds (the share in which it holds) and by its own test.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from collections.abc import Callable, Iterable

import numpy as np

from ..models.spec import ModelSpec
from ..registry.families import default_steps
from ..registry.published import load_published
from .collect import METRICS
from .significance import (ALPHA, BOOTSTRAP_DRAWS, BOOTSTRAP_SEED, MARGIN, Numbers, Resampled, Side, holm,
                           interval_p, kendall_trend, published_side, resamples, welch_p)

AGREE_WITHIN = 2.0  # pooled standard deviations
PUBLISHED_SPACE = "thesis Inception"  # the thesis's own extractor, which its published numbers come from
PUBLISHED_NAMES = {"knn_real": "5-NN Real", "knn_fake": "5-NN Fake", "fd": "FID"}  # as the thesis heads them
EXACT_UP_TO = 8  # models; 8! = 40,320 orderings
PERMUTATION_DRAWS = 10_000
PERMUTATION_SEED = 0
NOISE_BELOW = 0.1  # runs shorter than this fraction of the authors' length: their orderings are noise


def published_numbers(dataset: str) -> Numbers:
    """model -> {'knn_real', 'knn_fake', 'fd'} -> (mean, std), as Tables 5.3-5.12 print them."""
    out: Numbers = {}
    for row in load_published():
        if row["dataset"] == dataset:
            out[row["model"]] = {m: (float(row[f"{col}_mean"]), float(row[f"{col}_std"]))
                                 for m, col in (("knn_real", "nn_real"), ("knn_fake", "nn_fake"), ("fd", "fid"))}
    return out


@cache
def _published_models(dataset: str) -> tuple[str, ...]:
    """The models of ``dataset``'s published tables (read once)."""
    return tuple(published_numbers(dataset))


def pooled_std(s1: float, s2: float) -> float:
    return math.sqrt((s1 * s1 + s2 * s2) / 2)


def agrees(ours: tuple[float, float], theirs: tuple[float, float]) -> bool:
    """|mean difference| ≤ AGREE_WITHIN pooled stds."""
    return abs(ours[0] - theirs[0]) <= AGREE_WITHIN * pooled_std(ours[1], theirs[1])


def ranks(values: dict[str, float]) -> dict[str, float]:
    """Average ranks (1 = smallest), ties sharing the mean rank."""
    order = sorted(values, key=values.get)
    out, i = {}, 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for name in order[i : j + 1]:
            out[name] = (i + j) / 2 + 1
        i = j + 1
    return out


@dataclass(frozen=True)
class CellTest:
    """One cell, regenerated vs published: Welch's two-sided p-value and its Holm-adjusted value over the
    family (``cell_tests``); None: untested (a side with fewer than 2 runs, or neither side varies)."""

    p: float | None
    adjusted: float | None

    @property
    def differs(self) -> bool | None:
        return None if self.adjusted is None else self.adjusted <= ALPHA


def cell_tests(ours: Side, theirs: Side, models: list[str]) -> dict[tuple[str, str], CellTest]:
    """(model, metric) -> its CellTest for every metric of ``models``; Holm's family: all tested cells given."""
    keys = [(m, k) for m in models for k in METRICS]
    ps = {key: welch_p(ours.summary(*key), theirs.summary(*key)) for key in keys}
    tested = [key for key in keys if ps[key] is not None]
    adjusted = dict(zip(tested, holm([ps[key] for key in tested])))
    return {key: CellTest(ps[key], adjusted.get(key)) for key in keys}


def _centred_ranks(a: dict[str, float], b: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """The average ranks of the keys both have, minus their mean: two (n,) arrays in the same key order."""
    common = [k for k in a if k in b]
    ra, rb = ranks({k: a[k] for k in common}), ranks({k: b[k] for k in common})
    x, y = np.array([ra[k] for k in common]), np.array([rb[k] for k in common])
    return x - x.mean(), y - y.mean()


def spearman(a: dict[str, float], b: dict[str, float]) -> float | None:
    """Spearman's rank correlation over the keys both have (None with fewer than 3, or when one side ties all)."""
    x, y = _centred_ranks(a, b)
    denominator = math.sqrt(float(x @ x) * float(y @ y))
    return float(x @ y) / denominator if len(x) >= 3 and denominator else None


@dataclass(frozen=True)
class RankAgreement:
    """Spearman's ρ of n models and its one-sided permutation p-value; ``method`` says how p was found, or,
    with ρ None, why there is no ρ."""

    n: int
    rho: float | None
    p: float | None
    method: str


def permutation_p(x: np.ndarray, y: np.ndarray, rho: float, *, exact_up_to: int = EXACT_UP_TO,
                  draws: int = PERMUTATION_DRAWS, seed: int = PERMUTATION_SEED) -> tuple[float, str]:
    """P(ρ of x against a random ordering of y ≥ ``rho``) for centred ranks x, y (n,): (p, how it was found).
    Exact (count over all n! orderings) for n ≤ ``exact_up_to``; else (1 + hits) / (1 + draws) over ``draws``
    orderings drawn with ``seed``."""
    n = len(y)
    if n <= exact_up_to:
        orders = np.array(list(itertools.permutations(range(n))))
        how = f"exact, all {len(orders):,} orderings"
    else:
        orders = np.random.default_rng(seed).permuted(np.tile(np.arange(n), (draws, 1)), axis=1)
        how = f"Monte-Carlo, {draws:,} random orderings, seed {seed}"
    rhos = (y[orders] @ x) / math.sqrt(float(x @ x) * float(y @ y))
    hits = int(np.sum(rhos >= rho - 1e-12))
    return (hits / len(orders) if n <= exact_up_to else (1 + hits) / (1 + draws)), how


def rank_agreement(ours: dict[str, float], theirs: dict[str, float], **options) -> RankAgreement:
    """Spearman's ρ of the models both have and its permutation p-value (``permutation_p``'s options)."""
    x, y = _centred_ranks(ours, theirs)
    if len(x) < 3:
        return RankAgreement(len(x), None, None, f"fewer than 3 models ({len(x)})")
    rho = spearman(ours, theirs)
    if rho is None:
        return RankAgreement(len(x), None, None, "every model's value ties")
    return RankAgreement(len(x), rho, *permutation_p(x, y, rho, **options))


def length_warning(steps: dict[str, set]) -> str:
    """'' unless some model's runs (``steps``: model -> the generator steps its runs trained, None where not
    recorded) are shorter than the authors' length for that model (registry.families.default_steps)."""
    short = {(s, default_steps(m)) for m, values in steps.items() for s in values
             if s is not None and int(s) < default_steps(m)}
    if not short:
        return ""
    ours = ", ".join(f"{s:,}" for s in sorted({int(s) for s, _ in short}))
    lengths = sorted({a for _, a in short})
    theirs = f"{lengths[0]:,}" if len(lengths) == 1 else f"{lengths[0]:,} to {lengths[-1]:,} by model"
    if max(int(s) / a for s, a in short) < NOISE_BELOW:
        return (f"Warning: runs of {ours} generator steps (the authors: {theirs}): orderings of such runs are "
                "noise, and so is any rank correlation of them.")
    return (f"Warning: runs of {ours} generator steps, shorter than the authors' ({theirs}): their orderings "
            "need not be the thesis's.")


# ---- the thesis's claims (Sections 5.4, 5.5 and 6.1), each a test on one table's numbers ----

@cache
def _spec(model: str) -> ModelSpec:
    return ModelSpec.parse(model)


def _family(models: Iterable[str], family: str, leaves: str) -> list[str]:
    """The models of one family and leaf kind among ``models``, smallest first."""
    found = [m for m in models if (s := _spec(m)).family == family and s.leaves == leaves]
    return sorted(found, key=lambda m: _spec(m).size)


def kind(model: str) -> str:
    """'fc', or '<family>:<leaves>' ('hme:constant', 'me:linear', 'mgan:constant', ...)."""
    spec = _spec(model)
    return "fc" if spec.family == "fc" else f"{spec.family}:{spec.leaves}"


Group = tuple[str, ...]  # models of which the best (lowest) value counts; one model: its value
Pairs = Callable[[list[str]], list[tuple[Group, Group]]]  # from the model names present


def _value(n: Numbers | Resampled, group: Group, metric: str):
    """The lowest mean of ``group`` on ``metric``: a float, or (draws,) over resamples."""
    values = [n[m][metric][0] for m in group]
    return values[0] if len(values) == 1 else np.minimum.reduce(values)


def _bound(relative: float, scale):
    return relative if math.isinf(relative) or relative == 0 else relative * scale


@dataclass(frozen=True)
class Comparison:
    """For every pair (a, b) that ``pairs`` finds and every metric of ``metrics``: Δ = value(a) − value(b) lies in
    [low·scale, high·scale], scale = the pair's mean value (``low``/``high``: 0, ±MARGIN or ±inf)."""

    pairs: Pairs
    metrics: tuple[str, ...] = ("fd",)
    low: float = -math.inf
    high: float = math.inf

    def holds(self, n: Numbers | Resampled):
        """None without a pair; else True / False on means, a (draws,) bool array on resamples."""
        held, found = True, False
        for a, b in self.pairs(list(n)):
            for k in self.metrics:
                va, vb = _value(n, a, k), _value(n, b, k)
                scale = abs(va + vb) / 2
                held = held & (_bound(self.low, scale) <= va - vb) & (va - vb <= _bound(self.high, scale))
                found = True
        return held if found else None

    def statistic(self, side: Side) -> str:
        """The intersection-union test of the claim: the largest of its comparisons' one-sided Welch p-values
        (TOST where a comparison has two finite bounds; a group stands for its best model, chosen on the means,
        the choice not corrected for); '' where a model has fewer than 2 runs."""
        n, ps = side.numbers, []
        for a, b in self.pairs(list(n)):
            for k in self.metrics:
                best_a, best_b = (min(g, key=lambda m: n[m][k][0]) for g in (a, b))
                scale = abs(n[best_a][k][0] + n[best_b][k][0]) / 2
                ps.append(interval_p(side.summary(best_a, k), side.summary(best_b, k), _bound(self.low, scale),
                                     _bound(self.high, scale)))
        if not ps or any(p is None for p in ps):
            return ""
        how = "TOST" if not (math.isinf(self.low) or math.isinf(self.high)) else "one-sided Welch"
        return f"p = {max(ps):.2g} ({how}, max over {len(ps)})"


def _steps(family: str, leaves: str) -> Pairs:
    """(each size, the next smaller) of one family: FD may not rise from one to the next."""
    return lambda models: [((b,), (a,)) for a, b in itertools.pairwise(_family(models, family, leaves))]


@dataclass(frozen=True)
class Trend:
    """FD falls with size over one family's models: holds when it never rises from one size to the next;
    its statistic, Kendall's τ of FD against size and the one-sided p-value of a falling trend."""

    family: str
    leaves: str

    def holds(self, n: Numbers | Resampled):
        return Comparison(_steps(self.family, self.leaves), high=0).holds(n)

    def statistic(self, side: Side) -> str:
        models = _family(side.numbers, self.family, self.leaves)
        if len(models) < 3:
            return ""
        tau, p = kendall_trend([_spec(m).size for m in models], [side.numbers[m]["fd"][0] for m in models])
        return f"τ = {tau:.2f}, one-sided p = {p:.2g} (Kendall, {len(models)} sizes)"


@cache
def _needed(uses: tuple[str, ...], dataset: str) -> tuple[str, ...]:
    """The models of ``dataset``'s published tables of the kinds ``uses``."""
    return tuple(m for m in _published_models(dataset) if kind(m) in uses)


@dataclass(frozen=True)
class Claim:
    """A sentence of the thesis (``quote``, verbatim, in Section ``section``), tested by ``test`` on the
    models of the kinds in ``uses``; ``extra``: a reading beside the main ones (not the sentence's main claim)."""

    text: str
    section: str
    quote: str
    uses: tuple[str, ...]
    rule: str
    test: Comparison | Trend
    extra: bool = False

    @property
    def source(self) -> str:
        return f"thesis {self.section}"

    def verdict(self, numbers: Numbers, dataset: str) -> bool | None:
        """True / False on ``numbers``; None unless every model of the thesis's tables the claim is about
        (all sizes of its kinds) is in ``numbers`` -- a claim is never judged on part of its rows."""
        needed = _needed(self.uses, dataset)
        if not needed or any(m not in numbers for m in needed):
            return None
        return bool(self.test.holds({m: numbers[m] for m in needed}))


def _vs_fc(*kinds: tuple[str, str]) -> Pairs:
    """(model, FC) for every model of the (family, leaves) ``kinds``."""
    return lambda models: [((m,), ("FC",)) for f, leaves in kinds for m in _family(models, f, leaves)
                           ] if "FC" in models else []


def _tree_vs_flat(leaves: str) -> Pairs:
    """(HME-d, ME-2^d) with ``leaves``: a tree and the flat mixture of as many leaves (same parameters)."""
    def pairs(models: list[str]) -> list[tuple[Group, Group]]:
        twins = [(m, ModelSpec("me", 2 ** _spec(m).size, leaves).name) for m in _family(models, "hme", leaves)]
        return [((a,), (b,)) for a, b in twins if b in models]
    return pairs


def _largest_me(against: str) -> Pairs:
    """(the largest constant ME, each smaller one) for ``against`` 'every'; (it, the best smaller) for 'best'."""
    def pairs(models: list[str]) -> list[tuple[Group, Group]]:
        me = _family(models, "me", "constant")
        if len(me) < 2:
            return []
        return [((me[-1],), (m,)) for m in me[:-1]] if against == "every" else [((me[-1],), tuple(me[:-1]))]
    return pairs


def _best_megan_vs_fc(models: list[str]) -> list[tuple[Group, Group]]:
    megan = tuple(_family(models, "megan", "constant"))
    return [(megan, ("FC",))] if megan and "FC" in models else []


def _me_l_vs_megan(models: list[str]) -> list[tuple[Group, Group]]:
    """(ME-L-k, MEGAN-k) for every k both have."""
    megan = {_spec(m).size: m for m in _family(models, "megan", "constant")}
    return [((m,), (megan[_spec(m).size],)) for m in _family(models, "me", "linear") if _spec(m).size in megan]


_PCT = f"{MARGIN:.0%}".replace("%", " %")
_FC_CONSTANT, _LINEAR = ("fc", "me:constant", "hme:constant"), ("fc", "me:linear", "hme:linear")
CLAIMS = (
    Claim("With constant leaves, FC beats every ME and HME", "6.1",
          "When local generators of ME and HME are constant, the model with an FC layer performs better.",
          _FC_CONSTANT, "FD(FC) ≤ FD of every ME-K and HME-d",
          Comparison(_vs_fc(("me", "constant"), ("hme", "constant")), low=0)),
    Claim("HME (constant) improves with depth", "5.4",
          "We see that the results for HME generally gets better with the increasing complexity (in terms of "
          "number of parameters) as expected.", ("hme:constant",),
          "FD does not rise from one depth to the next, HME-5 to HME-8", Trend("hme", "constant")),
    Claim("The largest ME (constant) is worse than every smaller one", "5.4",
          "Especially the ME-256 model performs worse than other smaller ME models.", ("me:constant",),
          "FD(ME-256) ≥ FD of ME-32, ME-64 and ME-128", Comparison(_largest_me("every"), low=0)),
    Claim("ME (constant) saturates: its largest is no better than its best smaller one", "5.4",
          "For ME, the results do not get better as in HME.", ("me:constant",),
          "FD(ME-256) ≥ the best smaller ME's", Comparison(_largest_me("best"), low=0), extra=True),
    Claim("HME-const ≈ ME-const", "5.4",
          "The summary of qualitative metrics implies that ME and HME perform around the same.",
          ("me:constant", "hme:constant"), f"|FD(HME-d) − FD(ME-2^d)| ≤ {_PCT} of their mean, every d",
          Comparison(_tree_vs_flat("constant"), low=-MARGIN, high=MARGIN)),
    Claim("Linear mixtures beat FC on FID", "5.4",
          "First, we see that both ME-L and HME-L models outperform the baseline FC model.", _LINEAR,
          "every ME-L-K and HME-L-d has FD ≤ FC's", Comparison(_vs_fc(("me", "linear"), ("hme", "linear")), high=0)),
    Claim("Linear mixtures lower both 5-NN accuracies", "5.4", "Both 5-NN real and 5-NN fake accuracy drops",
          _LINEAR, "5-NN Real and Fake of every ME-L/HME-L ≤ FC's",
          Comparison(_vs_fc(("me", "linear"), ("hme", "linear")), ("knn_real", "knn_fake"), high=0)),
    Claim("ME-L slightly ahead of HME-L", "5.4",
          "When we compare ME-L and HME-L models, we see that ME slightly enjoys more from having linear experts.",
          ("me:linear", "hme:linear"), f"0 ≤ FD(HME-L-d) − FD(ME-L-2^d) ≤ {_PCT} of their mean, every d",
          Comparison(_tree_vs_flat("linear"), low=0, high=MARGIN)),
    Claim("HME-L ≈ ME-L (the conclusion's \"around the same\")", "6.1",
          "When ME and HME are compared, we see that they perform around the same.",
          ("me:linear", "hme:linear"), f"|FD(HME-L-d) − FD(ME-L-2^d)| ≤ {_PCT} of their mean, every d",
          Comparison(_tree_vs_flat("linear"), low=-MARGIN, high=MARGIN), extra=True),
    Claim("MADGAN worse than FC", "5.5",
          "From the results, we see that MADGAN and MGAN perform worse than the baseline in terms of FID score.",
          ("fc", "madgan:constant"), "every MADGAN-K has FD ≥ FC's (the thesis: \"Only on the MNIST data set, "
          "MADGAN performs better\")", Comparison(_vs_fc(("madgan", "constant")), low=0)),
    Claim("MGAN worse than FC", "5.5",
          "From the results, we see that MADGAN and MGAN perform worse than the baseline in terms of FID score.",
          ("fc", "mgan:constant"), "every MGAN-K has FD ≥ FC's", Comparison(_vs_fc(("mgan", "constant")), low=0)),
    Claim("MEGAN on par with FC or better", "5.5",
          "On the other hand, we can say that MEGAN performs on par with the baseline, sometimes even better.",
          ("fc", "megan:constant"), f"best MEGAN-K's FD ≤ FC's + {_PCT} of their mean",
          Comparison(_best_megan_vs_fc, high=MARGIN)),
    Claim("ME-L-k beats MEGAN-k on FID and 5-NN", "5.5",
          "When we compare our mixture of experts formulation (ME-L-k) with MEGAN at the same complexity, we see "
          "that our model gets better results in terms of FID scores and 5-NN accuracies.",
          ("me:linear", "megan:constant"), "FD, 5-NN Real and 5-NN Fake of ME-L-k ≤ MEGAN-k's, every k",
          Comparison(_me_l_vs_megan, METRICS, high=0)),
)


@dataclass(frozen=True)
class Judgement:
    """A claim on one side: its verdict on the means, the share of resamples in which it holds (None: n/a, or
    a model with fewer than 2 runs), out of ``draws``, and its own test ('' where none)."""

    verdict: bool | None
    share: float | None
    draws: int
    statistic: str

    def cell(self) -> str:
        """'yes (holds in 97 %)', 'no (holds in 3 %)', 'yes (no resamples: a model has 1 run)', 'n/a'."""
        if self.verdict is None:
            return "n/a"
        how = "no resamples: a model has 1 run" if self.share is None else f"holds in {self.share:.0%}"
        return f"{yes_no(self.verdict)} ({how.replace('%', ' %')})"


def judgements(side: Side, dataset: str, draws: int = BOOTSTRAP_DRAWS,
               seed: int = BOOTSTRAP_SEED) -> tuple[Judgement, ...]:
    """Every claim of CLAIMS judged on ``side``: on its means, on ``draws`` resamples of its runs (one set,
    ``significance.resamples`` with ``seed``, shared by the claims) and by its own test."""
    verdicts = [c.verdict(side.numbers, dataset) for c in CLAIMS]
    models = sorted({m for c, v in zip(CLAIMS, verdicts) if v is not None for m in _needed(c.uses, dataset)})
    samples = resamples(side, models, draws, seed) if models else {}
    out = []
    for claim, verdict in zip(CLAIMS, verdicts):
        needed = _needed(claim.uses, dataset)
        if verdict is None:
            out.append(Judgement(None, None, draws, ""))
            continue
        one_run = any(side.runs[m] < 2 for m in needed)
        held = None if one_run else float(np.mean(claim.test.holds({m: samples[m] for m in needed})))
        out.append(Judgement(verdict, held, draws, claim.test.statistic(side.restricted(needed))))
    return tuple(out)


@cache
def published_judgements(dataset: str) -> tuple[Judgement, ...]:
    """``judgements`` of the thesis's own numbers (parametric resamples of 5 runs per model)."""
    return judgements(published_side(published_numbers(dataset)), dataset)


def yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def claims_summary(numbers: Numbers, dataset: str) -> str:
    """How many claims can be judged on ``numbers`` and hold, beside the thesis's own count for the same
    claims, the others counted as n/a (never as failures): '0 of 0 judgeable claims hold here; 13 n/a (...)'."""
    published = published_numbers(dataset)
    verdicts = [(c.verdict(numbers, dataset), c) for c in CLAIMS]
    judged = [(v, c) for v, c in verdicts if v is not None]
    text = f"{sum(v for v, _ in judged)} of {len(judged)} judgeable claims hold here"
    if judged:
        text += f" ({sum(c.verdict(published, dataset) is True for _, c in judged)} of them in the thesis's numbers)"
    missing = len(CLAIMS) - len(judged)
    return f"{text}; {missing} n/a (need every size of their models)" if missing else text


def judged_verdicts(numbers: Numbers, dataset: str) -> str:
    """'<claim>: yes; <claim>: no' for the claims that can be judged on ``numbers`` ('' for none)."""
    return "; ".join(f"{c.text}: {yes_no(v)}" for c in CLAIMS if (v := c.verdict(numbers, dataset)) is not None)
