"""Training precision (``train_precision``, hmogbench/training/precision.py): fp32 unchanged, tf32 a no-op with a
notice on the CPU, bf16 autocast runs and is recorded, the gradient penalty stays float32 under bf16, and the
tables name the precision and refuse to mix them."""

import csv
import json
from pathlib import Path

import pytest
import torch
import yaml
from test_tables import record
from torch import nn

from hmogbench.tables.collect import read_records
from hmogbench.tables.write import write_tables
from hmogbench.training import GENERATOR, LOSSES, RUN_INFO, StackedRuns, precision, train_from_config
from hmogbench.training.checkpoints import _config_differences
from hmogbench.training.config import ConfigError, TrainConfig
from hmogbench.training.objectives import WGANGP, gradient_penalty
from hmogbench.training.sampling import samples_record

ROOT = Path(__file__).resolve().parents[1]
CPU = torch.device("cpu")
# one generator step of this run with the code before train_precision existed (losses.csv, 6 significant digits)
FP32_LOSSES = {"d_loss": 8.31051, "d_wdist": 0.380849, "d_gp": 8.69136, "g_loss": 2.86799}


def _run(tmp_path, images, **kw) -> tuple[dict, dict]:
    """One generator step (one critic step) of HME-L-2 at batch 8 -> (run.json, the step's losses.csv row)."""
    cfg = TrainConfig(model="HME-L-2", steps=1, d_steps=1, batch_size=8, log_every=1, **kw)
    train_from_config(cfg, images, tmp_path, progress=False)
    (row,) = csv.DictReader((tmp_path / LOSSES).open())
    return json.loads((tmp_path / RUN_INFO).read_text()), {k: float(v) for k, v in row.items() if k != "step"}


@pytest.mark.parametrize("asked", [None, "tf32"])
def test_fp32_is_unchanged_and_tf32_on_a_cpu_is_fp32_with_a_notice(asked, tiny_images, tmp_path, capsys):
    info, losses = _run(tmp_path, tiny_images, **({"train_precision": asked} if asked else {}))
    assert losses == pytest.approx(FP32_LOSSES, rel=1e-5)
    assert info["train_precision"] == "fp32"
    assert torch.load(tmp_path / GENERATOR, weights_only=False)["train_precision"] == "fp32"
    notice = [line for line in capsys.readouterr().out.splitlines() if "train_precision tf32" in line]
    expected = ("[train] train_precision tf32: cpu has no TF32 tensor cores; training runs in fp32 "
                "(run.json records fp32)")
    assert notice == ([expected] if asked else [])


def test_bf16_trains_on_the_cpu_and_every_record_says_so(tiny_images, tmp_path):
    info, losses = _run(tmp_path, tiny_images, train_precision="bf16")
    assert info["train_precision"] == "bf16" and info["status"] == "complete"
    assert losses != pytest.approx(FP32_LOSSES, rel=1e-5)  # autocast was on: bf16 rounding shows
    assert losses == pytest.approx(FP32_LOSSES, rel=2e-2)  # ... and it is the same step
    sidecar = samples_record(tmp_path, TrainConfig(model="HME-L-2", train_precision="bf16"), torch.zeros(2).numpy(),
                             1, {}, CPU)
    assert sidecar["train_precision"] == "bf16"  # what every metrics record keeps as its fake_source


class TinyG(nn.Module):
    z_dim = 4

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(4, 16)

    def forward(self, z):
        return torch.tanh(self.net(z)).view(-1, 1, 4, 4)


def _tiny_critic() -> nn.Module:
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(48, 1))


def _penalty_and_grads(D, real, fake, alpha, bf16: bool):
    with precision.autocast("bf16" if bf16 else "fp32", CPU):
        gp = gradient_penalty(D, real, fake, "channel", 10.0, alpha)
    grads = torch.autograd.grad(gp, list(D.parameters()), materialize_grads=True)  # the double backward
    return gp.detach(), grads


def test_the_penalty_and_its_double_backward_stay_fp32_under_bf16():
    """Same inputs: the penalty under bf16 autocast equals fp32's to 1e-6 (relative), and so do its gradients."""
    torch.manual_seed(0)
    D, real, fake, alpha = _tiny_critic(), torch.randn(6, 1, 4, 4), torch.randn(6, 1, 4, 4), torch.rand(6, 1, 1, 1)
    gp32, grads32 = _penalty_and_grads(D, real, fake, alpha, bf16=False)
    gp16, grads16 = _penalty_and_grads(D, real, fake.bfloat16(), alpha, bf16=True)  # a bf16 G's fakes
    assert gp16.dtype == torch.float32
    torch.testing.assert_close(gp16, gp32, rtol=1e-6, atol=0)
    for g16, g32 in zip(grads16, grads32):
        torch.testing.assert_close(g16, g32, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["vmap", "loop"])
def test_a_batched_bf16_critic_step_has_fp32s_penalty_within_1e_2(mode):
    """A whole WGAN-GP critic step of two stacked seeds under bf16 autocast: finite, float32 penalty within 1 %
    of the fp32 step's (the fakes differ by bf16 rounding), gradients for every seed."""
    def step(bf16: bool):
        torch.manual_seed(0)
        models = StackedRuns([TinyG(), TinyG()], [_tiny_critic(), _tiny_critic()], mode=mode)
        g = torch.Generator().manual_seed(1)
        reals, zs = [[torch.randn(6, *shape, generator=g) for _ in range(2)] for shape in ((1, 4, 4), (4,))]
        noise = [{"alpha": torch.rand(6, 1, 1, 1, generator=g)} for _ in range(2)]
        with precision.autocast("bf16" if bf16 else "fp32", CPU):
            out = models.apply(WGANGP(1).d_loss, reals, zs, noise=noise)
        out["loss"].sum().backward()
        assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in models.d_parameters())
        return out["gp"]

    gp32, gp16 = step(False), step(True)
    assert gp16.dtype == torch.float32 and gp16.shape == (2,)
    torch.testing.assert_close(gp16, gp32, rtol=1e-2, atol=0)


def _records(tmp_path, precisions: dict[int, str | None]) -> list[Path]:
    """FC's metrics records of the seeds in ``precisions``, each trained in its precision (None: not recorded)."""
    files = []
    for seed, trained in precisions.items():
        file = record(tmp_path, "FC", seed, fd=10.0 + seed - 2019)
        rec = json.loads(file.read_text())
        if trained is not None:
            rec["fake_source"]["train_precision"] = trained
        file.write_text(json.dumps(rec))
        files.append(file)
    return files


def test_a_table_mixing_training_precisions_is_refused(tmp_path):
    files = _records(tmp_path, {2019: None, 2020: "bf16"})  # an older record: fp32
    with pytest.raises(ValueError, match=r"^metrics of runs trained in different precisions are mixed \(bf16, fp32\)"):
        read_records(files, "mnist")
    assert set(read_records(files[:1], "mnist").fd_name) == {"FD (pixels)"}  # fp32: named as before


def test_the_tables_and_the_diff_name_bf16_training(tmp_path):
    paths = write_tables("mnist", _records(tmp_path, {2019: "bf16", 2020: "bf16"}), tmp_path / "tables")
    texts = {path.name: path.read_text() for path in paths}
    for name in ("mnist.md", "mnist.tex", "mnist.diff.md", "mnist.extended.md"):
        assert "FD (pixels) [bf16 training]" in texts[name], name
    caption = next(line for line in texts["mnist.md"].splitlines() if line.startswith("**Table"))
    assert "[bf16 training]" in caption


def test_the_switch_is_one_list_of_names_everywhere():
    """The workflow schema, config/config.yaml and TrainConfig take the same names, fp32 the default; a bad value
    is a one-line error naming the key; a checkpoint without the key (older runs) is fp32's."""
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())["properties"]["train_precision"]
    assert tuple(schema["enum"]) == precision.TRAIN_PRECISIONS and schema["default"] == "fp32"
    assert yaml.safe_load((ROOT / "config/config.yaml").read_text())["train_precision"] == "fp32"
    assert TrainConfig().train_precision == "fp32"
    expected = r"^config key 'train_precision' = 'fp16': expected 'fp32' or 'tf32' or 'bf16'$"
    with pytest.raises(ConfigError, match=expected):
        TrainConfig(train_precision="fp16")
    old = {k: v for k, v in TrainConfig().to_dict().items() if k != "train_precision"}
    assert _config_differences(old, TrainConfig().to_dict()) == []
    assert _config_differences(old, TrainConfig(train_precision="bf16").to_dict()) == ["train_precision"]
    assert precision.recorded(None) == precision.recorded({}) == "fp32"
