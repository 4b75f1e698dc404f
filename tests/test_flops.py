"""FLOP counts of a training step: from the module shapes, by hand, and against torch's own flop formulas."""

import pytest

from hmogbench.training.config import TrainConfig
from hmogbench.training.flops import device_peaks, measured_step_flops, model_flops, step_flops


def test_forward_flops_of_the_32x32_trunk_and_critic_by_hand():
    f = model_flops(TrainConfig(model="FC"))
    # trunk: ConvT 256->128 on 4x4, 128->64 on 8x8, 64->1 on 16x16; each input pixel through a 4x4 kernel
    trunk = 16 * 256 * 128 * 16 + 64 * 128 * 64 * 16 + 256 * 64 * 1 * 16
    # D: Conv 1->64 to 16x16, 64->128 to 8x8, 128->256 to 4x4, Linear 4096 -> 1
    critic = 256 * 64 * 1 * 16 + 64 * 128 * 64 * 16 + 16 * 256 * 128 * 16 + 4096
    assert (f.trunk, f.discriminator, f.head) == (2 * trunk, 2 * critic, 2 * 100 * 4096)
    assert model_flops(TrainConfig(model="HME-L-2")).head == 2 * (100 * 3 + 4 * 100 * 4096 + 4 * 4096)
    assert model_flops(TrainConfig(model="ME-32")).head == 2 * (100 * 32 + 32 * 4096)
    # WGAN-GP, 5 critic steps: 8 B g + 62 B d
    g, d = f.generator, f.discriminator
    assert step_flops(TrainConfig(model="FC"), 128) == 128 * (8 * g + 62 * d)


@pytest.mark.parametrize("model", ["FC", "HME-L-2", "MADGAN-2", "MGAN-2", "MEGAN-2"])
def test_analytic_step_flops_agree_with_the_executed_ones(model):
    cfg = TrainConfig(model=model, batch_size=8)
    analytic, executed = step_flops(cfg), measured_step_flops(cfg, batch_size=8)
    assert analytic == pytest.approx(executed, rel=0.03)


def test_device_peaks_by_name():
    assert device_peaks("NVIDIA H100 80GB HBM3")[0] == "H100 SXM"
    assert device_peaks("NVIDIA H100 PCIe")[0] == "H100 PCIe"
    assert device_peaks("NVIDIA H200")[1]["tf32"] == pytest.approx(494.7e12)
    assert device_peaks("AMD EPYC") == (None, None)
