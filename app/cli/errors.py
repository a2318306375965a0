"""How the CLI fails: one line on stderr and exit code 2, never a traceback for bad input."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INCOMPLETE = 3
"""An input ended early (a damaged file, a stream that stopped): the results so far are
written, but they do not cover the whole input"""
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """Bad arguments, missing or unreadable files: the message is the whole report."""


class CliParser(argparse.ArgumentParser):
    """argparse, but errors raise CliError instead of printing usage and exiting."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see {self.prog} --help)")


def report(prog: str, error: BaseException) -> int:
    message = " ".join(str(error).split()) or type(error).__name__
    print(f"{prog}: error: {message}", file=sys.stderr)
    return EXIT_USAGE
