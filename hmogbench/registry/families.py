"""The model families of the thesis, and the objectives they train with, in one registry. Torch-free.

Model names (thesis Tables 5.3-5.12): FC, ME-K, HME-d, ME-L-K, HME-L-d, MADGAN-K, MGAN-K, MEGAN-K, where K
is the number of generators (leaves) and d the depth of a tree of 2^d leaves; "-L" means linear leaves.

Adding a family is one ``Family`` entry in ``FAMILIES`` (plus its head builder if it has a new head, and its
tests). Everything else follows from the entry: ``ModelSpec`` parsing and validation, the workflow's model
wildcard and config-schema patterns (``name_pattern``; ``python -m hmogbench.workflow.config_schema --write``), the
objective and its step counts, BatchNorm and D's layout (``models/generator.py``), the head
(``models/heads.py``), FLOP counts (``flops.py``, per objective), job sizes (``job_resources.py``), the toy
runs' objective and learning rate, and whether the seeds of a run can train batched.

The head and its parameters are built lazily (``Family.head`` names a function, imported on use), so this
module, and ``job_resources`` and the Snakefile that import it, never import torch.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass

LEAF_KINDS = ("constant", "linear")
SIZE_KINDS = (None, "generators", "depth")  # what a name's number means: nothing (FC), K generators, depth d


@dataclass(frozen=True)
class ObjectiveDefaults:
    """What the authors' scripts ran an objective with.

    steps: generator steps when config ``steps`` is null; d_steps: D steps per generator step;
    all_generators_per_z: every generator draws a fake from each of the B z's (D sees K*B fakes, MADGAN)."""

    name: str
    steps: int
    d_steps: int
    all_generators_per_z: bool = False


# Training length in generator steps (authors' run scripts, MNIST, 60,000 images, batch 128):
#   FC/ME/HME (run.sh):  250 critic epochs of 60000 // (128 * 5) = 93 G steps  -> 23,250
#   MADGAN/MGAN (mad.sh, mgan.sh): 50 epochs of 60000 // 128 = 468 G steps   -> 23,400
#   MEGAN (megan.sh, c_iter 5):    50 epochs of 60000 // (128 * 5) = 93      ->  4,650
# No length is recorded for the other sets. We use the same number of generator steps on every
# set (the MNIST budget in updates), not the same number of epochs: 250 epochs would be ~75k
# steps on CelebA but only ~2.8k on Flowers' 7,198 training images.
OBJECTIVES: dict[str, ObjectiveDefaults] = {o.name: o for o in (
    ObjectiveDefaults("wgan-gp", steps=250 * 93, d_steps=5),
    ObjectiveDefaults("ns", steps=250 * 93, d_steps=1),
    ObjectiveDefaults("madgan", steps=50 * 468, d_steps=1, all_generators_per_z=True),
    ObjectiveDefaults("mgan", steps=50 * 468, d_steps=1),
    ObjectiveDefaults("megan", steps=50 * 93, d_steps=5),
)}

_BATCH_NORM_REASON = ("{name} uses BatchNorm in G and D, whose running statistics vmap cannot update per seed; "
                      "the seeds train one by one")


@dataclass(frozen=True)
class Family:
    """One model family: how its names read, what it builds, how it trains.

    key:        ``ModelSpec.family`` ('hme'); the printed name is ``key.upper()``.
    size:       what the name's number means: None (no number), 'generators' (K) or 'depth' (d, 2^d leaves).
    head:       'module:function' building the first layer, called as
                ``f(spec, in_features, out_features, megan_tau=..., hidden=...) -> nn.Module`` (z (B, in) -> h).
    objective:  the objective the thesis trained it with (a key of ``OBJECTIVES``).
    toy_objective: the objective of its toy runs (authors' *_toy.py).
    leaf_kinds: the leaf kinds its names allow ('linear' = the "-L" names).
    gating:     'softmax' / 'tree' for the gated mixtures of leaves (ME / HME: gates to interpret), else None.
    batch_norm: BatchNorm in G's trunk and 'batch' D norm by default (else D's norm is 'layer').
    d_norm_after_activation: D normalises after the activation (authors' ConvEncoder2 / MGANDisc), else before.
    d_classifies_generators: D emits 1 + K logits (real/fake or class 0, and one per generator), else 1.
    init_head_normal: the head is re-initialised N(0, 0.02) like the trunk (the FC baseline).
    toy_lr_g_factor: toy runs' G learning rate = factor x D's (8 for ME/HME, ``lr*8`` in gan_toy.py).
    unbatchable: why the seeds of a run cannot train as one vmap-batched model (None: they can).
    """

    key: str
    size: str | None
    head: str
    objective: str
    toy_objective: str
    leaf_kinds: tuple[str, ...] = ("constant",)
    gating: str | None = None
    batch_norm: bool = False
    d_norm_after_activation: bool = False
    d_classifies_generators: bool = False
    init_head_normal: bool = False
    toy_lr_g_factor: float = 1.0
    unbatchable: str | None = None

    def __post_init__(self):
        if self.size not in SIZE_KINDS or not set(self.leaf_kinds) <= set(LEAF_KINDS):
            raise ValueError(f"family {self.key!r}: size {self.size!r} or leaf kinds {self.leaf_kinds!r} unknown")
        if self.objective not in OBJECTIVES or self.toy_objective not in OBJECTIVES:
            raise ValueError(f"family {self.key!r}: objective not one of {tuple(OBJECTIVES)}")

    @property
    def name(self) -> str:
        """The printed name's family part: 'HME'."""
        return self.key.upper()

    @property
    def d_norm(self) -> str:
        """D's norm when config ``d_norm`` is null."""
        return "batch" if self.batch_norm else "layer"

    def num_generators(self, size: int | None) -> int:
        """Leaf / component generators of the member of this family with ``size`` (1 for FC, 2^d for HME)."""
        if self.size is None:
            return 1
        return 2 ** size if self.size == "depth" else size

    def discriminator_outputs(self, size: int | None) -> int:
        """Logits D emits: 1 + K where D also tells the generators apart (MADGAN, MGAN), else 1."""
        return 1 + self.num_generators(size) if self.d_classifies_generators else 1

    def head_builder(self) -> Callable:
        """The function ``head`` names (imports its module, hence torch)."""
        module, function = self.head.split(":")
        return getattr(importlib.import_module(module), function)

    def forms(self) -> list[str]:
        """Its names as the error messages spell them: ['HME-d', 'HME-L-d']."""
        if self.size is None:
            return [self.name]
        number = "d" if self.size == "depth" else "K"
        return [f"{self.name}{'-L' if kind == 'linear' else ''}-{number}" for kind in self.leaf_kinds]

    def pattern(self, digit: str = r"\d") -> str:
        """A regex of exactly its canonical names (sizes >= 1 without leading zeros), e.g. 'HME(-L)?-[1-9]\\d*'."""
        if self.size is None:
            return self.name
        linear = "(-L)?" if "linear" in self.leaf_kinds else ""
        return f"{self.name}{linear}-[1-9]{digit}*"


_HEADS = "hmogbench.models.heads"
FAMILIES: tuple[Family, ...] = (
    Family("fc", None, f"{_HEADS}:fc_head", "wgan-gp", "ns", init_head_normal=True),
    Family("me", "generators", f"{_HEADS}:mixture_head", "wgan-gp", "ns", leaf_kinds=LEAF_KINDS,
           gating="softmax", toy_lr_g_factor=8.0),
    Family("hme", "depth", f"{_HEADS}:mixture_head", "wgan-gp", "ns", leaf_kinds=LEAF_KINDS,
           gating="tree", toy_lr_g_factor=8.0),
    Family("madgan", "generators", f"{_HEADS}:multi_head", "madgan", "madgan", batch_norm=True,
           d_norm_after_activation=True, d_classifies_generators=True,
           unbatchable=_BATCH_NORM_REASON.format(name="MADGAN")),
    Family("mgan", "generators", f"{_HEADS}:multi_head", "mgan", "mgan", batch_norm=True,
           d_norm_after_activation=True, d_classifies_generators=True,
           unbatchable=_BATCH_NORM_REASON.format(name="MGAN")),
    Family("megan", "generators", f"{_HEADS}:megan_head", "megan", "megan", batch_norm=True,
           unbatchable=_BATCH_NORM_REASON.format(name="MEGAN")),
)


def registry() -> dict[str, Family]:
    """{key: Family} of ``FAMILIES`` (read at call time, so a test may patch ``FAMILIES``)."""
    return {f.key: f for f in FAMILIES}


def family_of(spec_or_key) -> Family:
    """The ``Family`` of a ``ModelSpec`` (or anything with ``.family``) or of a key ('hme')."""
    key = getattr(spec_or_key, "family", spec_or_key)
    try:
        return registry()[key]
    except KeyError:
        raise ValueError(f"unknown model family {key!r}; expected one of {family_keys()}") from None


def family_keys(where: Callable[[Family], bool] | None = None) -> tuple[str, ...]:
    """Keys of the families for which ``where`` holds (all without one), in registry order."""
    return tuple(f.key for f in FAMILIES if where is None or where(f))


def is_mixture(family: Family) -> bool:
    """A gated mixture of leaves (ME, HME): its gates are what the figures interpret."""
    return family.gating is not None


def is_competitor(family: Family) -> bool:
    """A competing method of the thesis (MADGAN, MGAN, MEGAN): trained with its own objective."""
    return family.objective == family.key


def check(key: str, size: int | None, leaves: str) -> Family:
    """The family ``key`` if (key, size, leaves) is one of its models, else a ``ValueError`` saying why."""
    family = family_of(key)
    if leaves not in LEAF_KINDS:
        raise ValueError(f"unknown leaf kind {leaves!r}; expected one of {LEAF_KINDS}")
    if family.size is None:
        if size is not None:
            raise ValueError(f"the {family.name} baseline takes no size")
    elif size is None or size < 1:
        raise ValueError(f"model family {key!r} needs a size >= 1, got {size!r}")
    if leaves not in family.leaf_kinds:
        allowing = "/".join(f.name for f in FAMILIES if leaves in f.leaf_kinds)
        raise ValueError(f"{leaves} leaves only exist for {allowing}, not {key!r}")
    return family


def parse_name(name: str) -> tuple[str, int | None, str]:
    """'HME-L-3' -> ('hme', 3, 'linear'); 'fc' -> ('fc', None, 'constant'). A ``ValueError`` names the model."""
    names = "|".join(sorted((f.name for f in FAMILIES), key=len, reverse=True))
    match = re.match(rf"^({names})(?:-(L))?(?:-(\d+))?$", name.strip(), re.IGNORECASE)
    if not match:
        forms = [form for f in FAMILIES for form in f.forms()]
        raise ValueError(f"cannot parse model name {name!r}; expected {', '.join(forms[:-1])} or {forms[-1]}")
    key, linear, size = match.group(1).lower(), match.group(2), match.group(3)
    size, leaves = (int(size) if size is not None else None), ("linear" if linear else "constant")
    try:
        check(key, size, leaves)
    except ValueError as exc:
        raise ValueError(f"invalid model name {name!r}: {exc}") from None
    return key, size, leaves


def model_name(key: str, size: int | None, leaves: str) -> str:
    """The printed name: ('hme', 3, 'linear') -> 'HME-L-3'; ('fc', None, 'constant') -> 'FC'."""
    family = family_of(key)
    if family.size is None:
        return family.name
    return f"{family.name}{'-L' if leaves == 'linear' else ''}-{size}"


def name_pattern(digit: str = r"\d", where: Callable[[Family], bool] | None = None) -> str:
    """A regex (no anchors) matching exactly the canonical names of the families for which ``where`` holds:
    the workflow's ``model`` wildcard; with digit='[0-9]' the config schema's patterns."""
    return "|".join(f.pattern(digit) for f in FAMILIES if where is None or where(f))


def generators_of(name: str) -> tuple[Family, int]:
    """(family, number of generators) of a model name: 'HME-3' -> (HME, 8)."""
    key, size, _ = parse_name(name)
    family = family_of(key)
    return family, family.num_generators(size)


def default_steps(name: str) -> int:
    """Generator steps of the model ``name`` when config ``steps`` is null (its thesis objective's)."""
    return OBJECTIVES[generators_of(name)[0].objective].steps
