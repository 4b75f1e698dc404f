"""The training loop: determinism, checkpoint/resume equality, clean failure on NaN."""

import csv
import json
import sys

import numpy as np
import pytest
import torch

from hmogbench.training.config import ConfigError, TrainConfig
from hmogbench.training.objectives import WGANGP
from hmogbench.training import (CHECKPOINT, GENERATOR, LOSSES, RUN_INFO, LoopSettings, NonFiniteLossError,
                                ResumeError, build_models, train_from_config, train_gan, train_seeds)


def _cfg(**kw):
    base = dict(model="HME-L-2", steps=6, batch_size=8, checkpoint_every=2, log_every=1)
    return TrainConfig(**{**base, **kw})


def _state(run_dir):
    return torch.load(run_dir / CHECKPOINT, weights_only=False)


def _assert_same_state(a, b):
    for part in ("generator", "discriminator"):
        assert a[part].keys() == b[part].keys()
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key} differs"


def test_same_seed_same_numbers_different_seed_different(tiny_images, tmp_path):
    train_from_config(_cfg(), tiny_images, tmp_path / "a", progress=False)
    train_from_config(_cfg(), tiny_images, tmp_path / "b", progress=False)
    train_from_config(_cfg(seed=2020), tiny_images, tmp_path / "c", progress=False)
    _assert_same_state(_state(tmp_path / "a"), _state(tmp_path / "b"))
    assert (tmp_path / "a" / LOSSES).read_text() == (tmp_path / "b" / LOSSES).read_text()
    assert (tmp_path / "a" / LOSSES).read_text() != (tmp_path / "c" / LOSSES).read_text()


def test_outputs_and_provenance(tiny_images, tmp_path):
    (tmp_path / LOSSES).write_text("step,d_loss\n99,1.0\n")  # left over from a run without checkpoint
    train_from_config(_cfg(), tiny_images, tmp_path, progress=False)
    info = json.loads((tmp_path / RUN_INFO).read_text())
    assert info["status"] == "complete" and info["config"]["model"] == "HME-L-2" and info["config"]["seed"] == 2019
    assert {"torch", "python", "hmogbench"} <= set(info["versions"]) and "git_commit" in info
    rows = list(csv.DictReader((tmp_path / LOSSES).open()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert {"d_loss", "d_wdist", "d_gp", "g_loss"} <= set(rows[0])
    assert torch.load(tmp_path / GENERATOR, weights_only=False)["step"] == 6
    assert not list(tmp_path.glob("*.tmp"))


class NaNAtStep3(WGANGP):
    calls = 0

    def g_loss(self, G, D, z):
        self.calls += 1
        out = super().g_loss(G, D, z)
        if self.calls == 3:
            out["loss"] = out["loss"] * float("nan")
        return out


def test_nan_loss_stops_with_the_step_and_no_bad_checkpoint(tiny_images, tmp_path):
    cfg = _cfg(steps=10, checkpoint_every=2)
    G, D, _ = build_models(cfg)
    settings = LoopSettings(steps=10, batch_size=8, seed=0, checkpoint_every=2)
    with pytest.raises(NonFiniteLossError, match="generator loss is nan at generator step 3"):
        train_gan(G, D, NaNAtStep3(d_steps=1), tiny_images, tmp_path, settings, cfg.to_dict(), progress=False)
    state = _state(tmp_path)
    assert state["step"] == 2
    assert all(torch.isfinite(v).all() for v in state["generator"].values())
    info = json.loads((tmp_path / RUN_INFO).read_text())
    assert info["status"] == "failed" and "step 3" in info["error"]


class NaNFromStep(WGANGP):
    """The generator's or the critic's loss (``phase``) turns NaN at generator step ``at`` (d_steps=1: one call
    of each loss per generator step)."""

    def __init__(self, phase, at):
        super().__init__(d_steps=1)
        self.phase, self.at, self.calls = phase, at, {"d": 0, "g": 0}

    def _planted(self, phase, out):
        self.calls[phase] += 1
        if phase == self.phase and self.calls[phase] == self.at:
            out["loss"] = out["loss"] * float("nan")
        return out

    def d_loss(self, G, D, real, z, **noise):
        return self._planted("d", super().d_loss(G, D, real, z, **noise))

    def g_loss(self, G, D, z):
        return self._planted("g", super().g_loss(G, D, z))


@pytest.mark.parametrize("phase, log_every", [("generator", 3), ("discriminator", 3), ("generator", 100)])
def test_a_nan_between_checks_is_named_and_never_checkpointed(phase, log_every, tiny_images, tmp_path):
    """The finiteness check runs on the device-side record at log steps (3, 6, ...) and before checkpoints (4,
    8, ...), not every step: a NaN at step 5 is caught at step 6 (or 8), named as step 5, and the last checkpoint
    and every logged row stay finite."""
    cfg = _cfg(steps=12, checkpoint_every=4, log_every=log_every)
    G, D, _ = build_models(cfg)
    settings = LoopSettings(steps=12, batch_size=8, seed=0, checkpoint_every=4, log_every=log_every)
    with pytest.raises(NonFiniteLossError, match=f"^{phase} loss is nan at generator step 5; stopping before"):
        train_gan(G, D, NaNFromStep(phase[0], 5), tiny_images, tmp_path, settings, cfg.to_dict(), progress=False)
    state = _state(tmp_path)
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for part in ("generator", "discriminator") for v in state[part].values())
    rows = list(csv.DictReader((tmp_path / LOSSES).open()))
    assert [int(r["step"]) for r in rows] == ([3] if log_every == 3 else [])
    assert all(np.isfinite(float(v)) for r in rows for v in r.values())
    info = json.loads((tmp_path / RUN_INFO).read_text())
    assert info["status"] == "failed" and "step 5" in info["error"] and info["last_checkpoint"] == 4


class HostReads:
    """While ``on``, a tensor's value read into Python (``item``, ``tolist``, ``float``, ``int``, ``bool``) from
    hmogbench's own code raises: on a GPU each such read waits for the device. (torch's own reads, such as
    Adam's CPU step counter, are not the loop's.)"""

    METHODS = ("item", "tolist", "__float__", "__int__", "__bool__", "__index__")

    def __init__(self, monkeypatch):
        self.on = False
        for name in self.METHODS:
            original = getattr(torch.Tensor, name)
            monkeypatch.setattr(torch.Tensor, name, self._guarded(name, original))

    def _guarded(self, name, original):
        def read(tensor, *args):
            caller = sys._getframe(1).f_globals.get("__name__", "")
            if self.on and caller.startswith("hmogbench"):
                raise AssertionError(f"{caller} read a tensor with {name}() inside the step loop")
            return original(tensor, *args)
        return read

    def between(self, first, last):
        """An ``on_step`` that turns the guard on after step ``first`` and off after step ``last``."""
        def on_step(step):
            self.on = first <= step < last
        return on_step


@pytest.mark.parametrize("model, seeds", [("HME-L-2", 1), ("MEGAN-2", 1), ("ME-4", 2)])
def test_no_tensor_is_read_by_the_loop_between_log_steps(model, seeds, tiny_images, tmp_path, monkeypatch):
    """Steps 2-5 of 6 (log_every and checkpoint_every 100: no log step, no checkpoint among them) read no tensor
    value: losses, the finiteness record and the progress line stay on the device. Two seeds: a vmapped group."""
    reads = HostReads(monkeypatch)
    cfg = _cfg(model=model, steps=6, checkpoint_every=100, log_every=100)
    infos = train_seeds(cfg, [2019, 2020][:seeds], tiny_images, tmp_path, progress=False, batch_mode="vmap",
                        on_step=reads.between(1, 5))
    assert [i["status"] for i in infos] == ["complete"] * seeds
    assert infos[0]["batch"]["batched"] == (seeds > 1)
    assert not reads.on


def test_resume_with_another_config_is_refused(tiny_images, tmp_path):
    train_from_config(_cfg(steps=2), tiny_images, tmp_path, progress=False)
    with pytest.raises(ResumeError, match="gp_norm"):
        train_from_config(_cfg(steps=4, gp_norm="sample"), tiny_images, tmp_path, progress=False)
    # extending the length is allowed and continues from step 2; shortening below the checkpoint is not
    assert train_from_config(_cfg(steps=4), tiny_images, tmp_path, progress=False)["resumed_from"] == 2
    with pytest.raises(ResumeError, match="at generator step 4, beyond the 3 steps"):
        train_from_config(_cfg(steps=3), tiny_images, tmp_path, progress=False)


def test_bad_config_and_data_errors_name_the_problem(tiny_images, tmp_path):
    with pytest.raises(ConfigError, match="'gp_norm'"):
        TrainConfig(gp_norm="pixel")
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['stepz'\]"):
        TrainConfig.from_dict({"stepz": 3})
    with pytest.raises(ValueError, match=r"shape \(48, 1, 32, 32\); config expects \(N, 3, 64, 64\)"):
        train_from_config(_cfg(image_size=64, channels=3), tiny_images, tmp_path, progress=False)
