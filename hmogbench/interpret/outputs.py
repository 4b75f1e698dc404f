"""The files ``hmogbench figures`` writes into its output folder (the Snakemake rules declare these).

``node_responses.png`` is drawn for HME models only: an ME has no tree (thesis 5.6: "we cannot do
such analysis for ME").
"""

from __future__ import annotations

from ..registry import families
from ..workflow.paths import FIGURE_DIR  # the workflow's layout, one folder per run

COMMON_FILES = (
    "leaf_responses.png",  # Fig. 5.10 / 5.18: each leaf's average generated image
    "gating_covariance.png",  # Fig. 5.11 / 5.19, paper Fig. 11: covariance | correlation of leaf gates
    "leaf_samples.png",  # Fig. 5.20 / 5.21: column i from leaf i's generator at its most likely z
    "samples.png",  # plain samples, z ~ N(0, I)
    "samples_truncated.png",  # paper Fig. 10: the least likely 25% of z dropped
    "figures.json",  # the numbers: soft counts, block scores, settings, provenance
    "figures.md",  # one caption per figure, with the numbers
)
TREE_FILES = ("node_responses.png",)  # Fig. 5.24-5.30, paper Fig. 12-13: every node's average response


def output_files(family: str) -> list[str]:
    """File names for a model family: a tree-gated one ('hme') -> all, a softmax-gated one ('me') -> all but
    the node-response tree."""
    gating = getattr(families.registry().get(family), "gating", None)
    if gating == "tree":
        return [*TREE_FILES, *COMMON_FILES]
    if gating is not None:
        return list(COMMON_FILES)
    raise ValueError(f"figures need an ME or HME model, not model family {family!r}")


def figure_files(dataset: str, model: str, seed: int | str, folder: str = FIGURE_DIR) -> list[str]:
    """Paths of one run's figure files in the workflow layout; [] for models that are not ME/HME
    (FC and the competitors have no gates to draw)."""
    family = families.parse_name(model)[0]
    if not families.is_mixture(families.family_of(family)):
        return []
    root = folder.format(dataset=dataset, model=model, seed=seed)
    return [f"{root}/{name}" for name in output_files(family)]


def figure_targets(datasets, models, seeds) -> list[str]:
    """Every figure file of the ME/HME runs in datasets x models x seeds (the others are skipped)."""
    return [f for d in datasets for m in models for s in seeds for f in figure_files(d, m, s)]
