"""Files written whole or not at all: every writer of the project goes through here.

A save writes a temporary file beside the target and renames it over the target. Done
naively that breaks three things users rely on: a symbolic link at the path would be
replaced by a plain file (its target left stale), a FIFO or a device node (even
/dev/full, as root) would be replaced by a file, and every output would get the
temporary file's private mode 0600 whatever the umask. So the target is the link's final
target, anything but a regular file is refused, and the mode is the replaced file's, or
the umask's for a new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Yields a temp file beside `path`; on a clean exit it is flushed, fsynced and
    renamed over `path` (the folder fsynced too), so `path` is never half-written and a
    power cut keeps either the old file or the new one. On an exception the temp file is
    removed, `path` keeps its previous content, and the exception goes on.

    `mode` "w" (UTF-8 text) or "wb". NotARegularFile if `path` is a folder, device or
    FIFO (or links to one)."""
    path = save_target(path)
    folder = path.parent  # Path("x").parent is Path(".")
    permissions = new_file_mode(path)
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:  # named after the file asked for, not the temp file
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
            os.fchmod(handle.fileno(), permissions)
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    fsync_folder(folder)


def fsync_folder(folder: Path) -> None:
    """Makes a rename durable where the platform allows it."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json(path: str | os.PathLike, doc: object) -> None:
    """`doc` as indented JSON, whole or not at all."""
    with atomic_file(path) as handle:
        json.dump(doc, handle, indent=2)
        handle.write("\n")


def write_jsonl(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """One JSON object per line (the trace format), whole or not at all."""
    with atomic_file(path) as handle:
        for row in rows:
            handle.write(json.dumps(row))
            handle.write("\n")


class NotARegularFile(ValueError):
    """The path names something a save must not replace; the message says what it is."""


def save_target(path: str | os.PathLike) -> Path:
    """The file a save to `path` must replace: a symbolic link's final target, so the link
    stays. Refuses a path that is (or links to) a folder, device, FIFO or socket."""
    target = Path(os.path.realpath(path))
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError:  # e.g. no permission to look: the save itself will say why
        return target
    if stat.S_ISREG(mode):
        return target
    what = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise NotARegularFile(f"it is {what}; a save only replaces regular files")


def _umask() -> int:
    try:  # Linux: read it without changing it (changing it races with other threads)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode(target: Path) -> int:
    """The permissions a saved file gets: those of the file it replaces, else what
    `open()` would give a new file (0666 less the umask)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()
