"""Shapes, ranges, normalisation placement and initialisation of generators and discriminators."""

import pytest
import torch
from torch import nn

from hmogbench.models import (ConvDiscriminator, FCHead, GeneratorTrunk, MEGANHead, ModelSpec, build_discriminator,
                              build_generator, gumbel_softmax)

NAMES = ["FC", "ME-4", "HME-2", "ME-L-4", "HME-L-2", "MADGAN-3", "MGAN-3", "MEGAN-3"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("size,channels", [(32, 1), (64, 3)])
def test_output_shapes_and_range(name, size, channels):
    torch.manual_seed(0)
    spec = ModelSpec.parse(name)
    G, D = build_generator(spec, size, channels), build_discriminator(spec, size, channels)
    x = G(torch.randn(5, 100))
    assert x.shape == (5, channels, size, size)
    assert x.min() >= -1 and x.max() <= 1
    k = spec.num_generators
    assert D(x).shape == (5, {"madgan": k + 1, "mgan": 1 + k}.get(spec.family, 1))


def test_model_names_round_trip_and_reject_garbage():
    for name in NAMES + ["HME-L-5", "ME-256"]:
        assert ModelSpec.parse(name).name == name
    assert ModelSpec.parse("HME-L-3") == ModelSpec("hme", 3, "linear")
    assert ModelSpec.parse("HME-3").num_generators == 8
    for bad in ["HME", "FC-3", "MADGAN-L-4", "tree-5"]:
        with pytest.raises(ValueError, match="model"):
            ModelSpec.parse(bad)


def test_fc_has_relu_but_mixtures_feed_the_trunk_directly():
    torch.manual_seed(1)
    z = torch.randn(64, 100)
    assert (build_generator(ModelSpec.parse("FC"), 32, 1).head(z).h >= 0).all()
    assert (build_generator(ModelSpec.parse("HME-L-2"), 32, 1).head(z).h < 0).any()


def test_normalisation_as_thesis_5_2_2():
    def kinds(module):
        return {type(m) for m in module.modules()}

    hme = build_generator(ModelSpec.parse("HME-5"), 32, 1)
    assert not kinds(hme) & {nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm}
    assert nn.LayerNorm in kinds(build_discriminator(ModelSpec.parse("HME-5"), 32, 1))
    for name in ["MADGAN-4", "MGAN-4", "MEGAN-4"]:
        assert nn.BatchNorm2d in kinds(build_generator(ModelSpec.parse(name), 32, 1).trunk)
        assert nn.BatchNorm2d in kinds(build_discriminator(ModelSpec.parse(name), 32, 1))
    ln = [m for m in build_discriminator(ModelSpec.parse("FC"), 64, 3).modules() if isinstance(m, nn.LayerNorm)]
    assert [tuple(m.normalized_shape) for m in ln] == [(64, 32, 32), (128, 16, 16), (256, 8, 8), (512, 4, 4)]


def test_trunk_and_discriminator_layers_as_tables_5_1_and_5_2():
    t32, t64 = GeneratorTrunk(32, 1), GeneratorTrunk(64, 3)
    convs = lambda m, kind: [(c.in_channels, c.out_channels) for c in m.modules() if isinstance(c, kind)]
    assert convs(t32, nn.ConvTranspose2d) == [(256, 128), (128, 64), (64, 1)]
    assert convs(t64, nn.ConvTranspose2d) == [(512, 256), (256, 128), (128, 64), (64, 3)]
    assert convs(ConvDiscriminator(32, 1), nn.Conv2d) == [(1, 64), (64, 128), (128, 256)]
    assert convs(ConvDiscriminator(64, 3), nn.Conv2d) == [(3, 64), (64, 128), (128, 256), (256, 512)]
    assert sum(p.numel() for p in t32.parameters()) == 656_577
    assert sum(p.numel() for p in t64.parameters()) == 2_756_035


def test_normal_002_init_of_trunk_and_fc_head():
    torch.manual_seed(2)
    G = build_generator(ModelSpec.parse("FC"), 64, 3)
    assert abs(G.head.linear.weight.std().item() - 0.02) < 0.001
    assert abs(G.head.linear.bias.std().item() - 0.02) < 0.005  # biases too, as the authors' code
    first = next(m for m in G.trunk.modules() if isinstance(m, nn.ConvTranspose2d))
    assert abs(first.weight.std().item() - 0.02) < 0.001


def test_multi_generator_heads():
    torch.manual_seed(3)
    G = build_generator(ModelSpec.parse("MADGAN-4"), 32, 1)
    z = torch.randn(6, 100)
    x, labels = G.forward_all_heads(z)
    assert x.shape == (24, 1, 32, 32) and labels.tolist() == [k for k in range(4) for _ in range(6)]
    G.eval()
    _, out = G.generate(z)
    assert out.weights.argmax(1).tolist() == [0, 1, 2, 3, 0, 1]  # balanced uniform mixture
    x_all, _ = G.forward_all_heads(z)
    torch.testing.assert_close(G(z)[1], x_all[6 + 1])  # sample 1 comes from generator 1 on z_1


def test_megan_selects_one_generator_and_passes_gradient_to_the_gate():
    torch.manual_seed(4)
    head = MEGANHead(4, 10, 12)
    out = head(torch.randn(8, 10))
    assert ((out.weights == 0) | (out.weights == 1)).all() and (out.weights.sum(1) == 1).all()
    out.h.sum().backward()
    assert head.gate.weight.grad is not None and head.gate.weight.grad.abs().sum() > 0


def test_straight_through_gumbel_softmax():
    torch.manual_seed(5)
    logits = torch.randn(1000, 3, requires_grad=True)
    y = gumbel_softmax(logits, hard=True)
    assert set(y.detach().unique().tolist()) == {0.0, 1.0}
    (y * torch.arange(3.0)).sum().backward()
    assert logits.grad.abs().sum() > 0
    # Gumbel-max: argmax frequencies follow softmax(logits)
    fixed = torch.tensor([[2.0, 0.0, -1.0]]).expand(20000, 3)
    freq = gumbel_softmax(fixed).mean(0)
    torch.testing.assert_close(freq, torch.softmax(fixed[0], 0), atol=0.015, rtol=0)


def test_fc_head_is_a_single_linear_layer():
    head = FCHead(100, 4096)
    assert sum(p.numel() for p in head.parameters()) == 101 * 4096
