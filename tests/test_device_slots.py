"""Device slots (hmogbench/runtime/device_slots.py) on the CPU, with stand-in GPU ids: each slot is a lock file that
the job's own process holds (`flock`, inherited across exec), so no GPU is needed to check who gets which slot."""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hmogbench.runtime import device_slots as ds
from hmogbench.workflow.config_schema import config_error

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow" / "schemas" / "config.schema.yaml").read_text())


@pytest.fixture(autouse=True)
def deadline():
    """A slot taken by a blocking lock would hang the test: SIGALRM fails it instead."""
    def fail(signum, frame):
        raise TimeoutError("a slot test ran past 60 s (a blocking lock?)")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(60)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


def on_slot(slots_dir, gpus: str, per_gpu: int, *command: str, **kwargs) -> subprocess.Popen:
    """`python -m hmogbench.runtime.device_slots ... -- COMMAND`, as the workflow's prefix runs it."""
    prefix = ["-m", "hmogbench.runtime.device_slots", "--slots-dir", str(slots_dir), "--gpus", gpus,
              "--per-gpu", str(per_gpu), "--"]
    return subprocess.Popen([sys.executable, *prefix, *command], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kwargs)


def stderr_line(process: subprocess.Popen, timeout: float = 10.0) -> str:
    ready, _, _ = select.select([process.stderr], [], [], timeout)
    assert ready, "no line on stderr in time"
    return process.stderr.readline()


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_concurrent_holders_get_distinct_slots_one_per_gpu_first(tmp_path):
    """Six holders of 3 GPUs x 2: six distinct slots, the first three on three GPUs (a GPU's second job only once
    every GPU has one), then none; a released slot is taken again."""
    held = [ds.take_slot(tmp_path, ["0", "1", "2"], 2) for _ in range(6)]
    assert len({(s.gpu, s.index) for s in held}) == 6
    assert [s.gpu for s in held[:3]] == ["0", "1", "2"] and sorted(s.gpu for s in held[3:]) == ["0", "1", "2"]
    assert ds.take_slot(tmp_path, ["0", "1", "2"], 2) is None
    os.close(held[4].fd)
    again = ds.take_slot(tmp_path, ["0", "1", "2"], 2)
    assert (again.gpu, again.index) == (held[4].gpu, held[4].index)
    for slot in (*held[:4], held[5], again):
        os.close(slot.fd)


def test_more_than_one_job_per_gpu_packs_jobs_on_one_gpu_and_the_least_busy_gpu_is_chosen(tmp_path):
    first, second = (ds.take_slot(tmp_path, ["7"], 2) for _ in range(2))
    assert (first.gpu, second.gpu) == ("7", "7") and {first.index, second.index} == {0, 1}
    assert ds.take_slot(tmp_path, ["7"], 2) is None
    os.close(first.fd)  # GPU 7 has one job left, GPU 8 none: the next job goes to 8
    assert ds.take_slot(tmp_path, ["7", "8"], 2).gpu == "8"


def test_the_command_holds_its_slot_and_a_killed_command_frees_it(tmp_path):
    """The lock is the job's own (inherited by `sleep` across exec, the on-slot interpreter gone); SIGKILL frees it."""
    job = on_slot(tmp_path, "5", 1, "sleep", "30")
    try:
        assert "GPU 5 (slot 1 of 1 on it): CUDA_VISIBLE_DEVICES=5" in stderr_line(job)
        wait_until(lambda: Path(f"/proc/{job.pid}/comm").read_text().strip() == "sleep")  # exec'd
        assert ds.take_slot(tmp_path, ["5"], 1) is None
    finally:
        job.send_signal(signal.SIGKILL)
        job.wait(timeout=10)
    slot = ds.take_slot(tmp_path, ["5"], 1)
    assert slot is not None and slot.gpu == "5"
    os.close(slot.fd)


def test_all_slots_busy_it_says_so_once_waits_then_runs(tmp_path):
    held = ds.take_slot(tmp_path, ["0"], 1)
    job = on_slot(tmp_path, "0", 1, "echo", "ran")
    try:
        assert "all 1 slots (1 GPU(s) x 1) are busy; waiting" in stderr_line(job)
        time.sleep(2 * ds.POLL_S)
        assert job.poll() is None  # still waiting
    finally:
        os.close(held.fd)
    out, err = job.communicate(timeout=10)
    assert out == "ran\n" and "waiting" not in err and "CUDA_VISIBLE_DEVICES=0" in err


HOLD_AND_PRINT = ("import json, os, random, sys; from hmogbench.runtime.device_slots import hold_slot; hold_slot(); "
                  "random.seed(2019); print(json.dumps({'env': dict(os.environ), 'argv': sys.argv[1:], "
                  "'numbers': [random.random() for _ in range(3)]}), flush=True); "
                  "sys.stdin.readline()")  # then holds its slot until stdin closes


def test_a_workflow_job_holds_a_slot_sees_its_gpu_and_nothing_else_changes(tmp_path):
    """Two jobs at once with the workflow's $HMOGBENCH_GPU_SLOTS (GPUs 3, 4): each sees its own GPU in
    CUDA_VISIBLE_DEVICES, the variable is gone (its children take no slot), every other variable and the arguments
    are as given and (a stand-in for a run on the CPU, where nothing reads CUDA_VISIBLE_DEVICES) the numbers are
    the same."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "0,1,2,3", ds.SLOTS_ENV: ds.slots_value(["3", "4"], 1, tmp_path)}
    runs, outputs = [], []
    for _ in range(2):
        runs.append(subprocess.Popen([sys.executable, "-c", HOLD_AND_PRINT, "a", "b c"], cwd=ROOT, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                     stderr=subprocess.DEVNULL))
        outputs.append(json.loads(runs[-1].stdout.readline()))
    assert ds.take_slot(tmp_path, ["3", "4"], 1) is None  # both held while the jobs run
    for run in runs:
        run.communicate(timeout=10)
    assert [o["env"].pop("CUDA_VISIBLE_DEVICES") for o in outputs] == ["3", "4"]
    assert outputs[0] == outputs[1] and outputs[0]["argv"] == ["a", "b c"]
    assert {k: v for k, v in env.items() if k not in ("CUDA_VISIBLE_DEVICES", ds.SLOTS_ENV)} == outputs[0]["env"]


def test_the_gpu_rules_commands_take_a_slot_and_others_do_not(tmp_path, monkeypatch, capsys):
    """`hmogbench features` (a GPU rule's command) takes a slot before it runs (here it then fails on a missing
    file); `hmogbench tables` takes none; a value that is not the workflow's is a one-line error."""
    from hmogbench import cli

    monkeypatch.setenv(ds.SLOTS_ENV, ds.slots_value(["6"], 1, tmp_path))
    assert cli.main(["tables", "mnist", str(tmp_path / "none.json"), "--out-dir", str(tmp_path)]) != 0
    assert ds.SLOTS_ENV in os.environ and "GPU 6" not in capsys.readouterr().err
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")  # recorded: the value the slot sets is undone after the test
    assert cli.main(["features", str(tmp_path / "none.npy"), "--features", "pixels", "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "hmogbench features: GPU 6 (slot 1 of 1 on it): CUDA_VISIBLE_DEVICES=6" in err and "none.npy" in err
    assert os.environ["CUDA_VISIBLE_DEVICES"] == "6" and ds.SLOTS_ENV not in os.environ
    assert ds.take_slot(tmp_path, ["6"], 1) is None  # held by this process
    os.close(ds._HELD.pop().fd)
    monkeypatch.setenv(ds.SLOTS_ENV, "0,1")
    assert cli.main(["features", str(tmp_path / "none.npy"), "--features", "pixels", "--out", str(tmp_path / "f")]) == 2
    assert "error: $HMOGBENCH_GPU_SLOTS = '0,1': expected the workflow's JSON" in capsys.readouterr().err


def test_the_workflow_gets_slots_only_for_gpu_jobs_on_this_machine(tmp_path, monkeypatch):
    assert ds.workflow_slots("cpu", True, None, 1) == ("", None, "")  # device cpu: nothing changes
    assert ds.workflow_slots("cuda", False, [0, 1], 2) == ("", None, "")  # SLURM: each job its own GPU
    value, slots, line = ds.workflow_slots("cuda", True, [0, 1], 2, slots_dir=tmp_path)
    assert slots == 4 and json.loads(value) == {"gpus": ["0", "1"], "per_gpu": 2, "dir": str(tmp_path)}
    assert "GPU(s) 0,1 x 2" in line
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,3,-1,5")  # what CUDA sees: 2 and 3
    assert ds.workflow_slots("auto", True, None, 1)[1] == 2 and ds.visible_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert ds.workflow_slots("auto", True, None, 3) == ("", None, "")  # no GPU visible: auto runs on the CPU
    assert ds.workflow_slots("cuda", True, None, 3)[:2] == ("", 1)  # cuda, none visible: one GPU job at a time
    assert ds.workflow_slots("cuda:1", True, None, 1)[:2] == ("", 1)  # a named device: no slots


@pytest.mark.parametrize("gpus, per_gpu, message", [
    ([], 1, "gpus (--gpus) []: expected distinct GPU ids"), (["0", "0"], 1, "expected distinct GPU ids"),
    (["0,1"], 1, "expected distinct GPU ids"),
    ([0], 0, "jobs_per_gpu (--per-gpu) 0: expected an integer of at least 1")])
def test_bad_slot_values_are_one_line_errors(gpus, per_gpu, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        ds.workflow_slots("cuda", True, gpus, per_gpu)


def test_the_config_schema_names_bad_slot_keys():
    assert config_error({"gpus": []}, SCHEMA) == "config key 'gpus' = []: expected at least 1 item(s)"
    assert config_error({"jobs_per_gpu": 0}, SCHEMA) == "config key 'jobs_per_gpu' = 0: expected at least 1"
    assert config_error({"gpus": [0, "GPU-1a2b"], "jobs_per_gpu": 2, "gpu_request": "shard"}, SCHEMA) is None
