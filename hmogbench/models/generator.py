"""A generator is a first-layer head followed by a trunk; ``build_*`` assemble the thesis's models."""

from __future__ import annotations

import torch
from torch import nn

from ..registry.families import family_keys
from .heads import HeadOutput, MultiHead, build_head
from .init import normal_
from .spec import ModelSpec
from .trunk import ConvDiscriminator, GeneratorTrunk, MLPDiscriminator, head_out_features

Z_DIM = 100


def init_normal_(module: nn.Module, std: float = 0.02) -> nn.Module:
    """N(0, std) for the weights *and* biases of every Linear / Conv / ConvTranspose inside
    ``module`` (the authors' ``init_weights``). Norm layers keep their (1, 0) init."""
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            normal_(m.weight, std=std)
            if m.bias is not None:
                normal_(m.bias, std=std)
    return module


class Generator(nn.Module):
    """x = trunk(head(z).h).

    head:  z (B, z_dim) -> HeadOutput with h (B, out)
    trunk: h (B, out) -> x (B, ...); ``nn.Identity`` for the toy models (x = h).
    """

    def __init__(self, head: nn.Module, trunk: nn.Module, z_dim: int):
        super().__init__()
        self.head = head
        self.trunk = trunk
        self.z_dim = z_dim

    @property
    def num_generators(self) -> int:
        """K for mixture / multi-generator heads, 1 for FC."""
        return getattr(self.head, "num_generators", getattr(self.head, "num_leaves", 1))

    def generate(self, z: torch.Tensor) -> tuple[torch.Tensor, HeadOutput]:
        """z (B, z_dim) -> (x, head output); the head output carries gating weights/choices."""
        out = self.head(z)
        return self.trunk(out.h), out

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """z (B, z_dim) -> samples x of the model distribution."""
        return self.trunk(self.head(z).h)

    def forward_all_heads(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Multi-generator heads only: every generator applied to the same z (MADGAN / MGAN training).

        z (B, z_dim) -> (x (K*B, ...) generator-major, labels (K*B,) with the generator index 0..K-1).
        """
        if not isinstance(self.head, MultiHead):
            raise TypeError(f"forward_all_heads needs a multi-generator head, not {type(self.head).__name__}")
        h_all = self.head.all_heads(z)  # (B, K, out)
        k = h_all.shape[1]
        x = self.trunk(h_all.transpose(0, 1).reshape(k * z.shape[0], -1))
        labels = torch.arange(k, device=z.device).repeat_interleave(z.shape[0])
        return x, labels


def build_generator(
    spec: ModelSpec, image_size: int, channels: int, z_dim: int = Z_DIM, megan_tau: float = 1.0
) -> Generator:
    """The image generator of ``spec`` (thesis Tables 5.1/5.2), initialised as the authors did."""
    trunk = init_normal_(GeneratorTrunk(image_size, channels, batch_norm=spec.entry.batch_norm))
    return Generator(_head(spec, z_dim, head_out_features(image_size), megan_tau=megan_tau), trunk, z_dim)


def _head(spec: ModelSpec, in_features: int, out_features: int, **kwargs) -> nn.Module:
    """``build_head``, re-initialised N(0, 0.02) where the family says so (FC)."""
    head = build_head(spec, in_features, out_features, **kwargs)
    return init_normal_(head) if spec.entry.init_head_normal else head


def discriminator_outputs(spec: ModelSpec) -> int:
    """Logits D emits: K+1 for MADGAN, 1+K for MGAN (real/fake + classifier), else 1."""
    return spec.entry.discriminator_outputs(spec.size)


# families whose authors' D (ConvEncoder2 for MADGAN, MGANDisc for MGAN) normalises after the activation;
# the others used ConvEncoder (FC/ME/HME's critic, MEGAN's D), which normalises before it (registry field
# ``d_norm_after_activation``)
NORM_AFTER_ACTIVATION = family_keys(lambda f: f.d_norm_after_activation)


def build_discriminator(spec: ModelSpec, image_size: int, channels: int, norm: str | None = None) -> nn.Module:
    """D for ``spec``; ``norm`` defaults to the thesis choice (layer for FC/ME/HME, batch otherwise), placed
    before or after the activation as in the authors' D class of the family (``NORM_AFTER_ACTIVATION``)."""
    family = spec.entry
    return init_normal_(ConvDiscriminator(image_size, channels, norm=family.d_norm if norm is None else norm,
                                          out_features=discriminator_outputs(spec),
                                          norm_after_activation=family.d_norm_after_activation))


TOY_HIDDEN = 2  # authors' toy competitors: per-generator MLP [z, 2, 2] with Tanh


def build_toy_models(spec: ModelSpec, z_dim: int, data_dim: int = 2) -> tuple[Generator, nn.Module]:
    """Toy generator and D (thesis 5.3, authors' *_toy.py): the head maps z straight to the 2-D
    data (no trunk): ME/HME with linear leaves, competitors as per-generator MLPs [z, 2, 2];
    D is the MLP 2-20-20-20-20-n."""
    head = _head(spec, z_dim, data_dim, hidden=TOY_HIDDEN)
    return Generator(head, nn.Identity(), z_dim), MLPDiscriminator(data_dim, out_features=discriminator_outputs(spec))
