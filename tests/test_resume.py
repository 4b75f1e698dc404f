"""Resume equals an uninterrupted run, whichever way a run is stopped: one reference per model, built once, and
every entry point that stops training (an exception, SIGTERM and SIGUSR1 as SLURM sends them, Ctrl-C, a real
SIGKILL of ``hmogbench train``, a batched group of seeds, a checkpoint written before a config switch existed).
Bit for bit: final G, checkpoint (D, optimisers, data order, RNG) and losses.csv. The workflow's rerun and the
SLURM resubmissions resume through these same functions (tests/test_workflow.py, tests/test_slurm.py check that
they do resume, from the step recorded)."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

from conftest import built_once
from hmogbench.runtime import stop_signals
from hmogbench.training.config import TrainConfig
from hmogbench.training import CHECKPOINT, GENERATOR, RUN_INFO, seed_dir, train_from_config, train_seeds
from training_states import assert_same_training, load, tiny_images

SEEDS = (2019, 2020)
STEPS, EVERY, STOP_AT = 12, 3, 5  # stopped at generator step 5, after the step-3 checkpoint, before the step-6 one


def _cfg(model: str, **kw) -> TrainConfig:
    return TrainConfig(model=model, steps=STEPS, batch_size=8, checkpoint_every=EVERY, log_every=1, **kw)


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """model -> {seed: folder of the uninterrupted run of ``_cfg(model)`` with that seed}, each trained once."""
    def runs(model):
        with built_once(tmp_path_factory, f"resume-reference-{model}") as (folder, todo):
            for seed in SEEDS:
                if todo:
                    train_from_config(_cfg(model, seed=seed), tiny_images(), folder / f"seed{seed}", progress=False)
        return {seed: folder / f"seed{seed}" for seed in SEEDS}
    return runs


class Stop(Exception):
    pass


def _at(step_wanted, action):
    def on_step(step):
        if step == step_wanted:
            action()
    return on_step


def _raise(error):
    def action():
        raise error
    return action


def _stopped_by_exception(cfg, run):
    with pytest.raises(Stop):
        train_from_config(cfg, tiny_images(), run, progress=False, on_step=_at(STOP_AT, _raise(Stop())))
    return EVERY  # the last periodic checkpoint


def _stopped_by_ctrl_c(cfg, run):
    with pytest.raises(KeyboardInterrupt):
        train_from_config(cfg, tiny_images(), run, progress=False, on_step=_at(STOP_AT, _raise(KeyboardInterrupt)))
    info = json.loads((run / RUN_INFO).read_text())
    assert info["status"] == "interrupted" and info["error"] == "Ctrl-C (SIGINT)"
    assert info["steps_done"] == STOP_AT and info["last_checkpoint"] == EVERY
    return EVERY


def _stopped_by(signum):
    def stop(cfg, run):
        with stop_signals.stop_on_signals(), pytest.raises(stop_signals.Interrupted) as stopped:
            train_from_config(cfg, tiny_images(), run, progress=False,
                              on_step=_at(STOP_AT, lambda: os.kill(os.getpid(), signum)))
        assert stopped.value.exit_status == 128 + signum
        assert stop_signals.requested() is None  # the handlers are gone with the block
        info = json.loads((run / RUN_INFO).read_text())
        assert info["status"] == "interrupted" and info["signal"] == signal.Signals(signum).name
        # the checkpoint on disk was written because of the signal, at the step it came in
        assert info["steps_done"] == info["last_checkpoint"] == STOP_AT and not (run / GENERATOR).exists()
        return STOP_AT
    return stop


def _stopped_with_an_older_checkpoint(cfg, run):
    """A checkpoint written before the samples switch existed, resumed with samples off."""
    _stopped_by_exception(cfg, run)
    ckpt = load(run / CHECKPOINT)
    del ckpt["config"]["samples_every_checkpoint"]
    torch.save(ckpt, run / CHECKPOINT)
    return EVERY


STOPS = {"exception": _stopped_by_exception, "ctrl-c": _stopped_by_ctrl_c, "sigterm": _stopped_by(signal.SIGTERM),
         "sigusr1": _stopped_by(signal.SIGUSR1), "older-checkpoint": _stopped_with_an_older_checkpoint}


@pytest.mark.parametrize("model, how", [("HME-L-2", how) for how in STOPS] + [("MEGAN-2", "exception")])
def test_a_stopped_run_resumes_to_the_uninterrupted_result(model, how, reference, tmp_path):
    """MEGAN: BatchNorm statistics, Gumbel noise and the auxiliary optimiser survive the checkpoint too."""
    cfg, run = _cfg(model), tmp_path / "run"
    resumes_from = STOPS[how](cfg, run)
    assert load(run / CHECKPOINT)["step"] == resumes_from
    assert not list(run.glob("*.tmp"))
    again = dataclasses.replace(cfg, samples_every_checkpoint=False) if how == "older-checkpoint" else cfg
    info = train_from_config(again, tiny_images(), run, progress=False)
    assert (info["status"], info["resumed_from"], info["steps_done"]) == ("complete", resumes_from, STEPS)
    assert_same_training(reference(model)[2019], run)


def test_a_stopped_batched_group_resumes_to_each_seed_alone(reference, tmp_path):
    """Two seeds as one batched model (loop mode: bit for bit equal to each seed alone, test_batched.py), stopped
    and resumed together."""
    cfg = _cfg("HME-L-2")
    with pytest.raises(Stop):
        train_seeds(cfg, list(SEEDS), tiny_images(), tmp_path, progress=False, batch_mode="loop",
                    on_step=_at(STOP_AT, _raise(Stop())))
    assert [load(seed_dir(tmp_path, s) / CHECKPOINT)["step"] for s in SEEDS] == [EVERY, EVERY]
    infos = train_seeds(cfg, list(SEEDS), tiny_images(), tmp_path, progress=False, batch_mode="loop")
    assert [(i["resumed_from"], i["steps_done"], i["batch"]["batched"]) for i in infos] == [(EVERY, STEPS, True)] * 2
    for seed in SEEDS:
        assert_same_training(reference("HME-L-2")[seed], seed_dir(tmp_path, seed))


@pytest.mark.system
def test_a_sigkilled_train_command_resumes_to_the_uninterrupted_result(reference, tmp_path):
    """A real SIGKILL of `hmogbench train` (no handler runs), then the same command again."""
    np.save(tmp_path / "data.npy", tiny_images()[:, 0].numpy())
    args = [sys.executable, "-m", "hmogbench", "train", "--data", str(tmp_path / "data.npy"), "--no-progress",
            "--out", str(tmp_path / "run"), *[w for k, v in (("model", "HME-L-2"), ("steps", STEPS), ("batch_size", 8),
                                                            ("checkpoint_every", EVERY), ("log_every", 1))
                                             for w in ("--set", f"{k}={v}")]]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt, deadline = tmp_path / "run" / CHECKPOINT, time.time() + 120
    try:
        while time.time() < deadline and not (ckpt.exists() and load(ckpt)["step"] >= EVERY):
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    killed_at = load(ckpt)["step"]
    assert EVERY <= killed_at < STEPS, "the run must be killed part-way"
    subprocess.run(args, check=True, env=env, capture_output=True)
    assert json.loads((tmp_path / "run" / RUN_INFO).read_text())["resumed_from"] == killed_at
    assert_same_training(reference("HME-L-2")[2019], tmp_path / "run")
