"""Command line: ``hmogbench params | toy | train | sample | evaluate | data | score | features | tables | figures |
plot``.

Each sub-command is defined beside its package (``<package>/cli.py``); this module only assembles them and runs
one under the stop-signal handlers."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .data.cli import add_data_parser
    from .evaluation.cli import add_evaluate_parser, add_sample_parser
    from .interpret.cli import add_figures_parser
    from .metrics.cli import add_features_parser, add_score_parser
    from .models.cli import add_params_parser
    from .pictures.cli import add_plot_parser
    from .tables.cli import add_tables_parser
    from .toy.cli import add_toy_parser
    from .training.cli import add_train_parser

    parser = argparse.ArgumentParser(prog="hmogbench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"hmogbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (add_params_parser, add_toy_parser, add_train_parser, add_sample_parser, add_evaluate_parser,
                add_data_parser, add_score_parser, add_features_parser, add_tables_parser, add_figures_parser,
                add_plot_parser):
        add(sub)
    return parser


# how a command stops on SIGTERM / SIGUSR1 (hmogbench.runtime.stop_signals): train at the next generator step,
# after a checkpoint; every other command at once (outputs are written atomically: the exception removes temporary
# files, and evaluate keeps the records already written)
STOPS_AT_ONCE = {"train": False}


def main(argv: list[str] | None = None) -> int:
    from .runtime.stop_signals import Interrupted, stop_on_signals

    args = build_parser().parse_args(argv)
    try:
        with stop_on_signals(immediate=STOPS_AT_ONCE.get(args.command, True)):
            return args.func(args)
    except Interrupted as exc:
        print(f"hmogbench {args.command}: {exc}; what was done is kept, a rerun goes on from there", file=sys.stderr)
        return exc.exit_status
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"hmogbench {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
