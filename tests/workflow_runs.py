"""Running the workflow as a user does, in the tests: the `snakemake ...` lines the documents print, a copy of the
workflow's files to run them in, and the shared smoke run several test files assert on (built once a session)."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from snakemake_forks import Forks

ROOT = Path(__file__).resolve().parents[1]
DOCUMENTS = ["README.md", "tables/README.md",
             *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md")),
             *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "config").glob("*.yaml")),
             *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "profiles").glob("*/config.yaml"))]
WORKFLOW_FILES = ("Snakefile", "workflow", "config", "profiles", "environment.yml")
MAIN = "snakemake --cores 2 tables/mnist.diff.md --configfile config/smoke.yaml"  # the README's main command


def documented_commands(text: str) -> list[str]:
    """The `snakemake ...` command lines of a document: lines of a code block or a comment that are a command
    (`#   snakemake ...`, `... && snakemake ...`) and inline `snakemake ...` code spans, with trailing
    `# comments` and pipes (`| dot -Tpdf`) cut off."""
    commands = []
    for line in text.splitlines():
        body = line.strip().lstrip("#").strip()
        spans = re.findall(r"`(snakemake [^`]+)`", body)
        if not spans and "`" not in body and re.match(r"^(.*&& )?snakemake ", body):
            spans = [body[body.index("snakemake "):]]
        commands += [re.split(r"\s+#\s", span)[0].split("|")[0].strip() for span in spans]
    return commands


def env(**extra: str) -> dict:
    """The tests' environment with this interpreter's scripts first on PATH (rules call `hmogbench`; a venv need
    not be activated)."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}", **extra)


def workflow_copy(tmp: Path) -> Path:
    """The workflow's files (Snakefile, rules, configs, profiles) copied into ``tmp``/hmogbench: a run there sees
    none of this checkout's outputs and leaves nothing in it."""
    work = tmp / "hmogbench"
    work.mkdir(parents=True)
    for name in WORKFLOW_FILES:
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, work / name)
    return work


NOTHING_RUNS = ("-n", "--dry-run", "--dryrun", "--lint")  # options under which Snakemake runs no job
_FORKS = Forks()


def run_snakemake(argv: list[str], cwd: Path, timeout: float = 1500, **environment: str) -> subprocess.CompletedProcess:
    """`snakemake ARGV` in ``cwd``: `python -m snakemake` in a new process, or, when no job runs (a dry run, the
    linter), a fork of a process that has imported Snakemake once (tests/snakemake_forks.py: the same run without
    its start-up)."""
    if any(word in NOTHING_RUNS for word in argv):
        return _FORKS.run(list(argv), cwd, env(**environment), timeout)
    return subprocess.run([sys.executable, "-m", "snakemake", *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env(**environment))


def snakemake(command: str, cwd: Path, extra: tuple[str, ...] = (), **environment: str) -> subprocess.CompletedProcess:
    """``command`` (a `snakemake ...` line as a user types it) run in ``cwd``, ``extra`` options first."""
    words = shlex.split(command)
    assert words[0] == "snakemake", command
    return run_snakemake([*extra, *words[1:]], cwd, **environment)


def report_commands() -> tuple[str, str, str]:
    """The main command, the documents' `snakemake ... pictures ...` line and their `snakemake --report
    report.html ...` line, in the order a user runs them."""
    commands = [c for doc in DOCUMENTS if doc.endswith(".md") for c in documented_commands((ROOT / doc).read_text())]
    build = [c for c in commands if re.search(r"\spictures(\s|$)", c) and "--report" not in c and "smoke" in c]
    report = [c for c in commands if "--report report.html" in c]
    main = documented_commands((ROOT / "README.md").read_text())
    assert MAIN in main and build and report, f"the documents lack the main / pictures / report commands: {commands}"
    return MAIN, build[0], report[0]


# The smoke grid as the README runs it, shrunk: three models (FC; HME-2, which has every figure; the competitor
# MGAN-4, trained one seed at a time), 2 seeds, 2 steps, tiny figures, one thread a job (two jobs at once on 2 CPUs).
# Like the main command it trains on, and compares with, the embedded mnist-5k (the real MNIST files go through the
# workflow in test_workflow.py's six sets and test_documented_commands.py's default config).
SMOKE_SHRINK = ("{models: [FC, HME-2, MGAN-4], seeds: [2019, 2020], steps: 2, eval_images: 64, max_threads: 1,"
                " figures: {samples: 20, draws: 200, permutations: 20, top: 3}}\n")
SMOKE_MODELS, SMOKE_SEEDS = ("FC", "HME-2", "MGAN-4"), (2019, 2020)


def shrunk(command: str) -> str:
    """A documented line with the shrinking config file appended to its (last) `--configfile` list."""
    assert command.split("--configfile")[-1].strip().split()[-1].endswith(".yaml"), command
    return f"{command} tiny.yaml"


def build_smoke_run(folder: Path) -> Path:
    """The main command, `pictures` and the HTML report of the shrunk smoke grid in a copy of the workflow under
    ``folder``; -> the copy."""
    work = workflow_copy(folder)
    (work / "tiny.yaml").write_text(SMOKE_SHRINK)
    for command in map(shrunk, report_commands()):
        out = snakemake(command, work)
        assert out.returncode == 0, f"`{command}` failed:\n{out.stdout[-3000:]}{out.stderr[-4000:]}"
    return work
