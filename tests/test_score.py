"""``hmogbench score`` and the score API: against pytorch-fid itself, image-set inputs, the feature cache."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from hmogbench.cli import main
from hmogbench.metrics.cache import cached_features
from hmogbench.metrics.inputs import load_images
from hmogbench.metrics.score import score
from hmogbench.metrics.spaces import load_space


def blobs(seed, n, size=32, channels=1, spread=4.0):
    """uint8 (n, size, size[, 3]) images of a few soft Gaussian blobs: structured, not noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    out = np.zeros((n, size, size, channels))
    for image in out:
        for _ in range(3):
            cy, cx = rng.uniform(4, size - 4, 2)
            image += rng.uniform(0.3, 1.0, channels) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2)
                                                               / (2 * spread ** 2))[:, :, None]
    out = (255 * out / out.max()).astype(np.uint8)
    return out[..., 0] if channels == 1 else out


def write_folder(folder, arrays, suffixes=(".png",)):
    folder.mkdir()
    for i, array in enumerate(arrays):
        Image.fromarray(array).save(folder / f"{i:03d}{suffixes[i % len(suffixes)]}", quality=95)
    return folder


@pytest.mark.reference
@pytest.mark.xdist_group("fid-sets")  # one worker builds the shared features and runs their users: none waits
def test_fid_inception_equals_pytorch_fid_on_the_same_folders(fid_sets, capsys):
    """`hmogbench features` of a gray PNG folder and of an RGB PNG/JPEG folder, then `hmogbench score
    --precomputed`: pytorch-fid's own FID of the same folders (conftest.py's fid_sets)."""
    ours = fid_sets["ours"]
    assert main(["score", "--precomputed", str(ours["mnist"]), str(ours["fashion"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert fid_sets["fid"] > 1.0 and result["fd"] == pytest.approx(fid_sets["fid"], rel=1e-4)
    assert result["fd_name"] == "FID" and result["features"] == "fid-inception"
    assert result["weights"]["status"] == "reconstruction" and result["n_real"] == result["n_fake"] == 24
    assert 0 <= result["knn_real_pct"] <= 100 and result["provenance"]["config"]["k"] == 5


def test_score_levels_in_pixel_space():
    same_a, same_b = torch.from_numpy(blobs(2, 120, size=16)), torch.from_numpy(blobs(3, 120, size=16))
    alike = score(same_a[:, None], same_b[:, None], features="pixels")
    assert abs(alike["knn_real_pct"] - 50) < 15 and abs(alike["knn_fake_pct"] - 50) < 15
    assert alike["fd_name"] == "FD (pixels)" and alike["feature_dims"] == 16 * 16 and alike["weights"] is None
    itself = score(same_a[:, None], same_a[:, None].clone(), features="pixels", k=3, rule="majority")
    assert abs(itself["fd"]) < 1e-3 and itself["knn_rule"] == "majority"  # a singular covariance
    inverted = score(same_a[:, None], 255 - same_a[:, None], features="pixels")
    assert inverted["knn_real_pct"] == 100.0 and inverted["knn_fake_pct"] == 100.0
    assert inverted["fd"] > alike["fd"] > itself["fd"]


def test_cli_on_arrays_prints_the_space_and_the_scores(tmp_path, capsys):
    np.save(tmp_path / "real.npy", blobs(4, 30, size=16))
    np.savez(tmp_path / "fake.npz", images=blobs(5, 30, size=16))
    assert main(["score", str(tmp_path / "real.npy"), str(tmp_path / "fake.npz"), "--features", "pixels",
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "pixels (256-d)" in text and "FD (pixels)" in text and "5-NN real" in text and "30 fake" in text
    assert main(["score", str(tmp_path / "real.npy"), str(tmp_path / "fake.npz"), "--features", "pixels",
                 "--k", "3", "--knn-rule", "majority", "--json", "--no-progress"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["knn_k"] == 3 and result["knn_rule"] == "majority" and result["features"] == "pixels"


def test_cli_errors_name_the_problem(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    monkeypatch.delenv("HMOGBENCH_FID_WEIGHTS", raising=False)
    np.save(tmp_path / "a.npy", blobs(6, 8))
    assert main(["score", "a.npy", "missing.npy", "--features", "pixels"]) == 2
    assert "hmogbench score: error: image set missing.npy does not exist" in capsys.readouterr().err
    assert main(["score", "a.npy", "a.npy"]) == 2  # fid-inception, no weights anywhere
    assert "put pt_inception-2015-12-05-6726825d.pth at resources/inception/" in capsys.readouterr().err.lower()
    np.save(tmp_path / "b.npy", blobs(7, 8, size=16))
    assert main(["score", "a.npy", "b.npy", "--features", "pixels"]) == 2
    assert "differ in shape (C, H, W): (1, 32, 32) vs (1, 16, 16)" in capsys.readouterr().err


def test_folders_gray_colour_and_mixed(tmp_path):
    gray, rgb = blobs(8, 3), blobs(9, 2, channels=3)
    assert torch.equal(load_images(write_folder(tmp_path / "gray", gray)), torch.from_numpy(gray[:, None]))
    loaded = load_images(write_folder(tmp_path / "rgb", rgb))
    assert loaded.shape == (2, 3, 32, 32) and torch.equal(loaded, torch.from_numpy(rgb).permute(0, 3, 1, 2))
    mixed = write_folder(tmp_path / "mixed", [gray[0], rgb[0]])
    both = load_images(mixed)  # gray repeated to RGB, as PIL's convert('RGB')
    assert both.shape == (2, 3, 32, 32) and all(torch.equal(both[0, c], torch.from_numpy(gray[0])) for c in range(3))
    Image.fromarray(gray[0], "L").convert("LA").save(tmp_path / "gray" / "alpha.png")
    assert load_images(tmp_path / "gray").shape == (4, 1, 32, 32)


def test_bad_folders_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images")
    with pytest.raises(ValueError, match=r"empty: no image files .*\(subfolders are not searched\)"):
        load_images(tmp_path / "empty")
    sizes = write_folder(tmp_path / "sizes", [blobs(10, 1)[0], blobs(11, 1, size=16)[0]])
    with pytest.raises(ValueError, match=r"001.png: size 16x16 \(WxH\) differs from 000.png's 32x32"):
        load_images(sizes)
    deep = write_folder(tmp_path / "deep", blobs(12, 1))
    Image.fromarray(np.zeros((4, 4), dtype=np.uint16)).save(deep / "sixteen.png")
    with pytest.raises(ValueError, match="sixteen.png: expected 8-bit images"):
        load_images(deep)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "x.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match="x.png: not a readable image"):
        load_images(tmp_path / "broken")


def test_real_features_are_cached_by_content_space_and_weights(tmp_path):
    extractor = load_space("pixels")
    images = torch.from_numpy(blobs(13, 10, size=16)[:, None])
    first, entry, hit = cached_features(images, extractor, tmp_path)
    assert not hit and entry.parent == tmp_path / "pixels" and entry.suffix == ".npz"
    again, same_entry, hit = cached_features(images.clone(), extractor, tmp_path)
    assert hit and same_entry == entry and np.array_equal(again, first)
    with np.load(entry) as stored:
        meta = json.loads(str(stored["meta"]))
    assert meta["space"] == "pixels" and meta["weights_sha256"] is None and "features v1" in meta["code_version"]
    _, other_entry, hit = cached_features(images.flip(0), extractor, tmp_path)
    assert not hit and other_entry != entry
    entry.write_bytes(b"corrupt")  # a damaged entry is recomputed and replaced
    repaired, _, hit = cached_features(images, extractor, tmp_path)
    assert not hit and np.array_equal(repaired, first)
    assert not [p for p in tmp_path.rglob("*.tmp")]  # atomic writes leave no temporary files

    result = score(images, images.flip(0), features="pixels", cache_dir=tmp_path)
    assert result["real_cache"] == str(entry)
