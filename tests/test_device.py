"""One device and numerics policy (hmogbench/runtime/device.py): 'auto' resolved one way everywhere, the float32
switches set explicitly and recorded, the feature cache keyed by device type and precision."""

import pytest
import torch

from hmogbench.runtime import device as policy
from hmogbench.cli import main
from hmogbench.metrics.cache import cache_meta, cache_path
from hmogbench.metrics.spaces import Extractor, effective_precision, get_space, to_unit


@pytest.fixture
def restore_switches():
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark,
             torch.get_float32_matmul_precision())
    yield
    (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32, torch.backends.cudnn.benchmark) = saved[:3]
    torch.set_float32_matmul_precision(saved[3])


def test_auto_is_cuda_when_torch_sees_a_gpu_else_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert policy.resolve_device("auto") == policy.resolve_device(None) == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert policy.resolve_device("auto") == torch.device("cuda")
    assert policy.resolve_device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("value, words", [("gpu0", "gpu0"), ("cuda:x", "cuda:x")])
def test_a_bad_device_is_one_line_naming_it(value, words):
    with pytest.raises(ValueError, match=words) as err:
        policy.resolve_device(value)
    assert "\n" not in str(err.value)


def test_a_missing_gpu_is_named(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no CUDA GPU"):
        policy.resolve_device("cuda")


def test_switches_are_set_explicitly_and_tf32_is_opt_in(monkeypatch, restore_switches):
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = torch.backends.cudnn.benchmark = True
    monkeypatch.delenv(policy.TF32_ENV_VAR, raising=False)
    record = policy.set_numerics()
    assert (record["tf32_matmul"], record["tf32_cudnn"], record["cudnn_benchmark"]) == (False, False, False)
    assert record["float32_matmul_precision"] == "highest"
    monkeypatch.setenv(policy.TF32_ENV_VAR, "1")
    assert policy.set_numerics()["tf32_matmul"] is True and torch.backends.cudnn.allow_tf32 is True
    monkeypatch.setenv(policy.TF32_ENV_VAR, "yes")
    with pytest.raises(ValueError, match="HMOGBENCH_TF32"):
        policy.set_numerics()


def test_fp32_features_on_a_gpu_with_tf32_on_are_named_tf32(restore_switches):
    cuda, cpu = torch.device("cuda"), torch.device("cpu")  # no GPU needed: the rule reads the device type
    policy.set_numerics(tf32=False)
    assert effective_precision("fp32", cuda) == "fp32" and not policy.tf32_in_effect(cuda)
    policy.set_numerics(tf32=True)
    assert effective_precision("fp32", cuda) == "tf32" and policy.tf32_in_effect(cuda)
    assert effective_precision("fp32", cpu) == "fp32" and effective_precision("tf32", cpu) == "fp32"
    assert effective_precision("bf16", cuda) == "bf16"


def test_feature_cache_key_includes_device_type_and_precision():
    images = torch.zeros(4, 1, 8, 8, dtype=torch.uint8)
    space = get_space("pixels")
    keys = {cache_path("c", cache_meta(images, Extractor(space, None, torch.device(d), to_unit, None, p)))
            for d in ("cpu", "cuda") for p in ("fp32", "tf32")}
    assert len(keys) == 4


@pytest.mark.parametrize("argv", [["sample", "RUN", "--device", "auto", "--count", "3", "--out", "OUT/s.npy"],
                                  ["features", "OUT/s.npy", "--features", "pixels", "--device", "auto",
                                   "--out", "OUT/f.npy"],
                                  ["score", "OUT/s.npy", "OUT/s.npy", "--features", "pixels", "--device", "auto",
                                   "--out", "OUT/m.json"]])
def test_every_command_takes_device_auto(tmp_path, argv, trained_run, capsys):
    """`--device auto`, as the default config passes it, reaches a device (it used to reach torch.device)."""
    if argv[0] != "sample":
        assert main(["sample", str(trained_run), "--count", "10", "--out", str(tmp_path / "s.npy"), "--no-progress"]) == 0
    argv = [a.replace("RUN", str(trained_run)).replace("OUT", str(tmp_path)) for a in argv]
    assert main([*argv, "--no-progress"]) == 0, capsys.readouterr().err


@pytest.fixture
def trained_run(tmp_path, tiny_images):
    from hmogbench.training.config import TrainConfig
    from hmogbench.training import train_from_config

    cfg = TrainConfig.from_dict({"model": "FC", "steps": 1, "batch_size": 8, "device": "auto"}, "test")
    train_from_config(cfg, tiny_images, tmp_path / "run", progress=False)
    return tmp_path / "run"
