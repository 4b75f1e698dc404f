"""FLOPs of one training step, counted from the models' shapes: a lower bound on its time on a device.

Forward multiply-adds (MACs) per sample, from the built modules (on the meta device, no memory):
- ``nn.Linear``: in x out; ``nn.Conv2d``: out elements x in_channels x k x k; ``nn.ConvTranspose2d``: in
  elements x out_channels x k x k (each input pixel is scattered through the whole kernel);
- heads (``models/heads.py``): every matrix of the head is used once per sample: gate (in x K, or
  in x (2^d - 1) for the tree), constant leaves (L x out, the gated sum), linear leaves (L*in x out + L x out),
  K first layers (K x in x out, all computed), MEGAN's projector (applied to each of the K first layers)
  and gate.
One FLOP is half a MAC. Norms, activations, the loss arithmetic and Adam are elementwise (memory-bound) and
not counted. g and d below are the forward FLOPs per sample of G and D (2 x MACs).

Backward ~ 2 x forward (input gradients + weight gradients), 1 x forward where only input gradients are
needed (through a frozen D to G; the penalty's inner gradient). Per generator step with B reals and n_d
critic steps:

wgan-gp   n_d * (B g + 12 B d) + 3 B g + 2 B d                    (n_d = 5: 8 B g + 62 B d)
          a critic step: G forward B g (no grad); D on reals and fakes 2 B d + backward 4 B d; gradient
          penalty: D on the interpolates B d, inner input-gradient B d, outer backward through both 4 B d
ns        n_d * (B g + 6 B d) + 3 B g + 2 B d                     (MEGAN: n_d = 5, plus its balancing step)
madgan    n_d * (B h + K B t + 3 (B + K B) d) + 3 (B h + K B t) + 2 K B d     (all K generators on B z)
mgan      as madgan with B // K z per generator (K * (B // K) fakes)
          (h: the head's forward FLOPs per z with all K first layers, t: the trunk's per sample)
MEGAN's balancing step: the head forward again plus ~2 x (projector + gate) for its backward.

Assumptions: dense kernels (the FLOPs any implementation must do), backward ratios as above (a slight
overcount: D's first layer needs no input gradient for reals and fakes), batched seeds cost S x one seed.
``measured_step_flops`` counts the same step with ``torch.utils.flop_counter`` (matmuls and convolutions as
executed, double backward included) as a check (tests: within 10%).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

from ..models.generator import build_discriminator, build_generator
from ..models.heads import FCHead, MEGANHead, MixtureHead, MultiHead
from ..models.leaves import ConstantLeaves, LinearLeaves
from .config import TrainConfig
from .objectives import Objective, objective_of

# Dense peak FLOP/s of devices (vendor datasheets; "dense" = without 2:4 sparsity). fp32 = CUDA cores;
# tf32 / bf16 = tensor cores. PyTorch's default fp32 training runs convolutions on TF32 tensor cores
# (torch.backends.cudnn.allow_tf32 = True) and matmuls in full fp32 (matmul.allow_tf32 = False).
DEVICE_PEAKS = {
    "H100 SXM": {"fp32": 67e12, "tf32": 494.7e12, "bf16": 989.4e12, "fp64": 67e12},
    "H100 PCIe": {"fp32": 51.2e12, "tf32": 378e12, "bf16": 756e12, "fp64": 51.2e12},
    "H100 NVL": {"fp32": 60e12, "tf32": 417.5e12, "bf16": 835e12, "fp64": 60e12},
    "H200": {"fp32": 67e12, "tf32": 494.7e12, "bf16": 989.4e12, "fp64": 67e12},
    "A100": {"fp32": 19.5e12, "tf32": 156e12, "bf16": 312e12, "fp64": 19.5e12},
}


def device_peaks(name: str) -> tuple[str | None, dict[str, float] | None]:
    """(table entry, peaks) for a device name as ``torch.cuda.get_device_name`` gives it; (None, None) if
    unknown (CPUs: measure instead, ``measured_matmul_flops``)."""
    upper = name.upper()
    if "H200" in upper:
        return "H200", DEVICE_PEAKS["H200"]
    if "H100" in upper:
        key = "H100 PCIe" if "PCIE" in upper else "H100 NVL" if "NVL" in upper else "H100 SXM"  # "H100 80GB HBM3": SXM
        return key, DEVICE_PEAKS[key]
    if "A100" in upper:
        return "A100", DEVICE_PEAKS["A100"]
    return None, None


class FlopCounter(TorchDispatchMode):
    """FLOPs of the matmuls and convolutions executed inside it, by ``torch.utils.flop_counter``'s formulas
    (``FlopCounterMode`` without its module tracker, whose hooks reject ``autograd.grad`` with respect to a
    leaf tensor, as the gradient penalty takes it)."""

    def __init__(self):
        super().__init__()
        self.total = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func._overloadpacket in flop_registry:
            self.total += flop_registry[func._overloadpacket](*args, **kwargs, out_val=out)
        return out


def _head_macs(head: nn.Module) -> int:
    """Forward MACs per z of a head, every first layer of a multi-generator head included."""
    if isinstance(head, FCHead):
        return head.linear.weight.numel()
    if isinstance(head, MixtureHead):
        gate = head.gating.weight.numel()
        if isinstance(head.leaves, ConstantLeaves):
            return gate + head.leaves.values.numel()
        if isinstance(head.leaves, LinearLeaves):
            return gate + head.leaves.weight.numel() + head.leaves.bias.numel()
    if isinstance(head, MultiHead):
        return head.weight.numel() + (head.weight2.numel() if head.hidden is not None else 0)
    if isinstance(head, MEGANHead):
        return (_head_macs(head.experts) + head.num_generators * head.projector.weight.numel()
                + head.gate.weight.numel())
    raise TypeError(f"no MAC count for head {type(head).__name__}")


def _layer_macs(module: nn.Module, example: torch.Tensor) -> int:
    """Forward MACs per sample of the Linear / Conv / ConvTranspose layers of ``module`` on ``example``
    (one sample), from their input and output shapes."""
    total = 0

    def hook(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Linear):
            total += layer.in_features * layer.out_features
        elif isinstance(layer, nn.Conv2d):
            total += output.numel() * layer.in_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, nn.ConvTranspose2d):
            total += inputs[0].numel() * layer.out_channels // layer.groups * layer.kernel_size[0] * layer.kernel_size[1]

    handles = [m.register_forward_hook(hook) for m in module.modules()
               if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]
    try:
        with torch.no_grad():
            module(example)
    finally:
        for h in handles:
            h.remove()
    return total


@dataclass(frozen=True)
class ModelFlops:
    """Forward FLOPs per sample: head (per z, all first layers), trunk, D."""

    head: int
    trunk: int
    discriminator: int
    head_extra: int = 0  # MEGAN: projector + gate (its balancing step's backward)

    @property
    def generator(self) -> int:
        return self.head + self.trunk


def model_flops(cfg: TrainConfig) -> ModelFlops:
    """Forward FLOPs per sample of ``cfg``'s G (head, trunk) and D, from the modules' shapes."""
    with torch.device("meta"):
        G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau).eval()
        D = build_discriminator(cfg.spec, cfg.image_size, cfg.channels, norm=cfg.d_norm).eval()
    # the shapes' forward on the CPU with storage but no values (a meta forward would import torch._dynamo,
    # ~1 s): the trunk and D only, one sample
    h = torch.zeros(1, G.trunk.in_channels * 16)
    x = torch.zeros(1, cfg.channels, cfg.image_size, cfg.image_size)
    trunk, disc = _layer_macs(G.trunk.to_empty(device="cpu"), h), _layer_macs(D.to_empty(device="cpu"), x)
    extra = 0
    if isinstance(G.head, MEGANHead):
        extra = 2 * (G.head.num_generators * G.head.projector.weight.numel() + G.head.gate.weight.numel())
    return ModelFlops(2 * _head_macs(G.head), 2 * trunk, 2 * disc, extra)


def _wgan_gp_flops(f: ModelFlops, B: int, n_d: int, K: int) -> float:
    return n_d * (B * f.generator + 12 * B * f.discriminator) + 3 * B * f.generator + 2 * B * f.discriminator


def _ns_flops(f: ModelFlops, B: int, n_d: int, K: int) -> float:
    return n_d * (B * f.generator + 6 * B * f.discriminator) + 3 * B * f.generator + 2 * B * f.discriminator


def _megan_flops(f: ModelFlops, B: int, n_d: int, K: int) -> float:
    return _ns_flops(f, B, n_d, K) + B * (f.head + f.head_extra)  # plus the balancing step


def _multi_generator_flops(f: ModelFlops, z: int, B: int, n_d: int, K: int) -> float:
    """All K generators on the same ``z`` z's: K * z fakes next to B reals."""
    h, t, d, fakes = f.head, f.trunk, f.discriminator, K * z
    return n_d * (z * h + fakes * t + 3 * (B + fakes) * d) + 3 * (z * h + fakes * t) + 2 * fakes * d


# objective -> FLOPs of one generator step from (forward FLOPs, batch B, D steps n_d, generators K); one per
# key of hmogbench.registry.families.OBJECTIVES (tests/test_families.py)
STEP_FLOPS = {
    "wgan-gp": _wgan_gp_flops,
    "ns": _ns_flops,
    "megan": _megan_flops,
    "madgan": lambda f, B, n_d, K: _multi_generator_flops(f, B, B, n_d, K),
    "mgan": lambda f, B, n_d, K: _multi_generator_flops(f, B // K, B, n_d, K),
}


def step_flops(cfg: TrainConfig, batch_size: int | None = None) -> float:
    """FLOPs of one generator step of ``cfg`` (its objective, critic steps and batch; see the module text)."""
    formula = STEP_FLOPS[cfg.resolved_objective]
    return formula(model_flops(cfg), batch_size or cfg.batch_size, cfg.resolved_d_steps, cfg.spec.num_generators)


def _build_models(cfg: TrainConfig) -> tuple[nn.Module, nn.Module, Objective]:
    """G, D and the objective of ``cfg``, built after ``torch.manual_seed(cfg.seed)`` as training builds them."""
    torch.manual_seed(cfg.seed)
    G = build_generator(cfg.spec, cfg.image_size, cfg.channels, cfg.z_dim, megan_tau=cfg.megan_tau)
    return G, build_discriminator(cfg.spec, cfg.image_size, cfg.channels, norm=cfg.d_norm), objective_of(cfg)


def measured_step_flops(cfg: TrainConfig, batch_size: int = 8) -> int:
    """FLOPs of the matmuls and convolutions that one generator step of ``cfg`` executes (forward, backward,
    the penalty's double backward), counted with ``torch.utils.flop_counter``'s formulas at ``batch_size``
    on the CPU (the count is linear in the batch). Optimiser steps are elementwise and not counted."""
    G, D, objective = _build_models(TrainConfig.from_dict({**cfg.to_dict(), "batch_size": batch_size}))
    gen = torch.Generator().manual_seed(0)
    n = objective.fake_batch(batch_size)
    with FlopCounter() as counter:
        for _ in range(objective.d_steps):
            real = torch.rand(batch_size, cfg.channels, cfg.image_size, cfg.image_size, generator=gen) * 2 - 1
            z = torch.randn(n, cfg.z_dim, generator=gen)
            objective.d_loss(G, D, real, z, **objective.d_noise(real, gen))["loss"].backward()
        for p in D.parameters():
            p.requires_grad_(False)
        z = torch.randn(n, cfg.z_dim, generator=gen)
        objective.g_loss(G, D, z)["loss"].backward()
        if objective.aux_parameters(G):
            objective.aux_loss(G, z)["loss"].backward()
    return counter.total


def measured_matmul_flops(device: str | torch.device = "cpu", size: int = 2048, repeats: int = 5,
                          trials: int = 5) -> float:
    """Achieved fp32 FLOP/s of a square matmul on ``device``, the best of ``trials`` timings of ``repeats``
    products: a practical ceiling where no datasheet peak applies (CPUs; the best trial, because other
    processes on a shared machine only ever slow it down)."""
    import time

    device = torch.device(device)
    a = torch.randn(size, size, device=device)
    b = torch.randn(size, size, device=device)
    a @ b  # warm-up
    best = 0.0
    for _ in range(trials):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        for _ in range(repeats):
            a @ b
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        best = max(best, 2 * size ** 3 * repeats / (time.perf_counter() - start))
    return best


@functools.lru_cache(maxsize=None)
def inception_flops(image_size: int = 299) -> int:
    """Forward FLOPs of one image through torchvision's Inception-v3 (the FID and thesis feature networks have
    its architecture), counted on the meta device with ``torch.utils.flop_counter``'s formulas."""
    import torchvision

    with torch.device("meta"):
        model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
        x = torch.empty(1, 3, image_size, image_size)
        with torch.no_grad(), FlopCounter() as counter:
            model(x)
    return counter.total
