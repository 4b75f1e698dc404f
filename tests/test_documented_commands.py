"""Every `snakemake ...` line that the README, docs/*.md, tables/README.md, the config files' and the profiles'
comments print is dry-run (`-n`) as written, in a copy of the workflow; and the default config runs end to
end on a CPU when only shrunk (every rule's shell command with the default config's flags, `--device auto`
included)."""

import importlib.util
import json
import re
import shlex
import subprocess
import sys

import pytest

from workflow_runs import DOCUMENTS, ROOT, documented_commands, snakemake, workflow_copy

pytestmark = pytest.mark.skipif(importlib.util.find_spec("snakemake") is None,
                                reason="snakemake not installed (the README's install command installs it)")


ALL_COMMANDS = sorted({(doc, c) for doc in DOCUMENTS for c in documented_commands((ROOT / doc).read_text())})
DISTINCT_COMMANDS = {c: sorted(d for d, same in ALL_COMMANDS if same == c)  # command -> the documents printing it
                     for c in sorted({c for _, c in ALL_COMMANDS})}


def test_the_documents_print_the_commands_users_run():
    """The extraction finds the README's main command, the SLURM line and every config comment's command (a
    document cannot silently drop out of the dry runs below)."""
    commands = {c for _, c in ALL_COMMANDS}
    assert "snakemake --cores 2 tables/mnist.diff.md --configfile config/smoke.yaml" in commands
    assert "snakemake --profile profiles/slurm tables/celeba.tex" in commands
    assert "snakemake --cores 8 tables/celeba.tex" in commands
    assert {doc for doc, _ in ALL_COMMANDS} >= {"README.md", "tables/README.md", "config/smoke.yaml",
                                                "config/gpu-day.yaml", "profiles/slurm/config.yaml"}
    assert documented_commands("x `snakemake --dag t.tex | dot -Tpdf` y") == ["snakemake --dag t.tex"]
    assert documented_commands("snakemake -n   # a dry run\npip x && snakemake --cores 2 a") == [
        "snakemake -n", "snakemake --cores 2 a"]


def without_report(command: str) -> str:
    """``command`` without its `--report FILE`: a report needs the finished outputs (`-n --report` fails on the
    first missing one), so its line is dry-run as the build of its targets (tests/test_report.py runs it)."""
    return re.sub(r"\s--report(=|\s+)\S+", "", command)


@pytest.mark.system
@pytest.mark.parametrize("command", DISTINCT_COMMANDS,
                         ids=[f"{c} ({', '.join(d)})" for c, d in DISTINCT_COMMANDS.items()])
def test_documented_command_dry_runs_as_written(tmp_path, command):
    """Each distinct command once, whichever documents print it."""
    out = snakemake(without_report(command), workflow_copy(tmp_path), ("-n",))
    where = ", ".join(DISTINCT_COMMANDS[command])
    assert out.returncode == 0, f"{where}: `{command}` -n failed:\n{out.stdout[-2000:]}{out.stderr[-3000:]}"


BENCHMARK_LINE = re.compile(r"(?:python3? -m benchmarks\.[\w.]+|bash benchmarks/[\w./-]+)[^`\n#|]*")


def documented_benchmark_lines(text: str) -> list[str]:
    """The `python[3] -m benchmarks.<module> ...` and `bash benchmarks/...` command lines a document prints (code
    blocks, comments, inline code), trailing comments cut off."""
    return sorted({m.group(0).strip() for m in BENCHMARK_LINE.finditer(text)})


BENCHMARK_LINES = sorted({line for doc in DOCUMENTS if doc.endswith(".md")
                          for line in documented_benchmark_lines((ROOT / doc).read_text())})


def test_the_readme_prints_the_benchmark_commands():
    assert any("-m benchmarks.gpu_check" in line for line in BENCHMARK_LINES), BENCHMARK_LINES
    assert any("-m benchmarks.bench_loop_cpu" in line for line in BENCHMARK_LINES), BENCHMARK_LINES
    assert documented_benchmark_lines("`python3 -m benchmarks.a --x 1`  # no\nbash benchmarks/b.sh | tee") == [
        "bash benchmarks/b.sh", "python3 -m benchmarks.a --x 1"]


@pytest.mark.parametrize("line", BENCHMARK_LINES)
def test_documented_benchmark_line_parses_as_written(line):
    """A dry run of a benchmark line (the real ones need minutes, or a GPU): a module's --help works (run as
    written, ``python -m`` from the repository root) and offers every option the line uses; a shell script parses
    (``bash -n``) and exists."""
    words = shlex.split(line)
    if words[0] == "bash":
        script = ROOT / words[1]
        assert script.is_file(), f"`{line}`: {words[1]} does not exist"
        out = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert out.returncode == 0, f"`{line}`: {out.stderr}"
        return
    module = words[2]
    assert (ROOT / f"{module.replace('.', '/')}.py").is_file(), f"`{line}`: no module {module}"
    out = subprocess.run([sys.executable, "-m", module, "--help"], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, f"`{line}`: --help failed:\n{out.stderr[-2000:]}"
    for option in (w.split("=")[0] for w in words[3:] if w.startswith("--")):
        assert option in out.stdout, f"`{line}`: {module} has no option {option}"


@pytest.mark.system
@pytest.mark.slow
def test_default_config_runs_end_to_end_when_only_shrunk(fid_weights, tmp_path):
    """The paper grid's config shrunk by tiny.yaml (two models, one seed, fewer steps and images; the embedded
    mnist-5k for MNIST) and nothing else changed, the FID network with the shared reconstruction of its weights,
    `device: auto` in every rule; then the remaining rule with a device flag (an HME's interpretability figures, at
    their default settings). The toy rule has no device flag and its default length (300 epochs) is not a CPU
    test: tests/test_toy.py runs its command, shorter."""
    work = workflow_copy(tmp_path)
    (work / "tiny.yaml").write_text(
        "{datasets: [mnist], models: [FC, HME-2], seeds: [2019], steps: 3, batch_size: 16, "
        "eval_images: 16, feature_spaces: [fid-inception], train_source: {mnist: mnist-5k}, "
        "real_source: {mnist: mnist-5k}}\n")
    weights = str(fid_weights)
    out = snakemake("snakemake --cores 2 tables/mnist.md --configfile config/config.yaml tiny.yaml", work,
                     HMOGBENCH_FID_WEIGHTS=weights)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "--device auto" in out.stdout + out.stderr  # the rules got the default config's flag, not a test's stand-in
    md = (work / "tables" / "mnist.md").read_text()
    assert re.search(r"\|\s*FID\s*\|", md), md[:2000]
    assert re.search(r"^\| FC( \(baseline\))? +\|.*\d+\.\d+ ± \d+\.\d+", md, re.M), md[:2000]  # HME-2: no row
    record = json.loads((work / "results/metrics/fid-inception/mnist/HME-2/seed2019.json").read_text())
    assert record["fd_name"] == "FID" and record["n_real"] == record["n_fake"] == 16
    assert record["fake_source"]["config"]["device"] == "cpu"  # 'auto' resolved, recorded as what ran
    assert record["provenance"]["numerics"]["tf32_matmul"] is False
    run = json.loads((work / "results/runs/mnist/FC/seed2019/run.json").read_text())
    assert run["config"]["steps"] == 3
    assert run["lock"]["sha256"] == record["provenance"]["lock"]["sha256"] is not None  # run.json: provenance at top level

    more = snakemake("snakemake --cores 2 results/figures/mnist/HME-2/seed2019/figures.json"
                      " --configfile config/config.yaml tiny.yaml", work, HMOGBENCH_FID_WEIGHTS=weights)
    assert more.returncode == 0, more.stdout[-3000:] + more.stderr[-3000:]
    assert "--device auto" in more.stdout + more.stderr
    figures = json.loads((work / "results/figures/mnist/HME-2/seed2019/figures.json").read_text())
    assert figures["provenance"]["device"].startswith("cpu")
