"""losses.csv of every run: one row every ``log_every`` generator steps (unset in an image run's config:
``training.settings.log_interval``), kept consistent with the checkpoint."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..runtime.provenance import write_text_atomic
from .files import LOSSES


def truncate_csv(path: Path, last_step: int) -> None:
    """Drop rows logged after ``last_step`` (written before a kill, redone after resume)."""
    if not path.exists():
        return
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        return
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[0]) <= last_step]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(kept)
    write_text_atomic(path, buf.getvalue())


class LossLog:
    """The runs' losses.csv files, open for appending: a resumed run drops the rows after its checkpoint
    (``resumed_at``), a fresh one starts empty (losses of an earlier, checkpoint-less run are stale)."""

    def __init__(self, out_dirs: list[Path], resumed_at: int | None):
        paths = [d / LOSSES for d in out_dirs]
        for path in paths:
            if resumed_at is None:
                path.unlink(missing_ok=True)
            else:
                truncate_csv(path, resumed_at)
        self.files = [p.open("a", newline="") for p in paths]
        self.writers = [csv.writer(f, lineterminator="\n") for f in self.files]
        self.headers = [p.stat().st_size > 0 for p in paths]

    def write(self, run: int, row: dict[str, float | int]) -> None:
        """Append ``row`` ({column: value}, the first column "step") to run ``run``'s file, flushed."""
        if not self.headers[run]:
            self.writers[run].writerow(row.keys())
            self.headers[run] = True
        self.writers[run].writerow([f"{v:.6g}" if isinstance(v, float) else v for v in row.values()])
        self.files[run].flush()

    def close(self) -> None:
        for f in self.files:
            f.close()
