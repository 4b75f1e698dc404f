"""Regenerated vs published numbers: per-cell agreement, rank agreement and the thesis's claims.

Agreement rule (per cell, mean and std over seeds): |Δ| ≤ 2·s_pooled with
s_pooled = sqrt((s_regen² + s_pub²) / 2) -- the difference of the two means within two pooled standard
deviations of a single run. Only meaningful in the thesis's own feature space (thesis-inception with
verified weights); in any other space only orderings and claims are compared.

Rank agreement: Spearman's ρ with a one-sided permutation p-value (the chance that a random ordering of the
same models agrees at least as well): exact over all n! orderings up to ``EXACT_UP_TO`` models, else
Monte-Carlo over ``PERMUTATION_DRAWS`` orderings drawn with ``PERMUTATION_SEED``. Runs shorter than the
authors' length (hmogbench.registry.families.default_steps) get a warning beside it.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import cache
from typing import Callable

import numpy as np

from ..models.spec import ModelSpec
from ..registry.families import default_steps
from ..registry.published import load_published

Numbers = dict[str, dict[str, tuple[float, float]]]  # model -> metric -> (mean, std)
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


# ---- the thesis's claims (Sections 5.5 and 6.1), each a test on one table's numbers ----

def _family(numbers: Numbers, family: str, leaves: str) -> list[str]:
    return [m for m in numbers if (s := ModelSpec.parse(m)).family == family and s.leaves == leaves]


def kind(model: str) -> str:
    """'fc', or '<family>:<leaves>' ('hme:constant', 'me:linear', 'mgan:constant', ...)."""
    spec = ModelSpec.parse(model)
    return "fc" if spec.family == "fc" else f"{spec.family}:{spec.leaves}"


@dataclass(frozen=True)
class Claim:
    """A sentence of the thesis and how it is checked on the models of the kinds in ``uses``."""

    text: str
    uses: tuple[str, ...]
    source: str
    rule: str
    check: Callable[[Numbers], bool | None]

    def verdict(self, numbers: Numbers, dataset: str) -> bool | None:
        """True / False on ``numbers``; None unless every model of the thesis's tables the claim is about
        (all sizes of its kinds) is in ``numbers`` -- a claim is never judged on part of its rows."""
        needed = [m for m in _published_models(dataset) if kind(m) in self.uses]
        if not needed or any(m not in numbers for m in needed):
            return None
        return self.check({m: numbers[m] for m in needed})


def _all_vs_fc(family: str, leaves: str, better: bool, metric: str = "fd") -> Callable[[Numbers], bool | None]:
    def check(n: Numbers) -> bool | None:
        models = _family(n, family, leaves) if family != "mixtures" else (
            _family(n, "me", leaves) + _family(n, "hme", leaves))
        if "FC" not in n or not models:
            return None
        fc = n["FC"][metric][0]
        return all((n[m][metric][0] < fc) == better for m in models)
    return check


def _linear_lower_knn(n: Numbers) -> bool | None:
    models = _family(n, "me", "linear") + _family(n, "hme", "linear")
    if "FC" not in n or not models:
        return None
    return all(n[m][k][0] < n["FC"][k][0] for m in models for k in ("knn_real", "knn_fake"))


def _hme_vs_me(leaves: str) -> Callable[[Numbers], bool | None]:
    """Every HME of depth d vs the ME with 2^d leaves (same parameter count): HME's FD no higher than
    ME's by more than 2 pooled stds ("around the same", and HME keeps improving where ME saturates)."""
    def check(n: Numbers) -> bool | None:
        pairs = []
        for m in _family(n, "hme", leaves):
            spec = ModelSpec.parse(m)
            twin = ModelSpec("me", 2**spec.size, leaves).name
            if twin in n:
                pairs.append((m, twin))
        if not pairs:
            return None
        return all(n[a]["fd"][0] - n[b]["fd"][0] <= AGREE_WITHIN * pooled_std(n[a]["fd"][1], n[b]["fd"][1])
                   for a, b in pairs)
    return check


def _hme_improves_with_depth(n: Numbers) -> bool | None:
    hme = sorted(_family(n, "hme", "constant"), key=lambda m: ModelSpec.parse(m).size)
    if len(hme) < 2:
        return None
    fd = [n[m]["fd"][0] for m in hme]
    return all(b <= a for a, b in zip(fd, fd[1:]))


def _largest_me_worse(n: Numbers) -> bool | None:
    me = sorted(_family(n, "me", "constant"), key=lambda m: ModelSpec.parse(m).size)
    if len(me) < 2:
        return None
    return n[me[-1]]["fd"][0] > min(n[m]["fd"][0] for m in me[:-1])


def _megan_on_par(n: Numbers) -> bool | None:
    megan = _family(n, "megan", "constant")
    if "FC" not in n or not megan:
        return None
    best = min(megan, key=lambda m: n[m]["fd"][0])
    return n[best]["fd"][0] <= n["FC"]["fd"][0] or agrees(n[best]["fd"], n["FC"]["fd"])


CLAIMS = (
    Claim("With constant leaves, FC beats every ME and HME", ("fc", "me:constant", "hme:constant"), "thesis 6.1",
          "FD(FC) < FD of every ME-K and HME-d", _all_vs_fc("mixtures", "constant", better=False)),
    Claim("HME (constant) improves with depth", ("hme:constant",), "thesis 5.5",
          "FD does not rise from HME-5 to HME-8", _hme_improves_with_depth),
    Claim("The largest ME (constant) is worse than a smaller one", ("me:constant",), "thesis 5.5",
          "FD(ME-256) > the best smaller ME", _largest_me_worse),
    Claim("HME-const ≈ ME-const (or better)", ("me:constant", "hme:constant"), "thesis 5.5, 6.1",
          "FD of every HME-d ≤ ME-2^d's + 2 pooled std", _hme_vs_me("constant")),
    Claim("Linear mixtures beat FC on FID", ("fc", "me:linear", "hme:linear"), "thesis 5.5",
          "every ME-L-K and HME-L-d has lower FD than FC", _all_vs_fc("mixtures", "linear", better=True)),
    Claim("Linear mixtures lower both 5-NN accuracies", ("fc", "me:linear", "hme:linear"), "thesis 5.5",
          "5-NN Real and Fake of every ME-L/HME-L below FC's", _linear_lower_knn),
    Claim("HME-L ≈ ME-L (or better)", ("me:linear", "hme:linear"), "thesis 6.1",
          "FD of every HME-L-d ≤ ME-L-2^d's + 2 pooled std", _hme_vs_me("linear")),
    Claim("MADGAN worse than FC", ("fc", "madgan:constant"), "thesis 5.5 (not on MNIST)",
          "every MADGAN-K has higher FD than FC", _all_vs_fc("madgan", "constant", better=False)),
    Claim("MGAN worse than FC", ("fc", "mgan:constant"), "thesis 5.5",
          "every MGAN-K has higher FD than FC", _all_vs_fc("mgan", "constant", better=False)),
    Claim("MEGAN on par with FC or better", ("fc", "megan:constant"), "thesis 5.5",
          "best MEGAN-K's FD ≤ FC's, or within 2 pooled std", _megan_on_par),
)


def yes_no(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "no")


def claims_summary(numbers: Numbers, dataset: str) -> str:
    """How many claims can be judged on ``numbers`` and hold, beside the thesis's own count for the same
    claims, the others counted as n/a (never as failures): '0 of 0 judgeable claims hold here; 10 n/a (...)'."""
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
