"""Configuration of one training run, with the paper grid's values as defaults.

Every value is overridable from YAML/JSON or the CLI (``--set key=value``). Values are read as their
key's declared type (``coerce``: a number key takes ``1e-4``, which YAML 1.1 reads as text; an integer key
takes ``2e3``). Unknown keys and values of the wrong kind are rejected with an error naming the key.
Where the thesis text and the authors' code differ, the default follows the code (it produced the
published numbers) and the other behaviour is a named switch:

* ``gp_norm``: 'channel' (authors' ``grad.norm(2, dim=1)`` on (B, C, H, W): a per-pixel norm over
  channels) or 'sample' (Gulrajani et al.: the norm of each sample's whole gradient).
* ``d_steps``: None = the code's value per objective (WGAN-GP 5, MEGAN 5 as in megan.sh,
  MADGAN / MGAN / plain NS GAN 1).
* ``mgan_beta``: 1.0 (thesis code) vs 0.01 (MGAN paper's CLI default).
* ``madgan_g_loss``: 'bce-softmax' (authors' ``nn.BCELoss`` on softmax(D)[:, 0]; its gradient vanishes
  once p_0 < ~1e-12) or 'log-softmax' (-log_softmax(D)[:, 0], the same value without saturating).
* ``train_precision``: 'fp32' (the authors' float32) or the opt-in speed 'tf32' / 'bf16' (``training.precision``).
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..models.spec import ModelSpec
from ..registry.families import OBJECTIVES as OBJECTIVE_DEFAULTS
from ..workflow.config_schema import INTEGER_TEXT, NUMBER_TEXT
from .objectives import MADGAN_G_LOSSES
from .precision import TRAIN_PRECISIONS

# per objective (``hmogbench.registry.families.OBJECTIVES``, where the authors' scripts' numbers are explained)
OBJECTIVES = tuple(OBJECTIVE_DEFAULTS)
DEFAULT_D_STEPS = {name: o.d_steps for name, o in OBJECTIVE_DEFAULTS.items()}
DEFAULT_STEPS = {name: o.steps for name, o in OBJECTIVE_DEFAULTS.items()}  # generator steps, the MNIST budget


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong kind."""




def _number(value: Any) -> float | None:
    """``value`` as a float if it is a number or a number's text (not a bool), else None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and NUMBER_TEXT.fullmatch(value.strip()):
        return float(value)
    return None


def _to_int(value: Any) -> int | None:
    """``value`` as an int if it is an integral number or its text ("2e3"), else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and INTEGER_TEXT.fullmatch(value.strip()):
        return int(value)  # exact, however long
    number = _number(value)
    return int(number) if number is not None and number.is_integer() else None


def _to_pair(value: Any) -> tuple[float, float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    pair = tuple(_number(v) for v in value)
    return None if None in pair else pair


# field type -> (converter returning None for a value it does not accept, what it accepts; {} takes " or null")
_CONVERTERS = {
    int: (_to_int, "an integer{}"),
    float: (_number, "a number{} (e.g. 1e-4)"),
    bool: (lambda v: v if isinstance(v, bool) else None, "true or false{}"),
    str: (lambda v: v if isinstance(v, str) else None, "a string{}"),
    tuple[float, float]: (_to_pair, "two numbers{}, e.g. [0.5, 0.999]"),
    dict[str, Any]: (lambda v: v if isinstance(v, dict) else None, "a mapping{}"),
}


def _optional(hint: Any) -> tuple[Any, bool]:
    """``X | None`` -> (X, True); any other type -> (it, False)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint):
        (inner,) = (a for a in typing.get_args(hint) if a is not type(None))
        return inner, True
    return hint, False


def coerce(key: str, value: Any, hint: Any) -> Any:
    """``value`` as the type ``hint`` of config key ``key`` declares (int, float, ``X | None``, ...): a float
    key takes ints and number text ("1e-4"), an int key integral numbers; otherwise a ``ConfigError``."""
    kind, nullable = _optional(hint)
    if value is None and nullable:
        return None
    convert, expected = _CONVERTERS[kind]
    converted = convert(value)
    if converted is None:
        raise ConfigError(f"config key {key!r} = {value!r}: expected {expected.format(' or null' * nullable)}")
    return converted


@dataclass
class TrainConfig:
    """One GAN training run (image models). Units: steps are generator steps."""

    model: str = "FC"  # thesis name: FC, ME-32, HME-5, ME-L-4, HME-L-2, MADGAN-4, MGAN-4, MEGAN-4, ...
    dataset: str = "mnist"
    image_size: int = 32  # 32 (MNIST, Fashion) or 64 (CelebA, UTZap50K, Flowers)
    channels: int = 1  # 1 gray, 3 RGB
    z_dim: int = 100
    seed: int = 2019  # thesis seeds: 2019-2023
    steps: int | None = None  # generator steps; None = DEFAULT_STEPS of the objective (MNIST budget)
    batch_size: int = 128
    lr: float = 1e-4  # generator learning rate
    lr_d: float | None = None  # discriminator learning rate; None = lr
    betas: tuple[float, float] = (0.5, 0.999)
    amsgrad: bool = True
    objective: str | None = None  # None = the thesis's objective for the model family
    d_steps: int | None = None  # critic / discriminator steps per generator step; None = per objective
    gp_lambda: float = 10.0
    gp_norm: str = "channel"  # 'channel' (authors' code, paper grid) | 'sample' (Gulrajani et al.)
    d_norm: str | None = None  # None = thesis: 'layer' for FC/ME/HME, 'batch' for competitors
    mgan_beta: float = 1.0  # thesis code; the MGAN paper's default is 0.01
    madgan_g_loss: str = "bce-softmax"  # authors' BCELoss on softmax(D)[:, 0] | 'log-softmax' (unsaturated)
    megan_tau: float = 1.0  # Gumbel-softmax temperature (fixed, thesis code)
    megan_balance_weight: float = 1.0  # load-balancing MSE weight (10 in the authors' toy)
    checkpoint_every: int = 500  # generator steps between checkpoints
    log_every: int | None = None  # G steps between rows of losses.csv; None: 10, or fewer in a short run so that
    # it still has about 10 rows (every step below 20 steps): training.settings.log_interval
    progress_every: int = 100  # without a progress bar: steps between progress lines (or 60 s, if sooner)
    samples_every_checkpoint: bool = True  # each checkpoint also writes samples.png: 8 x 8 G samples, fixed z
    eval_every: int | None = None  # G steps between generator snapshots (<run>/snapshots/step<N>.pt, also at the
    # end) for FD over training (`hmogbench evaluate --over-training-out`); None: none (training.snapshots)
    device: str = "cpu"
    train_precision: str = "fp32"  # 'fp32' (faithful) | 'tf32' (CUDA; fp32 on a CPU) | 'bf16' (autocast): precision.py
    extra: dict[str, Any] = field(default_factory=dict)  # free-form provenance (not used by training)

    def __post_init__(self):
        for name, hint in _field_types(type(self)).items():
            setattr(self, name, coerce(name, getattr(self, name), hint))
        self.validate()

    @property
    def spec(self) -> ModelSpec:
        return ModelSpec.parse(self.model)

    @property
    def resolved_objective(self) -> str:
        return self.objective or self.spec.objective

    @property
    def resolved_steps(self) -> int:
        return self.steps if self.steps is not None else DEFAULT_STEPS[self.resolved_objective]

    @property
    def resolved_d_steps(self) -> int:
        return self.d_steps if self.d_steps is not None else DEFAULT_D_STEPS[self.resolved_objective]

    def validate(self) -> None:
        try:
            self.spec
        except ValueError as exc:
            raise ConfigError(f"config key 'model': {exc}") from None
        self.betas = tuple(self.betas)
        checks = [
            ("objective", self.objective is None or self.objective in OBJECTIVES, f"one of {OBJECTIVES} or null"),
            ("gp_norm", self.gp_norm in ("channel", "sample"), "'channel' or 'sample'"),
            ("madgan_g_loss", self.madgan_g_loss in MADGAN_G_LOSSES, " or ".join(map(repr, MADGAN_G_LOSSES))),
            ("train_precision", self.train_precision in TRAIN_PRECISIONS, " or ".join(map(repr, TRAIN_PRECISIONS))),
            ("d_norm", self.d_norm in (None, "layer", "batch", "none"), "'layer', 'batch', 'none' or null"),
            ("image_size", self.image_size in (32, 64), "32 or 64"),
            ("channels", self.channels in (1, 3), "1 or 3"),
            ("betas", len(self.betas) == 2 and all(0 <= b < 1 for b in self.betas), "two numbers in [0, 1)"),
        ]
        for key in ("z_dim", "batch_size", "checkpoint_every", "progress_every"):
            checks.append((key, isinstance(getattr(self, key), int) and getattr(self, key) >= 1, "an integer >= 1"))
        for key in ("steps", "d_steps", "log_every", "eval_every"):
            value = getattr(self, key)
            checks.append((key, value is None or (isinstance(value, int) and value >= 1), "an integer >= 1 or null"))
        checks.append(("lr", self.lr > 0, "a positive number"))
        checks.append(("lr_d", self.lr_d is None or self.lr_d > 0, "a positive number or null"))
        for key, ok, expected in checks:
            if not ok:
                raise ConfigError(f"config key {key!r} = {getattr(self, key)!r}: expected {expected}")
        if self.resolved_objective == "mgan" and self.batch_size < 2 * self.spec.num_generators:
            raise ConfigError(
                f"config key 'batch_size' = {self.batch_size}: MGAN draws batch_size // K fakes per generator and "
                f"its BatchNorm needs two or more, so it must be >= 2K = {2 * self.spec.num_generators}"
            )

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from a mapping; unknown keys raise ``ConfigError`` naming them and ``source``."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(f"{source}: unknown key(s) {unknown}; known keys are {sorted(known)}")
        try:
            return cls(**values)
        except TypeError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    @classmethod
    def from_file(cls, path: str | Path, **overrides: Any) -> "TrainConfig":
        """Read YAML or JSON from ``path``; ``overrides`` win over the file."""
        path = Path(path)
        try:
            values = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from None
        if not isinstance(values, dict):
            raise ConfigError(f"config file {path}: expected a mapping of keys to values, got {type(values).__name__}")
        return cls.from_dict({**values, **overrides}, source=str(path))


@functools.cache
def _field_types(cls: type) -> dict[str, Any]:
    """{field name: its declared type} of a config dataclass (the annotations resolved)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def parse_override(text: str) -> tuple[str, Any]:
    """'key=value' with a YAML-typed value: 'steps=100' -> ('steps', 100)."""
    if "=" not in text:
        raise ConfigError(f"override {text!r}: expected key=value")
    key, value = text.split("=", 1)
    return key.strip(), yaml.safe_load(value)

