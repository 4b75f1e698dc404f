"""The statistics of the diff on synthetic numbers where the answer is known (Welch, Holm, the 2-pooled-std rule's
false-alarm rate, bootstrap shares, the equivalence margin, Kendall's trend), and the claims as the thesis states
them: every quoted sentence verbatim in the thesis's text, in the section cited, and every claim's verdict on each
data set's published numbers (docs/statistics.md)."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from hmogbench.registry.datasets import dataset_names, in_thesis
from hmogbench.tables.compare import (AGREE_WITHIN, CLAIMS, Comparison, agrees, judgements, published_judgements,
                                      published_numbers)
from hmogbench.tables.significance import (MARGIN, Side, Summary, holm, interval_p, kendall_trend, published_side,
                                           regenerated_side, welch_p)
from hmogbench.tables.write import write_tables

ROOT = Path(__file__).resolve().parents[1]
THESIS = "thesis_hierarchical_mixtures_of_generators.txt"


def test_welch_p_is_scipys_and_the_textbook_value():
    """R's `t.test(ts1, ts2)` (Welch): t = -1.8325, df = 17.9, p = 0.08356 -- from the means, the ddof-0 stds the
    tables print and n, as the diff has them."""
    ts1 = np.array([11, 9, 10, 11, 10, 12, 9, 11, 12, 9], dtype=float)
    ts2 = np.array([11, 13, 10, 13, 12, 9, 11, 12, 12, 11], dtype=float)
    a, b = (Summary(x.mean(), x.std(ddof=0), len(x), ddof=0) for x in (ts1, ts2))
    p = welch_p(a, b)
    assert p == pytest.approx(stats.ttest_ind(ts1, ts2, equal_var=False).pvalue, rel=1e-12)
    assert round(p, 5) == 0.08356
    assert welch_p(Summary(ts1.mean(), ts1.std(ddof=1), 10, ddof=1), b) == pytest.approx(p, rel=1e-12)
    assert welch_p(a, b, alternative="less") == pytest.approx(p / 2, rel=1e-9)  # t < 0: half the two-sided p
    # no spread known: untested
    assert welch_p(Summary(1.0, 0.0, 1), b) is None and welch_p(Summary(1.0, 0.0, 5), Summary(2.0, 0.0, 5)) is None


def test_holm_on_a_known_vector():
    """R's p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") = 0.03, 0.06, 0.06, 0.02 (step-down, made monotone)."""
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == [1.0, 1.0] and holm([]) == []


def test_the_2_pooled_std_rule_false_alarm_rate_is_the_documented_one():
    """Equal means, 5 vs 5 normal runs, ddof-0 stds: |Δ| > 2·s_pooled is |t| > 2√2 with 8 degrees of freedom,
    2.2 % (docs/statistics.md); a seeded simulation agrees."""
    exact = 2 * stats.t.sf(AGREE_WITHIN * math.sqrt(2), 8)
    assert round(100 * exact, 1) == 2.2 and "**2.2 %** per cell at 5 vs 5" in (ROOT / "docs/statistics.md").read_text()
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 100_000, 5))
    alarms = np.abs(a.mean(1) - b.mean(1)) > AGREE_WITHIN * np.sqrt((a.std(1) ** 2 + b.std(1) ** 2) / 2)
    assert alarms.mean() == pytest.approx(exact, abs=0.002)
    assert [not agrees((x.mean(), x.std()), (y.mean(), y.std())) for x, y in zip(a[:300], b[:300])] == \
        alarms[:300].tolist()  # the vectorised rule is the diff's own


SYMMETRIC = np.array([8.0, 9.3, 10.0, 10.7, 12.0])  # symmetric about 10


def _mgan_side(fc, mgan4, others) -> Side:
    """Our side of the models of "MGAN worse than FC": FC, MGAN-4 and MGAN-8..32, five seeds each (FD values)."""
    seeds = {"FC": fc, "MGAN-4": mgan4, **{f"MGAN-{k}": others for k in (8, 16, 32)}}
    seeds = {m: {k: np.asarray(v, dtype=float) for k in ("knn_real", "knn_fake", "fd")} for m, v in seeds.items()}
    numbers = {m: {k: (float(v.mean()), float(v.std())) for k, v in per.items()} for m, per in seeds.items()}
    return regenerated_side(numbers, seeds)


@pytest.mark.parametrize("mgan4, low, high", [
    (SYMMETRIC + 10, 1.0, 1.0),  # clearly worse than FC: holds in every resample
    (np.array([8.1, 9.2, 10.0, 10.8, 11.9]), 0.4, 0.6),  # the same distribution as FC's: a coin flip
    (SYMMETRIC - 10, 0.0, 0.0),  # clearly better: never holds
])
def test_a_claims_share_of_resamples_is_its_chance_over_seeds(mgan4, low, high):
    claim = next(i for i, c in enumerate(CLAIMS) if c.text == "MGAN worse than FC")
    judged = judgements(_mgan_side(SYMMETRIC, mgan4, SYMMETRIC + 20), "mnist", draws=400)[claim]
    assert low <= judged.share <= high, judged
    # the thesis's side (parametric draws from mean ± std, 5 runs) behaves alike
    pub = published_numbers("mnist")
    shifted = {m: {**pub[m], "fd": (pub["FC"]["fd"][0] + d, pub["FC"]["fd"][1])}
               for m, d in (("FC", 0), ("MGAN-4", mgan4.mean() - 10), ("MGAN-8", 20), ("MGAN-16", 20), ("MGAN-32", 20))}
    theirs = judgements(published_side(shifted), "mnist", draws=400)[claim]
    assert low - 0.05 <= theirs.share <= high + 0.05, theirs


def test_one_seed_gives_no_resamples_and_no_test():
    side = _mgan_side([10.0], [20.0], [30.0])
    judged = judgements(side, "mnist", draws=50)[next(i for i, c in enumerate(CLAIMS) if c.text == "MGAN worse than FC")]
    assert (judged.verdict, judged.share, judged.statistic) == (True, None, "")
    assert judged.cell() == "yes (no resamples: a model has 1 run)"


def test_the_equivalence_margin_at_its_edges():
    """|Δ| ≤ MARGIN of the pair's mean holds, inclusive; just beyond fails; TOST's p is 0.5 at the edge."""
    assert MARGIN == 0.10  # 21 vs 19: Δ = 2 = 10 % of their mean, 20
    within = Comparison(lambda models: [(("a",), ("b",))], low=-MARGIN, high=MARGIN)
    for a, b in ((21.0, 19.0), (19.0, 21.0)):
        assert within.holds({"a": {"fd": (a, 0.0)}, "b": {"fd": (b, 0.0)}})
    for a, b in ((21.01, 19.0), (19.0, 21.01)):
        assert not within.holds({"a": {"fd": (a, 0.0)}, "b": {"fd": (b, 0.0)}})
    b = Summary(19.0, 1.0, 5)
    assert interval_p(Summary(21.0, 1.0, 5), b, -2.0, 2.0) == pytest.approx(0.5)
    assert interval_p(Summary(19.0, 0.3, 5), b, -2.0, 2.0) < 0.01  # equal means, small spread: equivalent
    ahead = Comparison(lambda models: [(("a",), ("b",))], low=0, high=MARGIN)  # "slightly ahead": [0, margin]
    assert ahead.holds({"a": {"fd": (1.0, 0)}, "b": {"fd": (1.0, 0)}})
    assert not ahead.holds({"a": {"fd": (0.99, 0)}, "b": {"fd": (1.0, 0)}})


def test_kendalls_trend_with_four_sizes():
    assert kendall_trend([5, 6, 7, 8], [4.0, 3.0, 2.0, 1.0]) == (pytest.approx(-1.0), pytest.approx(1 / 24))
    assert kendall_trend([5, 6, 7, 8], [1.0, 2.0, 3.0, 4.0])[1] == pytest.approx(1.0)


def test_every_claim_quotes_the_thesis_verbatim_in_the_section_it_cites(shared_seeds):
    text = (shared_seeds / THESIS).read_text(encoding="utf-8")
    norm = " ".join(text.split())
    # (section, where its heading starts in the whitespace-normalised text) of every "5.4. Flat Mixture ..." line
    heads = [(m.group(1), len(" ".join(text[:m.start()].split()))) for m in re.finditer(r"^(\d\.\d)\. \S", text, re.M)]
    for claim in CLAIMS:
        at = norm.find(" ".join(claim.quote.split()))
        assert at >= 0, f"{claim.text}: not in the thesis: {claim.quote!r}"
        section = max((h for h in heads if h[1] <= at), key=lambda h: h[1])[0]
        assert section == claim.section, f"{claim.text}: the sentence is in Section {section}, cited {claim.section}"
        assert claim.source == f"thesis {section}"
    assert {c.section for c in CLAIMS} == {"5.4", "5.5", "6.1"}


# the verdicts on each data set's published numbers (mnist, fashion-mnist, celeba, utzap50k, flowers); checked by
# hand against Tables 5.3/5.8 (MNIST) and 5.7/5.12 (Oxford Flowers)
EXPECTED = {
    "With constant leaves, FC beats every ME and HME": "yes no yes yes no",
    "HME (constant) improves with depth": "yes yes yes yes yes",
    "The largest ME (constant) is worse than every smaller one": "yes yes no yes yes",
    "ME (constant) saturates: its largest is no better than its best smaller one": "yes yes no yes yes",
    "HME-const ≈ ME-const": "no no yes no yes",  # ME-256 10 % or more behind HME-8 on three sets
    "Linear mixtures beat FC on FID": "yes yes yes yes yes",
    "Linear mixtures lower both 5-NN accuracies": "yes yes yes yes yes",
    "ME-L slightly ahead of HME-L": "yes no no no no",
    "HME-L ≈ ME-L (the conclusion's \"around the same\")": "yes yes yes yes yes",
    "MADGAN worse than FC": "no yes yes yes yes",  # "Only on the MNIST data set, MADGAN performs better"
    "MGAN worse than FC": "yes yes yes yes yes",
    "MEGAN on par with FC or better": "yes yes yes yes yes",
    "ME-L-k beats MEGAN-k on FID and 5-NN": "yes yes no yes no",
}


def test_the_claims_verdicts_on_the_published_numbers():
    sets = dataset_names(in_thesis)
    assert sets == ("mnist", "fashion-mnist", "celeba", "utzap50k", "flowers")
    got = {c.text: " ".join("yes" if c.verdict(published_numbers(d), d) else "no" for d in sets) for c in CLAIMS}
    assert got == EXPECTED
    # Section 5.5's ME-L-k vs MEGAN-k fails on Oxford Flowers at every one of the four sizes, on FD alone
    pub = published_numbers("flowers")
    assert all(pub[f"ME-L-{k}"]["fd"][0] > pub[f"MEGAN-{k}"]["fd"][0] for k in (4, 8, 16, 32))
    # "worse than other smaller ME models": every smaller one, not only the best
    me = {m: {"fd": (fd, 1.0)} for m, fd in (("ME-32", 14.0), ("ME-64", 12.0), ("ME-128", 15.0), ("ME-256", 13.0))}
    strong, weak = (next(c for c in CLAIMS if c.text.startswith(s)) for s in ("The largest ME", "ME (constant) sat"))
    assert (strong.verdict(me, "mnist"), weak.verdict(me, "mnist")) == (False, True)


def test_the_docs_table_of_verdicts_is_the_computed_one():
    """docs/statistics.md prints every claim's verdict and share on each data set's published numbers."""
    rows = {line.split(" | ")[0].lstrip("| "): line.strip(" |").split(" | ")[1:]
            for line in (ROOT / "docs/statistics.md").read_text().splitlines() if line.startswith("| ")}
    for i, claim in enumerate(CLAIMS):
        cells = [f"{'yes' if j.verdict else 'no'}, {j.share:.0%}".replace("%", " %")
                 for j in (published_judgements(d)[i] for d in dataset_names(in_thesis))]
        assert rows.get(claim.text) == cells, claim.text


def _records(tmp_path, shift: float) -> list:
    """thesis-inception records (verified weights) of FC and the MGANs, 5 seeds at each published mean ± std;
    MGAN-32's FD shifted by ``shift``."""
    from test_tables import record

    pub, files = published_numbers("mnist"), []
    for model in ("FC", "MGAN-4", "MGAN-8", "MGAN-16", "MGAN-32"):
        m, extra = pub[model], shift if model == "MGAN-32" else 0.0
        for seed, z in zip(range(2019, 2024), (-1.4, -0.7, 0.0, 0.7, 1.4)):
            files.append(record(tmp_path, model, seed, space="thesis-inception", status="official", steps=23_400,
                                fd=m["fd"][0] + extra + z * m["fd"][1], real=m["knn_real"][0] + z * m["knn_real"][1],
                                fake=m["knn_fake"][0] + z * m["knn_fake"][1]))
    return files


def test_the_diff_shows_welch_p_holm_and_each_claims_uncertainty(tmp_path):
    diff = write_tables("mnist", _records(tmp_path, shift=-20.0), tmp_path / "tables")[2].read_text()
    assert "Welch + Holm: 1 of 15 tested cells differ" in diff  # the summary
    assert "**Welch's t-test: 1 of 15 tested cells differ from the thesis** at α = 0.05 after Holm's" in diff
    row = next(line for line in diff.splitlines() if line.startswith("| MGAN-32") and "FID, thesis" in line)
    assert row.rstrip(" |").endswith("yes") and "-20.00" in row  # "differs (Holm)": yes
    fc = next(line for line in diff.splitlines() if line.startswith("| FC (baseline)") and "FID, thesis" in line)
    assert fc.rstrip(" |").endswith("no")  # no difference, no alarm
    # the claim, its quote and its verdict with its share and test, the thesis's beside ours
    claim = next(line for line in diff.splitlines() if line.startswith("| MGAN worse than FC"))
    assert '5.5: "From the results, we see that MADGAN and MGAN perform worse than the baseline' in claim
    assert re.search(r"\| yes \(holds in \d+ %\) +\| p = [\d.e-]+ \(one-sided Welch, max over 4\) +\| no \(holds "
                     r"in \d+ %\) +\| p = ", claim), claim
