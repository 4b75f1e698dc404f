"""Model names as the thesis prints them, parsed into a ``ModelSpec``.

Names (thesis Tables 5.3-5.12):  FC, ME-K, HME-d, ME-L-K, HME-L-d, MADGAN-K, MGAN-K, MEGAN-K,
where K is the number of leaf generators and d the depth of the tree (2^d leaves).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FAMILIES = ("fc", "me", "hme", "madgan", "mgan", "megan")
MIXTURES = ("me", "hme")
COMPETITORS = ("madgan", "mgan", "megan")
LEAF_KINDS = ("constant", "linear")

_NAME = re.compile(r"^(FC|ME|HME|MADGAN|MGAN|MEGAN)(?:-(L))?(?:-(\d+))?$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelSpec:
    """One generator variant.

    family: one of ``FAMILIES``.
    size:   K (number of generators) for me/madgan/mgan/megan, depth d for hme, None for fc.
    leaves: 'constant' or 'linear' (only meaningful for me/hme).
    """

    family: str
    size: int | None = None
    leaves: str = "constant"

    def __post_init__(self):
        if self.family not in FAMILIES:
            raise ValueError(f"unknown model family {self.family!r}; expected one of {FAMILIES}")
        if self.leaves not in LEAF_KINDS:
            raise ValueError(f"unknown leaf kind {self.leaves!r}; expected one of {LEAF_KINDS}")
        if self.family == "fc":
            if self.size is not None:
                raise ValueError("the FC baseline takes no size")
        elif self.size is None or self.size < 1:
            raise ValueError(f"model family {self.family!r} needs a size >= 1, got {self.size!r}")
        if self.family not in MIXTURES and self.leaves != "constant":
            raise ValueError(f"linear leaves only exist for ME/HME, not {self.family!r}")

    @property
    def num_generators(self) -> int:
        """Number of leaf / component generators (1 for FC)."""
        if self.family == "fc":
            return 1
        return 2**self.size if self.family == "hme" else self.size

    @property
    def name(self) -> str:
        """The thesis's name, e.g. 'HME-L-3'."""
        base = self.family.upper()
        if self.family == "fc":
            return "FC"
        linear = "-L" if self.leaves == "linear" else ""
        return f"{base}{linear}-{self.size}"

    @property
    def objective(self) -> str:
        """Training objective the thesis used for this family."""
        return self.family if self.family in COMPETITORS else "wgan-gp"

    @classmethod
    def parse(cls, name: str) -> "ModelSpec":
        """'HME-L-3' -> ModelSpec('hme', 3, 'linear'); 'FC' -> ModelSpec('fc')."""
        m = _NAME.match(name.strip())
        if not m:
            raise ValueError(
                f"cannot parse model name {name!r}; expected FC, ME-K, HME-d, ME-L-K, HME-L-d, MADGAN-K, MGAN-K or MEGAN-K"
            )
        family, linear, size = m.group(1).lower(), m.group(2), m.group(3)
        try:
            return cls(family, int(size) if size is not None else None, "linear" if linear else "constant")
        except ValueError as exc:
            raise ValueError(f"invalid model name {name!r}: {exc}") from None

    def __str__(self) -> str:
        return self.name
