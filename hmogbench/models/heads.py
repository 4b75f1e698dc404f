"""First-layer heads: z (B, z_dim) -> h (B, out_features), the input of the shared trunk.

Only the head differs between the thesis's models; the trunk (``trunk.py``) is shared. The
"Param." column of Tables 5.3-5.12 counts exactly the parameters of these modules.

===========  ==============================================================================
``fc``       Linear -> ReLU (the baseline; thesis Tables 5.1/5.2, first row).
``me``       softmax gate on z, K constant or linear leaves, no activation after the mixture.
``hme``      sigmoid tree gate on z, 2^d constant or linear leaves, no activation after it.
``madgan``   K Linear first layers -> ReLU -> BatchNorm (one BN over all K*out features).
``mgan``     same generator as madgan (the methods differ in the discriminator and loss).
``megan``    madgan's K first layers, plus a gate on [projected first-layer features, z] with
             straight-through Gumbel-softmax hard selection of one generator per sample.
===========  ==============================================================================
"""

from __future__ import annotations

from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from .gating import SoftmaxGating, TreeGating
from .init import kaiming_normal_, randn_times
from .leaves import ConstantLeaves, LinearLeaves
from .spec import ModelSpec


class HeadOutput(NamedTuple):
    """h: (B, out) trunk input. weights: (B, L) mixture weights (ME/HME) or one-hot choice
    (multi-generator heads), None for FC. logits: (B, K) MEGAN gate logits, else None."""

    h: torch.Tensor
    weights: torch.Tensor | None = None
    logits: torch.Tensor | None = None


class FCHead(nn.Module):
    """Baseline: h = ReLU(W z + b). Initialised N(0, 0.02) with the trunk (``init.py``)."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, z: torch.Tensor) -> HeadOutput:
        return HeadOutput(F.relu(self.linear(z)))


class MixtureHead(nn.Module):
    """ME or HME head: h = sum_l a_l(z) G_l(z) (thesis eq. 4.2, 4.6). No activation follows,
    as in the authors' ``MixtureDecoder``."""

    def __init__(self, gating: SoftmaxGating | TreeGating, leaves: ConstantLeaves | LinearLeaves):
        super().__init__()
        self.gating = gating
        self.leaves = leaves

    @property
    def num_leaves(self) -> int:
        return self.gating.num_leaves

    def forward(self, z: torch.Tensor) -> HeadOutput:
        weights = self.gating(z)
        return HeadOutput(self.leaves(z, weights), weights)


class MultiHead(nn.Module):
    """K separate first layers (MADGAN / MGAN generators, MEGAN experts).

    Image models (``hidden=None``): h_k = BN(ReLU(z W_k + b_k)). The BatchNorm1d spans all K*out
    features, i.e. separate statistics and affine parameters per generator and unit, as in the
    authors' ``MADGAN`` (BN after the activation). Weights are He-normal, biases zero.
    Toy models (``hidden=H``): h_k = Tanh(z W_k + b_k) U_k + c_k, the authors' per-generator
    ``MultiLinear`` MLP [in, H, out]; no BatchNorm.
    """

    def __init__(self, num_generators: int, in_features: int, out_features: int, hidden: int | None = None):
        super().__init__()
        self.num_generators = num_generators
        first = out_features if hidden is None else hidden
        self.weight = nn.Parameter(randn_times(num_generators, in_features, first, factor=(2.0 / in_features) ** 0.5))
        self.bias = nn.Parameter(torch.zeros(num_generators, first))
        if hidden is None:
            self.norm = nn.BatchNorm1d(num_generators * out_features)
        else:
            self.weight2 = nn.Parameter(randn_times(num_generators, hidden, out_features, factor=(2.0 / hidden) ** 0.5))
            self.bias2 = nn.Parameter(torch.zeros(num_generators, out_features))
        self.hidden = hidden

    def all_heads(self, z: torch.Tensor) -> torch.Tensor:
        """(B, in) -> (B, K, out): every generator's first-layer output for every z."""
        h = torch.einsum("bi,kio->bko", z, self.weight) + self.bias
        if self.hidden is not None:
            return torch.einsum("bkh,kho->bko", torch.tanh(h), self.weight2) + self.bias2
        h = F.relu(h)
        return self.norm(h.flatten(1)).view_as(h)

    def forward(self, z: torch.Tensor, index: torch.Tensor | None = None) -> HeadOutput:
        """Sample i uses generator ``index[i]``; default i mod K, an exactly balanced uniform
        mixture (the authors sample all K generators equally and shuffle)."""
        h_all = self.all_heads(z)
        if index is None:
            index = torch.arange(z.shape[0], device=z.device) % self.num_generators
        one_hot = F.one_hot(index, self.num_generators).to(h_all.dtype)
        return HeadOutput(h_all[torch.arange(z.shape[0], device=z.device), index], one_hot)


def gumbel_softmax(logits: torch.Tensor, tau: float = 1.0, hard: bool = True) -> torch.Tensor:
    """Gumbel-softmax sample of (B, K) logits; ``hard`` gives the straight-through estimator
    (one-hot forward value, soft gradient). Uses the global torch RNG."""
    u = torch.rand_like(logits)
    gumbel = -torch.log(-torch.log(u + 1e-20) + 1e-20)
    soft = torch.softmax((logits + gumbel) / tau, dim=1)
    if not hard:
        return soft
    hard_one_hot = F.one_hot(soft.argmax(dim=1), logits.shape[1]).to(soft.dtype)
    return hard_one_hot - soft.detach() + soft


class MEGANHead(nn.Module):
    """MEGAN as the thesis code ran it (thesis 3.3, paper Fig. 3; authors' ``MEGANGen`` after
    commit 315767a "megan was wrong", which mixes first-layer outputs, not whole images).

    The K experts' first-layer outputs h_k (B, K, out) are projected by one shared
    Linear(out -> z_dim) (no activation); the gate is Linear(z_dim*(K+1) -> K) on
    [proj(h_1), ..., proj(h_K), z]; a straight-through Gumbel-softmax sample (temperature ``tau``)
    selects one expert per sample: h = sum_k g_k h_k.
    """

    def __init__(
        self, num_generators: int, in_features: int, out_features: int, tau: float = 1.0, hidden: int | None = None
    ):
        super().__init__()
        self.num_generators = num_generators
        self.tau = tau
        self.experts = MultiHead(num_generators, in_features, out_features, hidden=hidden)
        self.projector = nn.Linear(out_features, in_features)
        self.gate = nn.Linear(in_features * (num_generators + 1), num_generators)
        for layer in (self.projector, self.gate):  # the authors' Linear wrapper: He-normal, bias 0
            kaiming_normal_(layer.weight, nonlinearity="relu")
            nn.init.zeros_(layer.bias)

    def gate_logits(self, z: torch.Tensor, h_all: torch.Tensor) -> torch.Tensor:
        """z (B, in), h_all (B, K, out) -> gate logits (B, K)."""
        features = torch.cat((self.projector(h_all).flatten(1), z), dim=1)
        return self.gate(features)

    def forward(self, z: torch.Tensor) -> HeadOutput:
        h_all = self.experts.all_heads(z)
        logits = self.gate_logits(z, h_all)
        choice = gumbel_softmax(logits, self.tau, hard=True)
        h = torch.einsum("bk,bko->bo", choice, h_all)
        return HeadOutput(h, choice, logits)

    def balance_parameters(self) -> list[nn.Parameter]:
        """Parameters the separate load-balancing step updates (gate and projector)."""
        return [*self.gate.parameters(), *self.projector.parameters()]


def fc_head(spec: ModelSpec, in_features: int, out_features: int, **_) -> FCHead:
    """The FC baseline's Linear -> ReLU."""
    return FCHead(in_features, out_features)


def mixture_head(spec: ModelSpec, in_features: int, out_features: int, **_) -> MixtureHead:
    """ME / HME: the family's gate (softmax over K, or a depth-d tree) over constant or linear leaves."""
    k = spec.num_generators
    gating = SoftmaxGating(in_features, k) if spec.entry.gating == "softmax" else TreeGating(in_features, spec.size)
    if spec.leaves == "constant":
        return MixtureHead(gating, ConstantLeaves(k, out_features))
    return MixtureHead(gating, LinearLeaves(k, in_features, out_features))


def multi_head(spec: ModelSpec, in_features: int, out_features: int, hidden: int | None = None, **_) -> MultiHead:
    """MADGAN / MGAN: K separate first layers."""
    return MultiHead(spec.num_generators, in_features, out_features, hidden=hidden)


def megan_head(spec: ModelSpec, in_features: int, out_features: int, megan_tau: float = 1.0,
               hidden: int | None = None) -> MEGANHead:
    """MEGAN: K experts and a Gumbel-softmax gate at temperature ``megan_tau``."""
    return MEGANHead(spec.num_generators, in_features, out_features, tau=megan_tau, hidden=hidden)


def build_head(
    spec: ModelSpec, in_features: int, out_features: int, megan_tau: float = 1.0, hidden: int | None = None
) -> nn.Module:
    """The first layer of ``spec`` (its registry entry's ``head``), mapping (B, in_features) to (B, out_features).

    ``hidden`` only affects the multi-generator heads: the toy experiments' per-generator MLP."""
    return spec.entry.head_builder()(spec, in_features, out_features, megan_tau=megan_tau, hidden=hidden)
