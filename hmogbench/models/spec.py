"""Model names as the thesis prints them, parsed into a ``ModelSpec``.

Names (thesis Tables 5.3-5.12):  FC, ME-K, HME-d, ME-L-K, HME-L-d, MADGAN-K, MGAN-K, MEGAN-K,
where K is the number of leaf generators and d the depth of the tree (2^d leaves). The families and
what their names mean are the registry ``hmogbench.registry.families``; the tuples here are derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..registry import families
from ..registry.families import LEAF_KINDS, Family

FAMILIES = families.family_keys()
MIXTURES = families.family_keys(families.is_mixture)
COMPETITORS = families.family_keys(families.is_competitor)

__all__ = ["COMPETITORS", "FAMILIES", "LEAF_KINDS", "MIXTURES", "ModelSpec"]


@dataclass(frozen=True)
class ModelSpec:
    """One generator variant.

    family: a key of the registry (``FAMILIES``: 'fc', 'me', 'hme', 'madgan', 'mgan', 'megan').
    size:   K (number of generators) for me/madgan/mgan/megan, depth d for hme, None for fc.
    leaves: 'constant' or 'linear' (only meaningful for me/hme).
    """

    family: str
    size: int | None = None
    leaves: str = "constant"

    def __post_init__(self):
        families.check(self.family, self.size, self.leaves)

    @property
    def entry(self) -> Family:
        """The registry entry of this spec's family."""
        return families.family_of(self.family)

    @property
    def num_generators(self) -> int:
        """Number of leaf / component generators (1 for FC)."""
        return self.entry.num_generators(self.size)

    @property
    def name(self) -> str:
        """The thesis's name, e.g. 'HME-L-3'."""
        return families.model_name(self.family, self.size, self.leaves)

    @property
    def objective(self) -> str:
        """Training objective the thesis used for this family."""
        return self.entry.objective

    @classmethod
    def parse(cls, name: str) -> "ModelSpec":
        """'HME-L-3' -> ModelSpec('hme', 3, 'linear'); 'FC' -> ModelSpec('fc')."""
        return cls(*families.parse_name(name))

    def __str__(self) -> str:
        return self.name
