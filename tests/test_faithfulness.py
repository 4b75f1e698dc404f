"""Faithfulness to the authors' code (alper111/sdt-generative) where BatchNorm and loss numerics make the
details matter: the order of D's layers, MADGAN's saturating G loss, the order of reals and fakes through
D, and MEGAN's balancing step leaving G's BatchNorm statistics alone."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hmogbench.training.config import TrainConfig
from hmogbench.models import ModelSpec, MultiHead, build_discriminator, gumbel_softmax
from hmogbench.models.trunk import DISC_CHANNELS
from hmogbench.training.objectives import MEGAN, build_objective
from hmogbench.training import LoopSettings, build_models, train_gan

SIZES = [(32, 1), (64, 3)]


def _block_kinds(D: nn.Module) -> list[type]:
    """The module types of D's conv body, without the final Flatten."""
    return [type(m) for m in D.body if not isinstance(m, nn.Flatten)]


def _reference_logits(D: nn.Module, x: torch.Tensor, norm_first: bool) -> torch.Tensor:
    """D's output rebuilt by hand from its weights, in train mode: per block conv -> BN -> LeakyReLU(0.2)
    (``norm_first``, the authors' ConvEncoder) or conv -> LeakyReLU(0.2) -> BN (ConvEncoder2, MGANDisc)."""
    convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    norms = [m for m in D.modules() if isinstance(m, nn.BatchNorm2d)]
    (linear,) = [m for m in D.modules() if isinstance(m, nn.Linear)]
    for conv, bn in zip(convs, norms, strict=True):
        x = F.conv2d(x, conv.weight, conv.bias, stride=2, padding=1)
        norm = lambda v, bn=bn: F.batch_norm(v, None, None, bn.weight, bn.bias, training=True, eps=bn.eps)
        x = F.leaky_relu(norm(x), 0.2) if norm_first else norm(F.leaky_relu(x, 0.2))
    return F.linear(x.flatten(1), linear.weight, linear.bias)


def _randomise_norms(D: nn.Module) -> None:
    """BN affine parameters away from (1, 0), so that the two orders give different outputs."""
    g = torch.Generator().manual_seed(1)
    for m in D.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.weight.data = 1 + 0.5 * torch.randn(m.weight.shape, generator=g)
            m.bias.data = 0.5 * torch.randn(m.bias.shape, generator=g)


@pytest.mark.parametrize("size,channels", SIZES)
@pytest.mark.parametrize("model,norm_first", [("MEGAN-4", True), ("MADGAN-4", False), ("MGAN-4", False)])
def test_batch_norm_discriminators_order_their_layers_as_the_authors_d_classes(model, norm_first, size, channels):
    """MEGAN's D is the authors' ConvEncoder (conv -> BN -> act); MADGAN's ConvEncoder2 and MGAN's MGANDisc
    are conv -> act -> BN."""
    torch.manual_seed(0)
    D = build_discriminator(ModelSpec.parse(model), size, channels).train()
    block = [nn.Conv2d, nn.BatchNorm2d, nn.LeakyReLU] if norm_first else [nn.Conv2d, nn.LeakyReLU, nn.BatchNorm2d]
    assert _block_kinds(D) == block * len(DISC_CHANNELS[size])  # 3 blocks at 32x32, 4 at 64x64
    _randomise_norms(D)
    x = torch.randn(6, channels, size, size)
    with torch.no_grad():
        out = D(x)
        torch.testing.assert_close(out, _reference_logits(D, x, norm_first))
        assert not torch.allclose(out, _reference_logits(D, x, not norm_first), atol=1e-3)  # the order matters


def test_layer_norm_follows_the_same_order_per_family():
    """FC/ME/HME's critic (ConvEncoder, layer_norm) stays conv -> LN -> act; MADGAN's D with d_norm 'layer' is
    ConvEncoder2's conv -> act -> LN."""
    def kinds(model):
        return _block_kinds(build_discriminator(ModelSpec.parse(model), 32, 1, norm="layer"))

    assert kinds("HME-5") == [nn.Conv2d, nn.LayerNorm, nn.LeakyReLU] * 3
    assert kinds("MADGAN-4") == [nn.Conv2d, nn.LeakyReLU, nn.LayerNorm] * 3


class _FixedFakes:
    """A stand-in G whose 'fakes' are given logits: D = identity then sees exactly them."""

    def __init__(self, logits: torch.Tensor):
        self.logits = logits

    def forward_all_heads(self, z):
        return self.logits, torch.zeros(len(self.logits), dtype=torch.long)


def _g_gradient(objective, gap: float, k: int = 4) -> torch.Tensor:
    """d G-loss / d logits for fakes whose real-class logit is ``gap`` below the K fake-class logits."""
    logits = torch.tensor([[0.0] + [gap] * k] * 3, requires_grad=True)
    objective.g_loss(_FixedFakes(logits), nn.Identity(), torch.zeros(3, 100))["loss"].backward()
    return logits.grad


def _unsaturated_gradient(gap: float, k: int = 4) -> torch.Tensor:
    logits = torch.tensor([[0.0] + [gap] * k] * 3, requires_grad=True)
    (-F.log_softmax(logits, dim=1)[:, 0].mean()).backward()
    return logits.grad


def test_madgan_generator_loss_saturates_as_the_authors_bce_unless_switched():
    """The authors' BCELoss(softmax(D)[:, 0], 1): at a logit gap of 35 (K = 4, p_0 = 1.58e-16) its backward
    divides by max(p_0 (1 - p_0), 1e-12), so the gradient is p_0 / 1e-12 = 1.6e-4 of -log_softmax's."""
    default = build_objective("madgan", 1)
    p0 = torch.softmax(torch.tensor([0.0] + [35.0] * 4), 0)[0].item()
    ratio = _g_gradient(default, 35.0) / _unsaturated_gradient(35.0)
    assert ratio.numpy() == pytest.approx(p0 / 1e-12, rel=1e-3) and ratio.max() < 2e-4
    torch.testing.assert_close(_g_gradient(default, 20.0), _unsaturated_gradient(20.0))  # unsaturated below ~26
    switched = build_models(TrainConfig(model="MADGAN-2", madgan_g_loss="log-softmax"))[2]
    torch.testing.assert_close(_g_gradient(switched, 35.0), _unsaturated_gradient(35.0), rtol=0, atol=0)


def test_madgan_generator_loss_values_agree_under_both_switches():
    logits = torch.randn(10, 5) * 10
    fakes, identity, z = _FixedFakes(logits), nn.Identity(), torch.zeros(10, 100)
    values = [build_objective("madgan", 1, madgan_g_loss=kind).g_loss(fakes, identity, z)["loss"]
              for kind in ("bce-softmax", "log-softmax")]
    torch.testing.assert_close(*values)


def _fakes(G, z):
    return G.forward_all_heads(z)[0] if isinstance(G.head, MultiHead) else G(z)


def _norm_buffers(module: nn.Module) -> list[torch.Tensor]:
    return [b.clone() for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
            for b in m.buffers(recurse=False)]


@pytest.mark.parametrize("model", ["MADGAN-2", "MGAN-2", "MEGAN-2"])
def test_d_step_sends_the_reals_through_d_before_the_fakes(model):
    """With BatchNorm in D the order sets its running statistics; the authors' scripts pass the reals first."""
    G, D, objective = build_models(TrainConfig(model=model, batch_size=8))
    G_ref, D_ref, D_fakes_first = copy.deepcopy(G), copy.deepcopy(D), copy.deepcopy(D)
    real, z = torch.rand(8, 1, 32, 32) * 2 - 1, torch.randn(objective.fake_batch(8), 100)
    torch.manual_seed(3)  # MEGAN's Gumbel noise
    objective.d_loss(G, D, real, z)
    torch.manual_seed(3)
    with torch.no_grad():
        fake = _fakes(G_ref, z)
        D_ref(real), D_ref(fake)
        D_fakes_first(fake), D_fakes_first(real)
    after = _norm_buffers(D)
    assert all(torch.equal(a, b) for a, b in zip(after, _norm_buffers(D_ref), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(after, _norm_buffers(D_fakes_first)))  # the order shows


class _MEGANWithoutBalancing(MEGAN):
    """MEGAN without its balancing step: what G's BatchNorm statistics must be if that step leaves them alone."""

    def aux_parameters(self, G):
        return []


def _experts_norm(G) -> nn.BatchNorm1d:
    return G.head.experts.norm


def test_megan_balancing_step_leaves_the_experts_batch_norm_statistics(tiny_images, tmp_path):
    """In train_megan.py G runs forward once per D step (the fakes) and once in the G step; the balancing
    step reuses the G step's logits. One iteration at megan.sh's c_iter 5 is 6 BatchNorm updates."""
    cfg = TrainConfig(model="MEGAN-2", batch_size=8, steps=1)
    settings = LoopSettings(steps=1, batch_size=8, seed=0)
    G, D, objective = build_models(cfg)
    assert objective.d_steps == 5
    train_gan(G, D, objective, tiny_images, tmp_path / "megan", settings, cfg.to_dict(), progress=False)
    G_ref, D_ref, _ = build_models(cfg)
    reference = _MEGANWithoutBalancing(objective.d_steps, objective.balance_weight)
    train_gan(G_ref, D_ref, reference, tiny_images, tmp_path / "reference", settings, cfg.to_dict(), progress=False)
    assert _experts_norm(G).num_batches_tracked.item() == objective.d_steps + 1
    for name in ("running_mean", "running_var"):
        assert torch.equal(getattr(_experts_norm(G), name), getattr(_experts_norm(G_ref), name))
    trunk_counts = {m.num_batches_tracked.item() for m in G.trunk.modules() if isinstance(m, nn.BatchNorm2d)}
    assert trunk_counts == {objective.d_steps + 1}
    assert not torch.equal(G.head.gate.weight, G_ref.head.gate.weight)  # the balancing step did run


def test_megan_balancing_loss_is_that_of_a_train_mode_forward():
    """Keeping the statistics changes no output: the loss equals the plain train-mode recomputation."""
    G, _, objective = build_models(TrainConfig(model="MEGAN-2", batch_size=8))
    plain = copy.deepcopy(G.head)
    z = torch.randn(8, 100)
    torch.manual_seed(4)
    kept = objective.aux_loss(G, z)["loss"]
    torch.manual_seed(4)
    usage = gumbel_softmax(plain.gate_logits(z, plain.experts.all_heads(z)), plain.tau, hard=False).mean(0)
    assert torch.equal(kept, F.mse_loss(usage, torch.full_like(usage, 0.5)))
    assert not torch.equal(_experts_norm(G).running_mean, plain.experts.norm.running_mean)  # plain one moved
