"""Objectives: the gradient penalty's two norms, and that one step trains every model."""

import pytest
import torch
from torch import nn

from hmogbench.training.config import ConfigError, TrainConfig
from hmogbench.training.objectives import gradient_penalty
from hmogbench.training import LoopSettings, build_models, train_gan


class LinearCritic(nn.Module):
    def __init__(self, weight):
        super().__init__()
        self.weight = weight

    def forward(self, x):
        return (x * self.weight).flatten(1).sum(1, keepdim=True)


def _pair(shape=(16, 3, 8, 8)):
    g = torch.Generator().manual_seed(0)
    return torch.randn(*shape, generator=g), torch.randn(*shape, generator=g)


def test_sample_penalty_is_zero_for_a_unit_norm_linear_critic():
    real, fake = _pair()
    w = torch.randn(1, 3, 8, 8)
    critic = LinearCritic(w / w.norm())  # exactly 1-Lipschitz, gradient norm 1 everywhere
    assert gradient_penalty(critic, real, fake, norm="sample").item() == pytest.approx(0, abs=1e-10)
    # the channel norm sees per-pixel gradients of size ~1/sqrt(64): a large penalty
    assert gradient_penalty(critic, real, fake, norm="channel").item() > 1.0


def test_channel_penalty_is_zero_when_every_pixel_gradient_has_unit_channel_norm():
    real, fake = _pair()
    u = torch.tensor([0.6, 0.0, 0.8]).view(1, 3, 1, 1).expand(1, 3, 8, 8)  # |u| = 1 over channels at each pixel
    critic = LinearCritic(u)
    assert gradient_penalty(critic, real, fake, norm="channel").item() == pytest.approx(0, abs=1e-10)
    # as a function of the whole sample its gradient norm is sqrt(64) = 8: penalty 10 * (8 - 1)^2
    assert gradient_penalty(critic, real, fake, norm="sample").item() == pytest.approx(490, rel=1e-5)


def test_penalty_is_positive_and_scales_with_lambda_for_a_steep_critic():
    real, fake = _pair((8, 1, 4, 4))
    critic = LinearCritic(torch.full((1, 1, 4, 4), 3.0))
    one = gradient_penalty(critic, real, fake, norm="channel", weight=1.0)
    assert one.item() == pytest.approx(4.0)  # (|3| - 1)^2 at every pixel
    assert gradient_penalty(critic, real, fake, norm="channel", weight=10.0).item() == pytest.approx(40.0)


@pytest.mark.parametrize("model", ["FC", "HME-2", "ME-L-4", "MADGAN-2", "MGAN-2", "MEGAN-2"])
def test_one_step_changes_generator_and_discriminator(model, tiny_images, tmp_path):
    cfg = TrainConfig(model=model, steps=1, batch_size=8, d_steps=1)
    G, D, objective = build_models(cfg)
    before_g = [p.detach().clone() for p in G.parameters()]
    before_d = [p.detach().clone() for p in D.parameters()]
    train_gan(G, D, objective, tiny_images, tmp_path, LoopSettings(steps=1, batch_size=8, seed=0), cfg.to_dict(),
              progress=False)
    assert any(not torch.equal(a, b) for a, b in zip(before_g, G.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, D.parameters()))
    # every G parameter that takes part in sampling receives a gradient: the head and the trunk move
    assert not torch.equal(before_g[-1], list(G.parameters())[-1])


def test_mgan_draws_batch_over_k_fakes_per_generator():
    cfg = TrainConfig(model="MGAN-4", batch_size=128)
    _, _, objective = build_models(cfg)
    assert objective.fake_batch(128) == 32 and objective.d_steps == 1
    assert build_models(TrainConfig(model="HME-5"))[2].d_steps == 5
    assert build_models(TrainConfig(model="MEGAN-4"))[2].d_steps == 5


def test_default_training_lengths_follow_the_authors_run_scripts():
    assert TrainConfig(model="HME-L-3").resolved_steps == 23_250  # 250 critic epochs on MNIST
    assert TrainConfig(model="MADGAN-8").resolved_steps == 23_400  # 50 epochs of 468
    assert TrainConfig(model="MEGAN-8").resolved_steps == 4_650  # 50 epochs of 93 (c_iter 5)
    assert TrainConfig(model="FC", steps=10).resolved_steps == 10


def test_megan_balance_step_moves_only_gate_and_projector(tiny_images, tmp_path):
    cfg = TrainConfig(model="MEGAN-2", batch_size=8)
    G, D, objective = build_models(cfg)
    params = objective.aux_parameters(G)
    assert {id(p) for p in params} == {id(p) for p in [*G.head.gate.parameters(), *G.head.projector.parameters()]}
    z = torch.randn(8, 100)
    loss = objective.aux_loss(G, z)["loss"]
    loss.backward()
    assert all(p.grad is None for p in G.trunk.parameters())
    assert G.head.gate.weight.grad.abs().sum() > 0


def test_mgan_batch_must_give_each_generator_two_fakes():
    TrainConfig(model="MGAN-8", batch_size=16)
    with pytest.raises(ConfigError, match=r"'batch_size' = 15: .* >= 2K = 16"):
        TrainConfig(model="MGAN-8", batch_size=15)
