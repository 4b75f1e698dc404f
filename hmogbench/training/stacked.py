"""Several seeds of one configuration as one batched model (``StackedRuns``, the ``Replicas`` of a group).

The thesis's grid trains every configuration with 5 seeds. Its models are small (a DCGAN trunk at batch
128), so on a GPU one run is bound by kernel launches and Python, not by arithmetic: S runs of one shape
stacked into one model cost little more per step than one run.

Design: ``torch.func.stack_module_state`` stacks each parameter of the S seeds' G (and D) into one
(S, ...) leaf tensor; a step maps the objective's per-run loss over the runs with ``torch.func.vmap``
(``functional_call`` of the shared module structure with each run's slice). Chosen over hand-written
grouped convolutions because it batches every head (FC, ME, HME, constant and linear leaves) and the
objective itself with no second copy of the model code: the objective, written for one run, is the
function that is vmapped, and a new head needs no batched twin. The one piece a batched critic changes
is the gradient penalty's inner gradient, which inside ``vmap`` is taken with ``torch.func.grad``
(``objectives.input_gradient``, for a ``FunctionalModule`` under vmap); the outer ``backward`` then runs
through it as through the plain double backward.

Gradients: the loop backpropagates the sum of the per-seed losses; seeds share no parameter, so each seed's
slice of a stacked gradient is its own gradient. Optimiser: Adam (amsgrad) is elementwise, so one Adam over
the stacked parameters is S Adams (tested). Parameters and optimiser state go to checkpoints sliced per seed,
in the layout of a run alone: a seed resumes alone or in a group alike.

Two ways to map over the runs (``mode``):
- ``vmap``: the fast path (default on CUDA). Batched kernels (bmm, grouped convolutions) round
  differently from the per-run kernels, so a batched seed matches the seed alone to float tolerance
  (tests: losses to ~1e-5 relative after a few steps on the CPU), not bit for bit.
- ``loop``: the runs' losses one after another in Python, on slices of the same stacked parameters (the
  default on the CPU): bit-identical to each seed trained alone, with one optimiser step for all.
``compile_mode`` (opt-in) wraps the vmapped losses in ``torch.compile`` (e.g. 'default', or
'reduce-overhead' for CUDA graphs).
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import torch
from torch import nn
from torch.func import functional_call, stack_module_state, vmap

from .checkpoints import ResumeError
from .objectives import FunctionalModule, Objective
from .replicas import LossFn, StateDicts

def batch_norm_in(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class BoundModule(FunctionalModule):
    """One run's view of a stacked module: the shared structure called with this run's parameters.

    Only the forward is available (``G(z)``, ``D(x)``); plain attributes such as ``z_dim`` read through.
    ``under_vmap`` (inside ``vmap``) tells ``objectives.input_gradient`` to differentiate with ``torch.func``."""

    def __init__(self, base: nn.Module, params: dict[str, torch.Tensor], buffers: dict[str, torch.Tensor],
                 under_vmap: bool):
        self._base, self._tensors, self.under_vmap = base, {**params, **buffers}, under_vmap

    def __call__(self, *args: Any) -> Any:
        return functional_call(self._base, self._tensors, args)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._base, name)
        if callable(value) or isinstance(value, (torch.Tensor, nn.Module)):
            raise AttributeError(f"{name!r}: a batched run's module offers its forward and plain attributes only")
        return value


class StackedModule:
    """S modules of one architecture as one: each parameter stacked into one (S, ...) leaf tensor.

    Buffers are shared by the runs and must be equal in every module (constants, such as the tree gate's
    paths; running statistics are not batchable)."""

    def __init__(self, modules: list[nn.Module]):
        if not modules:
            raise ValueError("nothing to stack")
        params, _ = stack_module_state(modules)
        # nn.Parameter: torch.compile's CUDA graphs keep parameters at static addresses (no copy per call)
        self.params = {name: nn.Parameter(p.detach()) for name, p in params.items()}
        self.buffers = dict(modules[0].named_buffers())
        for module in modules[1:]:
            for name, value in module.named_buffers():
                if not torch.equal(value, self.buffers[name]):
                    raise ValueError(f"buffer {name!r} differs between the stacked modules; it cannot be shared")
        self.state_keys = list(modules[0].state_dict())
        self.base = copy.deepcopy(modules[0]).to("meta")
        self.size = len(modules)

    def to(self, device: torch.device) -> None:
        for p in self.params.values():
            p.data = p.data.to(device)
        self.buffers = {name: b.to(device) for name, b in self.buffers.items()}

    def parameters(self) -> list[torch.Tensor]:
        return list(self.params.values())

    def member(self, run: int) -> BoundModule:
        return BoundModule(self.base, {n: p[run] for n, p in self.params.items()}, self.buffers, under_vmap=False)

    def bound(self, params: dict[str, torch.Tensor]) -> BoundModule:
        """Inside vmap: the run whose parameters are ``params`` (one run's slices)."""
        return BoundModule(self.base, params, self.buffers, under_vmap=True)

    def state_dict(self, run: int) -> dict[str, torch.Tensor]:
        """Run ``run``'s state dict, as ``module.state_dict()`` of that run alone (copies, not views)."""
        return {k: (self.params[k][run] if k in self.params else self.buffers[k]).detach().clone()
                for k in self.state_keys}

    @torch.no_grad()
    def load_state_dicts(self, states: list[dict[str, torch.Tensor]]) -> None:
        for state in states:
            if set(state) != set(self.state_keys):
                raise ResumeError(f"state dict keys differ from the model's: {sorted(set(state) ^ set(self.state_keys))}")
        for name, p in self.params.items():
            p.copy_(torch.stack([state[name] for state in states]))
        for name in self.state_keys:
            if name in self.buffers and any(not torch.equal(s[name].to(self.buffers[name].device), self.buffers[name])
                                            for s in states):
                raise ResumeError(f"buffer {name!r} of a checkpoint differs from the model's")


class StackedRuns:
    """``Replicas`` of S runs: G and D of every run stacked (see the module text)."""

    def __init__(self, Gs: list[nn.Module], Ds: list[nn.Module], mode: str = "vmap",
                 compile_mode: str | None = None):
        if len(Gs) != len(Ds) or not Gs:
            raise ValueError(f"need as many generators as discriminators, at least one: {len(Gs)}, {len(Ds)}")
        if mode not in ("vmap", "loop"):
            raise ValueError(f"mode must be 'vmap' or 'loop', got {mode!r}")
        if compile_mode is not None and mode != "vmap":
            raise ValueError("compile_mode needs mode 'vmap'")
        for module in (*Gs, *Ds):
            if batch_norm_in(module):
                raise ValueError("models with BatchNorm cannot be batched (running statistics)")
        self.G, self.D = StackedModule(Gs), StackedModule(Ds)
        self.size, self.mode, self.compile_mode = len(Gs), mode, compile_mode
        self._z_dim = Gs[0].z_dim
        self._mapped: dict[Any, Callable] = {}

    @property
    def z_dim(self) -> int:
        return self._z_dim

    def to(self, device: torch.device) -> None:
        self.G.to(device)
        self.D.to(device)

    def train(self) -> None:
        self.G.base.train()
        self.D.base.train()

    def g_parameters(self) -> list[torch.Tensor]:
        return self.G.parameters()

    def d_parameters(self) -> list[torch.Tensor]:
        return self.D.parameters()

    def aux_parameters(self, objective: Objective) -> list[torch.Tensor]:
        if objective.aux_parameters.__func__ is not Objective.aux_parameters:
            raise ValueError(f"objective {objective.name!r} has an auxiliary step: not batchable")
        return []

    def _vmapped(self, fn: LossFn) -> Callable:
        if fn not in self._mapped:
            G, D = self.G, self.D

            def one_run(g_params, d_params, args, noise):
                return fn(G.bound(g_params), D.bound(d_params), *args, **noise)

            mapped = vmap(one_run)
            if self.compile_mode is not None:
                mapped = torch.compile(mapped, mode=self.compile_mode)
            self._mapped[fn] = mapped
        return self._mapped[fn]

    def apply(self, fn: LossFn, *args: list[torch.Tensor],
              noise: list[dict[str, torch.Tensor]] | None = None) -> dict[str, torch.Tensor]:
        noise = noise or [{} for _ in range(self.size)]
        if self.mode == "loop":
            outs = [fn(self.G.member(r), self.D.member(r), *(a[r] for a in args), **noise[r])
                    for r in range(self.size)]
            return {k: torch.stack([o[k] for o in outs]) for k in outs[0]}
        if self.compile_mode is not None and "reduce-overhead" in self.compile_mode:
            torch.compiler.cudagraph_mark_step_begin()
        stacked_noise = {k: torch.stack([n[k] for n in noise]) for k in noise[0]}
        return self._vmapped(fn)(self.G.params, self.D.params, [torch.stack(a) for a in args], stacked_noise)

    def state_dicts(self) -> StateDicts:
        return [(self.G.state_dict(r), self.D.state_dict(r)) for r in range(self.size)]

    def load_state_dicts(self, states: StateDicts) -> None:
        self.G.load_state_dicts([g for g, _ in states])
        self.D.load_state_dicts([d for _, d in states])

    def split_optimizer_state(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        """Stacked (S, ...) state tensors are sliced per run; 0-d ones (Adam's step count) are shared."""
        return [{"state": {i: {k: (v[r].clone() if torch.is_tensor(v) and v.dim() > 0 else copy.deepcopy(v))
                               for k, v in entry.items()} for i, entry in state["state"].items()},
                 "param_groups": copy.deepcopy(state["param_groups"])} for r in range(self.size)]

    def merge_optimizer_states(self, states: list[dict[str, Any]]) -> dict[str, Any]:
        first = states[0]
        for other in states[1:]:
            if other["param_groups"] != first["param_groups"] or other["state"].keys() != first["state"].keys():
                raise ResumeError("the runs' optimiser settings or states differ in layout; they cannot be stacked")
        merged = {}
        for i, entry in first["state"].items():
            merged[i] = {}
            for k, v in entry.items():
                values = [s["state"][i][k] for s in states]
                if torch.is_tensor(v) and v.dim() > 0:
                    merged[i][k] = torch.stack(values)
                else:
                    if any(not (torch.equal(x, v) if torch.is_tensor(v) else x == v) for x in values):
                        raise ResumeError(f"optimiser state {k!r} differs between the runs ({values}); "
                                          "they cannot be stacked")
                    merged[i][k] = v
        return {"state": merged, "param_groups": copy.deepcopy(first["param_groups"])}
