"""The headless command line: segment, evaluate, export, similar, bench. No Qt is imported here."""

from __future__ import annotations

import argparse
import sys

from .errors import EXIT_INTERRUPTED, EXIT_USAGE, CliError, CliParser, report

COMMANDS = ("segment", "evaluate", "export", "similar", "bench")
PROG = "streamer-studio"


def build_parser() -> argparse.ArgumentParser:
    from . import bench, evaluate, export, segment, similar

    parser = CliParser(
        prog=PROG, epilog="Without a command the desktop app opens ('gui --help' for its "
                          "options).",
        description="Live, label-free hierarchical event segmentation (STREAMER). Without a "
                    "command, or with GUI options (see 'streamer-studio gui --help'), the "
                    "desktop app opens.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    segment.add_parser(subparsers)
    evaluate.add_parser(subparsers)
    export.add_parser(subparsers)
    similar.add_parser(subparsers)
    bench.add_parser(subparsers)
    return parser


def run_cli(argv: list[str]) -> int:
    """Runs one command; bad input becomes one line on stderr and exit code 2."""
    prog = PROG
    try:
        args = build_parser().parse_args(argv)  # imports torch: Ctrl-C may come here too
        prog = f"{PROG} {args.command}"
        return args.run(args)
    except CliError as err:
        if argv and argv[0] in COMMANDS:
            prog = f"{PROG} {argv[0]}"
        return report(prog, err)
    except OSError as err:  # a file we were told to write or read
        return report(prog, err)
    except KeyboardInterrupt as interrupt:  # before or after the work that writes results
        print(f"{prog}: interrupted", file=sys.stderr)
        return getattr(interrupt, "exit_code", EXIT_INTERRUPTED)
    except SystemExit as exit_:  # --help, or argparse giving up
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    finally:
        sys.stdout.flush()
