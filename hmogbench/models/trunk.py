"""The shared DCGAN trunk G_s and the discriminators (thesis Tables 5.1 and 5.2).

All convolutions: kernel 4x4, stride 2, padding 1.

32x32 (MNIST, FashionMNIST; 1 channel):
    G_s: (256,4,4) -> ConvT 128 -> ConvT 64 -> ConvT 1 -> (1,32,32)
    D:   (1,32,32) -> Conv 64 -> Conv 128 -> Conv 256 -> Linear(256*4*4 -> n)
64x64 (CelebA, UTZap50K, Flowers):
    G_s: (512,4,4) -> ConvT 256 -> ConvT 128 -> ConvT 64 -> ConvT 3 -> (3,64,64)
    D:   (3,64,64) -> Conv 64 -> Conv 128 -> Conv 256 -> Conv 512 -> Linear(512*4*4 -> n)
Table 5.2 prints 1 image channel for the 64x64 sets, but those sets are RGB: we use 3 (as the
authors' code must have, since it trained on colour images).

Normalisation (thesis 5.2.2): FC/ME/HME use none in G and LayerNorm over (C, H, W) in D
(elementwise affine); MADGAN/MGAN/MEGAN use BatchNorm in G and D. Where the norm sits in D depends
on which of the authors' D classes a model used: ``ConvEncoder`` (FC/ME/HME's critic and MEGAN's D)
puts it before the activation (conv -> norm -> act); ``ConvEncoder2`` (MADGAN) and ``MGANDisc``
(MGAN) after it (conv -> act -> norm). Their G blocks (``ConvBlock``, MADGAN/MGAN/MEGAN) put BN
after the activation (convT -> ReLU -> BN).
"""

from __future__ import annotations

import torch
from torch import nn

# hidden channels of G_s, from the 4x4 input map outwards
TRUNK_CHANNELS = {32: (256, 128, 64), 64: (512, 256, 128, 64)}
# channels of D's conv layers
DISC_CHANNELS = {32: (64, 128, 256), 64: (64, 128, 256, 512)}


def _check_image_size(image_size: int) -> None:
    if image_size not in TRUNK_CHANNELS:
        raise ValueError(f"image_size must be 32 or 64 (thesis Tables 5.1/5.2), got {image_size}")


def head_out_features(image_size: int) -> int:
    """Length of the flattened 4x4 map the trunk consumes: 256*16 = 4096 or 512*16 = 8192."""
    _check_image_size(image_size)
    return TRUNK_CHANNELS[image_size][0] * 16


class GeneratorTrunk(nn.Module):
    """G_s: h (N, C0*16), reshaped channel-major to (N, C0, 4, 4) -> image (N, C, S, S) in [-1, 1]."""

    def __init__(self, image_size: int, channels: int, batch_norm: bool = False):
        super().__init__()
        _check_image_size(image_size)
        widths = TRUNK_CHANNELS[image_size]
        self.in_channels = widths[0]
        layers: list[nn.Module] = []
        for c_in, c_out in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.ReLU()]
            if batch_norm:
                layers.append(nn.BatchNorm2d(c_out))
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.layers = nn.Sequential(*layers)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.layers(h.view(h.shape[0], self.in_channels, 4, 4))


def _norm_layer(norm: str, channels: int, size: int) -> list[nn.Module]:
    """The norm of one D block over (channels, size, size) maps: [LayerNorm], [BatchNorm2d] or []."""
    if norm == "layer":
        return [nn.LayerNorm([channels, size, size])]
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    return []


class ConvDiscriminator(nn.Module):
    """D: image (N, C, S, S) -> logits (N, out_features).

    Each block is conv -> norm -> LeakyReLU(0.2), or with ``norm_after_activation`` conv ->
    LeakyReLU(0.2) -> norm. norm: 'layer' (LayerNorm([C, H, W]), the WGAN-GP critic of FC/ME/HME),
    'batch' (BatchNorm2d, MADGAN / MGAN / MEGAN) or 'none'.
    out_features: 1 (critic / real-fake), K+1 (MADGAN), 1+K (MGAN: real-fake logit, then the
    K-way classifier logits; two heads on a shared body are one Linear with stacked rows).
    """

    def __init__(self, image_size: int, channels: int, norm: str = "layer", out_features: int = 1,
                 norm_after_activation: bool = False):
        super().__init__()
        _check_image_size(image_size)
        if norm not in ("layer", "batch", "none"):
            raise ValueError(f"discriminator norm must be 'layer', 'batch' or 'none', got {norm!r}")
        widths = DISC_CHANNELS[image_size]
        layers: list[nn.Module] = []
        c_in, size = channels, image_size
        for c_out in widths:
            size //= 2
            normalise, act = _norm_layer(norm, c_out, size), [nn.LeakyReLU(0.2)]
            block = act + normalise if norm_after_activation else normalise + act
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), *block]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.out = nn.Linear(widths[-1] * 16, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))


class MLPDiscriminator(nn.Module):
    """Toy D (authors' toy scripts): 2 -> 20 -> 20 -> 20 -> 20 -> out, ReLU between layers."""

    def __init__(self, in_features: int = 2, hidden: tuple[int, ...] = (20, 20, 20, 20), out_features: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        for width in hidden:
            layers += [nn.Linear(in_features, width), nn.ReLU()]
            in_features = width
        layers.append(nn.Linear(in_features, out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
