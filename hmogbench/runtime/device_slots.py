"""Device slots: every GPU of one machine used by the workflow's local GPU jobs (docs/slurm-and-gpus.md#gpus).

A machine's slots are N GPUs x K jobs per GPU. When the workflow runs on this machine with `device` auto or cuda,
its ``onstart`` sets ``$HMOGBENCH_GPU_SLOTS`` (the GPU ids, K and the slots' folder, as JSON); every ``hmogbench``
command of a GPU rule (train, features, evaluate, figures) then calls ``hold_slot`` first: it takes a free slot,
sets the process's ``CUDA_VISIBLE_DEVICES`` to that slot's GPU (before CUDA starts) and removes the variable, so
the command's own children take none. Outside the workflow, ``hmogbench on-slot --gpus 0,1 [--per-gpu K] --
COMMAND...`` runs any command on a slot (it takes one, then replaces itself with COMMAND: ``execvp``).

- A slot is taken by an exclusive non-blocking ``flock`` on its lock file in the folder (``gpu<ID>.slot<R>.lock``),
  held by the job's own process, so the kernel releases it when that process (and any child it forked that kept
  the descriptor) ends, however it ends: SIGKILL included. Nothing is written into the files, nothing to clean up.
- Which slot: the free one on the GPU with the fewest busy slots (ties: the GPU listed first), so a GPU gets a
  second job (K > 1) only when every GPU has one; K > 1 is for launch-bound small models (FC at 32x32) that
  leave a GPU mostly idle.
- All slots busy: one line on stderr, then it polls every ``POLL_S`` seconds. (The workflow gives Snakemake N x K
  ``gpu`` resources, so this only happens with ``--resources gpu=M`` above N x K, or with slots held elsewhere.)
- The slot changes nothing but the GPU the job sees: arguments and every other environment variable stay as
  they are. The variable is never set off this machine (SLURM gives each job its own GPU; its jobs run no
  ``onstart``), nor for device cpu or a named device (cuda:N).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

SLOTS_DIR = Path(".snakemake") / "hmogbench-slots"  # the workflow's, under its working directory
GPUS_ENV = "CUDA_VISIBLE_DEVICES"
SLOTS_ENV = "HMOGBENCH_GPU_SLOTS"  # set by the workflow's onstart: {"gpus": [...], "per_gpu": K, "dir": PATH}
POLL_S = 0.5  # seconds between tries while every slot is busy
SLOT_DEVICES = ("auto", "cuda")  # config `device` values that get slots (cuda:N names its own GPU: none)
_ID = re.compile(r"[^,\s]+")


@dataclass(frozen=True)
class Slot:
    gpu: str  # the GPU's id, as CUDA_VISIBLE_DEVICES takes it
    position: int  # of the GPU in the list (0..N-1)
    index: int  # of the slot on that GPU (0..K-1)
    fd: int  # the locked file's descriptor


def parse_gpus(gpus: str | list) -> list[str]:
    """GPU ids from '0,1' or [0, 1] -> ['0', '1']; ValueError (one line) when empty, repeated or not an id."""
    items = gpus.split(",") if isinstance(gpus, str) else list(gpus)
    ids = [str(item).strip() for item in items]
    if not ids or not all(_ID.fullmatch(i) for i in ids) or len(set(ids)) != len(ids):
        raise ValueError(f"gpus (--gpus) {gpus!r}: expected distinct GPU ids (CUDA_VISIBLE_DEVICES values), e.g. 0,1")
    return ids


def check_per_gpu(per_gpu: int) -> int:
    if isinstance(per_gpu, bool) or not isinstance(per_gpu, int) or per_gpu < 1:
        raise ValueError(f"jobs_per_gpu (--per-gpu) {per_gpu!r}: expected an integer of at least 1")
    return per_gpu


def visible_gpus(environ: dict | None = None) -> list[str]:
    """The GPUs this process may use: $CUDA_VISIBLE_DEVICES's ids (up to an invalid one such as -1, as CUDA reads
    it), else 0..torch.cuda.device_count()-1 (torch imported only then, and not on a Linux machine without a GPU
    driver: no /proc/driver/nvidia, no /dev/kfd)."""
    environ = os.environ if environ is None else environ
    if GPUS_ENV in environ:
        ids = []
        for item in (i.strip() for i in environ[GPUS_ENV].split(",")):
            if not item or item.startswith("-"):
                break
            ids.append(item)
        return ids
    if sys.platform == "linux" and not any(Path(p).exists() for p in ("/proc/driver/nvidia", "/dev/kfd")):
        return []
    import torch

    return [str(i) for i in range(torch.cuda.device_count())]


def _lock_path(slots_dir: Path, gpu: str, index: int) -> Path:
    return Path(slots_dir) / f"gpu{re.sub(r'[^A-Za-z0-9_.-]', '_', gpu)}.slot{index}.lock"


def _try_lock(path: Path) -> int | None:
    """An open descriptor of `path` holding its exclusive lock, or None when someone else holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def take_slot(slots_dir: str | Path, gpus: list[str], per_gpu: int) -> Slot | None:
    """Lock a free slot on the least busy GPU (ties: the first listed), or None when all N x K are busy."""
    Path(slots_dir).mkdir(parents=True, exist_ok=True)
    free = {}  # (position, index) -> descriptor: free slots, each locked by us for the moment
    for position, gpu in enumerate(gpus):
        for index in range(per_gpu):
            fd = _try_lock(_lock_path(slots_dir, gpu, index))
            if fd is not None:
                free[position, index] = fd
    if not free:
        return None
    busy = [per_gpu - sum(p == position for p, _ in free) for position in range(len(gpus))]
    best = min(free, key=lambda slot: (busy[slot[0]], slot))
    for slot, fd in free.items():
        if slot != best:
            os.close(fd)
    return Slot(gpu=gpus[best[0]], position=best[0], index=best[1], fd=free[best])


def wait_for_slot(slots_dir: str | Path, gpus: list[str], per_gpu: int, poll_s: float = POLL_S,
                  command: str = "hmogbench on-slot") -> Slot:
    """``take_slot``, polling every `poll_s` s while all are busy (saying so once on stderr, as `command`)."""
    said = False
    while (slot := take_slot(slots_dir, gpus, per_gpu)) is None:
        if not said:
            print(f"{command}: all {len(gpus) * per_gpu} slots ({len(gpus)} GPU(s) x {per_gpu}) are busy; "
                  "waiting for one", file=sys.stderr, flush=True)
            said = True
        time.sleep(poll_s)
    return slot


def _say_slot(command: str, slot: Slot, per_gpu: int) -> None:
    """The job log's line naming its slot, e.g. 'hmogbench train: GPU 1 (slot 1 of 1 on it): CUDA_VISIBLE_DEVICES=1'."""
    print(f"{command}: GPU {slot.gpu} (slot {slot.index + 1} of {per_gpu} on it): {GPUS_ENV}={slot.gpu}",
          file=sys.stderr, flush=True)


def run_on_slot(slots_dir: str | Path, gpus: list[str], per_gpu: int, command: list[str]) -> None:
    """Take a slot and become `command` on its GPU (never returns; OSError if `command` cannot be run)."""
    if not command:
        raise ValueError("expected a command after --")
    slot = wait_for_slot(slots_dir, parse_gpus(gpus), check_per_gpu(per_gpu))
    os.set_inheritable(slot.fd, True)  # the command's process holds the lock until it ends
    _say_slot("hmogbench on-slot", slot, per_gpu)
    sys.stdout.flush()
    try:
        os.execvpe(command[0], command, {**os.environ, GPUS_ENV: slot.gpu})
    except FileNotFoundError:
        raise FileNotFoundError(f"command {command[0]!r}: not found") from None


def slots_value(gpus: list[str], per_gpu: int, slots_dir: str | Path) -> str:
    """The value of $HMOGBENCH_GPU_SLOTS for these slots (JSON)."""
    return json.dumps({"gpus": list(gpus), "per_gpu": per_gpu, "dir": str(Path(slots_dir).absolute())})


def workflow_slots(device: str, local: bool, gpus: list | None, per_gpu: int,
                   slots_dir: str | Path = SLOTS_DIR) -> tuple[str, int | None, str]:
    """(value of $HMOGBENCH_GPU_SLOTS or '', `gpu` resources for this machine, a line to print) for config
    `device`, `gpus` (None: all visible) and `jobs_per_gpu`, run on this machine (`local`) or not. Off this
    machine: ('', None, ''). On it with no slots (device cpu or cuda:N, or no GPU visible): one GPU job at a time."""
    per_gpu = check_per_gpu(per_gpu)
    ids = parse_gpus(gpus) if gpus is not None else None
    if not local or device == "cpu":
        return "", None, ""
    if device not in SLOT_DEVICES:
        return "", 1, f"hmogbench: device {device}: one GPU job at a time on this machine"
    ids = ids if ids is not None else visible_gpus()
    if not ids and device == "auto":  # the GPU rules run on the CPU, side by side like every other rule
        return "", None, ""
    if not ids:
        return "", 1, ("hmogbench: no GPU visible ($CUDA_VISIBLE_DEVICES, torch): one GPU job at a time on this "
                       "machine (config gpus: [0, 1, ...] names them)")
    return slots_value(ids, per_gpu, slots_dir), len(ids) * per_gpu, (
        f"hmogbench: {len(ids) * per_gpu} GPU slot(s) on this machine: GPU(s) {','.join(ids)} x {per_gpu} job(s) "
        "each")


_HELD: list[Slot] = []  # the slot this process holds (its descriptor must stay open while the process runs)


def hold_slot(environ: dict | None = None, command: str = "hmogbench") -> Slot | None:
    """Where $HMOGBENCH_GPU_SLOTS is set (a workflow GPU job on this machine): take a slot for this process (waiting
    while all are busy), set CUDA_VISIBLE_DEVICES to its GPU, remove $HMOGBENCH_GPU_SLOTS and say which on stderr;
    call before CUDA starts. Else None, nothing changed. ValueError (one line) for a value that is not the
    workflow's."""
    environ = os.environ if environ is None else environ
    if SLOTS_ENV not in environ:
        return None
    try:
        spec = json.loads(environ[SLOTS_ENV])
        gpus, per_gpu, slots_dir = parse_gpus(spec["gpus"]), check_per_gpu(spec["per_gpu"]), spec["dir"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"${SLOTS_ENV} = {environ[SLOTS_ENV]!r}: expected the workflow's JSON "
                         f'{{"gpus": [...], "per_gpu": K, "dir": PATH}} ({exc})') from None
    slot = wait_for_slot(slots_dir, gpus, per_gpu, command=command)
    _HELD.append(slot)
    environ[GPUS_ENV] = slot.gpu
    del environ[SLOTS_ENV]
    _say_slot(command, slot, per_gpu)
    return slot


def add_on_slot_arguments(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--slots-dir", default=str(SLOTS_DIR), help="folder of the slots' lock files (default %(default)s)")
    p.add_argument("--gpus", required=True, help="GPU ids separated by commas, as CUDA_VISIBLE_DEVICES takes them")
    p.add_argument("--per-gpu", type=int, default=1, help="jobs at once on one GPU (default %(default)s)")
    p.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="the command to run on the slot's GPU, after --")
    p.set_defaults(func=cmd_on_slot)
    return p


def add_on_slot_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    return add_on_slot_arguments(subparsers.add_parser(
        "on-slot", help="run a command on a free GPU slot (CUDA_VISIBLE_DEVICES), waiting for one if all are busy"))


def cmd_on_slot(args: argparse.Namespace) -> int:
    command = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    run_on_slot(args.slots_dir, args.gpus, args.per_gpu, command)
    return 0  # not reached: the process is the command now


def main(argv: list[str] | None = None) -> int:
    """``python -m hmogbench.runtime.device_slots``: ``hmogbench on-slot`` without the
    package's other imports."""
    parser = argparse.ArgumentParser(prog="hmogbench on-slot", description=__doc__.split("\n\n")[0])
    args = add_on_slot_arguments(parser).parse_args(argv)
    try:
        return cmd_on_slot(args)
    except (ValueError, OSError) as exc:
        print(f"hmogbench on-slot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
