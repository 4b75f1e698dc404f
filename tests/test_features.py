"""Feature spaces: preprocessing, the thesis extractor with stand-in weights, weights files and their hashes."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.hub
import torch.nn.functional as F
import torchvision
import torchvision.transforms.functional as TF

from hmogbench.registry import feature_spaces
from hmogbench.registry.feature_spaces import FeatureSpace, WeightsSource
from hmogbench.metrics.features import extract_features
from hmogbench.metrics.score import fd_name
from hmogbench.metrics.spaces import SPACES, Extractor, load_space, thesis_preprocess
from hmogbench.metrics.weights import (FID_WEIGHTS_NAME, WeightsInfo, candidate_paths, inspect_weights,
                                       pytorch_fid_hub, resolve_weights, weights_status)

RECON_SHA256 = "b819afcf1ffe1e4f23ada6407c24766ae79043acfba4ada367f8cf920e64aa39"


def images(seed, n=3, channels=1, size=20):
    return torch.randint(0, 256, (n, channels, size, size), generator=torch.Generator().manual_seed(seed),
                         dtype=torch.uint8)


@pytest.fixture(scope="module")
def stand_in_weights(tmp_path_factory):
    """Seeded weights of torchvision's inception_v3 architecture (with AuxLogits, as the ImageNet file)."""
    torch.manual_seed(0)
    model = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False,
                                            transform_input=True)
    path = tmp_path_factory.mktemp("stand-in") / "inception_v3_google-0cc3c7bd.pth"  # the name fools nothing
    torch.save(model.state_dict(), path)
    return path, model.state_dict()


@pytest.fixture
def no_weights_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch-home"))
    for name in ("HMOGBENCH_FID_WEIGHTS", "HMOGBENCH_THESIS_INCEPTION_WEIGHTS"):
        monkeypatch.delenv(name, raising=False)


def test_thesis_preprocessing_on_a_constant_image():
    gray = torch.full((1, 1, 7, 5), 51, dtype=torch.uint8)  # 51 / 255 = 0.2
    x = thesis_preprocess(gray)
    assert x.shape == (1, 3, 299, 299) and x.dtype == torch.float32
    for channel, (mean, std) in enumerate(zip((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))):
        assert torch.allclose(x[0, channel], torch.tensor((0.2 - mean) / std), atol=1e-6)


def test_thesis_preprocessing_follows_the_thesis_code_step_by_step():
    batch = images(1, n=2)
    x = batch.float() / 127.5 - 1  # the generator's / test loader's [-1, 1] range
    x = x * 0.5 + 0.5  # -> [0, 1]
    x = x.repeat(1, 3, 1, 1)  # gray -> 3 channels
    x = TF.normalize(x, mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
    assert torch.allclose(thesis_preprocess(batch), x, atol=1e-5)
    assert torch.allclose(thesis_preprocess(batch.float() / 255), x, atol=1e-5)  # float input in [0, 1]


def test_thesis_inception_with_stand_in_weights(stand_in_weights):
    path, state = stand_in_weights
    extractor = load_space("thesis-inception", weights=path)
    assert extractor.weights.status == "unverified" and fd_name(extractor) == "FD (unverified weights)"
    assert extractor.model.transform_input and extractor.model.AuxLogits is None
    assert isinstance(extractor.model.fc, torch.nn.Identity) and not extractor.model.training

    reference = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=False,
                                                transform_input=True)
    reference.load_state_dict(state)
    reference.fc = torch.nn.Identity()
    reference.eval()
    batch = images(2, n=3)
    with torch.no_grad():
        expected = reference(thesis_preprocess(batch)).numpy()
    features = extract_features(batch, extractor, batch_size=2)
    assert features.shape == (3, 2048) and features.dtype == np.float32
    assert np.allclose(features, expected, rtol=1e-4, atol=1e-5)


def test_thesis_weights_without_aux_logits_load_too(tmp_path):
    torch.manual_seed(1)
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    torch.save(model.state_dict(), tmp_path / "no-aux.pth")
    assert load_space("thesis-inception", weights=tmp_path / "no-aux.pth").model.transform_input
    torch.save({"conv.weight": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match=r"other.pth: not torchvision inception_v3 weights"):
        load_space("thesis-inception", weights=tmp_path / "other.pth")


def test_pixels_are_scaled_and_flattened_in_any_batching():
    batch = images(3, n=7, channels=3, size=4)
    features = extract_features(batch, "pixels", batch_size=3)
    assert features.shape == (7, 48) and np.array_equal(features, (batch.float() / 255).flatten(1).numpy())
    with pytest.raises(ValueError, match=r"float images must lie in \[0, 1\]"):
        extract_features(batch.float(), "pixels")
    with pytest.raises(ValueError, match="unknown feature space 'inception'; expected one of fid-inception"):
        load_space("inception")
    with pytest.raises(ValueError, match="takes no weights"):
        load_space("pixels", weights="x.pth")
    assert SPACES["fid-inception"].dims == 2048 and SPACES["pixels"].dims is None
    assert load_space("pixels", precision="bf16").precision == "fp32"  # no network: its only precision


def test_weights_are_looked_up_as_the_registry_says(no_weights_anywhere, tmp_path, monkeypatch):
    source = WeightsSource("HMOGBENCH_TOY_WEIGHTS", ("toy-12345678.pth",), "https://example.org/w/toy-12345678.pth",
                           {"12345678": "official"})
    toy = FeatureSpace("toy", "a toy network", table_order=9, preprocess="thesis_preprocess",
                       network="thesis_inception", weights=source)
    monkeypatch.setattr(feature_spaces, "SPACES", {**SPACES, toy.name: toy})
    assert candidate_paths("toy")[0] == Path("resources/inception/toy-12345678.pth")
    with pytest.raises(FileNotFoundError, match=r"Put toy-12345678.pth at resources/inception/toy-12345678.pth .*"
                                                r"\$HMOGBENCH_TOY_WEIGHTS. The file is at https://example.org/w/"):
        resolve_weights("toy")
    (tmp_path / "mine.pth").write_bytes(b"m")
    monkeypatch.setenv("HMOGBENCH_TOY_WEIGHTS", str(tmp_path / "mine.pth"))
    assert resolve_weights("toy").path == tmp_path / "mine.pth" and resolve_weights("toy").status == "unverified"
    assert weights_status("toy", "12345678" + "0" * 56) == "official"
    with pytest.raises(ValueError, match=r"'pixels' has no weights; spaces with weights: \['fid-inception', 'thes"):
        resolve_weights("pixels")


@pytest.mark.reference
def test_fid_inception_loads_the_shared_weights_through_pytorch_fid(fid_weights):
    before = (os.environ.get("TORCH_HOME"), torch.hub.get_dir())
    extractor = load_space("fid-inception", weights=fid_weights)
    assert (os.environ.get("TORCH_HOME"), torch.hub.get_dir()) == before
    assert extractor.weights.sha256 == RECON_SHA256 and extractor.weights.status == "reconstruction"
    assert fd_name(extractor) == "FID"
    features = extract_features(images(4, n=2), extractor)
    assert features.shape == (2, 2048) and np.isfinite(features).all() and features.min() >= 0  # after ReLU


def test_weights_registry_goes_by_content_not_name(tmp_path):
    fake = tmp_path / FID_WEIGHTS_NAME
    fake.write_bytes(b"not the weights")
    assert inspect_weights("fid-inception", fake).status == "unverified"
    assert weights_status("fid-inception", RECON_SHA256) == "reconstruction"
    assert weights_status("fid-inception", "6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2") \
        == "official"
    assert weights_status("fid-inception", "6726825d" + "0" * 56) == "unverified"  # full hash known: needed
    assert weights_status("thesis-inception", "0cc3c7bd" + "f" * 56) == "official"  # only the prefix is known
    with pytest.raises(ValueError, match=r"not loadable as FID Inception weights"):
        load_space("fid-inception", weights=fake)


def test_fd_is_named_by_space_and_weights():
    def named(space, status):
        weights = WeightsInfo(space, "w.pth", "0" * 64, status) if status else None
        return fd_name(Extractor(SPACES[space], weights, torch.device("cpu"), lambda x: x))

    assert named("fid-inception", "official") == named("fid-inception", "reconstruction") == "FID"
    assert named("fid-inception", "unverified") == "FD (unverified weights)"
    assert named("thesis-inception", "official") == "FD (thesis-inception)"
    assert named("pixels", None) == "FD (pixels)"


def test_missing_weights_say_which_file_to_put_where(no_weights_anywhere):
    with pytest.raises(FileNotFoundError) as error:
        resolve_weights("fid-inception")
    message = str(error.value)
    for part in (FID_WEIGHTS_NAME, "resources/inception", "$HMOGBENCH_FID_WEIGHTS", "--weights",
                 "github.com/mseitzer/pytorch-fid"):
        assert part in message
    with pytest.raises(FileNotFoundError, match="inception_v3_google-0cc3c7bd.pth.*download.pytorch.org"):
        load_space("thesis-inception")
    with pytest.raises(FileNotFoundError, match="weights file nowhere.pth does not exist"):
        resolve_weights("fid-inception", "nowhere.pth")


def test_weights_are_found_by_environment_then_default_folder(no_weights_anywhere, tmp_path, monkeypatch):
    default = tmp_path / "resources" / "inception" / "inception_v3_google-1a9a5a14.pth"
    default.parent.mkdir(parents=True)
    default.write_bytes(b"x")
    assert resolve_weights("thesis-inception").path.resolve() == default
    elsewhere = tmp_path / "elsewhere.pth"
    elsewhere.write_bytes(b"y")
    monkeypatch.setenv("HMOGBENCH_THESIS_INCEPTION_WEIGHTS", str(elsewhere))
    assert resolve_weights("thesis-inception").path == elsewhere


@pytest.mark.parametrize("set_dir_before", [False, True])
def test_pytorch_fid_hub_links_the_weights_and_restores_torch_hub(tmp_path, monkeypatch, set_dir_before):
    weights = tmp_path / "anything.pth"
    weights.write_bytes(b"w")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "mine"))
    if set_dir_before:
        monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "set-dir"))
    before = torch.hub.get_dir()
    with pytorch_fid_hub(weights) as hub:
        assert torch.hub.get_dir() == str(hub)
        assert (hub / "checkpoints" / FID_WEIGHTS_NAME).read_bytes() == b"w"
    assert torch.hub.get_dir() == before and os.environ["TORCH_HOME"] == str(tmp_path / "mine")
    assert not hub.exists()


def test_download_only_on_request(no_weights_anywhere, tmp_path, monkeypatch):
    calls = []

    def fake_download(url, destination, hash_prefix=None):  # torch.hub's, offline
        calls.append((url, hash_prefix))
        with open(destination, "wb") as f:
            f.write(b"downloaded")

    monkeypatch.setattr(torch.hub, "download_url_to_file", fake_download)
    with pytest.raises(FileNotFoundError):
        resolve_weights("thesis-inception")
    assert calls == []
    info = resolve_weights("thesis-inception", allow_download=True)
    assert calls == [("https://download.pytorch.org/models/inception_v3_google-0cc3c7bd.pth", "0cc3c7bd")]
    assert info.path == tmp_path / "torch-home" / "hub" / "checkpoints" / "inception_v3_google-0cc3c7bd.pth"
    assert resolve_weights("thesis-inception").path == info.path  # found in torch.hub's cache from now on


def test_reduced_precision_is_opt_in_named_and_cached_apart(stand_in_weights):
    from hmogbench.metrics.cache import cache_meta

    path, _ = stand_in_weights
    batch = images(5, n=2)
    reference = load_space("thesis-inception", weights=path)
    fast = load_space("thesis-inception", weights=path, precision="bf16", channels_last=True)
    assert reference.precision == "fp32" and fast.precision == "bf16"
    a, b = extract_features(batch, reference), extract_features(batch, fast)
    assert b.dtype == np.float32 and 0 < np.linalg.norm(b - a) / np.linalg.norm(a) < 0.05  # bf16 rounding
    assert fd_name(reference) == "FD (unverified weights)"  # stand-in weights
    assert fd_name(fast) == "FD (unverified weights) [bf16 features]"
    # the cache key names the device type and the precision the network ran in (hmogbench/runtime/device.py's policy)
    assert (cache_meta(batch, reference)["precision"], cache_meta(batch, reference)["device_type"]) == ("fp32", "cpu")
    assert cache_meta(batch, fast) == {**cache_meta(batch, reference), "precision": "bf16"}
    assert load_space("thesis-inception", weights=path, precision="tf32").precision == "fp32"  # no TF32 on a CPU
    with pytest.raises(ValueError, match="precision must be one of fp32, tf32, bf16, fp16"):
        load_space("thesis-inception", weights=path, precision="int8")


def test_features_command_names_the_precision_and_score_refuses_mixing(stand_in_weights, tmp_path):
    from hmogbench.cli import main
    from hmogbench.metrics.cli import score_feature_files

    path, _ = stand_in_weights
    source = tmp_path / "images.npy"
    np.save(source, np.random.default_rng(0).integers(0, 256, (3, 32, 32, 1), dtype=np.uint8))
    for precision in ("fp32", "bf16"):
        assert main(["features", str(source), "--features", "thesis-inception", "--weights", str(path),
                     "--precision", precision, "--channels-last", "--device", "cpu", "--no-progress",
                     "--out", str(tmp_path / f"{precision}.npy")]) == 0
    fp32, bf16 = (json.loads((tmp_path / f"{p}.json").read_text()) for p in ("fp32", "bf16"))
    assert (fp32["precision"], bf16["precision"]) == ("fp32", "bf16")
    assert bf16["fd_name"] == fp32["fd_name"] + " [bf16 features]"
    assert bf16["provenance"]["config"]["channels_last"] is True
    with pytest.raises(ValueError, match=r"fp32.npy and .*bf16.npy differ in fd_name"):
        score_feature_files(str(tmp_path / "fp32.npy"), str(tmp_path / "bf16.npy"), k=1, rule="soft",
                            device="cpu", progress=False)
