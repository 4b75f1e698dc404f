"""What a person at the command line sees: typed config values, missing inputs first, what training starts
and how far it is, ``--version``, and where ``tables`` looked."""

import re

import numpy as np
import pytest

from hmogbench import __version__
from hmogbench.cli import main
from hmogbench.training.config import ConfigError, TrainConfig, parse_override
from hmogbench.training import train_from_config

# --- 1. config values are coerced by the field's type (YAML 1.1 reads 1e-4 as a string) ---------------------


def test_exponent_notation_is_a_number_from_set_and_from_files(tmp_path):
    cfg = TrainConfig.from_dict(dict(map(parse_override, ["lr=1e-4", "lr_d=3E-4", "gp_lambda=3e5", "mgan_beta=2",
                                                          "steps=2e3"])), "--set")
    assert (cfg.lr, cfg.lr_d, cfg.gp_lambda, cfg.mgan_beta, cfg.steps) == (1e-4, 3e-4, 3e5, 2.0, 2000)
    assert all(type(v) is float for v in (cfg.lr, cfg.lr_d, cfg.gp_lambda, cfg.mgan_beta)) and type(cfg.steps) is int
    path = tmp_path / "run.yaml"
    path.write_text("lr: 1e-4\nbetas: [0, 9e-1]\nsteps: null\ncheckpoint_every: 1.0e+2\n")
    cfg = TrainConfig.from_file(path)
    assert cfg.lr == 1e-4 and cfg.betas == (0.0, 0.9) and cfg.steps is None and cfg.checkpoint_every == 100


@pytest.mark.parametrize("key, value, expected", [
    ("lr", "abc", "a number"), ("lr", None, "a number"), ("steps", 2.5, "an integer"), ("steps", True, "an integer"),
    ("batch_size", "1e-1", "an integer"), ("amsgrad", 1, "true or false"), ("model", 5, "a string"),
    ("betas", 0.5, "two numbers"), ("lr_d", "fast", "a number or null"),
])
def test_a_value_of_the_wrong_type_is_a_one_line_error_naming_key_value_and_type(key, value, expected):
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict({key: value}, "--set")
    message = str(info.value)
    assert "\n" not in message and message.startswith("--set: ")
    assert f"{key!r}" in message and repr(value) in message and expected in message


def test_train_command_accepts_lr_1e_4_and_says_what_starts(tmp_path, capsys):
    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, (24, 32, 32), dtype=np.uint8))
    args = ["train", "--data", str(tmp_path / "data.npy"), "--out", str(tmp_path / "run"), "--no-progress",
            "--set", "model=HME-2", "--set", "steps=2", "--set", "d_steps=1", "--set", "batch_size=8",
            "--set", "lr=1e-4", "--set", "lr_d=3E-4"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "HME-2 seed 2019: 2 generator steps (shorter than the authors' 23,250)" in out
    assert "batch 8, device cpu" in out and "complete after 2 generator steps" in out
    assert main(args + ["--set", "lr=abc"]) == 2
    err = capsys.readouterr().err
    assert err == "hmogbench train: error: --set: config key 'lr' = 'abc': expected a number (e.g. 1e-4)\n"


# --- 2. a missing input is reported before any network or weights are looked up ------------------------------


@pytest.fixture
def no_weights(monkeypatch, tmp_path):
    """Weights point nowhere, and looking a network up at all fails the test."""
    import importlib

    monkeypatch.setenv("HMOGBENCH_FID_WEIGHTS", str(tmp_path / "nowhere.pth"))

    def looked_up(*args, **kwargs):
        raise AssertionError("a network was loaded before the inputs were checked")

    for module in ("hmogbench.metrics.spaces", "hmogbench.metrics.score"):  # the package re-exports score()
        monkeypatch.setattr(importlib.import_module(module), "load_space", looked_up)


@pytest.mark.parametrize("argv, missing, what, argument", [
    (["score", "{missing}", "{present}"], "nonexistent", "image set", "REAL"),
    (["score", "{present}", "{missing}"], "nonexistent.npy", "image set", "FAKE"),
    (["score", "--precomputed", "{missing}", "{present}"], "real.npy", "feature file", "REAL"),
    (["score", "--precomputed", "{present}", "{missing}"], "fake.npy", "feature file", "FAKE"),
    (["features", "{missing}", "--out", "{out}"], "images", "image set", "IMAGES"),
])
def test_a_missing_input_is_named_before_any_weights(argv, missing, what, argument, tmp_path, capsys, no_weights):
    np.save(tmp_path / "present.npy", np.zeros((4, 8, 8), dtype=np.uint8))
    paths = {"missing": str(tmp_path / missing), "present": str(tmp_path / "present.npy"),
             "out": str(tmp_path / "out.npy")}
    assert main([a.format(**paths) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"hmogbench {argv[0]}: error: {what} {tmp_path / missing} does not exist "
                          f"({argument}: expected ")
    assert err.count("\n") == 1 and "nowhere" not in err and "weights" not in err


# --- 3. training says what starts, estimates its length, and logs progress without a bar ---------------------

LOG_LINE = re.compile(r"^\[train\] (.+?): step ([\d,]+)/([\d,]+) \(\d+%\), ([\d.e+-]+) steps/s, ETA (.+?), "
                      r"d (-?[\d.e+-]+|nan) g (-?[\d.e+-]+|nan)$")


def _tiny_cfg(**kw):
    return TrainConfig(**{**dict(model="HME-L-2", steps=6, batch_size=8, d_steps=1, checkpoint_every=3), **kw})


def test_without_a_bar_training_logs_step_rate_eta_and_losses(tiny_images, tmp_path, capsys):
    train_from_config(_tiny_cfg(progress_every=2), tiny_images, tmp_path / "run", progress=False)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("[train] HME-L-2 seed 2019: 6 generator steps (shorter than the authors' 23,250), "
                        "batch 8, device cpu")
    logged = [LOG_LINE.match(line) for line in lines[1:]]
    assert all(logged), lines
    assert [(int(m[2]), int(m[3])) for m in logged] == [(2, 6), (4, 6), (6, 6)]
    assert all(float(m[4]) > 0 for m in logged) and logged[-1][5] == "0 s"


def test_a_resumed_run_says_where_it_starts_and_no_lines_with_a_bar(tiny_images, tmp_path, capsys):
    train_from_config(_tiny_cfg(steps=3), tiny_images, tmp_path / "run-folder", progress=False)
    capsys.readouterr()
    train_from_config(_tiny_cfg(steps=5, progress_every=100), tiny_images, tmp_path / "run-folder", progress=True)
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["[train] HME-L-2 seed 2019: generator steps 3 -> 5 of 5 (shorter than the "
                                         "authors' 23,250), batch 8, device cpu"]
    bar = captured.err.strip().split("\r")[-1]  # the bar is labelled as the lines are, not with the folder
    assert bar.startswith("HME-L-2 seed 2019: 100%") and "run-folder" not in captured.err, bar


def test_the_authors_full_length_is_named_as_such(capsys):
    from hmogbench.training.progress import TrainProgress

    hme5, mgan = TrainConfig(model="HME-5").to_dict(), TrainConfig(model="MGAN-4", steps=100).to_dict()
    TrainProgress("hme5", total=23_250, initial=0, bar=False).start(hme5, [2019], 23_250, 128, "cpu")
    TrainProgress("mgan", total=100, initial=0, bar=False).start(mgan, [1, 2], 100, 64, "cuda")
    first, second = capsys.readouterr().out.splitlines()
    assert first == ("[train] HME-5 seed 2019: 23,250 generator steps (the authors' full length; "
                     "--set steps=N for a shorter run), batch 128, device cpu")
    assert second == ("[train] MGAN-4 seeds 1,2: 100 generator steps (shorter than the authors' 23,400), "
                      "batch 64, device cuda")


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_one_estimate_line_after_ten_steps_and_lines_every_60_s(capsys):
    from hmogbench.training.progress import TrainProgress

    clock = Clock()
    report = TrainProgress("r", total=100, initial=0, bar=False, every=1000, clock=clock)
    for step in range(1, 13):
        clock.now += 7.0 if step == 1 else 2.0  # a slow first step (warm-up), then 2 s per step
        report.update(step, lambda: ([-1.5], [0.25]))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == ("[train] r: 2 s/step (steps 2-11); 100 steps take about 3 min 20 s in all, "
                        "2 min 58 s from now")
    assert len(lines) == 1  # 27 s since the start: no progress line yet
    clock.now += 40.0  # step 13 comes 40 s later: 69 s since the start (> 60 s)
    report.update(13, lambda: ([-1.5], [0.25]))
    (line,) = capsys.readouterr().out.splitlines()
    match = LOG_LINE.match(line)
    assert match and match[2] == "13" and match[6] == "-1.5" and match[7] == "0.25", line


def test_a_real_run_prints_its_estimate(tiny_images, tmp_path, capsys):
    train_from_config(_tiny_cfg(steps=12, progress_every=100), tiny_images, tmp_path / "r", progress=False)
    out = capsys.readouterr().out
    assert re.search(r"^\[train\] HME-L-2 seed 2019: [\d.e+-]+ s/step \(steps 2-11\); 12 steps take about .+ in all, .+ from now$",
                     out, re.M), out
    assert [int(LOG_LINE.match(line)[2]) for line in out.splitlines() if LOG_LINE.match(line)] == [12]  # the end


# --- 4. --version -----------------------------------------------------------------------------------------------


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out == f"hmogbench {__version__}\n"


# --- 5. tables without metrics files say where they looked -------------------------------------------------------


def test_tables_without_metrics_say_where_they_looked(tmp_path, capsys):
    metrics = tmp_path / "metrics"
    metrics.mkdir()
    assert main(["tables", "mnist", "--metrics-dir", str(metrics), "--out-dir", str(tmp_path / "t")]) == 2
    err = capsys.readouterr().err
    expected = f"hmogbench tables: error: no metrics files for mnist: none match {metrics}/*/mnist/*/seed*.json"
    assert err.startswith(expected)
    assert re.search(r"`hmogbench (score|evaluate)", err) and err.count("\n") == 1
    assert not (tmp_path / "t").exists()
    assert main(["tables", "mnist", "--metrics-dir", str(tmp_path / "absent")]) == 2
    assert f"{tmp_path / 'absent'} does not exist" in capsys.readouterr().err


# --- 6. training's doors, checked before any data or model is loaded (hmogbench/training/preflight.py) -----------


class DataLoaded(Exception):
    pass


@pytest.fixture
def no_data(monkeypatch):
    """Loading training data raises ``DataLoaded``: a door that answers first never gets there. The CPU counts as 2
    threads, as the machines the time limit is made for (the estimate scales with the threads)."""
    import torch

    from hmogbench.data import images

    def loaded(*args, **kwargs):
        raise DataLoaded

    for name in ("training_data", "load_training_images"):
        if hasattr(images, name):
            monkeypatch.setattr(images, name, loaded)
    monkeypatch.setattr(torch, "get_num_threads", lambda: 2)


def _train(tmp_path, *sets, out=None, extra=()):
    return main(["train", "--out", str(out or tmp_path / "run"), "--no-progress", *extra,
                 *[w for s in sets for w in ("--set", s)]])


@pytest.mark.parametrize("where, message", [
    ("file", "--out {out} is a file; expected a run directory (new or existing)"),
    ("under", "--out {out} lies under the file {file}; expected a run directory (new or existing)"),
])
def test_out_pointing_at_a_file_is_one_line_before_any_data(where, message, tmp_path, capsys, no_data):
    (tmp_path / "a-file").write_text("not a folder")
    out = tmp_path / "a-file" if where == "file" else tmp_path / "a-file" / "run"
    assert _train(tmp_path, "model=HME-3", "steps=8", out=out) == 2
    err = capsys.readouterr().err
    assert err == f"hmogbench train: error: {message.format(out=out, file=tmp_path / 'a-file')}\n"


def test_a_model_too_large_for_memory_is_refused_from_its_spec(tmp_path, capsys, no_data):
    """HME-30: 2^30 constant leaves of 8,192 values, 4.5e12 parameters; refused before any allocation."""
    import torch

    from hmogbench.training.preflight import device_memory

    assert _train(tmp_path, "model=HME-30", "steps=8") == 2
    limit = device_memory(torch.device("cpu"))[0] / 2**30
    assert capsys.readouterr().err == (
        "hmogbench train: error: config key 'model' = 'HME-30': training needs at least 83,940.0 GiB "
        "(4,506,495,810,077 parameters of G and D in fp32, their gradients and Adam's states), more than the "
        f"{limit:,.1f} GiB physical memory of cpu; expected a model that fits (a smaller size)\n")


def test_no_steps_on_a_cpu_asks_for_steps_or_full_length(tmp_path, capsys, no_data):
    assert _train(tmp_path, "model=HME-3") == 2
    err = capsys.readouterr().err
    assert re.fullmatch(r"hmogbench train: error: config key 'steps' not given: HME-3 would train the authors' full "
                        r"length, 23,250 generator steps, at least (\d+ h \d+ min) on this CPU \(2 CPU threads at 150 "
                        r"GFLOP/s\); expected --set steps=N for a shorter run, or --full-length to train it all\n",
                        err), err
    with pytest.raises(DataLoaded):  # asked for: on to the data
        _train(tmp_path, "model=HME-3", extra=["--full-length"])
    with pytest.raises(DataLoaded):  # a short run needs no flag
        _train(tmp_path, "model=HME-3", "steps=8")


def test_a_model_without_a_thesis_row_gets_a_notice_with_its_time(tmp_path, capsys, no_data):
    with pytest.raises(DataLoaded):
        _train(tmp_path, "model=HME-9", "steps=100")
    (line,) = capsys.readouterr().out.splitlines()
    assert re.fullmatch(r"\[train\] note: HME-9 is in none of the thesis's Tables 5.3-5.12 \(no published number to "
                        r"compare with\); 100 generator steps, at least .+ on cpu", line), line
    with pytest.raises(DataLoaded):
        _train(tmp_path, "model=HME-5", "steps=100")  # a thesis model: no notice
    assert capsys.readouterr().out == ""


def test_the_cpu_rate_of_the_estimate_is_above_every_measured_one():
    """The time estimate divides by CPU_FLOPS_PER_THREAD x threads: a lower bound only if no measured CPU step was
    faster per thread (results/bench/train_cpu*.json)."""
    import json
    from pathlib import Path

    from hmogbench.training.preflight import CPU_FLOPS_PER_THREAD

    records = sorted((Path(__file__).resolve().parents[1] / "results" / "bench").glob("train_cpu*.json"))
    rates = [variant["achieved_flops_per_s"] / record["device"]["torch_threads"]
             for record in map(json.loads, (r.read_text() for r in records)) for result in record["results"]
             for variant in result["variants"].values() if "achieved_flops_per_s" in variant]
    assert records and rates and max(rates) <= CPU_FLOPS_PER_THREAD


# --- 7. the FID weights and the workflow's config: one line saying what to set ---------------------------------


def test_score_without_weights_says_exactly_what_to_set(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("HMOGBENCH_FID_WEIGHTS", raising=False)
    for name in ("a", "b"):
        np.save(tmp_path / f"{name}.npy", np.zeros((4, 8, 8), dtype=np.uint8))
    assert main(["score", "a.npy", "b.npy", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hmogbench score: error: no fid-inception weights found (looked at: ") and err.count("\n") == 1
    assert ("; set HMOGBENCH_FID_WEIGHTS=<path to the fid-inception weights file, pt_inception-2015-12-05-6726825d.pth>"
            ", or score in a space without weights (--features pixels). ") in err


@pytest.mark.parametrize("override, line", [
    ({"datasets": ["mnistt"]}, "config key 'datasets' = 'mnistt': expected one of mnist, fashion-mnist, celeba, "
                               "utzap50k, flowers, mnist-5k"),
    ({"seeds": ["2019", "x"]}, "config key 'seeds' = 'x': expected integer"),
    ({"fd": 1.5, "provenance": {}}, "unknown config key(s): 'fd', 'provenance'; if a target came after --configfile "
                                    "or --config, Snakemake read it as config: put targets before "
                                    "--configfile/--config (README)"),
])
def test_a_bad_workflow_config_is_one_line(override, line):
    """What workflow/rules/common.smk prints (then exits 1) instead of jsonschema's dump of the schema."""
    import yaml

    from hmogbench.workflow.config_schema import SCHEMA_PATH, coerce, config_error

    schema = yaml.safe_load(SCHEMA_PATH.read_text())
    config = {**yaml.safe_load((SCHEMA_PATH.parents[2] / "config" / "config.yaml").read_text()), **override}
    assert config_error(coerce(dict(config), schema), schema) == line
    assert config_error(coerce(yaml.safe_load((SCHEMA_PATH.parents[2] / "config" / "smoke.yaml").read_text()),
                               schema), schema) is None
