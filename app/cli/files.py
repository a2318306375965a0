"""Output files checked before a long run and written so that a crash leaves no half file."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from streamer_core.atomic_file import NotARegularFile, atomic_file, save_target

from .errors import CliError


def check_writable(path: str | Path, what: str, stream: bool = False) -> Path:
    """Fails now, not after an hour of work, when `path` cannot be created. A file saved
    whole (stream=False) must be a regular file or a new name: a save would replace a
    FIFO or a device (as root, even /dev/full)."""
    path = Path(path)
    if path.is_dir():
        raise CliError(f"{what} {path} is a folder; give a file name")
    if not stream:
        try:
            path = save_target(path)  # a symbolic link: where it points
        except NotARegularFile as err:
            raise CliError(f"{what} {path}: {err}") from None
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        # `--out notes.txt/x.json`: the user needs to hear which part is not a folder
        blocker = next((part for part in (folder, *folder.parents) if os.path.exists(part)),
                       None)
        if blocker is not None and not os.path.isdir(blocker):
            raise CliError(f"{what}: {blocker} is a file, not a folder")
        raise CliError(f"{what}: folder {folder} does not exist")
    try:  # a file really made there: root passes os.access where nothing can be made
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        raise CliError(f"{what}: cannot write in {folder} ({err.strerror})") from None
    return path


def check_not_an_input(path: str | Path, what: str, inputs: list[str]) -> None:
    """`--out clip.mp4 clip.mp4` would replace the video with JSON: refused."""
    for source in inputs:
        try:
            same = os.path.samefile(path, source)
        except OSError:  # one of them does not exist (yet): not the same file
            continue
        if same:
            raise CliError(f"{what} {path} is also an input ({source}); it would be "
                           "overwritten: give another file name")


def check_distinct_outputs(outputs: list[tuple[str, str | Path | None]]) -> None:
    """One file named by two outputs of a run: the later would overwrite the earlier."""
    named: dict[Path, str] = {}
    for option, path in outputs:
        if not path:
            continue
        resolved = Path(path).resolve()
        if resolved in named:
            raise CliError(f"{named[resolved]} and {option} name the same file ({path}); "
                           "each output needs its own")
        named[resolved] = option


def check_input_file(path: str | Path, what: str) -> Path:
    """An input that must be a file: "not found" only when nothing is there, so a folder
    given by mistake is named as one."""
    path = Path(path)
    if os.path.isfile(path):
        return path
    if os.path.isdir(path):
        raise CliError(f"{what} {path} is a folder, not a file")
    if os.path.exists(path):
        raise CliError(f"{what} {path} is not a regular file")
    raise CliError(f"{what} not found: {path}")


def read_json(path: str | Path, what: str) -> object:
    path = check_input_file(path, what)
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as err:
        raise CliError(f"{what} {path} is not valid JSON (line {err.lineno}: {err.msg})"
                       ) from None
    except RecursionError:
        raise CliError(f"{what} {path} is nested too deeply to be a hierarchy") from None
    except ValueError as err:  # e.g. an integer of more digits than Python converts
        raise CliError(f"{what} {path} holds a value that cannot be read ({err})") from None
    except (OSError, UnicodeDecodeError) as err:
        raise CliError(f"cannot read {what} {path}: {err}") from None


@contextlib.contextmanager
def trace_output(path: str | Path) -> Iterator[TextIO]:
    """Where the trace is written as the run goes: a temp file beside `path`, renamed over
    it when the run ends, however it ends (interrupted, failed: what was traced is kept),
    unless it failed before tracing anything (a stream that never sent a frame): the file
    there is then kept. So runs tracing to the same file never interleave their lines
    (the last to finish wins, whole) and nobody reads half a trace. A FIFO or a terminal
    is written directly."""
    if Path(path).exists() and not Path(path).is_file():
        with open(path, "w", encoding="utf-8") as handle:
            yield handle
        return
    failure: BaseException | None = None
    with atomic_file(path) as handle:
        try:
            yield handle
        except BaseException as err:  # noqa: BLE001 - kept, re-raised once the trace is in place
            if handle.tell() == 0:
                raise
            failure = err
    if failure is not None:
        raise failure
