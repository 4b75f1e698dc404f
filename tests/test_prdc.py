"""Precision, recall, density and coverage: equal to the authors' ``prdc`` package and to torch-fidelity's precision
and recall on shared features, the same in blocks as at once, the known extreme cases, tiny sets refused; carried by
every score record, printed by ``hmogbench score`` / ``evaluate``, and tabulated in tables/<set>.extended.*."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from hmogbench.metrics.cli import format_result
from hmogbench.metrics.prdc import K_DC, K_PR, PrdcScore, prdc_score
from hmogbench.metrics.record import scored_against_real, summary
from hmogbench.metrics.score import score_against_statistics
from hmogbench.tables.extended import extended_columns
from hmogbench.tables.write import write_tables

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def features():
    """Shared features: real (300, 64) and fake (250, 64), the fake set shifted and wider (scores inside (0, 1))."""
    rng = np.random.default_rng(27)
    return rng.normal(size=(300, 64)), rng.normal(size=(250, 64)) * 1.1 + 0.1


@pytest.mark.reference
def test_equals_the_prdc_package(features, capsys):
    """prdc.compute_prdc (Naeem et al.'s reference): k = 5 for density and coverage, k = 3 for precision and recall."""
    from prdc import compute_prdc

    real, fake = features
    ours = prdc_score(real, fake)
    dc, pr = compute_prdc(real, fake, nearest_k=K_DC), compute_prdc(real, fake, nearest_k=K_PR)
    assert (ours.k_pr, ours.k_dc, ours.n_real, ours.n_fake) == (3, 5, 300, 250)
    assert 0 < ours.precision < 1 and 0 < ours.recall < 1 and 0 < ours.coverage < 1  # no trivial case
    assert ours.precision == pytest.approx(pr["precision"], abs=1e-6)
    assert ours.recall == pytest.approx(pr["recall"], abs=1e-6)
    assert ours.density == pytest.approx(dc["density"], abs=1e-6)
    assert ours.coverage == pytest.approx(dc["coverage"], abs=1e-6)
    capsys.readouterr()  # compute_prdc prints the set sizes


@pytest.mark.reference
def test_precision_and_recall_equal_torch_fidelitys(features):
    """torch_fidelity.metric_prc.prc_features_to_metric on the same features (its features_1 is the generated set)."""
    from torch_fidelity.metric_prc import prc_features_to_metric

    real, fake = features
    ours = prdc_score(real, fake)
    for save_cpu_ram in (False, True):  # its two code paths
        theirs = prc_features_to_metric(torch.from_numpy(fake), torch.from_numpy(real), prc_neighborhood=K_PR,
                                        prc_batch_size=100, save_cpu_ram=save_cpu_ram, verbose=False)
        assert ours.precision == pytest.approx(theirs["precision"], abs=1e-6)
        assert ours.recall == pytest.approx(theirs["recall"], abs=1e-6)


def test_blocks_of_any_size_give_the_same_result(features):
    real, fake = features
    whole = prdc_score(real, fake, block_elements=10 ** 9)  # every distance matrix at once
    for block in (1, 777, 250 * 64):  # one row per block, uneven blocks, 64 rows
        assert prdc_score(real, fake, block_elements=block) == whole
    assert prdc_score(torch.from_numpy(real).float(), fake) == prdc_score(real.astype(np.float32), fake)
    kept = real.copy()
    prdc_score(torch.from_numpy(real), fake)  # float64 on the CPU: centred in a copy, never in the caller's array
    assert np.array_equal(real, kept)


def test_identical_sets_score_one_and_far_apart_sets_zero(features):
    real, _ = features
    same = prdc_score(real, real.copy())
    assert (same.precision, same.recall, same.density, same.coverage) == (1.0, 1.0, 1.0, 1.0)
    apart = prdc_score(real, real[:200] + 100.0)
    assert (apart.precision, apart.recall, apart.density, apart.coverage) == (0.0, 0.0, 0.0, 0.0)
    assert apart.n_fake == 200


def test_sets_smaller_than_k_plus_one_are_refused_in_one_line():
    x = np.random.default_rng(0).normal(size=(9, 4))
    with pytest.raises(ValueError, match=r"the sets hold 5 real and 9 fake points; expected at least 6 in each "
                                         r"\(k \+ 1 for k = 5; docs/metrics.md\)$") as error:
        prdc_score(x[:5], x)
    assert "\n" not in str(error.value)
    with pytest.raises(ValueError, match="got k_pr=0"):
        prdc_score(x, x, k_pr=0)
    with pytest.raises(ValueError, match=r"the same D, got \(9, 4\) and \(9, 3\)"):
        prdc_score(x, x[:, :3])
    assert prdc_score(x[:6], x[3:]).n_real == 6  # k + 1 is enough


def test_every_record_carries_and_prints_them(features):
    real, fake = (x[:60].astype(np.float32) for x in features)
    record = scored_against_real(real, {"features": "pixels", "fd_name": "FD (pixels)"}, fake, None, kid_subsets=2,
                                 kid_subset_size=20)
    assert record["prdc"] == prdc_score(real, fake).as_dict() and set(record["prdc"]) == set(PrdcScore.__annotations__)
    line = (f"precision {record['prdc']['precision']:.3f}, recall {record['prdc']['recall']:.3f} (k = 3); "
            f"density {record['prdc']['density']:.3f}, coverage {record['prdc']['coverage']:.3f} (k = 5)")
    assert f"P/R/D/C {line}" in " ".join(format_result({**record, "real": "r.npy", "fake": "f.npy"}).split())  # score
    assert summary(record).endswith(f"KID {record['kid_mean']:.6f} ± {record['kid_std']:.6f}, {line}")  # evaluate
    old = {k: v for k, v in record.items() if k != "prdc"}  # a record of an older hmogbench
    assert summary(old).endswith("P/R/D/C n/a")
    stats = score_against_statistics((real.mean(0), np.cov(real.T), None), fake)
    assert stats["prdc"] is None
    text = format_result({**stats, "features": "pixels", "fd_name": "FD (pixels)", "weights": None,
                          "real": "s.npz", "fake": "f.npy", "real_statistics": "s.npz"})
    assert "P/R/D/C n/a (REAL is a statistics file: P/R/D/C needs features)" in " ".join(text.split())


def _record(path, model, seed, prdc=None, kid=0.5):
    rec = {"features": "pixels", "fd_name": "FD (pixels)", "fd": 10.0 + seed % 2, "knn_real_pct": 60.0,
           "knn_fake_pct": 70.0, "kid_mean": kid, "n_real": 100, "n_fake": 100, "weights": None,
           "fake_source": {"config": {"dataset": "mnist", "model": model, "seed": seed}, "steps_trained": 7}}
    if prdc is not None:
        rec["prdc"] = {"precision": prdc, "recall": prdc / 2, "density": 2 * prdc, "coverage": prdc / 4,
                       "k_pr": 3, "k_dc": 5, "n_real": 100, "n_fake": 100}
    file = path / "pixels" / "mnist" / model / f"seed{seed}.json"
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps(rec))
    return file


def test_the_extended_tables_carry_them_and_say_where_a_record_has_none(tmp_path):
    """FC: both seeds with P/R/D/C; HME-5: records without them (an older hmogbench); ME-32: one seed without."""
    files = [_record(tmp_path, "FC", 2019, 0.4), _record(tmp_path, "FC", 2020, 0.6),
             _record(tmp_path, "HME-5", 2019, kid=None), _record(tmp_path, "ME-32", 2019, 0.5),
             _record(tmp_path, "ME-32", 2020)]
    written = write_tables("mnist", files, tmp_path / "tables")
    assert [p.name for p in written[-3:]] == ["mnist.extended.md", "mnist.extended.tex", "mnist.extended.html"]
    md, tex = written[-3].read_text(), written[-2].read_text()
    columns = extended_columns("pixels", "FD (pixels)")
    assert columns == ["Model", "FD (pixels)", "KID (pixels)", "5-NN Real (pixels)", "5-NN Fake (pixels)",
                       "Precision", "Recall", "Density", "Coverage"]
    rows = {line.split("|")[1].strip(): [c.strip() for c in line.strip().strip("|").split("|")[1:]]
            for line in md.splitlines() if line.startswith("| ") and not line.startswith("| Model")}
    assert rows["FC (baseline)"] == ["10.50 ± 0.50", "0.5000 ± 0.0000", "60.00 ± 0.00", "70.00 ± 0.00",
                                     "0.500 ± 0.100", "0.250 ± 0.050", "1.000 ± 0.200", "0.125 ± 0.025"]
    assert rows["HME-5"] == ["11.00 ± 0.00", "--", "60.00 ± 0.00", "70.00 ± 0.00", "--", "--", "--", "--"]
    assert rows["ME-32"][4:] == ["--"] * 4  # one seed without: no mean over the other alone
    assert rows["HME-6"] == ["--"] * 8 and md.count("**Extended Table ") == 2  # Tables 5.3 and 5.8, every row
    captions = [line for line in md.splitlines() if line.startswith("**Extended Table ")]
    assert all(f"Columns: {columns[1]}, the Fréchet distance; {columns[2]}, the kernel distance" in c
               and f"{columns[3]} and {columns[4]}, 5-NN accuracies in %; {columns[5]} and {columns[6]}, improved "
               f"precision and recall (Kynkäänniemi et al. 2019, k = 3); {columns[7]} and {columns[8]}, density and "
               "coverage (Naeem et al. 2020, k = 5)" in c for c in captions)
    assert tex.count(r"\begin{tabular}{lcccccccc}") == 2 and r"0.500 $\pm$ 0.100" in tex
    # the thesis tables keep the thesis's columns; the report's caption lists exactly the extended ones
    assert "Precision" not in written[1].read_text()
    rst = " ".join((ROOT / "workflow" / "report" / "extended.rst").read_text().split())
    assert ("Columns: Model; the space's Fréchet distance" in rst and "KID (" in rst and "5-NN Real, 5-NN Fake (" in rst
            and "Precision, Recall (improved precision and recall, Kynkäänniemi et al. 2019, k = 3); Density, "
                "Coverage (Naeem et al. 2020, k = 5)" in rst)
