"""The committed example (results/examples/demo-mnist/, `snakemake --cores 2 demo --configfile config/demo.yaml`):
its files parse and carry their provenance, and agree with config/demo.yaml (a changed demo config without a
regenerated example fails here); `hmogbench example` collects synthetic records into such a folder. CI never
re-runs the demo (hours on 2 cores): its dry run is tests/test_documented_commands.py's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from hmogbench.evaluation.example import ExampleInputs, write_example
from hmogbench.evaluation.example_provenance import REQUIRED, RUN_KEYS
from hmogbench.evaluation.example_rows import COLUMNS, read_rows

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "results" / "examples" / "demo-mnist"
DEMO_CONFIG = ROOT / "config" / "demo.yaml"


def _record(model: str, seed: int, step: int | None, fd: float, space: str = "fid-inception", n: int = 500) -> dict:
    record = {"features": space, "fd_name": "FID" if space != "pixels" else "FD (pixels)", "fd": fd,
              "n_fake": n, "n_real": n, "kid_mean": 0.1, "knn_real_pct": 90.0, "knn_fake_pct": 95.0,
              "prdc": {"precision": 0.5, "recall": 0.25, "density": 0.4, "coverage": 0.3}, "precision": "fp32",
              "fake_source": {"config": {"dataset": "mnist", "model": model, "seed": seed, "steps": 30}},
              "provenance": {"git_commit": "abc123", "lock": {"sha256": "f" * 64}, "device": "cpu (test, 2 threads)",
                             "time_utc": f"2026-12-07T10:{step or 59:02d}:00+00:00"}}
    return record if step is None else {**record, "step": step}


def _synthetic_grid(tmp_path: Path) -> ExampleInputs:
    """Two runs (FC, HME-5), three snapshots each, final records in two spaces, grids, run.json, a config."""
    files: dict[str, list[str]] = {"over_training": [], "metrics": [], "grids": [], "runs": []}
    for model, base in (("FC", 400.0), ("HME-5", 300.0)):
        ot = tmp_path / "ot" / f"{model}.json"
        ot.parent.mkdir(exist_ok=True)
        ot.write_text(json.dumps([_record(model, 7, s, base / s) for s in (10, 20, 30)]))
        files["over_training"].append(str(ot))
        for space in ("fid-inception", "pixels"):
            m = tmp_path / "metrics" / space / f"{model}.json"
            m.parent.mkdir(parents=True, exist_ok=True)
            m.write_text(json.dumps(_record(model, 7, None, base / 40, space, 1000)))
            files["metrics"].append(str(m))
        grid = tmp_path / "grids" / "mnist" / model / "seed7.png"
        grid.parent.mkdir(parents=True)
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(grid)
        files["grids"].append(str(grid))
        run = tmp_path / "runs" / model / "seed7"
        run.mkdir(parents=True)
        run.joinpath("run.json").write_text(json.dumps({
            "status": "complete", "steps_done": 30, "seconds_this_session": 60.0, "git_commit": "abc123",
            "lock": {"sha256": "f" * 64}, "device": "cpu (test, 2 threads)", "versions": {"torch": "2.x"},
            "time_utc": "2026-12-07T10:00:00+00:00", "config": {"model": model, "seed": 7, "batch_size": 128},
            "resumed_from": 10 if model == "HME-5" else None}))  # HME-5's last session: steps 10 -> 30
        files["runs"].append(str(run))
    config = tmp_path / "demo.yaml"
    config.write_text("steps: 30\n")
    return ExampleInputs(**files, configs=[str(config)], command="snakemake --cores 2 demo", title="Demo: test")


def test_example_collects_rows_table_curve_grids_and_provenance(tmp_path):
    out = tmp_path / "example"
    written = write_example(_synthetic_grid(tmp_path), out)
    assert {p.name for p in written} == {"fid_over_steps.csv", "provenance.json", "fid_over_steps.png",
                                         "samples_FC_seed7.png", "samples_HME-5_seed7.png", "README.md", "index.html"}
    rows = read_rows(out / "fid_over_steps.csv")
    assert len(rows) == 2 * (3 + 2)  # 3 snapshots + 2 final spaces per run
    fc = [r for r in rows if r["model"] == "FC" and r["kind"] == "snapshot"]
    assert [(int(r["step"]), float(r["fd"])) for r in fc] == [(10, 40.0), (20, 20.0), (30, 400 / 30)]
    readme = (out / "README.md").read_text()
    assert "| step 10 " in readme.replace("|   step 10", "| step 10") or "step 10" in readme
    assert "not comparable" in readme and "11.13" in readme  # the thesis's FC FID on MNIST, for scale
    assert "![samples_HME-5_seed7.png](samples_HME-5_seed7.png)" in readme
    provenance = json.loads((out / "provenance.json").read_text())
    assert set(REQUIRED) <= set(provenance)
    assert [r["seconds_per_step"] for r in provenance["runs"]] == [2.0, 3.0]  # 60 s over 30 steps, over 20
    assert provenance["wall"]["seconds"] == 59 * 60


def test_example_refuses_an_unfinished_run(tmp_path):
    inputs = _synthetic_grid(tmp_path)
    run_json = Path(inputs.runs[0]) / "run.json"
    run_json.write_text(json.dumps({**json.loads(run_json.read_text()), "status": "running"}))
    with pytest.raises(ValueError, match=r"run\.json: the run is 'running', expected 'complete'"):
        write_example(inputs, tmp_path / "example")


def test_a_broken_rows_file_is_named(tmp_path):
    bad = tmp_path / "rows.csv"
    bad.write_text(",".join(COLUMNS) + "\n" + ",".join(["x"] * len(COLUMNS)) + "\n")
    with pytest.raises(ValueError, match=rf"{bad}: line 2 lacks one of .* or has an unknown kind"):
        read_rows(bad)


def test_the_committed_demo_parses_and_carries_its_provenance():
    rows = read_rows(DEMO / "fid_over_steps.csv")
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    provenance = json.loads((DEMO / "provenance.json").read_text())
    assert set(REQUIRED) <= set(provenance), "provenance.json lacks a required key"
    for run in provenance["runs"]:
        missing = [k for k in RUN_KEYS if run.get(k) in (None, "")]
        assert not missing, f"run {run.get('model')} lacks {missing}"
        assert run["steps_done"] == config["steps"], "config/demo.yaml changed: regenerate the committed demo"
    assert provenance["wall"]["seconds"] > 0 and provenance["collected"]["git_commit"]
    committed = yaml.safe_load(next(c["text"] for c in provenance["configs"] if c["path"].endswith("demo.yaml")))
    assert committed == config, "config/demo.yaml differs from the one the committed demo was made with"
    assert sorted({r["model"] for r in rows}) == sorted(config["models"])
    steps = sorted({int(r["step"]) for r in rows if r["kind"] == "snapshot"})
    assert steps == list(range(config["eval_every"], config["steps"] + 1, config["eval_every"]))
    for model in config["models"]:
        with Image.open(DEMO / f"samples_{model}_seed{config['seeds'][0]}.png") as grid:
            assert min(grid.size) >= 8 * 28, f"{model}'s sample grid is not an 8 x 8 grid of digits"
    assert "not comparable" in (DEMO / "README.md").read_text()
