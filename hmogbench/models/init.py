"""The weight initialisers the models use, as ``torch.nn.init``'s but doing nothing to a meta tensor.

Models are also built on the meta device, for their structure only (the training preflight, the batching check,
FLOP counts). There torch's ``normal_`` runs Python reference kernels whose first call imports ``torch._dynamo``
(about 1.5 s of a process's start-up), and a meta tensor has no values to set. On a real tensor these are exactly
``nn.init``'s functions: the same values and the same random numbers drawn."""

from __future__ import annotations

import torch
from torch import nn


def normal_(tensor: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    return tensor if tensor.is_meta else nn.init.normal_(tensor, mean=mean, std=std)


def kaiming_normal_(tensor: torch.Tensor, nonlinearity: str = "leaky_relu") -> torch.Tensor:
    return tensor if tensor.is_meta else nn.init.kaiming_normal_(tensor, nonlinearity=nonlinearity)


def randn_times(*shape: int, factor: float) -> torch.Tensor:
    """``torch.randn(*shape) * factor`` (a meta tensor: no product)."""
    x = torch.randn(*shape)
    return x if x.is_meta else x * factor


def randn_over(*shape: int, divisor: float) -> torch.Tensor:
    """``torch.randn(*shape) / divisor`` (a meta tensor: no quotient)."""
    x = torch.randn(*shape)
    return x if x.is_meta else x / divisor
