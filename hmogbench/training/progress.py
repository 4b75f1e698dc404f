"""What a training loop tells the person watching it: what starts, a first estimate, then how far it is.

``TrainProgress`` prints, on stdout and flushed, one line saying what starts (model, seeds, generator steps and
whether that is the authors' full length, batch size, device) and, once ``ESTIMATE_AFTER_STEPS`` steps after
the first (a warm-up) have run or ``ESTIMATE_AFTER_S`` seconds have passed, one line with the measured s/step
and the estimated time of the whole run. With ``bar`` it then drives a tqdm bar (stderr); without one
(``--no-progress``, as the workflow's jobs run) it prints a line every ``every`` generator steps
(``TrainConfig.progress_every``, default 100) or ``EVERY_S`` seconds, whichever comes first, and at the last
step: step/total, steps/s, ETA and the latest losses, so that ``tail -f`` on a job's log shows progress.

The losses come from a callable, called only when a line is printed or the bar's losses are refreshed (at most
every ``BAR_LOSSES_EVERY_S``): reading a loss off a GPU waits for the device, which the loop does not do every step.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from tqdm.auto import tqdm

EVERY_S = 60.0  # seconds between progress lines at most (without a bar)
ESTIMATE_AFTER_STEPS = 10  # the estimate: after this many steps past the first ...
ESTIMATE_AFTER_S = 30.0  # ... or this many seconds, whichever comes first
BAR_LOSSES_EVERY_S = 1.0  # with a bar: seconds between refreshes of the losses it shows


def format_duration(seconds: float) -> str:
    """12 s, 3 min 20 s, 130 h 05 min."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def authors_steps(config: dict[str, Any]) -> int | None:
    """The authors' training length (generator steps) of an image run's config; None for toy runs."""
    from ..models.spec import ModelSpec
    from .config import DEFAULT_STEPS

    if config.get("kind") == "toy" or "model" not in config:
        return None
    return DEFAULT_STEPS[config.get("objective") or ModelSpec.parse(config["model"]).objective]


def start_line(config: dict[str, Any], seeds: list[int], start: int, end: int, total: int, batch_size: int,
               device: Any) -> str:
    """'HME-5 seed 2019: 23,250 generator steps (the authors' full length; ...), batch 128, device cpu'."""
    full = authors_steps(config)
    steps = f"{total:,} generator steps" if (start, end) == (0, total) else \
        f"generator steps {start:,} -> {end:,} of {total:,}"
    if full is not None:
        steps += (" (the authors' full length; --set steps=N for a shorter run)" if total == full
                  else f" (shorter than the authors' {full:,})" if total < full else f" (the authors': {full:,})")
    return f"{run_label(config, seeds)}: {steps}, batch {batch_size}, device {device}"


def run_label(config: dict[str, Any], seeds: list[int]) -> str:
    """What every line and the bar of a training loop are labelled with: 'HME-3 seed 2019', 'FC seeds 2019,2020'."""
    who = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {','.join(map(str, seeds))}"
    return f"{config.get('model', '?')} {who}"


class TrainProgress:
    """Progress of one training loop (a run, or a batched group of runs) from step ``initial`` to ``total``."""

    def __init__(self, label: str, total: int, initial: int, *, bar: bool, every: int = 100,
                 clock: Callable[[], float] = time.monotonic):
        self.label, self.total, self.end, self.every, self.clock = label, total, total, every, clock
        self.initial = self.last_step = initial
        self.started = self.last_time = clock()
        self.first_done: float | None = None  # when the first step of this session ended (warm-up excluded)
        self.estimated = False
        self.bar_losses_at = -float("inf")
        self.bar = tqdm(total=total, initial=initial, unit="step", desc=label, dynamic_ncols=True) if bar else None

    def _print(self, text: str, labelled: bool = True) -> None:
        line = f"[train] {self.label}: {text}" if labelled else f"[train] {text}"
        if self.bar is not None:
            self.bar.write(line)  # above the bar, on stdout
        else:
            print(line, flush=True)

    def start(self, config: dict[str, Any], seeds: list[int], end: int, batch_size: int, device: Any) -> None:
        """Say what starts; ``config``: the (first) run's config; ``end``: the step this session stops at."""
        self.end = end
        self._print(start_line(config, seeds, self.initial, end, self.total, batch_size, device), labelled=False)

    def _seconds_per_step(self, step: int, now: float) -> float:
        done = step - self.initial
        if done >= 2 and self.first_done is not None and now > self.first_done:
            return (now - self.first_done) / (done - 1)
        return (now - self.started) / max(done, 1)

    def update(self, step: int, losses: Callable[[], tuple[list[float], list[float]]]) -> None:
        """Generator step ``step`` is done; ``losses()``: its discriminator and generator loss of every run (called
        only when shown)."""
        now = self.clock()
        done = step - self.initial
        if done == 1:
            self.first_done = now
        if not self.estimated and done >= 2 and (done - 1 >= ESTIMATE_AFTER_STEPS
                                                 or now - self.started >= ESTIMATE_AFTER_S):
            self._estimate(step, now)
        if self.bar is not None:
            if now - self.bar_losses_at >= BAR_LOSSES_EVERY_S or step == self.end:
                d, g = losses()
                self.bar.set_postfix(d=f"{d[0]:.4g}", g=f"{g[0]:.4g}", refresh=False)
                self.bar_losses_at = now
            self.bar.update(step - self.bar.n)
        elif step - self.last_step >= self.every or now - self.last_time >= EVERY_S or step == self.end:
            self._log(step, now, *losses())

    def _estimate(self, step: int, now: float) -> None:
        self.estimated = True
        per_step = self._seconds_per_step(step, now)
        self._print(f"{per_step:.3g} s/step (steps {self.initial + 2}-{step}); {self.total:,} steps take about "
                    f"{format_duration(per_step * self.total)} in all, "
                    f"{format_duration(per_step * (self.total - step))} from now")

    def _log(self, step: int, now: float, d: list[float], g: list[float]) -> None:
        per_step = self._seconds_per_step(step, now)
        rate = 1 / per_step if per_step > 0 else float("inf")
        losses = f"d {','.join(f'{v:.4g}' for v in d)} g {','.join(f'{v:.4g}' for v in g)}"
        self._print(f"step {step:,}/{self.total:,} ({100 * step // self.total}%), {rate:.3g} steps/s, "
                    f"ETA {format_duration(per_step * (self.end - step))}, {losses}")
        self.last_step, self.last_time = step, now

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
