"""The published numbers: thesis Tables 5.3-5.12, shipped as ``resources/thesis_tables.csv``.

Columns: table, dataset, model, nn_real_mean, nn_real_std, nn_fake_mean, nn_fake_std, fid_mean,
fid_std (5-NN in percent; mean and std over seeds 2019-2023), params_printed, note.
The thesis's "FID" values were computed in torchvision's ImageNet Inception-v3 features
(feature space ``thesis-inception``), not with the TF FID network.
"""

from __future__ import annotations

import csv
from importlib import resources

from .datasets import DATASETS

DATASET_IMAGE_SIZE = {d.name: d.image_size for d in DATASETS if d.in_thesis}  # the thesis sets (registry)
PUBLISHED_CSV = "thesis_tables.csv"


def load_published() -> list[dict[str, str]]:
    """Every row of Tables 5.3-5.12 in the thesis's order, as strings exactly as printed."""
    text = resources.files("hmogbench.resources").joinpath(PUBLISHED_CSV).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))
