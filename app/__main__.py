"""`streamer-studio` and `python -m app`: a CLI command, or else the desktop app."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)

    if args and args[0] == "gui":
        return open_gui(args[1:])
    if not args or (args[0].startswith("-") and args[0] not in ("-h", "--help")):
        return open_gui(args)
    from app.cli import run_cli  # imports torch, never Qt

    return run_cli(args)  # a command, help, or a mistyped command (a one-line error)


def open_gui(argv: list[str]) -> int:
    """Qt is imported only here, so the CLI works where PySide6 cannot load."""
    try:
        from app.gui import run_gui
    except ImportError as err:
        print(f"streamer-studio: error: the desktop app cannot start ({err}); the "
              "commands segment, evaluate, export and bench work without it", file=sys.stderr)
        return 2
    return run_gui(argv)


if __name__ == "__main__":
    sys.exit(main())
