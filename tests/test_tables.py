"""Thesis tables from metrics records: aggregation, LaTeX/Markdown/HTML rendering, the diff and the claims."""

import html
import json
import re
from pathlib import Path

import numpy as np
import pytest

from hmogbench.tables.collect import aggregate, read_records
from hmogbench.tables.compare import (CLAIMS, agrees, claims_summary, length_warning, published_numbers,
                                      rank_agreement, spearman)
from hmogbench.registry.datasets import dataset_names, in_thesis
from hmogbench.registry.feature_spaces import get_space
from hmogbench.tables.grid import paper_models, thesis_tables
from hmogbench.tables.render import rank_deficiency_note
from hmogbench.tables.write import write_tables

ROOT = Path(__file__).resolve().parents[1]


def record(path, model, seed, *, space="pixels", fd=10.0, real=60.0, fake=70.0, status=None, dataset="mnist",
           n=100, n_real=None, dims=None, steps=7):
    """A metrics record of a run of ``steps`` generator steps; ``dims`` None: written before records carried
    feature_dims."""
    rec = {"features": space, "fd_name": f"FD ({space})", "fd": fd, "knn_real_pct": real, "knn_fake_pct": fake,
           "n_real": n if n_real is None else n_real, "n_fake": n,
           "weights": {"status": status, "sha256": "abc"} if status else None,
           "fake_source": {"config": {"dataset": dataset, "model": model, "seed": seed}, "steps_trained": steps}}
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
    tex, md, diff = (p.read_text() for p in write_tables("mnist", files, tmp_path / "tables")[:3])
    assert "**29 of 29 regenerated models agree with the thesis in all three columns** (87 of 87 cells)" in diff
    assert "**Welch's t-test: 0 of 87 tested cells differ from the thesis**" in diff  # beside the rule, per cell
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
    assert "Welch p |" not in diff and "Welch's t-test:" not in diff  # no per-cell tests outside its space
    assert diff.count("no per-cell agreement and no per-cell tests") == 3
    assert "rank (regenerated / published)" in diff
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
    tex, md, diff = (p.read_text() for p in write_tables("mnist", files, tmp_path / "tables")[:3])
    if noted is None:
        assert "rank-deficient" not in tex + md + diff
        return
    note = f"{noted}: the 2048-d covariance is rank-deficient, so the FD is computed from singular covariances."
    assert md.count(note) == 2  # the captions of Tables 5.3 and 5.8
    assert diff.count(note) == 1 and "images per set. " + note in diff  # the space's "about" text
    assert tex.count(noted.replace("≤", r"$\leq$")) == 2 and "≤" not in tex


SMOKE_GRID = ("FC", "HME-5", "ME-32", "HME-L-2", "ME-L-4", "MADGAN-4", "MGAN-4", "MEGAN-4")  # config/smoke.yaml's


def _diff_of(tmp_path, files) -> str:
    return write_tables("mnist", files, tmp_path / "tables")[2].read_text()


def test_claims_that_cannot_be_judged_are_counted_as_na_not_as_failures(tmp_path):
    """The smoke grid (one size per family) can judge no claim: the diff counts them n/a, never "0 of 13 hold"."""
    diff = _diff_of(tmp_path / "s", _published_as_records(tmp_path / "s", "pixels", None, models=SMOKE_GRID))
    assert "0 of 0 judgeable claims hold here; 13 n/a (need every size of their models)" in diff
    assert not re.search(r"\b0 of 13\b", diff), diff[:1500]
    # the whole grid judges all 13, beside the thesis's own count of the same 13
    full = _diff_of(tmp_path / "f", _published_as_records(tmp_path / "f", "thesis-inception", "official"))
    assert "11 of 13 judgeable claims hold here (11 of them in the thesis's numbers)." in full
    # part of a grid: only the claim whose every model was run is judged
    pub = published_numbers("mnist")
    mgan = {m: pub[m] for m in ("FC", "MGAN-4", "MGAN-8", "MGAN-16", "MGAN-32")}
    assert claims_summary(mgan, "mnist") == ("1 of 1 judgeable claims hold here (1 of them in the thesis's numbers); "
                                             "12 n/a (need every size of their models)")


def test_the_rank_correlation_comes_with_its_permutation_p_value(tmp_path):
    """One-sided p = P(ρ of a random ordering ≥ ρ observed): exact over the n! orderings for n ≤ 8 (n = 3:
    ρ = 1, 0.5, 0.5, -0.5, -0.5, -1), Monte-Carlo (1 + hits) / (1 + draws), seeded, above."""
    ab = {"a": 1.0, "b": 2.0, "c": 3.0}
    same = rank_agreement(ab, {"a": 10, "b": 20, "c": 30})
    assert (same.rho, same.p, same.method) == (pytest.approx(1.0), pytest.approx(1 / 6), "exact, all 6 orderings")
    assert rank_agreement(ab, {"a": 10, "b": 30, "c": 20}).p == pytest.approx(3 / 6)  # ρ = 0.5
    assert rank_agreement(ab, {"a": 30, "b": 20, "c": 10}).p == pytest.approx(1.0)  # ρ = -1: every ordering
    ten = {str(i): float(i) for i in range(10)}
    mc = rank_agreement(ten, ten)
    assert mc.p == pytest.approx(1 / 10_001) and mc.method == "Monte-Carlo, 10,000 random orderings, seed 0"
    assert rank_agreement(ten, ten, seed=1).p == mc.p  # no random ordering of 10 hits ρ = 1
    two = rank_agreement({"a": 1, "b": 2}, {"a": 1, "b": 2})
    assert two.rho is None and two.method == "fewer than 3 models (2)"
    # in the diff every ρ is printed with its p-value, and fewer than 3 models is n/a
    diff = _diff_of(tmp_path / "s", _published_as_records(tmp_path / "s", "pixels", None, models=SMOKE_GRID))
    rho_lines = [line for line in diff.splitlines() if "Spearman ρ" in line]
    assert rho_lines and all(re.search(r"ρ = -?\d\.\d\d, one-sided permutation p = [\d.e-]+ \(exact, all 40,320 "
                                       r"orderings", line) for line in rho_lines), rho_lines
    few = _diff_of(tmp_path / "f", _published_as_records(tmp_path / "f", "pixels", None, models=["FC", "HME-5"]))
    assert "Spearman ρ = n/a (fewer than 3 models (2))." in few


def test_runs_shorter_than_the_authors_are_warned(tmp_path):
    """Steps in the records vs the authors' lengths (registry.families.default_steps)."""
    assert length_warning({"FC": {3}}) == ("Warning: runs of 3 generator steps (the authors: 23,250): orderings of "
                                           "such runs are noise, and so is any rank correlation of them.")
    assert "4,650 to 23,400 by model" in length_warning({"FC": {3}, "MGAN-4": {3}, "MEGAN-4": {3}})
    assert "shorter than the authors' (23,250)" in length_warning({"FC": {20_000}})
    assert length_warning({"FC": {23_250}, "MEGAN-4": {4_650}, "HME-5": {None}}) == ""
    models = ("FC", "HME-5", "ME-32")
    short = _diff_of(tmp_path / "s", [record(tmp_path / "s", m, 2019, fd=i) for i, m in enumerate(models)])
    assert short.count("Warning: runs of 7 generator steps (the authors: 23,250)") == 2  # top, beside ρ
    full = _diff_of(tmp_path / "f", [record(tmp_path / "f", m, 2019, fd=i, steps=23_250) for i, m in enumerate(models)])
    assert "Warning" not in full and "Spearman ρ = 1.00" in full


@pytest.mark.parametrize("space, status, ours", [("pixels", None, "FD, pixels"),
                                                 ("fid-inception", "official", "FID, fid-inception"),
                                                 ("thesis-inception", "official", "FD, thesis-inception")])
def test_every_diff_column_names_its_space_and_network(tmp_path, space, status, ours):
    files = [record(tmp_path, m, 2019, space=space, status=status, fd=i) for i, m in enumerate(("FC", "HME-5", "ME-32"))]
    fd_name = get_space(space).fd_name(status)
    for file in files:  # the record's own distance name, as `hmogbench score` writes it
        rec = json.loads(file.read_text())
        file.write_text(json.dumps({**rec, "fd_name": fd_name}))
    diff = _diff_of(tmp_path, files)
    rows = [line for line in diff.splitlines() if line.startswith("| FC (baseline)")]
    assert len(rows) == 6 and all(" vs " in row for row in rows)  # 3 metrics x Tables 5.3, 5.8
    assert sum(f"| {ours} vs FID, thesis Inception " in row for row in rows) == 2
    assert sum(f"| 5-NN Real, {space} vs 5-NN Real, thesis Inception " in row for row in rows) == 2
    assert f"between {ours} (regenerated) and FID, thesis Inception (published)" in diff
    assert "| metric: regenerated vs published " in diff


def test_captions_list_exactly_the_tables_columns(tmp_path):
    files = [record(tmp_path, m, 2019) for m in ("FC", "HME-5")]
    md = write_tables("mnist", files, tmp_path / "tables")[1].read_text()
    captions = [line for line in md.splitlines() if line.startswith("**Table ")]
    header = next(line for line in md.splitlines() if line.startswith("| Model"))
    columns = [c.strip() for c in header.strip("|").split("|")][1:]
    assert columns == ["5-NN Real (pixels)", "5-NN Fake (pixels)", "FD (pixels)", "Param."]
    assert len(captions) == 2 and all(f"Columns: {columns[0]} and {columns[1]}, 5-NN accuracies in %; {columns[2]}, "
                                      f"the Fréchet distance; {columns[3]}," in c for c in captions)
    assert not any("FID" in c or "KID" in c for c in captions)
    # the report's captions promise no column the tables lack
    for rst in ("tables.rst", "diff.rst"):
        text = " ".join((ROOT / "workflow" / "report" / rst).read_text().split())
        assert "KID" not in text and "5-NN Real, 5-NN Fake" in text, rst


def _cells(rows: list[str]) -> list[list[str]]:
    """A Markdown table's cells, split at the unescaped "|" ("\\|" is a "|" inside a cell)."""
    return [[c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])] for row in rows]


def test_the_html_pages_show_every_cell_of_the_markdown(tmp_path):
    """tables/<set>.html and .diff.html: the same tables as the Markdown, caption above, the LaTeX as text after,
    self-contained (no script, nothing fetched)."""
    files = _published_as_records(tmp_path, "pixels", None, models=SMOKE_GRID)
    tex, md, diff, page, diff_page, ext_md, _, ext_page = (p.read_text() for p in write_tables("mnist", files,
                                                                                              tmp_path / "tables"))
    for markdown, html_page in ((md, page), (diff, diff_page), (ext_md, ext_page)):  # ext: the extended tables
        lines = markdown.splitlines()
        md_rows = _cells([line for line in lines if line.startswith("|") and not line.startswith("|--")])
        html_rows = [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)]
                     for row in re.findall(r"<tr>(.*?)</tr>", html_page)]
        assert html_rows == md_rows
        assert not re.search(r"<script|<link|\bsrc=|https?://", html_page)
        assert html_page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html_page
    assert re.search(r"<table><caption><strong>Table 5\.3</strong> -- Regenerated thesis Table 5\.3: .*</caption>\n"
                     r"<thead>", page)
    latex = page[page.index("<pre>") + 5:page.index("</pre>")]
    assert page.index("<pre>") > page.rindex("</table>") and html.unescape(latex) == tex.rstrip()
    assert 'class="r">74.90 ± 0.59</td>' in page  # numbers right-aligned
