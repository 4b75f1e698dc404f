"""Report pictures: agreement (values and ranks), training curves, sample grids, and the `plot` CLI."""

import json

import numpy as np
import pytest
from PIL import Image

from hmogbench.cli import main
from hmogbench.pictures.agreement import build_agreement, collect_agreement, save_agreement, tie_note
from hmogbench.pictures.curves import MARK_UP_TO, build_curves, read_run, save_curves
from hmogbench.pictures.grid import save_sample_grid
from hmogbench.pictures.style import FAMILY_COLOURS, family
from hmogbench.tables.grid import thesis_tables
from hmogbench.training import loop_settings
from hmogbench.training.config import TrainConfig
from test_tables import record


def _gid(ax, gid):
    return [a for a in ax.get_children() if a.get_gid() == gid]


def _nonblank(path):
    pixels = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert pixels.var() > 1.0
    return pixels


def _metrics(tmp_path, models, space="pixels", status=None, real=None):
    """Two seeds per model; FD 10 + i (+ seed % 3), 5-NN real 60 + i (or ``real`` for every model), fake 70 - i."""
    return [record(tmp_path, m, s, space=space, status=status, fd=10 + i + s % 3,
                   real=60 + i if real is None else real, fake=70 - i)
            for i, m in enumerate(models) for s in (2019, 2020)]


def _integer_ticks(axis):
    """The ticks inside the axis's view are whole numbers."""
    lo, hi = sorted(axis.get_view_interval())
    ticks = [t for t in axis.get_majorticklocs() if lo <= t <= hi]
    return len(ticks) >= 2 and all(float(t).is_integer() for t in ticks)


def test_family_parses_every_model_of_the_tables():
    models = {m for t in thesis_tables("mnist") for m in t.models}
    assert {family(m) for m in models} == set(FAMILY_COLOURS)
    assert (family("HME-L-3"), family("ME-32"), family("FC")) == ("HME-L", "ME", "FC")


def test_agreement_in_pixels_plots_ranks_of_the_models_run(tmp_path):
    models = ["FC", "HME-5", "ME-32"]
    data = collect_agreement("mnist", _metrics(tmp_path, models), "5.3", "pixels")
    assert not data.comparable and list(data.regenerated) == models
    fig = build_agreement(data)
    title = fig._suptitle.get_text()
    assert "RANKS" in title and "3 of 9 models run" in title
    for ax in fig.axes[:3]:
        points = _gid(ax, "points")[0]
        assert len(points.get_offsets()) == 3
        assert sorted(points.get_offsets()[:, 1]) == [1, 2, 3]  # ranks, not values
        assert not _gid(ax, "band") and _gid(ax, "identity") and "rank" in ax.get_xlabel()
    path = save_agreement("mnist", _metrics(tmp_path / "b", models), "5.3", "pixels", tmp_path / "a.png")
    _nonblank(path)


def test_agreement_legend_lies_off_the_data_rank_ticks_are_whole_and_ties_are_named(tmp_path):
    """The y = x legend (with the families') is below the panels, outside every axes; ranks tick at whole
    numbers; a panel whose regenerated values all tie (5-NN real at 100 %) says so above it, the others not."""
    models = ["FC", "HME-5", "ME-32"]
    fig = build_agreement(collect_agreement("mnist", _metrics(tmp_path, models, real=100.0), "5.3", "pixels"))
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    legends = [leg for leg in fig.legends if leg.get_gid() == "legend"]
    assert len(legends) == 1 and not any(ax.get_legend() for ax in fig.axes)
    assert "y = x" in [t.get_text() for t in legends[0].get_texts()]
    box = legends[0].get_window_extent(renderer)
    for ax in fig.axes:
        assert not box.overlaps(ax.get_window_extent(renderer)), "the legend lies on a panel"
        assert _integer_ticks(ax.xaxis) and _integer_ticks(ax.yaxis), "rank ticks must be whole numbers"
    fd, real, fake = fig.axes[:3]
    assert sorted(_gid(real, "points")[0].get_offsets()[:, 1]) == [2, 2, 2]  # tied: the mean rank
    assert real.title.get_gid() == "ties"
    assert real.get_title() == "regenerated: all 3 models tie at 100.00 %: no ordering"
    assert fd.get_title() == fake.get_title() == ""
    assert tie_note({"FC": 99.1, "ME-32": 99.1, "HME-5": 98.0}, "published", " %") == \
        "published: FC = ME-32 at 99.10 % (same rank)"


def test_agreement_in_the_thesis_space_plots_values_with_the_band(tmp_path):
    files = _metrics(tmp_path, ["FC", "ME-L-4"], space="thesis-inception", status="official")
    data = collect_agreement("mnist", files, "5.8", "thesis-inception")
    assert data.comparable
    fig = build_agreement(data)
    assert "2 of 21 models run" in fig._suptitle.get_text() and "RANKS" not in fig._suptitle.get_text()
    ax = fig.axes[0]
    assert len(_gid(ax, "points")[0].get_offsets()) == 2 and _gid(ax, "band")
    assert "(%)" in fig.axes[1].get_xlabel() and "thesis-inception features" in ax.get_ylabel()
    assert [len(leg.get_texts()) for leg in fig.legends] == [4]  # FC, ME-L, band, y = x


def test_agreement_errors_name_the_value(tmp_path):
    files = _metrics(tmp_path, ["FC"])
    with pytest.raises(ValueError, match=r"--table 5.9: mnist's thesis tables are 5.3, 5.8"):
        collect_agreement("mnist", files, "5.9", "pixels")
    with pytest.raises(ValueError, match=r"--space fid-inception: no metrics files of that space"):
        collect_agreement("mnist", files, "5.3", "fid-inception")
    with pytest.raises(ValueError, match="none of its models has regenerated numbers"):
        build_agreement(collect_agreement("mnist", _metrics(tmp_path / "x", ["MGAN-4"]), "5.3", "pixels"))


def _run(path, seed, columns=("d_loss", "d_wdist", "d_gp", "g_loss"), timed=True, steps=50):
    path.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    lines = [",".join(("step", *columns))]
    lines += [",".join([str(10 * i), *(f"{v:.4f}" for v in rng.normal(size=len(columns)))]) for i in range(steps)]
    (path / "losses.csv").write_text("\n".join(lines) + "\n")
    info = {"config": {"dataset": "mnist", "model": "HME-5", "seed": seed}, "steps_done": 10 * steps}
    if timed:
        info.update(seconds_this_session=20.0, resumed_from=None)
    (path / "run.json").write_text(json.dumps(info))
    return path


def test_curves_one_line_per_seed_and_loss(tmp_path):
    runs = [read_run(_run(tmp_path / f"seed{s}", s, timed=s == 2019)) for s in (2019, 2020)]
    assert runs[0].steps_per_s == pytest.approx(25.0) and runs[1].steps_per_s is None
    fig = build_curves(runs)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["d_loss", "d_wdist", "d_gp", "g_loss"]
    for ax in panels:
        assert len(_gid(ax, "smoothed")) == 2 and len(_gid(ax, "raw")) == 2
        assert ax.get_xlabel() == "generator step" and ax.get_ylabel()
    title = fig._suptitle.get_text()
    assert "seed 2019: 25.00 steps/s" in title and "no timing in run.json for seed 2020" in title
    _nonblank(save_curves([tmp_path / "seed2019"], tmp_path / "c.png"))


def test_short_runs_log_every_step_and_long_runs_keep_log_every():
    """log_every unset: every 10 steps, or every steps // 10 (at least every step) in a run under 100 steps: a
    3-step run writes 3 rows, as the loop logs at ``step % log_every == 0 or step == steps``; a set value is kept."""
    def rows(steps, **kw):
        every = loop_settings(TrainConfig(model="FC", steps=steps, **kw)).log_every
        return [s for s in range(1, steps + 1) if s % every == 0 or s == steps]

    assert rows(3) == [1, 2, 3] and rows(1) == [1]
    assert rows(50) == list(range(5, 51, 5))
    assert loop_settings(TrainConfig(model="FC")).log_every == 10  # the authors' 23,250 steps
    assert loop_settings(TrainConfig(model="FC", steps=1000, log_every=7)).log_every == 7
    assert loop_settings(TrainConfig(model="FC", steps=3, log_every=10)).log_every == 10  # benchmarks' timed runs


@pytest.mark.parametrize("steps", [[1], [3], [1, 2, 3]])
def test_curves_of_a_short_run_mark_every_point_on_whole_steps(tmp_path, steps):
    """One- and three-row runs: each seed's points are marked (not a line alone, not smoothed away) and the
    x axis ticks whole steps around them (not 2.85-3.15)."""
    runs = []
    for seed in (2019, 2020):
        (path := tmp_path / f"seed{seed}").mkdir()
        (path / "losses.csv").write_text("step,d_loss,g_loss\n" + "".join(f"{s},{s + seed % 7},-{s}\n" for s in steps))
        runs.append(read_run(path))
    fig = build_curves(runs)
    assert "each logged row marked" in fig._suptitle.get_text()
    for ax in (a for a in fig.axes if a.get_title()):
        lines = _gid(ax, "raw")
        assert len(lines) == 2 and not _gid(ax, "smoothed")
        for line in lines:
            assert line.get_marker() not in (None, "None", "", " ") and line.get_markersize() >= 3
            assert list(line.get_xdata()) == steps
        lo, hi = ax.get_xlim()
        assert lo <= min(steps) - 0.5 and hi >= max(steps) + 0.5 and _integer_ticks(ax.xaxis)
    long = build_curves([read_run(_run(tmp_path / "long", 1, steps=MARK_UP_TO + 1))])
    assert all(line.get_marker() in (None, "None", "") for line in _gid(long.axes[0], "raw"))
    assert _integer_ticks(long.axes[0].xaxis)


def test_curves_of_other_objectives_and_seed_from_folder(tmp_path):
    path = _run(tmp_path / "seed7", 7, columns=("d_loss", "g_loss"))
    info = json.loads((path / "run.json").read_text())
    del info["config"]
    (path / "run.json").write_text(json.dumps(info))
    run = read_run(path)
    assert run.seed == 7 and len([ax for ax in build_curves([run]).axes if ax.get_title()]) == 2


def test_curves_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere/losses.csv does not exist"):
        read_run(tmp_path / "nowhere")
    (bad := tmp_path / "bad").mkdir()
    (bad / "losses.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"bad/losses.csv: expected a header 'step,<loss>,...'"):
        read_run(bad)


@pytest.mark.parametrize("channels", [1, 3])
def test_sample_grid(tmp_path, channels):
    images = np.random.default_rng(0).integers(0, 256, (70, 8, 8, channels), dtype=np.uint8)
    path = save_sample_grid(images, tmp_path / "g.png", "title")
    _nonblank(path)
    assert not list(tmp_path.glob("*.tmp"))
    with pytest.raises(ValueError, match=r"expected uint8 images \(N, H, W, C\)"):
        save_sample_grid(images.astype(np.float32), tmp_path / "f.png")
    assert not (tmp_path / "f.png").exists() and not list(tmp_path.glob(".*.tmp"))


def test_plot_cli(tmp_path, capsys):
    files = [str(f) for f in _metrics(tmp_path, ["FC", "HME-6"])]
    assert main(["plot", "agreement", "mnist", *files, "--table", "5.3", "--space", "pixels",
                 "--out", str(tmp_path / "a.png")]) == 0
    _run(tmp_path / "runs" / "seed2019", 2019)
    assert main(["plot", "curves", str(tmp_path / "runs" / "seed2019"), "--out", str(tmp_path / "c.png")]) == 0
    np.save(tmp_path / "s.npy", np.random.default_rng(1).integers(0, 256, (64, 4, 4, 1), dtype=np.uint8))
    assert main(["plot", "grid", str(tmp_path / "s.npy"), "--out", str(tmp_path / "g.png")]) == 0
    for name in ("a.png", "c.png", "g.png"):
        _nonblank(tmp_path / name)
    assert main(["plot", "grid", str(tmp_path / "missing.npy"), "--out", str(tmp_path / "x.png")]) == 2
    assert main(["plot", "grid", str(tmp_path / "s.npy"), "--out", str(tmp_path / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert "missing.npy does not exist" in err and "--out" in err and "expected a .png path" in err
