"""FD over training: generator snapshots every ``eval_every`` steps and at the end, kept through a resume; scored
by ``hmogbench evaluate --over-training-out`` (one record per step, the last equal to the normal record); drawn
per seed; ``--select best`` scores the best snapshot and says so. Tiny: FC, 4 steps at batch 8, 48 images."""

import dataclasses
import json

import numpy as np
import pytest
import torch
from training_states import equal, load, tiny_images

from hmogbench.cli import main
from hmogbench.evaluation.job import EvaluationSettings, evaluate
from hmogbench.evaluation.over_training import OverTrainingSettings
from hmogbench.pictures.over_training import build_over_training, read_over_training_file
from hmogbench.tables.collect import read_record, read_records, selection_note
from hmogbench.training import GENERATOR, seed_dir, train_from_config, train_seeds
from hmogbench.training.config import ConfigError, TrainConfig
from hmogbench.training.snapshots import snapshot_due, snapshot_files

pytestmark = pytest.mark.xdist_group("over-training")  # one worker: the runs below are trained once

SEEDS = (2019, 2020)
IMAGES = 24  # real features, samples per run and per snapshot
CFG = TrainConfig(model="FC", steps=4, batch_size=8, eval_every=2, d_steps=1, checkpoint_every=2)
SCORES = ("fd", "knn_real_pct", "knn_fake_pct", "kid_mean", "kid_std", "kid", "prdc", "n_real", "n_fake")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two FC seeds trained 4 steps with eval_every=2, and the pixel features of the first 24 training images as
    the real set."""
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("over_training")
    images = tiny_images()
    train_seeds(CFG, list(SEEDS), images, root / "runs", progress=False)
    np.save(root / "real.npy", images.permute(0, 2, 3, 1).numpy())
    assert main(["features", str(root / "real.npy"), "--features", "pixels", "--limit", str(IMAGES),
                 "--device", "cpu", "--out", str(root / "features" / "pixels" / "real.npy"), "--no-progress"]) == 0
    return root, [seed_dir(root / "runs", seed) for seed in SEEDS]


@pytest.fixture(scope="module")
def scored(trained):
    """`hmogbench evaluate` of both seeds in pixels with their snapshots, 24 images each: <root>/cli/pixels/<seed>.json
    (the normal records) and <root>/cli/over/pixels/<seed>.json (over training)."""
    root, runs = trained
    assert main(["evaluate", *map(str, runs), "--spaces", "pixels", "--count", str(IMAGES), "--device", "cpu",
                 "--real-features", f"{root}/features/{{space}}/real.npy",
                 "--out", f"{root}/cli/{{space}}/{{seed}}.json", "--over-training-out", f"{root}/cli/over/{{space}}/{{seed}}.json",
                 "--over-training-count", str(IMAGES), "--no-progress"]) == 0
    return root, runs


def settings(root, name, **over):
    return EvaluationSettings(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy",
                              out=f"{root}/{name}/metrics/{{space}}/seed{{seed}}.json", count=IMAGES,
                              over_training=OverTrainingSettings(out=f"{root}/{name}/over/{{space}}/seed{{seed}}.json",
                                                                 space="pixels", **over))


def test_snapshots_every_eval_every_steps_and_at_the_end(trained):
    _, runs = trained
    for run in runs:
        assert [step for step, _ in snapshot_files(run)] == [2, 4]
        final = load(run / "snapshots" / "step4.pt")
        assert set(final) == {"generator", "config", "step", "train_precision"}  # G only: no D, no optimiser
        assert final["step"] == 4 and equal(final["generator"], load(run / GENERATOR)["generator"])
    assert [s for s in range(1, 8) if snapshot_due(s, 3, 7)] == [3, 6, 7] and not snapshot_due(4, None, 4)
    with pytest.raises(ConfigError, match="'eval_every' = 0"):
        TrainConfig(eval_every=0)


def test_a_resumed_run_keeps_its_snapshots_and_may_change_eval_every(tmp_path):
    class Stop(Exception):
        pass

    def stop_at_3(step):
        if step == 3:
            raise Stop

    with pytest.raises(Stop):  # the checkpoint of step 2 and its snapshot are on disk
        train_from_config(CFG, tiny_images(), tmp_path, progress=False, on_step=stop_at_3)
    assert [step for step, _ in snapshot_files(tmp_path)] == [2]
    info = train_from_config(dataclasses.replace(CFG, eval_every=3), tiny_images(), tmp_path, progress=False)
    assert (info["resumed_from"], info["status"]) == (2, "complete")
    assert [step for step, _ in snapshot_files(tmp_path)] == [2, 3, 4]  # 3: the new eval_every, 4: the end


def test_snapshots_are_scored_and_the_last_equals_the_normal_record(scored):
    root, runs = scored
    for seed in SEEDS:
        records = json.loads((root / "cli" / "over" / "pixels" / f"{seed}.json").read_text())
        normal = json.loads((root / "cli" / "pixels" / f"{seed}.json").read_text())
        assert [r["step"] for r in records] == [2, 4]
        assert [r["fake_source"]["steps_trained"] for r in records] == [2, 4]
        assert {k: records[-1][k] for k in SCORES if k in normal} == {k: normal[k] for k in SCORES if k in normal}
        assert records[0]["fd"] != records[1]["fd"]  # two generators, two numbers
    fewer = settings(root, "fewer", count=12)  # fewer images: as many real features (the first 12)
    written, kept = evaluate(runs[:1], fewer)
    records = read_over_training_file(root / "fewer" / "over" / "pixels" / "seed2019.json").records
    assert [(r["n_real"], r["n_fake"]) for r in records] == [(12, 12)] * 2
    assert len(written) == 2 and not kept
    written, kept = evaluate(runs[:1], fewer)  # a rerun keeps what is current
    assert not written and len(kept) == 2


def test_the_picture_has_each_seeds_points(scored):
    root, _ = scored
    curves = [read_over_training_file(root / "cli" / "over" / "pixels" / f"{seed}.json") for seed in SEEDS]
    fig = build_over_training(curves)
    fd_panel = fig.axes[0]
    for curve in curves:
        (line,) = [line for line in fd_panel.lines if line.get_gid() == f"seed{curve.seed}"]
        assert list(line.get_xdata()) == [2, 4]
        assert list(line.get_ydata()) == [r["fd"] for r in curve.records]
    has_recall = any((r.get("prdc") or {}).get("recall") is not None for r in curves[0].records)
    assert len(fig.axes) == 1 + has_recall
    assert "FD (pixels)" in fd_panel.get_ylabel() and "seeds 2019, 2020" in fig._suptitle.get_text()
    with pytest.raises(ValueError, match="expected a non-empty JSON list"):
        read_over_training_file(root / "cli" / "pixels" / "2019.json")  # a normal record


def test_select_best_scores_the_snapshot_of_lowest_fd_and_says_so(scored):
    root, runs = scored
    evaluate(runs[:1], settings(root, "best", select="best"))
    files = [root / "best" / "metrics" / "pixels" / "seed2019.json"]
    for seed, path in zip(SEEDS, files):
        records = json.loads((root / "best" / "over" / "pixels" / f"seed{seed}.json").read_text())
        best = min(records, key=lambda r: r["fd"])
        source = json.loads(path.read_text())["fake_source"]
        assert source["selected"]["step"] == source["steps_trained"] == best["step"]
        assert source["generator"].endswith(f"step{best['step']}.pt")
        assert read_record(path)["selection"] == "lowest FD in pixels (24 images) of its snapshots"
    note = selection_note(read_records(files, "mnist"))
    assert note.startswith("Each run's numbers are those of its snapshot of lowest FD in pixels")
    assert selection_note(read_records([root / "cli" / "pixels" / "2019.json"], "mnist")) == ""
