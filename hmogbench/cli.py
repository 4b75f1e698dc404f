"""hmogbench: hierarchical mixtures of generators (Ahmetoglu and Alpaydin, thesis Tables 5.3-5.12) trained,
scored and tabulated against the published numbers. Sub-commands: params, toy, train, sample, evaluate, data,
score, features, tables, figures, plot, example, on-slot (hmogbench SUBCOMMAND --help); the workflow (snakemake)
runs them from raw data to the tables.

Each sub-command is defined beside its package (``<package>/cli.py``); this module only assembles them and runs
one under the stop-signal handlers."""

from __future__ import annotations

import argparse
import signal
import sys


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .data.cli import add_data_parser
    from .evaluation.cli import add_evaluate_parser, add_example_parser, add_sample_parser
    from .interpret.cli import add_figures_parser
    from .metrics.cli import add_features_parser, add_score_parser
    from .models.cli import add_params_parser
    from .pictures.cli import add_plot_parser
    from .runtime.device_slots import add_on_slot_parser
    from .tables.cli import add_tables_parser
    from .toy.cli import add_toy_parser
    from .training.cli import add_train_parser

    parser = argparse.ArgumentParser(prog="hmogbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"hmogbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_params_parser, add_toy_parser, add_train_parser, add_sample_parser, add_evaluate_parser,
                add_data_parser, add_score_parser, add_features_parser, add_tables_parser, add_figures_parser,
                add_plot_parser, add_example_parser, add_on_slot_parser):
        add(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command under the stop-signal handlers (hmogbench.runtime.stop_signals): SIGTERM, SIGUSR1 or
    Ctrl-C stop it with one line and status 128 + the signal (train at the next generator step, after a
    checkpoint; every other command at once, its outputs being written atomically); a second Ctrl-C aborts."""
    from .runtime.stop_signals import Interrupted, stop_on_signals

    args = build_parser().parse_args(argv)
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


if __name__ == "__main__":
    sys.exit(main())
