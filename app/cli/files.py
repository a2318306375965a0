"""Output files checked before a long run and written so that a crash leaves no half file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import CliError


def check_writable(path: str | Path, what: str) -> Path:
    """Fails now, not after an hour of work, when `path` cannot be created."""
    path = Path(path)
    if path.is_dir():
        raise CliError(f"{what} {path} is a folder; give a file name")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise CliError(f"{what}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise CliError(f"{what}: cannot write in {folder}")
    return path


def read_json(path: str | Path, what: str) -> object:
    path = Path(path)
    if not path.is_file():
        raise CliError(f"{what} not found: {path}")
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise CliError(f"{what} {path} is not valid JSON (line {err.lineno}: {err.msg})"
                       ) from None
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"cannot read {what} {path}: {err}") from None
