"""hmogbench: hierarchical mixtures of generators (Ahmetoglu and Alpaydin, thesis Tables 5.3-5.12) trained,
scored and tabulated against the published numbers. Sub-commands: params, toy, train, sample, evaluate, data,
score, features, tables, figures, plot, example, on-slot (hmogbench SUBCOMMAND --help); the workflow (snakemake)
runs them from raw data to the tables.

Each sub-command is defined beside its package (``<package>/cli.py``); this module only assembles them and runs
one under the stop-signal handlers."""

from __future__ import annotations

import argparse
import importlib
import signal
import sys

# the sub-commands the workflow's GPU rules run (common.smk GPU_RULES): each takes a device slot first when the
# workflow asks for one ($HMOGBENCH_GPU_SLOTS, hmogbench.runtime.device_slots)
GPU_JOB_COMMANDS = ("train", "features", "evaluate", "figures")


# sub-command -> (its package's cli module, the function that adds its parser), in the order --help lists them
SUBCOMMANDS = {
    "params": ("models.cli", "add_params_parser"), "toy": ("toy.cli", "add_toy_parser"),
    "train": ("training.cli", "add_train_parser"), "sample": ("evaluation.cli", "add_sample_parser"),
    "evaluate": ("evaluation.cli", "add_evaluate_parser"), "data": ("data.cli", "add_data_parser"),
    "score": ("metrics.cli", "add_score_parser"), "features": ("metrics.cli", "add_features_parser"),
    "tables": ("tables.cli", "add_tables_parser"), "figures": ("interpret.cli", "add_figures_parser"),
    "plot": ("pictures.cli", "add_plot_parser"), "example": ("evaluation.cli", "add_example_parser"),
    "on-slot": ("runtime.device_slots", "add_on_slot_parser"),
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `only` (a sub-command's name) just that sub-command, importing only its package's
    cli module (`hmogbench tables`, `data`, `plot` then start without torch)."""
    from . import __version__

    parser = argparse.ArgumentParser(prog="hmogbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"hmogbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, add) in SUBCOMMANDS.items():
        if only in (None, name):
            getattr(importlib.import_module(f".{module}", __package__), add)(sub)
    return parser


def _subcommand(argv: list[str]) -> str | None:
    """The sub-command `argv` names (its first word, when it is one), else None (--help, --version, a typo)."""
    return argv[0] if argv and argv[0] in SUBCOMMANDS else None


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command under the stop-signal handlers (hmogbench.runtime.stop_signals): SIGTERM, SIGUSR1 or
    Ctrl-C stop it with one line and status 128 + the signal (train at the next generator step, after a
    checkpoint; every other command at once, its outputs being written atomically); a second Ctrl-C aborts."""
    from .runtime.stop_signals import Interrupted, stop_on_signals

    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(only=_subcommand(argv)).parse_args(argv)
    if args.command in GPU_JOB_COMMANDS and (status := _take_device_slot(args.command)):
        return status
    try:
        with stop_on_signals():
            return args.func(args)
    except Interrupted as exc:
        print(f"hmogbench {args.command}: {exc}; what was done is kept, a rerun goes on from there", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:  # a second Ctrl-C while stopping
        print(f"hmogbench {args.command}: aborted by a second Ctrl-C; the last checkpoint and the finished outputs "
              "are kept, a rerun goes on from there", file=sys.stderr)
        return 128 + signal.SIGINT
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"hmogbench {args.command}: error: {exc}", file=sys.stderr)
        return 2


def _take_device_slot(command: str) -> int:
    """A workflow GPU job's device slot (hmogbench.runtime.device_slots.hold_slot) -> 0, or the exit status."""
    from .runtime.device_slots import hold_slot

    try:
        hold_slot(command=f"hmogbench {command}")
    except ValueError as exc:
        print(f"hmogbench {command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"hmogbench {command}: stopped by Ctrl-C while waiting for a GPU slot", file=sys.stderr)
        return 128 + signal.SIGINT
    return 0


if __name__ == "__main__":
    sys.exit(main())
