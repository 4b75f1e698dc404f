"""provenance.json of a committed example (``hmogbench example``): what produced it, from the records themselves --
the config files (path, sha256, text), each run's run.json (commit, lock hash, versions, device, steps, seconds
and s/step of its last session, the data it trained on), the evaluation records' commits and devices, and the
wall time from the first run's start to the last score (seconds; on one machine whose jobs ran one at a time
this is the grid's time without data preparation and real features)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ..runtime.provenance import file_digest, provenance, write_json_atomic
from .example_rows import read_records

REQUIRED = ("configs", "runs", "evaluation", "wall", "collected")  # the keys a committed example must have
RUN_KEYS = ("model", "seed", "steps_done", "git_commit", "lock_sha256", "device", "seconds", "seconds_per_step")


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def run_summary(run_dir: str | Path) -> dict:
    """The facts of one run from its run.json (a one-line error when it is missing or not complete); ``seconds``
    and ``seconds_per_step`` are of its last session (``session_steps`` steps: all of them unless it resumed)."""
    path = Path(run_dir) / "run.json"
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: expected a run.json of `hmogbench train` ({exc})") from None
    if info.get("status") != "complete":
        raise ValueError(f"{path}: the run is {info.get('status')!r}, expected 'complete'")
    config, steps = info["config"], int(info["steps_done"])
    seconds, session_steps = info.get("seconds_this_session"), steps - int(info.get("resumed_from") or 0)
    return {"model": config["model"], "seed": config["seed"], "steps_done": steps,
            "resumed_from": info.get("resumed_from"),
            "batch_size": config.get("batch_size"), "git_commit": info.get("git_commit"),
            "lock_sha256": (info.get("lock") or {}).get("sha256"), "device": info.get("device"),
            "torch": (info.get("versions") or {}).get("torch"), "started_utc": info.get("time_utc"),
            "finished_utc": info.get("finished_utc"), "seconds": seconds, "session_steps": session_steps,
            "seconds_per_step": round(seconds / session_steps, 3) if seconds and session_steps else None,
            "data": {k: (info.get("data") or {}).get(k) for k in ("name", "sha256")}}


def evaluation_summary(records: list[dict]) -> dict:
    """Commits, lock hashes and devices of the evaluation records, and the time of the last one."""
    prov = [r.get("provenance") or {} for r in records]
    return {"git_commits": sorted({p.get("git_commit") or "?" for p in prov}),
            "lock_sha256": sorted({(p.get("lock") or {}).get("sha256") or "?" for p in prov}),
            "devices": sorted({p.get("device") or "?" for p in prov}),
            "last_record_utc": max((p["time_utc"] for p in prov if p.get("time_utc")), default=None)}


def example_provenance(inputs, rows: list[dict]) -> dict:
    """The provenance of ``inputs`` (an ``example.ExampleInputs``) as one JSON-able dict (keys: ``REQUIRED``)."""
    runs = [run_summary(d) for d in inputs.runs]
    records = [r for path in (*inputs.over_training, *inputs.metrics) for r in read_records(path)]
    evaluation = evaluation_summary(records)
    start = min((r["started_utc"] for r in runs if r["started_utc"]), default=None)
    end = evaluation["last_record_utc"]
    seconds = (_time(end) - _time(start)).total_seconds() if start and end else None
    here = provenance()
    return {"title": inputs.title, "command": inputs.command, "rows": len(rows),
            "configs": [{"path": str(c), "sha256": file_digest(Path(c), "sha256"), "text": Path(c).read_text()}
                        for c in inputs.configs],
            "runs": runs, "evaluation": evaluation,
            "wall": {"first_run_started_utc": start, "last_score_utc": end, "seconds": seconds},
            "collected": {"git_commit": here["git_commit"], "time_utc": here["time_utc"],
                          "lock_sha256": here["lock"]["sha256"]}}


def write_provenance(path: str | Path, values: dict) -> Path:
    write_json_atomic(path, values)
    return Path(path)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown"
    minutes, s = divmod(round(seconds), 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min {s:02d} s"


def provenance_lines(values: dict) -> list[str]:
    """The provenance in a few sentences for the README (the JSON holds everything)."""
    lines = [f"**{r['model']}** seed {r['seed']}: {r['steps_done']:,} generator steps at batch {r['batch_size']} "
             f"on {r['device']}, {r['seconds_per_step']} s/step ({_duration(r['seconds'])} for "
             f"{'its' if r['session_steps'] == r['steps_done'] else 'the last'} {r['session_steps']:,} steps); "
             f"commit {r['git_commit']}, torch {r['torch']}, lock sha256 {str(r['lock_sha256'])[:12]}."
             for r in values["runs"]]
    ev = values["evaluation"]
    lines.append(f"Evaluation on {', '.join(ev['devices'])}, commit {', '.join(ev['git_commits'])}. "
                 f"Wall time from the first run's start to the last score: {_duration(values['wall']['seconds'])}.")
    lines.append("Config: " + ", ".join(f"{c['path']} (sha256 {c['sha256'][:12]})" for c in values["configs"])
                 + "; everything else in provenance.json.")
    return lines
