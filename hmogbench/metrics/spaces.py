"""Feature spaces: each space's preprocessing and network, and ``load_space``, which puts them together.

What defines a space (name, weights, dimension, precisions, which functions here it uses, ...) is its entry in
the registry, hmogbench/registry/feature_spaces.py (``SPACES``, ``FeatureSpace`` and ``get_space`` are re-exported here).
Every space maps images, uint8 (B, C, H, W) in [0, 255] or float (B, C, H, W) in [0, 1] with C = 1 or 3,
to float32 features (B, D):

- ``fid-inception``: pytorch-fid's ``InceptionV3`` pool3 (D = 2048) with the TF FID weights; pytorch-fid's own
  input handling (bilinear resize to 299, [0, 1] -> [-1, 1]); gray repeated to 3 channels as PIL's RGB conversion
  (``fid_preprocess``, ``fid_inception``).
- ``thesis-inception``: torchvision's ImageNet ``inception_v3`` as the thesis code used it (``fc`` = identity,
  ``transform_input=True``, D = 2048); see ``thesis_preprocess``, ``thesis_inception``.
- ``pixels``: the pixels in [0, 1], flattened (D = C * H * W; ``to_unit``, no network).

A registry entry names its ``preprocess`` (images -> network input) and ``network`` (``WeightsInfo`` ->
``nn.Module``) functions of this module; a network's output is its features, or a list whose first item they
are (pytorch-fid's ``InceptionV3`` returns the list of the blocks asked for).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..registry.feature_spaces import SPACES, FeatureSpace, get_space
from ..runtime.device import resolve_device, set_numerics, tf32_in_effect
from .weights import WeightsInfo, pytorch_fid_hub, resolve_weights

__all__ = ["FEATURE_CODE_VERSION", "PRECISIONS", "SPACES", "Extractor", "FeatureSpace", "effective_precision",
           "fid_inception", "fid_preprocess", "get_space", "load_space", "thesis_inception", "thesis_preprocess",
           "to_rgb", "to_unit"]

# bump when the plumbing every space shares (to_unit, Extractor) changes; a space's own preprocessing or
# network has its registry entry's code_version (both are in the feature cache's key)
FEATURE_CODE_VERSION = 1
# opt-in speed: the networks under autocast in a lower precision (default fp32: the reference features), or in
# float32 on TF32 tensor cores (GPU only; hmogbench/runtime/device.py sets the switches); the registry's PRECISION_NAMES
PRECISIONS = {"fp32": None, "tf32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
INCEPTION_SIZE = 299


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """uint8 (B, C, H, W) in [0, 255] -> float32 / 255; float (B, C, H, W) in [0, 1] -> float32 as is."""
    if images.dtype == torch.uint8:
        return images.float() / 255
    if not images.is_floating_point():
        raise ValueError(f"images must be uint8 in [0, 255] or float in [0, 1], got dtype {images.dtype}")
    if images.numel() and (images.min() < 0 or images.max() > 1):
        raise ValueError(f"float images must lie in [0, 1], got values in [{images.min():.4g}, {images.max():.4g}]")
    return images.float()


def to_rgb(x: torch.Tensor) -> torch.Tensor:
    """(B, 1 or 3, H, W) -> (B, 3, H, W): gray repeated to 3 channels."""
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected images of shape (B, C, H, W) with C = 1 or 3, got {tuple(x.shape)}")
    return x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x


def fid_preprocess(images: torch.Tensor) -> torch.Tensor:
    """pytorch-fid's input -> float32 (B, 3, H, W) in [0, 1], gray to 3 channels (its InceptionV3 resizes to
    299 and maps to [-1, 1] itself)."""
    return to_rgb(to_unit(images))


def thesis_preprocess(images: torch.Tensor) -> torch.Tensor:
    """The thesis's input pipeline -> float32 (B, 3, 299, 299): [0, 1], gray to 3 channels, ImageNet
    mean/std normalisation, then bilinear resize (align_corners=False) of the normalised tensor."""
    x = to_rgb(to_unit(images))
    mean = torch.tensor(IMAGENET_MEAN, device=x.device).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device).view(1, 3, 1, 1)
    x = (x - mean) / std
    return F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)


@dataclass
class Extractor:
    """A loaded feature space: ``extractor(batch) -> float32 (B, D)`` on ``device``; ``model``: its network.

    ``precision`` 'bf16' / 'fp16' (opt-in, for speed): the network runs under ``torch.autocast`` in that type;
    features are returned as float32 either way. 'fp32' (the default) gives the reference features."""

    space: FeatureSpace
    weights: WeightsInfo | None
    device: torch.device
    forward: Callable[[torch.Tensor], torch.Tensor]
    model: nn.Module | None = None
    precision: str = "fp32"

    @torch.inference_mode()
    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        images = images.to(self.device)
        if PRECISIONS[self.precision] is None:
            return self.forward(images).float().flatten(1)
        with torch.autocast(self.device.type, dtype=PRECISIONS[self.precision]):
            return self.forward(images).float().flatten(1)


def fid_inception(weights: WeightsInfo) -> nn.Module:
    """pytorch-fid's ``InceptionV3`` returning [pool3 (B, 2048, 1, 1)], ``weights`` loaded through torch.hub."""
    from pytorch_fid.inception import InceptionV3

    with pytorch_fid_hub(weights.path):
        try:
            return InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]], resize_input=True, normalize_input=True)
        except Exception as exc:  # torch's unpickling / state-dict errors, re-raised with the file named
            raise ValueError(f"{weights.path}: not loadable as FID Inception weights "
                             f"(pytorch-fid's InceptionV3): {exc}") from exc


def _load_state_dict(path: Path) -> dict[str, torch.Tensor]:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a loadable torch state dict: {exc}") from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path}: expected a state dict (name -> tensor) of torchvision's inception_v3")
    return state


def thesis_inception(weights: WeightsInfo) -> nn.Module:
    """torchvision ``inception_v3`` with ``weights`` loaded (with or without AuxLogits), ``fc`` = identity."""
    import torchvision

    state = _load_state_dict(weights.path)
    aux = any(name.startswith("AuxLogits.") for name in state)
    classes = state["fc.weight"].shape[0] if "fc.weight" in state else 1000
    model = torchvision.models.inception_v3(weights=None, aux_logits=aux, init_weights=False,
                                            transform_input=True, num_classes=classes)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ValueError(f"{weights.path}: not torchvision inception_v3 weights (missing keys {missing[:3]}, "
                         f"unexpected keys {unexpected[:3]})")
    model.aux_logits, model.AuxLogits, model.fc = False, None, nn.Identity()
    return model


def effective_precision(requested: str, device: torch.device) -> str:
    """The precision the network really runs in: 'tf32' switches TF32 on, and it is what 'fp32' becomes on a
    GPU whose TF32 switches are on ($HMOGBENCH_TF32=1); on a CPU there is no TF32, so 'tf32' is 'fp32'."""
    if requested not in ("fp32", "tf32"):
        return requested
    if requested == "tf32" and device.type == "cuda":
        set_numerics(tf32=True)
    return "tf32" if tf32_in_effect(device) else "fp32"


def _function(name: str) -> Callable:
    """The function of this module a registry entry names (its ``preprocess`` or ``network``)."""
    function = globals().get(name)
    if not callable(function):
        raise ValueError(f"feature-space registry names {name!r}, expected a function of {__name__}")
    return function


def _features(output: torch.Tensor | list | tuple) -> torch.Tensor:
    """A network's output -> its features: the tensor, or the first of a list (pytorch-fid's blocks)."""
    return output[0] if isinstance(output, (list, tuple)) else output


def load_space(name: str, *, weights: str | Path | None = None, device: str | torch.device = "cpu",
               allow_download: bool = False, precision: str = "fp32", channels_last: bool = False,
               compile_mode: str | None = None) -> Extractor:
    """The ``Extractor`` of feature space ``name``, its network (if any) in eval mode on ``device``.

    Opt-in speed features, all off by default: ``precision`` 'bf16' or 'fp16' (autocast; features differ from
    fp32's by rounding, see benchmarks/bench_features.py), ``channels_last`` (the network's memory format),
    ``compile_mode`` (``torch.compile`` of the network with this mode, e.g. 'default' or 'max-autotune').
    A space computes in the first of its registry ``precisions`` any precision it has no option for (pixels:
    no network, nothing to round)."""
    space = get_space(name)
    device = resolve_device(device)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    precision = effective_precision(precision, device) if precision in space.precisions else space.precisions[0]
    preprocess = _function(space.preprocess)
    if space.weights is None and weights is not None:
        raise ValueError(f"feature space {name!r} takes no weights (got {weights})")
    info = resolve_weights(name, weights, allow_download=allow_download) if space.weights else None
    if space.network is None:
        return Extractor(space, info, device, preprocess, None, precision)
    model = _function(space.network)(info).to(device).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    network = torch.compile(model, mode=compile_mode) if compile_mode is not None else model
    return Extractor(space, info, device, lambda x: _features(network(preprocess(x))), model, precision)
