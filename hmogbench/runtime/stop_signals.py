"""Stopping on a signal at a safe point instead of dying mid-write.

SIGTERM is what SLURM sends at a job's time limit, on ``scancel`` and, with ``sbatch --signal=TERM@<s>`` (the
workflow's SLURM jobs ask for it), ``<s>`` seconds before the limit; SIGKILL follows after the cluster's
``KillWait`` (30 s by default). SIGUSR1 is the other usual warning (``--signal=USR1@<s>`` in a batch script of
one's own). SIGINT is Ctrl-C at a terminal. ``stop_on_signals`` installs handlers for the three around a command
(main thread only):

- by default the handler raises ``Interrupted`` at once: outputs are written atomically, so temporary files are
  removed as the exception unwinds and whatever was already written (evaluate's records, a finished seed) stays;
- inside ``deferred()`` (the training loop's steps) the handler only records the signal; the loop polls
  ``requested()`` before every generator step, writes a checkpoint, records the stop in run.json and raises
  ``Interrupted``: a stop loses no finished step.

A second Ctrl-C while stopping raises ``KeyboardInterrupt`` at once (to abort a step or a checkpoint that takes
too long; the last checkpoint stays, a rerun resumes from it); a second SIGTERM or SIGUSR1 is ignored, so that
the first stop finishes its cleanup. The command then exits with status 128 + the signal's number (130 for
Ctrl-C, 143 for SIGTERM), so that Snakemake sees a failed job and resubmits it (``retries``), and the rerun
resumes.
"""

from __future__ import annotations

import contextlib
import signal
from typing import Iterator

SIGNALS = (signal.SIGTERM, signal.SIGUSR1, signal.SIGINT)
_received: int | None = None  # the first signal received while the handlers are installed
_deferred = False  # inside deferred(): the handler records the signal instead of raising


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


def _handle(signum: int, frame) -> None:
    global _received
    if _received is not None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt  # a second Ctrl-C: abort now
        return  # a second SIGTERM / SIGUSR1: let the first stop finish its cleanup
    _received = signum
    if not _deferred:
        raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Handle SIGTERM, SIGUSR1 and SIGINT inside the block (see the module docstring); the old handlers come back
    after."""
    global _received
    old = {s: signal.signal(s, _handle) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
        _received = None


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Inside the block a signal is only recorded: the code polls ``requested()`` and stops at a safe point."""
    global _deferred
    outer, _deferred = _deferred, True
    try:
        yield
    finally:
        _deferred = outer
