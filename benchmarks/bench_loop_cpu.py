"""CPU speed of the training loop: a reference revision against the working tree, side by side in one run.

    python -m benchmarks.bench_loop_cpu                        # 930d7a6 vs the working tree, 3 rounds (~5 min)
    python -m benchmarks.bench_loop_cpu --candidate 930d7a6    # one revision against itself: the method's noise
    python -m benchmarks.bench_loop_cpu --concurrent --threads 1 --rounds 8   # both trees at once, a core each
    python -m benchmarks.bench_loop_cpu --smoke --out /tmp/loop_cpu.json   # CI: tiny, checks the mechanics only

The figure is seconds per generator step (5 critic steps + 1 generator step, WGAN-GP) of the project's own loop on
the CPU, after warm-up steps; the last step (it writes the checkpoint and generator.pt) is not timed. Cases:
- fc32: FC at 1x32x32, batch 64, one run (``train_from_config``);
- hme2-seeds-loop: HME-2 at 1x32x32, batch 32, 2 seeds via ``train_seeds(batch_mode='loop')`` (the workflow's
  CPU path); a step is one generator step of both seeds.
Both get the same synthetic uint8 images (N, C, H, W), made on the CPU from seed 0.

Each tree (the reference materialised by ``git archive`` into a temporary folder; the working tree: the repository
root, or --candidate REV, materialised too) is measured in a child process (``benchmarks/loop_child.py``, run as
a file) with cwd and PYTHONPATH = that tree, so
``import hmogbench`` is that tree's code (the child reports ``hmogbench.__file__``; the parent checks it lies in the
tree). Rounds interleave: for each round, each case: reference, then working. Torch threads are fixed (--threads,
set in the child and as OMP_NUM_THREADS). Per case: the median over rounds of each round's median s/step, and
ratio = reference s/step / working s/step (>= 0.97: the working tree is at least 0.97x as fast as the reference,
the acceptance bar "on the CPU nothing gets slower"). The per-round figures and ratios show the noise. Other
processes on the machine move the figures (the record has the load average at start and end): on a loaded box,
2 OpenMP threads can stall each other, --threads 1 is steadier; compare ratios only within one run.

Writes results/bench/loop_cpu.json (atomically, after every measurement) with the device, versions, the lock's hash,
git commit and date (``benchmarks.lib.records.write_record``). Exit status 0 whatever the verdict (a measurement); 1
if a measurement failed (recorded in the file) or a revision is not in the repository (one line, nothing written).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from benchmarks.lib.tables import loop_table
from benchmarks.loop_child import MARKER

ROOT = Path(__file__).resolve().parent.parent
CHILD = Path(__file__).resolve().with_name("loop_child.py")
REFERENCE = "930d7a6"  # the code before the training rewrite (hmogbench/train.py + batched.py)
THRESHOLD = 0.97
# steps: timed generator steps. Both cases are ~150 GFLOP a generator step (hmogbench.training.flops), ~1.5-2 s on 2
# unloaded cores: a child trains warm-up + steps + 1 generator steps, ~15-20 s
CASES = {
    "fc32": {"model": "FC", "image_size": 32, "channels": 1, "batch_size": 64, "seeds": [2019],
             "warmup": 2, "steps": 6},
    "hme2-seeds-loop": {"model": "HME-2", "image_size": 32, "channels": 1, "batch_size": 32, "seeds": [2019, 2020],
                        "warmup": 2, "steps": 6},
}
SMOKE = {"batch_size": 8, "warmup": 1, "steps": 1}  # 3 generator steps a child


# ---------------------------------------------------------------------------------------------------------------
# the parent


def commit_of(rev: str) -> str:
    """The full hash of revision ``rev`` of this repository; exits with a one-line error when it is not there."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                           capture_output=True, text=True)
    if found.returncode != 0:
        sys.exit(f"bench_loop_cpu: revision {rev!r} is not in the repository at {ROOT} (a shallow clone? "
                 "`git fetch --unshallow`)")
    return found.stdout.strip()


def materialise(sha: str, dest: Path) -> str:
    """Extract commit ``sha`` of this repository into ``dest`` (``git archive``: works in any clone that has the
    commit); returns ``sha``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", sha], capture_output=True,
                             check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout), mode="r:") as tar:
        tar.extractall(dest, filter="data")
    return sha


def start_child(tree: Path, case: dict, threads: int, cpus: set[int] | None = None) -> subprocess.Popen:
    """Start one measurement of ``case`` in ``tree`` (a child process), pinned to ``cpus`` if given."""
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": str(threads),
           "MKL_NUM_THREADS": str(threads), "PYTHONDONTWRITEBYTECODE": "1"}
    spec = {**case, "threads": threads}
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    return subprocess.Popen([sys.executable, str(CHILD), json.dumps(spec)], cwd=tree,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=pin)


def finish_child(proc: subprocess.Popen, tree: Path) -> dict:
    """The child's result; checks that it ran that tree's code."""
    try:
        stdout, stderr = proc.communicate(timeout=1800)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    lines = [line for line in stdout.splitlines() if line.startswith(MARKER)]
    if proc.returncode != 0 or not lines:
        tail = (stderr.strip() or stdout.strip()).splitlines()[-6:]
        raise RuntimeError(f"child in {tree} exited {proc.returncode}: " + " | ".join(tail))
    result = json.loads(lines[-1][len(MARKER):])
    for key in ("hmogbench_file", "module_file"):
        if not Path(result[key]).resolve().is_relative_to(tree.resolve()):
            raise RuntimeError(f"child in {tree} imported {result[key]}, not the tree's code")
    return result


def run_round(trees: dict[str, Path], case: dict, args: argparse.Namespace, round_: int) -> dict[str, dict | Exception]:
    """One round of ``case``: each tree's result (or its error). One after the other (the reference first), or with
    --concurrent both at once, each pinned to its own core, the cores swapped every round: both trees then run
    under the same load at the same time, so a load that comes and goes moves both alike."""
    results: dict[str, dict | Exception] = {}
    if not args.concurrent:
        for tree, path in trees.items():
            try:
                results[tree] = finish_child(start_child(path, case, args.threads), path)
            except (RuntimeError, subprocess.TimeoutExpired) as exc:
                results[tree] = exc
        return results
    cores = sorted(os.sched_getaffinity(0))
    names = list(trees)
    procs = {tree: start_child(trees[tree], case, args.threads, {cores[(i + round_) % len(cores)]})
             for i, tree in enumerate(names)}
    for tree, proc in procs.items():
        try:
            results[tree] = finish_child(proc, trees[tree])
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            results[tree] = exc
    return results


def case_figures(name: str, samples: dict[str, list[dict]]) -> dict:
    """One case's rounds -> its figures: per tree the median over rounds of the rounds' median s/step (and the
    best round), the ratio reference / working (the verdict's), the best rounds' ratio (steadier when other
    processes load the machine now and then) and the per-round ratios (the noise)."""
    figures: dict = {}
    for tree, runs in samples.items():
        medians = [r["s_per_step_median"] for r in runs]
        figures[tree] = {"s_per_step_median": round(statistics.median(medians), 6) if medians else None,
                         "s_per_step_best": round(min(medians), 6) if medians else None,
                         "rounds_s_per_step_median": [round(m, 6) for m in medians],
                         "rounds_s_per_step_mean": [round(r["s_per_step_mean"], 6) for r in runs],
                         "rounds_cpu_s_per_step_median": [round(r["cpu_s_per_step_median"], 6) for r in runs],
                         "rounds_steps_s": [[round(t, 5) for t in r["steps_s"]] for r in runs],
                         **{key: runs[0][key] if runs else None
                            for key in ("hmogbench_file", "module", "module_file", "torch_threads")}}
    ref, work = figures["reference"]["s_per_step_median"], figures["working"]["s_per_step_median"]
    pairs = list(zip(figures["reference"]["rounds_s_per_step_median"], figures["working"]["rounds_s_per_step_median"]))
    figures["round_ratios"] = [round(r / w, 4) for r, w in pairs]
    figures["ratio"] = round(ref / work, 4) if ref and work else None
    best_ref, best_work = figures["reference"]["s_per_step_best"], figures["working"]["s_per_step_best"]
    figures["ratio_best"] = round(best_ref / best_work, 4) if best_ref and best_work else None  # under load
    figures["ok"] = None if figures["ratio"] is None else figures["ratio"] >= THRESHOLD
    return figures


def print_verdicts(record: dict) -> None:
    """The table of every case (``tables.loop_table``), then one VERDICT line per case."""
    print(loop_table(record))
    for name, f in record["results"].items():
        print(f"VERDICT {name}: " + ("not measured" if f["ok"] is None else
                                     f"{'ok' if f['ok'] else 'SLOWER'}: ratio {f['ratio']} "
                                     f"{'>=' if f['ok'] else '<'} {THRESHOLD}"))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reference", default=REFERENCE, help=f"reference revision (default {REFERENCE})")
    parser.add_argument("--candidate", help="a revision to measure instead of the working tree")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each: every case, reference then working")
    parser.add_argument("--threads", type=int, default=2, help="torch threads of every child")
    parser.add_argument("--concurrent", action="store_true",
                        help="run the two trees' children at once, each pinned to its own core (use --threads 1)")
    parser.add_argument("--cases", nargs="+", default=list(CASES), choices=list(CASES))
    parser.add_argument("--smoke", action="store_true", help="tiny (batch 8, 3 generator steps, 1 round): CI")
    parser.add_argument("--out", default=str(ROOT / "results" / "bench" / "loop_cpu.json"))
    args = parser.parse_args(argv)
    if args.smoke:
        args.rounds = 1
    return args


def measure(args: argparse.Namespace, trees: dict[str, Path], record: dict, save) -> bool:
    """The interleaved rounds; the record is saved after every measurement. False if a measurement failed."""
    cases = {name: {**CASES[name], **(SMOKE if args.smoke else {})} for name in args.cases}
    samples = {name: {tree: [] for tree in trees} for name in cases}
    failed: dict[tuple[str, str], str] = {}
    for round_ in range(args.rounds):
        for name, case in cases.items():
            for tree, result in run_round(trees, case, args, round_).items():
                if isinstance(result, Exception):
                    failed[name, tree] = str(result)[:3000]
                    print(f"round {round_ + 1} {name} {tree}: FAILED {result}", flush=True)
                else:
                    samples[name][tree].append(result)
                    print(f"round {round_ + 1} {name} {tree}: {result['s_per_step_median']:.5f} s/step "
                          f"(mean {result['s_per_step_mean']:.5f})", flush=True)
            record["results"][name] = {"case": case, **case_figures(name, samples[name]),
                                       "errors": {t: e for (n, t), e in failed.items() if n == name}}
            save()
        if failed:
            break
    return not failed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ref_sha = commit_of(args.reference)  # before anything slow: a missing revision is one line at once
    candidate_sha = commit_of(args.candidate) if args.candidate else None
    import torch

    from benchmarks.lib.device_probe import device_info
    from benchmarks.lib.records import write_record

    device = torch.device("cpu")
    torch.set_num_threads(args.threads)
    at_start = device_info(device)
    with tempfile.TemporaryDirectory(prefix="bench_loop_cpu-") as tmp:
        materialise(ref_sha, Path(tmp) / "reference")
        trees = {"reference": Path(tmp) / "reference", "working": ROOT}
        working = {"source": "working tree", "path": str(ROOT)}
        if args.candidate:
            trees["working"] = Path(tmp) / "candidate"
            working = {"source": "revision", "revision": materialise(candidate_sha, trees["working"])}
        record = {"benchmark": "CPU training loop: seconds per generator step, reference vs working tree",
                  "reference": {"revision": args.reference, "commit": ref_sha}, "working": working,
                  "threshold": THRESHOLD, "rounds": args.rounds, "threads": args.threads,
                  "concurrent": args.concurrent,
                  "smoke": args.smoke, "complete": False, "results": {}}

        def save() -> None:
            write_record(args.out, record, vars(args), device, at_start)

        ok = measure(args, trees, record, save)
    record["complete"] = True
    save()
    print_verdicts(record)
    print(f"-> {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
