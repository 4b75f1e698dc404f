"""Training objectives, plugged into the one training loop (``hmogbench.training.loop``).

An objective says how many fakes to draw per step (``fake_batch``), how many D steps precede each
G step (``d_steps``), and computes the D and G losses; it may add an auxiliary step on a subset
of G's parameters (MEGAN's load balancing). Losses are scalars to minimise; every method returns
a dict whose 'loss' entry is differentiated and whose other entries are logged.

===========  ===================================================================================
wgan-gp      FC / ME / HME (thesis 5.2.3): critic -E[D(x)] + E[D(G(z))] + lambda * GP, two-sided
             penalty (lambda = 10); G: -E[D(G(z))].
ns           non-saturating GAN (toy ME/HME, as the authors' gan_toy.py): D: BCE(real, 1) +
             BCE(fake, 0); G: BCE(D(G(z)), 1).
madgan       D has K+1 classes (0 = real, k = generator k-1), thesis eq. 3.1: CE(real, 0) +
             CE(fake_k, k), each averaged over its own batch; G: -E[log D_0(G_k(z))] (eq. 3.2), by
             default as the authors computed it (``MADGAN_G_LOSSES``). All K generators get the same
             B z's, so D sees K*B fakes.
mgan         D emits [real/fake logit, K classifier logits]: D: BCE(real, 1) + BCE(fake, 0) +
             CE(classifier(fake), k); G: BCE(fake, 1) + beta * CE(classifier(fake), k). Each of the
             K generators gets the same B // K z's.
megan        ns losses through the Gumbel-selected generator, plus a load-balancing step on the
             gate and projector: MSE(batch mean of a soft Gumbel-softmax sample, 1/K).
===========  ===================================================================================

D sees the reals before the fakes in every D step, as in the authors' scripts (with BatchNorm in D the
order sets its running statistics).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

from ..models.generator import Generator
from ..models.heads import MEGANHead, gumbel_softmax
from .precision import full_precision


class FunctionalModule:
    """Base of a module view called with explicit parameters through ``torch.func`` (a batched group's member,
    ``training.stacked.BoundModule``). ``under_vmap``: it is being called inside ``torch.func.vmap``."""

    under_vmap: bool = False


def input_gradient(critic: nn.Module | FunctionalModule, x: torch.Tensor) -> torch.Tensor:
    """d sum(critic(x)) / dx, differentiable again (``create_graph``): the gradient penalty's inner gradient.

    A critic called inside ``torch.func.vmap`` (a ``FunctionalModule`` with ``under_vmap``) cannot use
    ``torch.autograd.grad`` there; it gets ``torch.func.grad``, which computes the same gradient (bit-identical
    for a plain module on the CPU) and also composes with the outer ``backward``. Plain modules keep
    ``torch.autograd.grad``, which allows BatchNorm's in-place running statistics (``torch.func.grad`` rejects
    them)."""
    if isinstance(critic, FunctionalModule) and critic.under_vmap:
        return torch.func.grad(lambda v: critic(v).sum())(x)
    x = x.requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return grad


def penalty_alpha(real: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """The interpolation weights a ~ U(0, 1), one per sample, shaped to broadcast over ``real``'s sample."""
    return torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype,
                      generator=generator)


def gradient_penalty(
    critic: nn.Module, real: torch.Tensor, fake: torch.Tensor, norm: str = "channel", weight: float = 10.0,
    alpha: torch.Tensor | None = None,
) -> torch.Tensor:
    """Two-sided WGAN-GP penalty weight * E[(||grad D(x_hat)|| - 1)^2] on x_hat = a*real + (1-a)*fake,
    a ~ U(0, 1) per sample (``alpha``; drawn from torch's global RNG when not given).

    norm='sample':  ||.|| over each sample's whole gradient (Gulrajani et al. 2017).
    norm='channel': ||.|| over dim 1 only, as the authors' ``grad.norm(2, dim=1)``; for images
        (B, C, H, W) this is a norm per pixel over channels, averaged over B*H*W. For flat (B, F)
        inputs both choices coincide.

    At least in float32, also inside a bf16 run's autocast (``precision.full_precision``): x_hat is cast up to
    float32 (float64 stays) and the critic's forward, its input gradient and the double backward through it run
    without autocast.
    """
    if alpha is None:
        alpha = penalty_alpha(real)
    with full_precision(real):
        x_hat = alpha * real + (1 - alpha) * fake
        grad = input_gradient(critic, x_hat.to(torch.promote_types(x_hat.dtype, torch.float32)))
        if norm == "sample":
            grad_norm = grad.flatten(1).norm(2, dim=1)
        elif norm == "channel":
            grad_norm = grad.norm(2, dim=1)
        else:
            raise ValueError(f"gp_norm must be 'channel' or 'sample', got {norm!r}")
        return weight * ((grad_norm - 1) ** 2).mean()


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))


def _bce_on_softmax(logits: torch.Tensor) -> torch.Tensor:
    """The authors' train_madgan.py: nn.BCELoss on softmax(logits)[:, 0] with target 1."""
    p_real = torch.softmax(logits, dim=1)[:, 0]
    return F.binary_cross_entropy(p_real, torch.ones_like(p_real))


def _minus_log_softmax(logits: torch.Tensor) -> torch.Tensor:
    """-mean log_softmax(logits)[:, 0]: -E[log D_0] without saturation."""
    return -F.log_softmax(logits, dim=1)[:, 0].mean()


# MADGAN's generator loss -E[log D_0] from D's (N, K+1) logits, by the name of config key madgan_g_loss.
# 'bce-softmax' (the authors' code, the default) has the same value as 'log-softmax', but BCELoss's backward
# divides by max(p_0 (1 - p_0), 1e-12) and its log is clamped at -100: the gradient vanishes once
# p_0 < ~1e-12 (a logit gap of ~27 and more), where 'log-softmax' keeps a gradient of ~1.
MADGAN_G_LOSSES = {"bce-softmax": _bce_on_softmax, "log-softmax": _minus_log_softmax}


@contextlib.contextmanager
def batch_norm_stats_kept(module: nn.Module) -> Iterator[None]:
    """Forwards of ``module`` inside leave no trace in its BatchNorm running statistics.

    Inside, every BatchNorm buffer (running mean and variance, ``num_batches_tracked``) is a copy, which the
    forwards update as usual, so outputs are those of the same train-mode call; on exit the module holds
    its own tensors again, untouched. (Restoring values in place instead would break the backward:
    BatchNorm's autograd node keeps the running statistics and checks they were not modified.)"""
    buffers = [(m, name, b) for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
               for name, b in m.named_buffers(recurse=False)]
    for m, name, b in buffers:
        setattr(m, name, b.clone())
    try:
        yield
    finally:
        for m, name, b in buffers:
            setattr(m, name, b)


class Objective:
    """Base class: one fake per real, one D step per G step, no auxiliary step.

    ``batchable``: whether several runs of this objective can train as one batched group
    (``hmogbench.training.stacked``): the losses may only call ``G(z)`` and ``D(x)`` and must draw no random
    numbers themselves (the loop draws them per run: z, and ``d_noise``)."""

    name = "base"
    batchable = False

    def __init__(self, d_steps: int):
        self.d_steps = d_steps

    def fake_batch(self, batch_size: int) -> int:
        """Number of z to draw for a step with ``batch_size`` reals."""
        return batch_size

    def d_noise(self, real: torch.Tensor, generator: torch.Generator | None) -> dict[str, torch.Tensor]:
        """Random tensors the D loss needs besides z, drawn by the loop from the run's ``generator``
        (None: the global RNG) right after that step's z, and passed to ``d_loss`` as keywords."""
        return {}

    def d_loss(self, G: Generator, D: nn.Module, real: torch.Tensor, z: torch.Tensor,
               **noise: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def g_loss(self, G: Generator, D: nn.Module, z: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def aux_parameters(self, G: Generator) -> list[nn.Parameter]:
        """Parameters of an auxiliary optimiser stepped after each G step (none by default)."""
        return []

    def aux_loss(self, G: Generator, z: torch.Tensor) -> dict[str, torch.Tensor]:
        raise NotImplementedError


class WGANGP(Objective):
    name = "wgan-gp"
    batchable = True

    def __init__(self, d_steps: int = 5, gp_weight: float = 10.0, gp_norm: str = "channel"):
        super().__init__(d_steps)
        self.gp_weight, self.gp_norm = gp_weight, gp_norm

    def d_noise(self, real, generator):
        return {"alpha": penalty_alpha(real, generator)}

    def d_loss(self, G, D, real, z, alpha=None):
        with torch.no_grad():
            fake = G(z)
        d_real, d_fake = D(real).mean(), D(fake).mean()
        gp = gradient_penalty(D, real, fake, self.gp_norm, self.gp_weight, alpha)
        return {"loss": d_fake - d_real + gp, "wdist": (d_real - d_fake).detach(), "gp": gp.detach()}

    def g_loss(self, G, D, z):
        return {"loss": -D(G(z)).mean()}


class NonSaturating(Objective):
    name = "ns"
    batchable = True

    def d_loss(self, G, D, real, z):
        with torch.no_grad():
            fake = G(z)
        return {"loss": _bce(D(real), 1.0) + _bce(D(fake), 0.0)}

    def g_loss(self, G, D, z):
        return {"loss": _bce(D(G(z)), 1.0)}


class MADGAN(Objective):  # not batchable: calls G.forward_all_heads; its models use BatchNorm
    name = "madgan"

    def __init__(self, d_steps: int, g_loss: str = "bce-softmax"):
        super().__init__(d_steps)
        if g_loss not in MADGAN_G_LOSSES:
            raise ValueError(f"madgan_g_loss must be one of {tuple(MADGAN_G_LOSSES)}, got {g_loss!r}")
        self.g_loss_kind = g_loss

    def d_loss(self, G, D, real, z):
        with torch.no_grad():
            fake, labels = G.forward_all_heads(z)
        real_labels = torch.zeros(real.shape[0], dtype=torch.long, device=real.device)
        loss = F.cross_entropy(D(real), real_labels) + F.cross_entropy(D(fake), labels + 1)
        return {"loss": loss}

    def g_loss(self, G, D, z):
        fake, _ = G.forward_all_heads(z)
        return {"loss": MADGAN_G_LOSSES[self.g_loss_kind](D(fake))}


class MGAN(Objective):
    name = "mgan"

    def __init__(self, d_steps: int, num_generators: int, beta: float = 1.0):
        super().__init__(d_steps)
        self.num_generators, self.beta = num_generators, beta

    def fake_batch(self, batch_size):
        return batch_size // self.num_generators

    def d_loss(self, G, D, real, z):
        with torch.no_grad():
            fake, labels = G.forward_all_heads(z)
        real_loss = _bce(D(real)[:, 0], 1.0)  # reals through D first, as train_mgan.py
        out_fake = D(fake)
        classify = F.cross_entropy(out_fake[:, 1:], labels)
        loss = real_loss + _bce(out_fake[:, 0], 0.0) + classify
        return {"loss": loss, "classify": classify.detach()}

    def g_loss(self, G, D, z):
        fake, labels = G.forward_all_heads(z)
        out = D(fake)
        classify = F.cross_entropy(out[:, 1:], labels)
        return {"loss": _bce(out[:, 0], 1.0) + self.beta * classify, "classify": classify.detach()}


class MEGAN(NonSaturating):
    """ns losses; after each G step a separate optimiser on the gate and projector minimises
    weight * MSE(mean_b softGumbel(logits(z))_b, 1/K) for the G step's z (fresh Gumbel noise).

    The authors reuse the G step's logits tensor; we recompute them for the same z after the G
    update, since backpropagating through parameters modified in place is an error in current
    PyTorch. The two differ by one Adam step of the gate. The recomputation leaves the experts'
    BatchNorm statistics as they were: in the authors' loop only the D and G steps' forwards update them."""

    name = "megan"
    batchable = False  # Gumbel noise drawn inside G from the global RNG; BatchNorm; an auxiliary optimiser

    def __init__(self, d_steps: int = 5, balance_weight: float = 1.0):
        super().__init__(d_steps)
        self.balance_weight = balance_weight

    @staticmethod
    def _head(G: Generator) -> MEGANHead:
        if not isinstance(G.head, MEGANHead):
            raise TypeError(f"the megan objective needs a MEGAN generator, not {type(G.head).__name__}")
        return G.head

    def aux_parameters(self, G):
        return self._head(G).balance_parameters()

    def aux_loss(self, G, z):
        head = self._head(G)
        with batch_norm_stats_kept(head.experts):
            h_all = head.experts.all_heads(z)
        logits = head.gate_logits(z, h_all)
        usage = gumbel_softmax(logits, head.tau, hard=False).mean(dim=0)
        uniform = torch.full_like(usage, 1.0 / usage.shape[0])
        return {"loss": self.balance_weight * F.mse_loss(usage, uniform)}


def build_objective(
    name: str,
    d_steps: int,
    num_generators: int = 1,
    gp_weight: float = 10.0,
    gp_norm: str = "channel",
    mgan_beta: float = 1.0,
    megan_balance_weight: float = 1.0,
    madgan_g_loss: str = "bce-softmax",
) -> Objective:
    """The objective called ``name`` (one of config.OBJECTIVES)."""
    if name == "wgan-gp":
        return WGANGP(d_steps, gp_weight, gp_norm)
    if name == "ns":
        return NonSaturating(d_steps)
    if name == "madgan":
        return MADGAN(d_steps, madgan_g_loss)
    if name == "mgan":
        return MGAN(d_steps, num_generators, mgan_beta)
    if name == "megan":
        return MEGAN(d_steps, megan_balance_weight)
    raise ValueError(f"unknown objective {name!r}")


def objective_of(cfg) -> Objective:
    """The objective of an image run's ``config.TrainConfig`` ``cfg``: its resolved objective and D steps, its
    spec's generators and the objective settings (``gp_lambda``, ``gp_norm``, ``mgan_beta``, ...)."""
    return build_objective(cfg.resolved_objective, cfg.resolved_d_steps, cfg.spec.num_generators, cfg.gp_lambda,
                           cfg.gp_norm, cfg.mgan_beta, cfg.megan_balance_weight, cfg.madgan_g_loss)
