"""SIGTERM / SIGUSR1 (SLURM's time limit, scancel, its --signal warning) and Ctrl-C (SIGINT) stop training at the
next generator step with a checkpoint and a truthful run.json, and any other command at once (evaluation with its
finished records kept); the commands exit with 128 + the signal's number; a second Ctrl-C aborts at once. That a
run so stopped resumes to the uninterrupted result: tests/test_resume.py."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from hmogbench.cli import main
from hmogbench.training.config import TrainConfig
from hmogbench.training import CHECKPOINT, RUN_INFO, train_from_config


def _cfg(**kw):
    return TrainConfig(**{**dict(model="HME-L-2", steps=8, batch_size=8, checkpoint_every=100, log_every=1), **kw})


def _info(run_dir):
    return json.loads((run_dir / RUN_INFO).read_text())


def test_run_json_follows_the_checkpoints_and_records_a_crash(tiny_images, tmp_path):
    seen = []

    def crash_at_5(step):
        seen.append((step, _info(tmp_path)["steps_done"], _info(tmp_path)["last_checkpoint"]))
        if step == 5:
            raise OSError("disk gone")

    with pytest.raises(OSError):
        train_from_config(_cfg(checkpoint_every=2), tiny_images, tmp_path, progress=False, on_step=crash_at_5)
    # run.json is rewritten at every checkpoint (steps 2 and 4), not only at the start and the end
    assert seen == [(1, 0, None), (2, 2, 2), (3, 2, 2), (4, 4, 4), (5, 4, 4)]
    info = _info(tmp_path)
    assert info["status"] == "failed" and info["error"] == "OSError: disk gone"
    assert info["steps_done"] == 5 and info["last_checkpoint"] == 4  # what ran, and what a rerun resumes from
    resumed = train_from_config(_cfg(checkpoint_every=2), tiny_images, tmp_path, progress=False)
    assert resumed["resumed_from"] == 4 and _info(tmp_path)["status"] == "complete"


STOP_LINE = re.compile(r"^hmogbench train: stopped by (SIG\w+) at generator step (\d+) of (.+), checkpoint written; "
                       r"what was done is kept, a rerun goes on from there$")


@pytest.mark.parametrize("signum, seeds", [(signal.SIGTERM, ["2019", "2020"]), (signal.SIGINT, [])],
                         ids=["SIGTERM-batched-seeds", "SIGINT-one-run"])
def test_the_train_command_exits_with_128_plus_the_signal_and_says_so(tmp_path, signum, seeds):
    """A real SIGTERM (as SLURM sends it) to batched seeds, or Ctrl-C (SIGINT) to one run: the step finishes, a
    checkpoint at that step, run.json 'interrupted', one line on stderr, no traceback, exit 128 + the signal."""
    data = np.random.default_rng(0).integers(0, 256, (40, 32, 32), dtype=np.uint8)
    np.save(tmp_path / "data.npy", data)
    args = [sys.executable, "-m", "hmogbench", "train", "--data", str(tmp_path / "data.npy"), "--no-progress",
            "--set", "model=HME-2", "--set", "steps=100000", "--set", "batch_size=8", "--set", "checkpoint_every=5",
            "--set", "progress_every=1", *(["--seeds", *seeds] if seeds else []), "--out", str(tmp_path / "run")]
    proc = subprocess.Popen(args, env={**os.environ, "OMP_NUM_THREADS": "1"}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    run_dirs = [tmp_path / "run" / f"seed{seed}" for seed in seeds] or [tmp_path / "run"]
    deadline = time.time() + 120
    while time.time() < deadline and not (run_dirs[-1] / CHECKPOINT).exists():
        time.sleep(0.05)
    proc.send_signal(signum)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()  # (a no-op once it has exited)
    assert proc.returncode == 128 + signum, err
    (line,) = err.splitlines()  # one line, no traceback
    stopped = STOP_LINE.match(line)
    assert stopped and stopped[1] == signal.Signals(signum).name, line
    assert stopped[3] == (f"HME-2 seeds {','.join(seeds)}" if seeds else "HME-2 seed 2019"), line
    assert "[train]" in out and "stopped" not in out  # progress lines in the job's log; the stop said once
    for run_dir in run_dirs:
        info = _info(run_dir)
        step = torch.load(run_dir / CHECKPOINT, weights_only=False)["step"]
        assert info["status"] == "interrupted" and info["signal"] == signal.Signals(signum).name
        assert info["steps_done"] == info["last_checkpoint"] == step == int(stopped[2]) >= 5


class Stopped(Exception):
    pass


def test_a_signal_stops_evaluation_at_once_and_keeps_the_finished_records(tmp_path, monkeypatch):
    from hmogbench.evaluation import job as evaluation

    assert main(["data", "prepare", "mnist-5k", "--out", str(tmp_path / "data"), "--no-progress"]) == 0
    test = tmp_path / "data" / "mnist-5k" / "test.npy"
    assert main(["features", str(test), "--features", "pixels", "--limit", "20", "--device", "cpu",
                 "--out", str(tmp_path / "features" / "pixels" / "real.npy"), "--no-progress"]) == 0
    assert main(["train", "--data", "mnist-5k", "--set", "model=FC", "--set", "steps=1", "--set", "batch_size=8",
                 "--seeds", "2019", "2020", "--out", str(tmp_path / "runs"), "--no-progress"]) == 0
    real_sample, calls = evaluation.sample_images, []

    def sigterm_while_sampling_the_second_seed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            os.kill(os.getpid(), signal.SIGTERM)  # the handler raises here, in the middle of the job
            raise Stopped("the handler did not raise")
        return real_sample(*args, **kwargs)

    monkeypatch.setattr(evaluation, "sample_images", sigterm_while_sampling_the_second_seed)
    out = tmp_path / "metrics" / "{space}" / "seed{seed}.json"
    status = main(["evaluate", str(tmp_path / "runs" / "seed2019"), str(tmp_path / "runs" / "seed2020"),
                   "--spaces", "pixels", "--count", "20",
                   "--real-features", str(tmp_path / "features" / "{space}" / "real.npy"),
                   "--out", str(out), "--device", "cpu", "--no-progress"])
    assert status == 143
    records = tmp_path / "metrics" / "pixels"
    assert (records / "seed2019.json").exists() and not (records / "seed2020.json").exists()
    assert not list(tmp_path.rglob("*.tmp"))
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # restored after the command


def test_ctrl_c_stops_any_other_command_with_one_line(monkeypatch, capsys):
    from hmogbench.models import params

    def ctrl_c_while_counting():
        os.kill(os.getpid(), signal.SIGINT)  # the handler raises here
        raise Stopped("the handler did not raise")

    monkeypatch.setattr(params, "parameter_rows", ctrl_c_while_counting)
    before = signal.getsignal(signal.SIGINT)
    assert main(["params"]) == 130
    captured = capsys.readouterr()
    assert captured.err == "hmogbench params: stopped by SIGINT; what was done is kept, a rerun goes on from there\n"
    assert captured.out == "" and signal.getsignal(signal.SIGINT) is before  # restored after the command


def test_a_second_ctrl_c_aborts_the_step_at_once(tmp_path, monkeypatch, capsys):
    """The first Ctrl-C asks for a stop after the step; a second one (the step or checkpoint takes too long) aborts
    at once with one line: run.json says interrupted, the last checkpoint stays."""
    from hmogbench.training import loop

    def twice_at_step_2(self, step, losses):
        if step == 2:
            os.kill(os.getpid(), signal.SIGINT)  # recorded: the loop would stop before step 3
            os.kill(os.getpid(), signal.SIGINT)  # raises KeyboardInterrupt here

    monkeypatch.setattr(loop.TrainProgress, "update", twice_at_step_2)
    np.save(tmp_path / "data.npy", np.random.default_rng(0).integers(0, 256, (24, 32, 32), dtype=np.uint8))
    assert main(["train", "--data", str(tmp_path / "data.npy"), "--out", str(tmp_path / "run"), "--no-progress",
                 "--set", "model=HME-L-2", "--set", "steps=4", "--set", "d_steps=1", "--set", "batch_size=8",
                 "--set", "checkpoint_every=1"]) == 130
    assert capsys.readouterr().err == ("hmogbench train: aborted by a second Ctrl-C; the last checkpoint and the "
                                       "finished outputs are kept, a rerun goes on from there\n")
    info = _info(tmp_path / "run")
    assert info["status"] == "interrupted" and info["error"] == "Ctrl-C (SIGINT)"
    assert info["steps_done"] == info["last_checkpoint"] == 2  # the checkpoint of step 2 came before the update
