"""Files written whole or not at all: every writer of the project goes through here."""

from __future__ import annotations

import contextlib
import json
import os
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

    `mode` "w" (UTF-8 text) or "wb"."""
    path = Path(path)
    folder = path.parent  # Path("x").parent is Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as handle:
            yield handle
            handle.flush()
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
