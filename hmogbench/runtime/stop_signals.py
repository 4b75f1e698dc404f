"""Stopping on a signal at a safe point instead of dying mid-write.

SIGTERM is what SLURM sends at a job's time limit, on ``scancel`` and, with ``sbatch --signal=TERM@<s>`` (the
workflow's SLURM jobs ask for it), ``<s>`` seconds before the limit; SIGKILL follows after the cluster's
``KillWait`` (30 s by default). SIGUSR1 is the other usual warning (``--signal=USR1@<s>`` in a batch script of
one's own). ``stop_on_signals`` installs handlers for both around a command (main thread only):

- ``immediate=False`` (training): the handler only records the signal; the loop polls ``requested()`` at every
  generator-step boundary, writes a checkpoint, records the stop in run.json and raises ``Interrupted``;
- ``immediate=True`` (evaluation, whose records are each written atomically): the handler raises
  ``Interrupted`` at once; temporary files are removed as the exception unwinds and the records already
  written stay.

The command then exits with status 128 + the signal's number, so that Snakemake sees a failed job and
resubmits it (``retries``), and the rerun resumes.
"""

from __future__ import annotations

import contextlib
import signal
from typing import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGUSR1)
_received: int | None = None  # the first signal received while the handlers are installed


class Interrupted(Exception):
    """A stop asked for by signal ``signum``; ``str()`` says where the command stopped."""

    def __init__(self, signum: int, where: str = ""):
        self.signum = signum
        super().__init__(f"stopped by {signal_name(signum)}" + (f" {where}" if where else ""))

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def requested() -> int | None:
    """The signal that asked this process to stop (None: none yet, or no handlers installed)."""
    return _received


def signal_name(signum: int) -> str:
    return signal.Signals(signum).name


@contextlib.contextmanager
def stop_on_signals(immediate: bool = False) -> Iterator[None]:
    """Handle SIGTERM and SIGUSR1 inside the block (see the module docstring); the old handlers come back after."""
    global _received

    def handle(signum: int, frame) -> None:
        global _received
        if _received is not None:
            return  # a second signal while stopping: let the first stop finish its cleanup
        _received = signum
        if immediate:
            raise Interrupted(signum)

    old = {s: signal.signal(s, handle) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _received = None
