"""run.json of every run: provenance and a status that tells the truth after any stop.

Rewritten (atomically) at the start, at every checkpoint and at the end. "status": running / complete /
paused (``stop_at``) / interrupted (a signal: SIGTERM from SLURM's time limit or scancel, SIGUSR1 or
Ctrl-C; a checkpoint was written first; or a second Ctrl-C, mid-step) / failed (an error) / stopped (with its batched group);
"steps_done"; "last_checkpoint" (the step of checkpoint.pt); "resumed_from"; "batch" (how it was trained);
"train_precision" (what the run computed in, ``precision.resolve``); "data" (what it trained on: the set's name as
prepared, the array's path and sha256, ``data.verify.data_record``; beside "config", not in it: a resume compares
configs); "slurm_job_id" when run by SLURM. After a SIGKILL (out of memory, the end of KillWait) it still says
running, as of its last checkpoint.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from ..runtime.provenance import provenance, utc_now, write_json_atomic
from .files import RUN_INFO
from .precision import RECORD_KEY
from .random_state import RunSetup


class RunRecords:
    """The run.json content of every run of a loop, and its writing."""

    def __init__(self, runs: list[RunSetup], device: torch.device, precision: str = "fp32"):
        self.runs = runs
        self.infos: list[dict[str, Any]] = []
        for run in runs:
            run.out_dir.mkdir(parents=True, exist_ok=True)
            info = provenance(run.config, device)
            if run.data is not None:
                info["data"] = run.data
            info[RECORD_KEY] = precision
            info.update(status="running", steps_done=0, last_checkpoint=None, resumed_from=None,
                        batch=run.batch or {"batched": False}, slurm_job_id=os.environ.get("SLURM_JOB_ID"))
            self.infos.append(info)

    def write(self, **values: Any) -> None:
        """Update every run's content with ``values`` and write it."""
        for run, info in zip(self.runs, self.infos):
            info.update(values)
            write_json_atomic(run.out_dir / RUN_INFO, info)

    def checkpointed(self, step: int) -> None:
        self.write(steps_done=step, last_checkpoint=step, updated_utc=utc_now())

    @property
    def last_checkpoint(self) -> int | None:
        return self.infos[0]["last_checkpoint"]

    def failed(self, run_index: int, error: str, step: int) -> None:
        """Run ``run_index`` failed; the others of its group stopped with it."""
        for i, info in enumerate(self.infos):
            if i == run_index:
                info.update(status="failed", error=error, steps_done=step)
            else:
                info.update(status="stopped", error=f"stopped with its batched group: {error}", steps_done=step)
        self.write()


def trained_on(info: dict[str, Any], config: dict[str, Any] | None = None) -> str | None:
    """The name of the set a run trained on, as prepared (run.json's "data" record: mnist-5k is not mnist); for
    older runs its config's ``extra.train_data`` (the workflow's), else its ``dataset``. ``config``: the run's
    config (default: ``info["config"]``); None when nothing names it."""
    config = config if config is not None else (info.get("config") or {})
    return (info.get("data") or {}).get("name") or (config.get("extra") or {}).get("train_data") or config.get("dataset")
