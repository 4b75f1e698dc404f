"""The SLURM profile on a real SLURM cluster: `snakemake --profile profiles/slurm ...` as a cluster user types it.

Needs a cluster (`.ci/slurm/start-cluster.sh` brings up a one-node SLURM with accounting as root). Without one
these tests skip, except under `.ci/run`, which starts it and sets HMOGBENCH_REQUIRE_SLURM=1 so that they fail
instead. Each run goes through a `sbatch` wrapper that records the submitted command lines, and through
tests/slurm_snakemake.py (snakemake with the plugin's status polls kept at 2 s, its only change).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from workflow_runs import SMOKE_SHRINK, run_snakemake, workflow_copy
from workflow_runs import env as _env

pytestmark = pytest.mark.system
SLURM_SNAKEMAKE = str(Path(__file__).with_name("slurm_snakemake.py"))  # `snakemake`, status polls every 2 s

# config/smoke.yaml on two models (one batched, one competitor), 2 seeds; one thread a job: two jobs at once on 2 CPUs
SMALL_GRID = "models: [FC, MGAN-4]\nmax_threads: 1\n"


def _workflow_in(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return workflow_copy(folder)


def _require_cluster() -> None:
    up = shutil.which("sbatch") and subprocess.run(["sinfo", "-h"], capture_output=True).returncode == 0
    if not up:
        message = "no SLURM cluster reachable (`sinfo` fails; .ci/slurm/start-cluster.sh starts one as root)"
        if os.environ.get("HMOGBENCH_REQUIRE_SLURM") == "1":
            pytest.fail(message + "; HMOGBENCH_REQUIRE_SLURM=1 requires it")
        pytest.skip(message)


def _stand_in_sbatch(folder: Path, body: str) -> Path:
    """``folder``/bin/sbatch, a shell script running ``body`` (which may append to "$LOG"); -> that log file."""
    bin_dir, log = folder / "bin", folder / "sbatch.log"
    bin_dir.mkdir()
    (bin_dir / "sbatch").write_text(f"#!/bin/sh\nLOG={log}\n{body}")
    (bin_dir / "sbatch").chmod(0o755)
    log.touch()
    return log


def _env_with_sbatch(sbatch_log: Path, **extra: str) -> dict:
    """The tests' environment with the stand-in sbatch beside ``sbatch_log`` first on PATH."""
    env = _env(**extra)
    env["PATH"] = f"{sbatch_log.parent / 'bin'}{os.pathsep}{env['PATH']}"
    return env


def _prepare_mnist_5k(work: Path) -> None:
    """The embedded digits prepared in ``work`` without SLURM, so that the trainings are ready from the start."""
    prepared = subprocess.run([sys.executable, "-m", "hmogbench", "data", "prepare", "mnist-5k", "--out",
                               "results/data", "--no-progress"], cwd=work, capture_output=True, text=True, env=_env())
    assert prepared.returncode == 0, prepared.stderr


@pytest.fixture
def sbatch_log(tmp_path):
    """A `sbatch` first on PATH that submits for real and appends the job id and its arguments to a file; -> that
    file. (The plugin reads the job id from stdout, --parsable: it is passed on.)"""
    _require_cluster()
    return _stand_in_sbatch(tmp_path, f'id=$({shutil.which("sbatch")} "$@") || exit $?\n'
                                      'printf "%s %s\\n" "$id" "$*" >> "$LOG"\necho "$id"\n')


def _snakemake(words: list[str], cwd: Path, sbatch_log: Path, timeout: int = 900, **env: str):
    """`snakemake WORDS` in ``cwd`` with the recording sbatch first on PATH; quick status polls (the plugin's
    40 s first wait and growing back-off are for busy clusters: slurm_snakemake.py)."""
    env = _env_with_sbatch(sbatch_log, **env)
    return subprocess.run([sys.executable, SLURM_SNAKEMAKE,
                           *words], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)


def _job_sizes(dry_run: str) -> list[tuple[int, int, int]]:
    """(threads, mem_mb, runtime) of every job a dry run prints (it prints `threads:` only above 1)."""
    sizes = []
    for block in dry_run.split("\n\n"):
        if re.search(r"^rule \w+:", block, re.M):
            threads = re.search(r"threads: (\d+)", block)
            sizes.append((int(threads.group(1)) if threads else 1, int(re.search(r"mem_mb=(\d+)", block).group(1)),
                          int(re.search(r"runtime=(\d+)", block).group(1))))
    return sizes


def _table_rows(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("|")]


@pytest.mark.slow
def test_small_grid_through_slurm_equals_a_local_run(sbatch_log, tmp_path, request):
    """The shared smoke run's grid (conftest.py) on two of its models through `--profile profiles/slurm`: the same
    tables as that local run (its third model, HME-2, has no row in them), one sbatch per job (evaluation: one per
    model, all seeds), sizes that fit a 2-CPU node, no GPU flags on a CPU grid."""
    cluster = _workflow_in(tmp_path / "cluster")
    (cluster / "tiny.yaml").write_text(SMOKE_SHRINK)
    (cluster / "two.yaml").write_text(SMALL_GRID)  # HME-2, the smoke run's third model, has no table row
    grid = ["tables/mnist.diff.md", "--configfile", "config/smoke.yaml", "tiny.yaml", "two.yaml"]
    out = _snakemake(["--profile", "profiles/slurm", *grid], cluster, sbatch_log,
                     HMOGBENCH_SLURM_PARTITION="debug", HMOGBENCH_SLURM_ACCOUNT="local")
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    local = request.getfixturevalue("smoke_run")  # asked for last: built by then on the other worker, most likely
    assert _table_rows(cluster / "tables" / "mnist.md") == _table_rows(local / "tables" / "mnist.md")

    calls = sbatch_log.read_text().splitlines()
    rules = sorted(re.search(r"--comment '?rule_(\w+?)(_wildcards|'|\s)", c).group(1) for c in calls)
    # one data set (mnist-5k), 2 models; tables: local
    assert rules == sorted(["prepare_data", "real_features"] + ["train", "evaluate"] * 2)
    for call in calls:
        assert " -p debug" in call and " -A local" in call, call  # site values from the environment
        assert "--gpus" not in call and "--gres" not in call, call  # a CPU grid asks for no GPU
        assert int(re.search(r"--mem (\d+)", call).group(1)) <= 20_000, call
        assert int(re.search(r"-t (\d+)", call).group(1)) <= 30, call
        cpus = re.search(r"--cpus-per-task[= ](\d+)", call)
        assert cpus is None or int(cpus.group(1)) <= 2, call
    assert not list((cluster / "results").rglob("*.tmp"))

    # every job of the whole smoke grid (8 models), as sized now that its data exists, fits a 2-CPU, 20 GB node
    # (--cores 64: nothing scaled down; a dry run prints `threads:` only above 1)
    plan = run_snakemake(["-n", "--forceall", "--cores", "64", "tables/mnist.diff.md", "--configfile",
                          "config/smoke.yaml"], cluster, timeout=300)
    assert plan.returncode == 0, plan.stderr[-3000:]
    sizes = _job_sizes(plan.stdout)
    assert len(sizes) == 19, plan.stdout[-2000:]  # prepare, real features, 8 train, 8 evaluate, tables
    assert all(t <= 2 and m <= 20_000 and r <= 30 for t, m, r in sizes), sizes


def _squeue_job(comment_part: str) -> str | None:
    """The id of the running job whose comment names ``comment_part``."""
    out = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i %k"], capture_output=True, text=True).stdout
    return next((line.split()[0] for line in out.splitlines() if comment_part in line), None)


def _states(sbatch_log: Path, comment_part: str) -> list[str]:
    """sacct's final states of the jobs this test submitted whose comment contains ``comment_part``, in order."""
    ids = [line.split()[0] for line in sbatch_log.read_text().splitlines() if comment_part in line]
    states = []
    for job in ids:
        deadline = time.time() + 30
        while time.time() < deadline:  # a job reaches sacct a moment after it ends
            out = subprocess.run(["sacct", "-X", "-n", "-P", "-o", "State", "-j", job], capture_output=True,
                                 text=True).stdout.split()
            if out and out[0] not in ("PENDING", "RUNNING"):
                break
            time.sleep(1)
        states.append(out[0] if out else "?")
    return states


def _pause_training(work: Path, model: str) -> int:
    """SIGSTOP the `hmogbench train` process of ``model`` that runs in ``work`` (a SLURM job on this node): a job
    busy past its time limit without burning the CPU (at the limit SLURM sends SIGCONT, then SIGTERM); -> its pid."""
    for proc in Path("/proc").iterdir():
        try:
            argv, cwd = (proc / "cmdline").read_bytes().split(b"\0"), os.readlink(proc / "cwd")
        except (OSError, ValueError):
            continue
        if cwd == str(work) and b"train" in argv and f"--set=model={model}".encode() in argv:
            os.kill(int(proc.name), signal.SIGSTOP)
            return int(proc.name)
    raise AssertionError(f"no `hmogbench train` of {model} runs in {work}")


def _wait_for_progress(log: Path, steps: int) -> None:
    """Until the training's log has a progress line ("step 2/50 (4%) ..."): it is training."""
    deadline = time.time() + 300
    while time.time() < deadline and f"/{steps} (" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.2)


KILL_GRID = """models: [FC, MGAN-4]
seeds: [2019]
steps: {steps}
max_threads: 1
checkpoint_every: 100000  # no periodic checkpoint: the one a rerun resumes from was written on SIGTERM
train_overrides: {{progress_every: 2}}
job_resources: {{train: {{runtime: 1}}}}  # one minute: FC's first attempt runs into its time limit
"""


@pytest.mark.slow  # ~2 min: SLURM's 1-minute limit (it checks every 30 s), a retry
def test_a_cancelled_and_a_timed_out_training_are_each_finished_by_one_invocation(sbatch_log, tmp_path):
    """One invocation: the MGAN-4 training is scancel'led while it runs, the FC training runs past its 1-minute
    limit (paused by SIGSTOP once it trains: busy, without the CPU). Each writes a checkpoint on SIGTERM, fails, is
    resubmitted with more time and resumes; run.json tells the truth, nothing is half-written."""
    work = _workflow_in(tmp_path / "w")
    _prepare_mnist_5k(work)
    steps = 50
    (work / "kill.yaml").write_text(KILL_GRID.format(steps=steps))
    targets = [f"results/runs/mnist/{m}/seed2019/generator.pt" for m in ("FC", "MGAN-4")]
    env = _env_with_sbatch(sbatch_log)
    proc = subprocess.Popen([sys.executable, SLURM_SNAKEMAKE,
                             "--profile", "profiles/slurm", *targets, "--configfile", "config/smoke.yaml", "kill.yaml"],
                            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    paused = None
    try:
        logs = work / "logs" / "train" / "mnist"
        _wait_for_progress(logs / "MGAN-4.log", steps)  # the faster one first (seconds at 50 steps)
        cancelled = _squeue_job("MGAN-4")
        assert cancelled is not None, "the MGAN-4 training job is not running"
        subprocess.run(["scancel", cancelled], check=True)
        _wait_for_progress(logs / "FC.log", steps)
        paused = _pause_training(work, "FC")
        output, _ = proc.communicate(timeout=600)
    finally:
        proc.kill()  # a hung run (e.g. a cancelled job never noticed) must not outlive the test
        if paused is not None and Path(f"/proc/{paused}").exists():
            os.kill(paused, signal.SIGKILL)  # on a failure before its time limit: not left stopped
    assert proc.returncode == 0, output[-4000:]

    assert _states(sbatch_log, "mnist_MGAN-4") == ["CANCELLED", "COMPLETED"]
    timed_out = _states(sbatch_log, "mnist_FC")  # a retry (2 min) may time out too on a slow machine: retries: 2
    assert timed_out[-1] == "COMPLETED" and set(timed_out[:-1]) == {"TIMEOUT"} and len(timed_out) <= 3, timed_out
    for model in ("FC", "MGAN-4"):
        run = work / "results" / "runs" / "mnist" / model / "seed2019"
        info = json.loads((run / "run.json").read_text())
        assert info["status"] == "complete" and info["steps_done"] == steps, info
        assert 0 < info["resumed_from"] < steps, info  # resumed from the checkpoint written on SIGTERM
        assert info["slurm_job_id"] is not None
        train_log = (work / "logs" / "train" / "mnist" / f"{model}.log").read_text()
        assert f"generator steps {info['resumed_from']:,} -> {steps:,}" in train_log  # the retry's log: it resumed
    assert not list((work / "results").rglob("*.tmp"))
    assert len(sbatch_log.read_text().splitlines()) == 2 + len(timed_out)  # the submissions (data: prepared here)


def test_gpu_jobs_ask_slurm_for_a_gpu_as_configured_and_are_not_capped_to_one(tmp_path):
    """On a `device: cuda` grid the GPU rules ask `--gpus=1` (or `--gres=gpu:1` with `gpu_request: gres`), and
    both training jobs are submitted at once: the local one-GPU cap does not apply to SLURM runs. (This node has
    no GPU: a stand-in sbatch records the lines and refuses every job.)"""
    _require_cluster()
    work = _workflow_in(tmp_path / "w")
    (work / "ci.yaml").write_text(SMALL_GRID + "device: cuda\njob_resources: {train: {runtime: 20}}\n")
    _prepare_mnist_5k(work)
    log = _stand_in_sbatch(tmp_path, 'printf "%s\\n" "$*" >> "$LOG"\necho "sbatch: error: no GPU here" >&2\nexit 1\n')
    env = _env_with_sbatch(log, HMOGBENCH_SLURM_PARTITION="debug", HMOGBENCH_SLURM_ACCOUNT="local")
    for request, flag in (("gpus", "--gpus=1"), ("gres", "--gres=gpu:1")):
        log.unlink(missing_ok=True)
        shutil.rmtree(work / ".snakemake", ignore_errors=True)
        out = subprocess.run([sys.executable, SLURM_SNAKEMAKE,
                              "--profile", "profiles/slurm", "--retries", "0",
                              "-k", *[f"results/runs/mnist/{m}/seed2019/generator.pt" for m in ("FC", "MGAN-4")],
                              "--configfile", "config/smoke.yaml", "ci.yaml", "--config", f"gpu_request={request}"],
                             cwd=work, capture_output=True, text=True, timeout=300, env=env)
        assert out.returncode != 0 and log.exists(), out.stderr[-3000:]
        calls = log.read_text().splitlines()
        assert len(calls) == 2 and all(flag in c for c in calls), calls
        # a 20-minute job gets SLURM's warning 2 minutes before its limit (SIGTERM: it checkpoints and is resubmitted)
        assert all(" -t 20 " in c and "--signal=TERM@120" in c for c in calls), calls
        assert all(("--gres" in c) == (request == "gres") for c in calls), calls
        selected = re.findall(r"Select jobs to execute", out.stdout + out.stderr)
        assert len(selected) == 1, out.stderr[-3000:]  # both in one round: no cap of one GPU job

    # on this machine (no executor) the same two jobs go one at a time when no GPU is visible, and at once on two
    # device slots (stand-in GPU ids 0 and 1), each job on its own (they fail after taking it: no CUDA here)
    (work / "slots.yaml").write_text("gpus: [0, 1]\n")
    for extra, rounds in (((), ["1", "1"]), (("slots.yaml",), ["2"])):
        shutil.rmtree(work / "logs", ignore_errors=True)
        here = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "4", "-k", "--verbose",
                               *[f"results/runs/mnist/{m}/seed2019/generator.pt" for m in ("FC", "MGAN-4")],
                               "--configfile", "config/smoke.yaml", "ci.yaml", *extra], cwd=work,
                              capture_output=True, text=True, timeout=300, env=_env())
        said = here.stdout + here.stderr
        assert [n for n in re.findall(r"Selected jobs: (\d+)", said) if n != "0"] == rounds, said[-3000:]
        if rounds == ["1", "1"]:  # the second only once the first has ended (rounds in between select none)
            between = said.split("Selected jobs: 1")[1]
            assert "Error in rule train" in between and "Selected jobs: 0" in between, said[-3000:]
        slots = sorted(re.findall(r"CUDA_VISIBLE_DEVICES=(\d)", " ".join(
            p.read_text() for p in (work / "logs" / "train" / "mnist").glob("*.log"))))
        if extra:
            assert "2 GPU slot(s) on this machine: GPU(s) 0,1 x 1" in said and slots == ["0", "1"], said[-3000:]
        else:
            assert "one GPU job at a time on this machine" in said and slots == [], said[-3000:]
