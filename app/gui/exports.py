"""Files the app writes besides checkpoints, always whole: temp file, then rename."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


def _write_atomic(path: str | os.PathLike, write: Callable[[TextIO], None]) -> None:
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            write(handle)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | os.PathLike, doc: object) -> None:
    def write(handle: TextIO) -> None:
        json.dump(doc, handle, indent=2)
        handle.write("\n")

    _write_atomic(path, write)


def write_jsonl_atomic(path: str | os.PathLike, rows: Iterable[dict]) -> None:
    """One JSON object per line: the format of the CLI's --trace."""
    def write(handle: TextIO) -> None:
        for row in rows:
            handle.write(json.dumps(row))
            handle.write("\n")

    _write_atomic(path, write)


class _Done(QObject):
    finished = Signal(str, str)  # path, error message ("" on success)


class _WriteTask(QRunnable):
    def __init__(self, path: str, write: Callable[[], None], done: _Done):
        super().__init__()
        self.path, self.write, self.done = path, write, done

    def run(self) -> None:
        try:
            self.write()
        except OSError as err:
            self.done.finished.emit(self.path, err.strerror or str(err))
        except (TypeError, ValueError) as err:
            self.done.finished.emit(self.path, str(err))
        else:
            self.done.finished.emit(self.path, "")


class BackgroundWriter(QObject):
    """Writes files on a pool thread so a long trace never freezes the window."""

    finished = Signal(str, str)  # path, error message ("" on success)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._done = _Done(self)
        self._done.finished.connect(self.finished)

    def write_jsonl(self, path: str, rows: Callable[[], Iterable[dict]]) -> None:
        """`rows` is called on the pool thread: building them may take a while too."""
        self._pool.start(_WriteTask(path, lambda: write_jsonl_atomic(path, rows()),
                                    self._done))

    def wait(self, msecs: int) -> bool:
        return self._pool.waitForDone(msecs)
