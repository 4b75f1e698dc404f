"""``hmogbench evaluate``: one process per trained model gives the per-step chain's records, and a rerun after a
kill redoes only what is missing."""

import json
import shutil

import numpy as np
import pytest

from hmogbench.evaluation import job as evaluation
from hmogbench.cli import main
from hmogbench.data.verify import DataError
from hmogbench.evaluation.job import EvaluationSettings, evaluate
from hmogbench.metrics.kid import WHOLE_SET

SMOKE_MODELS = ("FC", "HME-5", "ME-32", "HME-L-2", "ME-L-4", "MADGAN-4", "MGAN-4", "MEGAN-4")  # config/smoke.yaml
SEEDS = (2019, 2020)
OUT = "{root}/evaluate/{{space}}/{{model}}/seed{{seed}}.json"


def train(root, model, steps=1):
    assert main(["train", "--data", "mnist-5k", "--set", f"model={model}", "--set", f"steps={steps}",
                 "--set", "batch_size=8", "--set", "device=cpu", "--seeds", *map(str, SEEDS),
                 "--out", str(root / "runs" / model), "--no-progress"]) == 0
    return [root / "runs" / model / f"seed{seed}" for seed in SEEDS]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """mnist-5k's prepared test split and its pixel features (the first 40 images)."""
    root = tmp_path_factory.mktemp("evaluate")
    assert main(["data", "prepare", "mnist-5k", "--out", str(root / "data"), "--no-progress"]) == 0
    test = root / "data" / "mnist-5k" / "test.npy"
    assert main(["features", str(test), "--features", "pixels", "--limit", "40", "--device", "cpu",
                 "--out", str(root / "features" / "pixels" / "real.npy"), "--no-progress"]) == 0
    return root, test


def comparable(record):
    """A record without what may differ between two processes: its own provenance, the `fake` path, and the
    samples' provenance (time, config of the command that drew them)."""
    record = {k: v for k, v in record.items() if k not in ("provenance", "fake")}
    record["fake_source"] = {k: v for k, v in record["fake_source"].items() if k != "provenance"}
    return record


def chain(root, test, run, space, extra=()):
    """The per-step commands: sample -> features -> score --precomputed; returns the metrics record."""
    stem = root / "chain" / space / run.parent.name / run.name
    assert main(["sample", str(run), "--count", "40", "--at-most-like", str(test), "--device", "cpu",
                 "--out", f"{stem}.samples.npy", "--no-progress"]) == 0
    assert main(["features", f"{stem}.samples.npy", "--features", space, *extra, "--device", "cpu",
                 "--out", f"{stem}.features.npy", "--no-progress"]) == 0
    assert main(["score", "--precomputed", str(root / "features" / space / "real.npy"), f"{stem}.features.npy",
                 "--device", "cpu", "--out", f"{stem}.json", "--no-progress"]) == 0
    return json.loads(stem.with_suffix(".json").read_text())


@pytest.mark.slow  # ~1 min: the smoke grid's eight models trained for one step, then both paths
def test_evaluate_equals_the_per_step_chain_on_the_smoke_grid(real):
    root, test = real
    runs = [run for model in SMOKE_MODELS for run in train(root, model)]
    out = OUT.format(root=root)
    assert main(["evaluate", *map(str, runs), "--spaces", "pixels", "--count", "40", "--at-most-like", str(test),
                 "--real-features", f"{root}/features/{{space}}/real.npy", "--out", out, "--device", "cpu",
                 "--fake-pixels", "uint8", "--no-progress"]) == 0  # the chain's samples are uint8 files
    for run in runs:
        ours = json.loads((root / "evaluate" / "pixels" / run.parent.name / f"{run.name}.json").read_text())
        theirs = chain(root, test, run, "pixels")
        assert comparable(ours) == comparable(theirs), run
        assert ours["fake_source"]["generator_sha256"] == theirs["fake_source"]["generator_sha256"]
        assert ours["n_fake"] == 40 and ours["fake_source"]["config"]["model"] == run.parent.name
        assert ours["provenance"]["config"]["command"] == "evaluate"


class Killed(BaseException):
    """What a kill looks like to the code it interrupts: not an Exception, nothing catches it."""


def test_a_rerun_after_a_kill_redoes_only_what_is_missing(real, monkeypatch):
    root, test = real
    runs = train(root, "FC", steps=2)
    settings = EvaluationSettings(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy",
                                  out=str(root / "kill" / "{space}" / "{model}" / "seed{seed}.json"), count=40,
                                  at_most_like=str(test))
    first, second = (root / "kill" / "pixels" / "FC" / f"seed{seed}.json" for seed in SEEDS)

    real_sample = evaluation.sample_images
    calls = []

    def killed_at_the_second_seed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise Killed("killed between two seeds")
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(evaluation, "sample_images", killed_at_the_second_seed)
    with pytest.raises(Killed):
        evaluate(runs, settings)
    assert first.exists() and not second.exists()  # the first seed's record was written before the kill
    assert not list((root / "kill").rglob("*.tmp"))  # nothing half-written
    kept_bytes, kept_time = first.read_bytes(), first.stat().st_mtime_ns

    calls.clear()
    written, kept = evaluate(runs, settings)
    assert written == [second] and kept == [first] and len(calls) == 1  # only the missing seed was sampled
    assert first.read_bytes() == kept_bytes and first.stat().st_mtime_ns == kept_time
    monkeypatch.setattr(evaluation, "sample_images", real_sample)
    fresh = EvaluationSettings(**{**settings.__dict__, "out": str(root / "fresh" / "{space}" / "seed{seed}.json")})
    evaluate(runs, fresh)
    for seed in SEEDS:
        a = json.loads((root / "kill" / "pixels" / "FC" / f"seed{seed}.json").read_text())
        b = json.loads((root / "fresh" / "pixels" / f"seed{seed}.json").read_text())
        assert comparable(a) == comparable(b)  # killed and rerun = uninterrupted

    # a record of another generator (here: a planted sha256) is not current: it is recomputed
    stale = json.loads(first.read_text())
    stale["fake_source"]["generator_sha256"] = "0" * 64
    first.write_text(json.dumps(stale))
    written, kept = evaluate(runs, settings)
    assert written == [first] and kept == [second]
    assert json.loads(first.read_text())["fake_source"]["generator_sha256"] != "0" * 64


def test_kept_samples_and_features_are_what_sample_and_features_write(real, capsys):
    root, test = real
    runs = train(root, "FC", steps=2)[:1]
    settings = EvaluationSettings(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy",
                                  out=str(root / "keep" / "{space}" / "seed{seed}.json"), count=40, fake_pixels="uint8",
                                  samples_out=str(root / "keep" / "samples" / "seed{seed}.npy"),
                                  features_out=str(root / "keep" / "{space}" / "seed{seed}.features.npy"))
    evaluate(runs, settings)
    kid = json.loads((root / "keep" / "pixels" / "seed2019.json").read_text())["kid"]  # 40 and 40 at 1000 asked
    assert (kid["subset_size_requested"], kid["subset_size"]) == (1000, 40) and kid["warning"].endswith(WHOLE_SET)
    assert f"[evaluate] FC seed 2019: KID warning: {kid['warning']}\n" in capsys.readouterr().out
    data = json.loads((runs[0] / "run.json").read_text())["data"]  # train_seeds (batched): what it trained on
    assert data["name"] == "mnist-5k" and data["path"] is None and data["sha256"] == json.loads(
        (test.parent / "manifest.json").read_text())["arrays"]["train.npy"]["sha256"]  # the embedded = the prepared
    assert main(["sample", str(runs[0]), "--count", "40", "--device", "cpu", "--out", str(root / "keep" / "s.npy"),
                 "--no-progress"]) == 0
    np.testing.assert_array_equal(np.load(root / "keep" / "samples" / "seed2019.npy"), np.load(root / "keep" / "s.npy"))
    meta = json.loads((root / "keep" / "samples" / "seed2019.json").read_text())
    assert meta["count"] == 40 and meta["z_seed"] == 2019 and meta["shape"] == [40, 32, 32, 1]
    features = np.load(root / "keep" / "pixels" / "seed2019.features.npy")
    assert features.shape == (40, 32 * 32) and features.dtype == np.float32


@pytest.mark.parametrize("change, message", [
    ({"out": "x/{space}.json"}, "--out 'x/{space}.json': expected the placeholders seed, space"),
    ({"out": "x/{space}/{run}.json"}, "got ['run', 'space']"),
    ({"real_features": "real.npy"}, "--real-features 'real.npy': expected the placeholders space"),
    ({"spaces": ("pixels", "pixels")}, "expected one or more distinct feature spaces"),
    ({"count": 0}, "--count must be at least 1"),
])
def test_bad_settings_get_one_line_errors(change, message):
    settings = {"spaces": ("pixels",), "real_features": "{space}.npy", "out": "{space}/{seed}.json", **change}
    with pytest.raises(ValueError) as error:
        evaluation.check_settings(EvaluationSettings(**settings))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_weights_option_needs_space_equals_file(capsys):
    assert main(["evaluate", "run", "--spaces", "pixels", "--real-features", "{space}.npy", "--out",
                 "{space}/{seed}.json", "--weights", "weights.pth"]) == 2
    assert "--weights 'weights.pth': expected SPACE=FILE" in capsys.readouterr().err


def test_float_samples_are_the_unrounded_output_and_named(real):
    """fake_pixels='float' (the authors' evaluation, the workflow's default): features of the generator's float
    output, within half a level of the rounded samples' in pixel space; the records say which it was."""
    root, test = real
    runs = train(root, "FC", steps=2)[:1]
    common = dict(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy", count=40)
    for pixels in ("float", "uint8"):
        evaluate(runs, EvaluationSettings(**common, fake_pixels=pixels,
                                          out=str(root / pixels / "{space}" / "seed{seed}.json"),
                                          features_out=str(root / pixels / "{space}" / "seed{seed}.npy")))
    as_float, as_uint8 = (np.load(root / p / "pixels" / "seed2019.npy") for p in ("float", "uint8"))
    assert 0 < np.abs(as_float - as_uint8).max() <= 0.5 / 255 + 1e-6
    assert not np.allclose(as_float * 255, np.round(as_float * 255))  # really unrounded
    records = {p: json.loads((root / p / "pixels" / "seed2019.json").read_text()) for p in ("float", "uint8")}
    assert {p: r["fake_source"]["pixels"] for p, r in records.items()} == {"float": "float", "uint8": "uint8"}
    assert records["float"]["provenance"]["config"]["fake_pixels"] == "float"
    assert records["float"]["fd"] != records["uint8"]["fd"]
    assert records["float"]["fd"] == pytest.approx(records["uint8"]["fd"], rel=1e-3)


def test_grid_of_the_first_64_evaluation_samples(real):
    root, test = real
    runs = train(root, "FC", steps=2)
    settings = EvaluationSettings(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy",
                                  out=str(root / "grid" / "{space}" / "seed{seed}.json"), count=80,
                                  grid_out=str(root / "grid" / "{model}-seed{seed}.png"))
    written, _ = evaluate(runs, settings)
    assert len(written) == 2
    from PIL import Image

    grids = [np.asarray(Image.open(root / "grid" / f"FC-seed{seed}.png").convert("L"), dtype=float) for seed in SEEDS]
    assert all(g.std() > 1 for g in grids) and not np.array_equal(*grids)  # pictures, one per seed
    # rerun: the records are current, but the grids are redrawn (the job writes them whatever)
    (root / "grid" / "FC-seed2019.png").unlink()
    written, kept = evaluate(runs, settings)
    assert written == [] and len(kept) == 2 and (root / "grid" / "FC-seed2019.png").exists()


def test_the_real_test_array_is_verified_and_sets_too_small_for_kid_are_refused(real, tmp_path):
    """--at-most-like (the real test set) is checked against its manifest before any run is loaded; real
    features of fewer images than KID's least subset are refused before any sampling."""
    root, test = real
    data = shutil.copytree(test.parent, tmp_path / "mnist-5k")
    with open(data / "test.npy", "r+b") as fh:  # one byte changed: the size is right, the sha256 is not
        fh.seek(200)
        byte = fh.read(1)
        fh.seek(200)
        fh.write(bytes([byte[0] ^ 1]))
    settings = EvaluationSettings(spaces=("pixels",), real_features=f"{root}/features/{{space}}/real.npy",
                                  out=str(tmp_path / "{space}" / "seed{seed}.json"), count=40,
                                  at_most_like=str(data / "test.npy"))
    with pytest.raises(DataError, match=rf"^{data / 'test.npy'}: sha256 [0-9a-f]{{12}}…, but .*manifest.json lists"):
        evaluation.Evaluation(settings)
    with pytest.raises(ValueError, match=r"KID: the sets hold 40 real and 9 fake points; expected at least 10"):
        evaluation.Evaluation(EvaluationSettings(**{**settings.__dict__, "at_most_like": None, "count": 9}))
