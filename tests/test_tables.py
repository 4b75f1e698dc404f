"""Thesis tables from metrics records: aggregation, LaTeX/Markdown rendering, the diff and the claims."""

import json
import re

import numpy as np
import pytest

from hmogbench.tables.collect import aggregate, read_records
from hmogbench.tables.compare import CLAIMS, agrees, published_numbers, spearman
from hmogbench.registry.datasets import dataset_names, in_thesis
from hmogbench.tables.grid import paper_models, thesis_tables
from hmogbench.tables.render import rank_deficiency_note
from hmogbench.tables.write import write_tables


def record(path, model, seed, *, space="pixels", fd=10.0, real=60.0, fake=70.0, status=None, dataset="mnist",
           n=100, n_real=None, dims=None):
    """A metrics record; ``dims`` None: written before records carried feature_dims."""
    rec = {"features": space, "fd_name": f"FD ({space})", "fd": fd, "knn_real_pct": real, "knn_fake_pct": fake,
           "n_real": n if n_real is None else n_real, "n_fake": n,
           "weights": {"status": status, "sha256": "abc"} if status else None,
           "fake_source": {"config": {"dataset": dataset, "model": model, "seed": seed}, "steps_trained": 7}}
    if dims is not None:
        rec["feature_dims"] = dims
    file = path / space / dataset / model / f"seed{seed}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(rec))
    return file


def test_the_grid_is_the_thesis_tables():
    for dataset in dataset_names(in_thesis):
        constant, linear = thesis_tables(dataset)
        assert (len(constant.models), len(linear.models), len(paper_models(dataset))) == (9, 21, 29)
        assert constant.models[0] == linear.models[0] == "FC"
    assert [t.number for t in thesis_tables("celeba")] == ["5.5", "5.10"]
    with pytest.raises(ValueError, match="cifar10"):
        thesis_tables("cifar10")


def test_mean_and_std_over_seeds(tmp_path):
    fds = {2019: 10.0, 2020: 12.0, 2021: 17.0}
    files = [record(tmp_path, "HME-5", s, fd=v, real=50 + s - 2019) for s, v in fds.items()]
    agg = aggregate(read_records(files, "mnist")).loc[("pixels", "HME-5")]
    assert agg.fd_mean == pytest.approx(np.mean(list(fds.values())))
    assert agg.fd_std == pytest.approx(np.std(list(fds.values())))  # population std, as documented
    assert agg.knn_real_mean == pytest.approx(51.0) and agg.n_seeds == 3 and agg.seeds == "2019,2020,2021"


def test_bad_record_sets_are_refused_with_the_file_named(tmp_path):
    a = record(tmp_path, "FC", 2019)
    other = record(tmp_path / "x", "FC", 2019)
    with pytest.raises(ValueError, match="two metrics files for pixels / FC / seed 2019"):
        read_records([a, other], "mnist")
    wrong = record(tmp_path, "FC", 2020, dataset="celeba")
    with pytest.raises(ValueError, match=r"a celeba run, but the tables are mnist's"):
        read_records([a, wrong], "mnist")
    unknown = record(tmp_path / "u", "FC", 2019, space="clip-vit")
    with pytest.raises(ValueError, match=r"clip-vit/mnist/FC/seed2019.json: feature space 'clip-vit' is not one "
                                         r"of fid-inception, thesis-inception, pixels"):
        read_records([unknown], "mnist")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"features": "pixels"}))
    with pytest.raises(ValueError, match="broken.json: not a metrics record"):
        read_records([broken], "mnist")
    mixed = [record(tmp_path / "m", "FC", 2019, space="fid-inception", status="official")]
    rec = json.loads(mixed[0].read_text())
    rec["weights"]["sha256"] = "other"
    rec["fake_source"]["config"]["seed"] = 2020
    (second := mixed[0].with_name("seed2020.json")).write_text(json.dumps(rec))
    with pytest.raises(ValueError, match="different weights files"):
        read_records([mixed[0], second], "mnist")
    rec["weights"]["sha256"] = "abc"
    rec["fd_name"] = "FID [bf16 features]"  # same weights, but features in another precision
    second.write_text(json.dumps(rec))
    with pytest.raises(ValueError, match=r"different distances are mixed \(\['FD \(fid-inception\)', 'FID \[bf16"):
        read_records([mixed[0], second], "mnist")


def test_agreement_rule_and_rank_correlation():
    assert agrees((10.0, 1.0), (11.9, 1.0)) and not agrees((10.0, 1.0), (12.1, 1.0))
    assert agrees((10.0, 0.0), (10.0, 0.0)) and not agrees((10.0, 0.0), (10.01, 0.0))
    assert spearman({"a": 1, "b": 2, "c": 3}, {"a": 10, "b": 20, "c": 30}) == pytest.approx(1.0)
    assert spearman({"a": 1, "b": 2, "c": 3}, {"a": 30, "b": 20, "c": 10}) == pytest.approx(-1.0)
    assert spearman({"a": 1, "b": 2}, {"a": 1, "b": 2}) is None


def test_claims_on_the_published_numbers():
    """Each claim is decidable on every data set's published numbers; where the thesis itself says a claim
    has an exception (MADGAN beats FC on MNIST) the check finds it."""
    verdicts = {c.text: [c.verdict(published_numbers(d), d) for d in dataset_names(in_thesis)] for c in CLAIMS}
    assert all(v is not None for vs in verdicts.values() for v in vs)
    assert verdicts["MADGAN worse than FC"] == [False, True, True, True, True]  # "only on MNIST" (thesis 5.5)
    assert all(verdicts["Linear mixtures beat FC on FID"]) and all(verdicts["MGAN worse than FC"])
    assert all(verdicts["HME (constant) improves with depth"])
    # a claim is n/a, not "no", unless every model it is about was run (no verdict on part of the rows)
    pub = published_numbers("mnist")
    assert all(c.verdict({"FC": pub["FC"]}, "mnist") is None for c in CLAIMS)
    claim = next(c for c in CLAIMS if c.text == "MGAN worse than FC")
    some = {m: pub[m] for m in ("FC", "MGAN-4", "MGAN-8", "MGAN-16")}
    assert claim.verdict(some, "mnist") is None and claim.verdict({**some, "MGAN-32": pub["MGAN-32"]}, "mnist")


def _published_as_records(tmp_path, space, status, shift=0.0, models=None):
    pub = published_numbers("mnist")
    files = []
    for model in models or paper_models("mnist"):
        for i, seed in enumerate((2019, 2020)):
            sign = 1 if i == 0 else -1
            m = pub[model]
            files.append(record(tmp_path, model, seed, space=space, status=status,
                                fd=m["fd"][0] + shift + sign * m["fd"][1], real=m["knn_real"][0] + sign * m["knn_real"][1],
                                fake=m["knn_fake"][0] + sign * m["knn_fake"][1]))
    return files


def test_published_numbers_fed_back_agree_everywhere(tmp_path):
    """Records whose seeds reproduce each published mean and std give 29 of 29 agreeing models."""
    files = _published_as_records(tmp_path / "m", "thesis-inception", "official")
    tex, md, diff = (p.read_text() for p in write_tables("mnist", files, tmp_path / "tables"))
    assert "**29 of 29 regenerated models agree with the thesis in all three columns** (87 of 87 cells)" in diff
    assert "Spearman ρ = 1.00" in diff
    assert re.search(r"\| FC \(baseline\) +\| +74\.90 ± 0\.59 \| +67\.89 ± 0\.30 \| +11\.13 ± 0\.44 \| +413K \|", md)
    assert r"FC (baseline) & 74.90 $\pm$ 0.59 & 67.89 $\pm$ 0.30 & 11.13 $\pm$ 0.44 & 413K \\" in tex
    # a shift of 3 FD units breaks agreement in the FD column of every model whose stds are small
    shifted = _published_as_records(tmp_path / "s", "thesis-inception", "official", shift=3.0)
    diff2 = write_tables("mnist", shifted, tmp_path / "t2")[2].read_text()
    agree = int(re.search(r"\*\*(\d+) of 29 regenerated models agree", diff2).group(1))
    assert agree < 29


def test_latex_is_a_well_formed_booktabs_fragment(tmp_path):
    files = _published_as_records(tmp_path, "pixels", None, models=["FC", "HME-5", "ME-L-4"])
    tex = write_tables("mnist", files, tmp_path / "tables")[0].read_text()
    assert tex.count(r"\begin{table}") == tex.count(r"\end{table}") == 2
    assert tex.count(r"\toprule") == tex.count(r"\midrule") == tex.count(r"\bottomrule") == 2
    body = [line for line in tex.splitlines() if line.endswith(r"\\")]
    assert len(body) == 2 + 9 + 21  # header rows + the rows of Tables 5.3 and 5.8
    assert all(line.count("&") == 4 for line in body)
    code = "\n".join(line for line in tex.splitlines() if not line.startswith("%"))
    assert not re.search(r"(?<!\\)%", code)  # no unescaped comment character in the tables
    assert code.count("{") == code.count("}")
    assert "5-NN Real (pixels)" in tex and "Feature space: pixels" in tex  # another space says so


def test_other_spaces_compare_orderings_only(tmp_path):
    files = _published_as_records(tmp_path / "p", "pixels", None)
    files += _published_as_records(tmp_path / "f", "fid-inception", "official")
    files += _published_as_records(tmp_path / "u", "thesis-inception", "unverified")
    diff = write_tables("mnist", files, tmp_path / "tables")[2].read_text()
    assert diff.count("absolute values are **not** compared") == 3  # pixels, fid-inception, stand-in weights
    assert "agree with the thesis in all three columns" not in diff
    assert "rank of FD (regenerated / published)" in diff
    # claims are still checked in every space
    assert diff.count("### Claims") == 3


def test_rank_deficiency_is_noted_where_n_is_at_most_d():
    assert rank_deficiency_note(16, 16).startswith("N = 16 ≤ 16: the 16-d covariance is rank-deficient")
    assert rank_deficiency_note(17, 16) == "" and rank_deficiency_note(5, None) == ""


@pytest.mark.parametrize("n, n_real, dims, noted", [
    (163, None, 2048, "N = 163 ≤ 2048"),  # both sets small
    (10000, 163, 2048, "N = 163 ≤ 2048"),  # the real set is the small one
    (3000, None, 2048, None),  # N > D: full-rank covariances are possible
    (163, None, None, None),  # a record from before feature_dims: nothing is claimed
])
def test_captions_say_when_the_covariance_is_rank_deficient(tmp_path, n, n_real, dims, noted):
    files = [record(tmp_path / "r", model, 2019, space="thesis-inception", status="official", n=n, n_real=n_real,
                    dims=dims) for model in ("FC", "HME-5")]
    tex, md, diff = (p.read_text() for p in write_tables("mnist", files, tmp_path / "tables"))
    if noted is None:
        assert "rank-deficient" not in tex + md + diff
        return
    note = f"{noted}: the 2048-d covariance is rank-deficient, so the FD is computed from singular covariances."
    assert md.count(note) == 2  # the captions of Tables 5.3 and 5.8
    assert diff.count(note) == 1 and "images per set. " + note in diff  # the space's "about" text
    assert tex.count(noted.replace("≤", r"$\leq$")) == 2 and "≤" not in tex
