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

LOG_LINE = re.compile(r"^\[train\] (\S+): step ([\d,]+)/([\d,]+) \(\d+%\), ([\d.e+-]+) steps/s, ETA (.+?), "
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
    train_from_config(_tiny_cfg(steps=3), tiny_images, tmp_path, progress=False)
    capsys.readouterr()
    train_from_config(_tiny_cfg(steps=5, progress_every=100), tiny_images, tmp_path, progress=True)
    out = capsys.readouterr().out.splitlines()
    assert out == [f"[train] HME-L-2 seed 2019: generator steps 3 -> 5 of 5 (shorter than the "
                   "authors' 23,250), batch 8, device cpu"]


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
    assert re.search(r"^\[train\] r: [\d.e+-]+ s/step \(steps 2-11\); 12 steps take about .+ in all, .+ from now$",
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
    assert "hmogbench score --precomputed" in err and err.count("\n") == 1
    assert not (tmp_path / "t").exists()
    assert main(["tables", "mnist", "--metrics-dir", str(tmp_path / "absent")]) == 2
    assert f"{tmp_path / 'absent'} does not exist" in capsys.readouterr().err
