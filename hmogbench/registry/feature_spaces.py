"""The feature-space registry: one ``FeatureSpace`` entry per space, all that defines it, as data (no torch).

Everything else reads it: the CLI's ``--features`` choices, the weights lookup (hmogbench/metrics/weights.py),
the networks (hmogbench/metrics/spaces.py builds what an entry names), the cache key, the distance's name,
the tables' captions, labels and order, and the workflow's ``space`` wildcard. The workflow and the tables
import this module at parse time, so it stays torch-free (it is outside ``hmogbench.metrics``, whose package
imports torch).

Adding a space: one entry in ``SPACES`` (with its preprocessing and network functions in
hmogbench/metrics/spaces.py if they are new) and its tests; the config schema takes its name from here
(``python -m hmogbench.workflow.config_schema --write``; tests/test_config_schema.py fails while the schema is stale).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping

PRECISION_NAMES = ("fp32", "tf32", "bf16", "fp16")  # what a network can run in; fp32 gives the reference
VERIFIED_STATUSES = ("official", "reconstruction")  # a weights file's status; any other file is 'unverified'
UNVERIFIED = "unverified"
UNVERIFIED_FD_NAME = "FD (unverified weights)"


@dataclass(frozen=True)
class WeightsSource:
    """A network's weights: where they are looked for and which files are accepted (by content)."""

    env_var: str  # a path in this environment variable is tried first
    file_names: tuple[str, ...]  # looked for in resources/inception/ and torch.hub's cache; [0]: the download
    url: str  # where file_names[0] is published
    # sha256 (full, or the 8-hex prefix torch.hub puts in a file name where no full hash is published) -> status
    accepted: Mapping[str, str]

    def status(self, sha256: str) -> str:
        """'official' or 'reconstruction' for an accepted file's sha256 (hex), else 'unverified'."""
        for accepted, status in self.accepted.items():
            if sha256 == accepted or (len(accepted) == 8 and sha256.startswith(accepted)):
                return status
        return UNVERIFIED


@dataclass(frozen=True)
class FeatureSpace:
    """A feature space: images (B, C, H, W) -> float32 features (B, ``dims``)."""

    name: str
    description: str  # one line, in table captions and the diff ("<name> (<description>)")
    table_order: int  # position of its tables in a data set's files (smallest first)
    preprocess: str  # function in hmogbench/metrics/spaces.py: images -> the network's input (or the features)
    network: str | None = None  # builder in hmogbench/metrics/spaces.py: WeightsInfo -> nn.Module; None: none
    weights: WeightsSource | None = None  # None: the space has no weights (and no network)
    dims: int | None = None  # D; None: C * H * W of the images
    precisions: tuple[str, ...] = ("fp32",)  # its features can be computed in; [0] is the reference
    thesis_comparable: bool = False  # absolute values comparable with the thesis's tables (verified weights)
    distance_name: str | None = None  # the FD's conventional name where it has one ('FID'); None: 'FD (<name>)'
    code_version: int = 1  # bump when this space's preprocessing or network changes (feature cache key)

    @property
    def needs_weights(self) -> bool:
        return self.weights is not None

    def fd_name(self, weights_status: str | None = None, precision: str = "fp32") -> str:
        """The distance's name: ``distance_name`` or 'FD (<name>)', 'FD (unverified weights)' with weights
        not accepted, and ' [<precision> features]' appended outside fp32 (reduced precision is opt-in)."""
        if self.weights is not None and weights_status not in VERIFIED_STATUSES:
            name = UNVERIFIED_FD_NAME
        else:
            name = self.distance_name or f"FD ({self.name})"
        return name if precision == "fp32" else f"{name} [{precision} features]"

    def comparable(self, weights_status: str | None) -> bool:
        """Absolute values may be compared with the thesis only in its own space with verified weights."""
        return self.thesis_comparable and weights_status in VERIFIED_STATUSES


_SPACE_LIST = (
    FeatureSpace(
        "fid-inception", "the FID Inception network (pytorch-fid), not the thesis's extractor", table_order=1,
        preprocess="fid_preprocess", network="fid_inception", dims=2048, precisions=PRECISION_NAMES,
        distance_name="FID",
        weights=WeightsSource(
            "HMOGBENCH_FID_WEIGHTS", ("pt_inception-2015-12-05-6726825d.pth",),  # the only name pytorch-fid loads
            "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
            "pt_inception-2015-12-05-6726825d.pth",
            MappingProxyType({
                # pytorch-fid's release file, 95,628,359 bytes (same bytes as torch-fidelity's
                # weights-inception-2015-12-05-6726825d.pth); the full hash as public projects pinning it record it
                "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2": "official",
                # ../shared/data/inception/pt_inception-2015-12-05-RECON-fcNaN.pth: pool3 equal to the official
                # file to ~1e-6, classifier (fc) NaN; see shared/data/SOURCES.md
                "b819afcf1ffe1e4f23ada6407c24766ae79043acfba4ada367f8cf920e64aa39": "reconstruction",
            }))),
    FeatureSpace(
        "thesis-inception", "torchvision's ImageNet Inception-v3, 2048-d pool features, as the thesis",
        table_order=0, preprocess="thesis_preprocess", network="thesis_inception", dims=2048,
        precisions=PRECISION_NAMES, thesis_comparable=True,
        weights=WeightsSource(
            "HMOGBENCH_THESIS_INCEPTION_WEIGHTS",
            ("inception_v3_google-0cc3c7bd.pth",  # torchvision >= 0.13 (IMAGENET1K_V1)
             "inception_v3_google-1a9a5a14.pth"),  # torchvision of the thesis era, same weights
            "https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth",
            MappingProxyType({
                "1a9a5a14f40645a370184bd54f4e8e631351e71399112b43ad0294a79da290c8": "official",  # as publicly pinned
                # torchvision's current file: only the name's sha256 prefix is documented (torch.hub convention)
                "0cc3c7bd": "official",
            }))),
    FeatureSpace("pixels", "raw pixels in [0, 1], not the thesis's extractor", table_order=2, preprocess="to_unit"),
)
SPACES: Mapping[str, FeatureSpace] = MappingProxyType({space.name: space for space in _SPACE_LIST})


def get_space(name: str) -> FeatureSpace:
    if name not in SPACES:
        raise ValueError(f"unknown feature space {name!r}; expected one of {', '.join(SPACES)}")
    return SPACES[name]


def spaces_with_weights() -> tuple[str, ...]:
    """Names of the spaces whose networks take a weights file, in registry order."""
    return tuple(name for name, space in SPACES.items() if space.weights is not None)


def in_table_order(names) -> list[str]:
    """``names`` (registry spaces) sorted as the tables print them."""
    return sorted(names, key=lambda name: get_space(name).table_order)


def wildcard_pattern() -> str:
    """Regular expression matching exactly the registry's names (Snakemake's ``space`` wildcard)."""
    return "|".join(map(re.escape, SPACES))
