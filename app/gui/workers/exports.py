"""Files the app writes besides checkpoints, off the GUI thread (superqt workers)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from streamer_core.atomic_file import write_json, write_jsonl


class BackgroundWriter(QObject):
    """Writes files on a pool thread so a long trace never freezes the window."""

    finished = Signal(str, str)  # path, error message ("" on success)

    def write_jsonl(self, path: str, rows: Callable[[], Iterable[dict]]) -> None:
        """`rows` is called on the pool thread: building them may take a while too."""
        self.write(path, lambda: write_jsonl(path, rows()))

    def write(self, path: str, writer: Callable[[], object]) -> None:
        """Calls `writer` (which writes `path`) on a pool thread; `finished` says how."""
        worker = create_worker(writer, _start_thread=False)
        worker.returned.connect(lambda _: self.finished.emit(path, ""))
        worker.errored.connect(lambda err: self.finished.emit(path, _reason(err)))
        worker.start()

    def write_json(self, path: str, doc: object) -> None:
        """`doc` (built already) as JSON, whole or not at all."""
        worker = create_worker(lambda: write_json(path, doc), _start_thread=False)
        worker.returned.connect(lambda _: self.finished.emit(path, ""))
        worker.errored.connect(lambda err: self.finished.emit(path, _reason(err)))
        worker.start()

    def wait(self, msecs: int) -> bool:
        return QThreadPool.globalInstance().waitForDone(msecs)


def _reason(err: BaseException) -> str:
    return (err.strerror if isinstance(err, OSError) and err.strerror else None) or str(err)
