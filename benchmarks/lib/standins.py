"""Networks with random (seeded) weights in the architectures of the project's Inception spaces, for timing where
the real weights are not at hand: the same architecture runs at the same speed, its features mean nothing."""

from __future__ import annotations

from pathlib import Path

import torch

THROUGHPUT_ONLY = "stand-in weights: throughput only"


def fid_state_dict() -> dict:
    """Random weights of pytorch-fid's FID Inception (``pytorch_fid.inception.fid_inception_v3`` without its
    download), seed 0; needs pytorch-fid."""
    from pytorch_fid import inception as pfi

    torch.manual_seed(0)
    net = pfi._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = pfi.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = pfi.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = pfi.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = pfi.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = pfi.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = pfi.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = pfi.FIDInceptionE_1(1280)
    net.Mixed_7c = pfi.FIDInceptionE_2(2048)
    return net.state_dict()


def fid_weights_file(folder: Path) -> Path:
    """``fid_state_dict`` saved in ``folder`` (once): a weights file for space 'fid-inception'."""
    path = folder / "stand-in-fid-inception.pth"
    if not path.exists():
        torch.save(fid_state_dict(), path)
    return path


def thesis_weights_file(folder: Path) -> Path:
    """Random weights of torchvision's inception_v3 (with its auxiliary head, as the thesis's network), seed 0,
    saved in ``folder`` (once): a weights file for space 'thesis-inception'."""
    import torchvision

    path = folder / "stand-in-inception_v3.pth"
    if not path.exists():
        torch.manual_seed(0)
        model = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False,
                                                transform_input=True)
        torch.save(model.state_dict(), path)
    return path


def torchvision_fid_extractor(device: torch.device, precision: str, channels_last: bool):
    """Without pytorch-fid: torchvision's inception_v3 (random weights; nearly the FID Inception's architecture
    and FLOPs) in hmogbench's ``Extractor`` for space 'fid-inception', with pytorch-fid's input handling."""
    import torch.nn.functional as F
    import torchvision

    from hmogbench.metrics.spaces import Extractor, effective_precision, fid_preprocess, get_space

    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False).eval()
    model.fc = torch.nn.Identity()
    model = model.to(device)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)

    def forward(images):
        x = F.interpolate(fid_preprocess(images), size=(299, 299), mode="bilinear", align_corners=False)
        return model(2 * x - 1)

    return Extractor(get_space("fid-inception"), None, device, forward, model, effective_precision(precision, device))
