"""Looks for cameras on a pool thread: opening each candidate can take a second."""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from streamer_core.sources import list_cameras


class _Found(QObject):
    found = Signal(object)  # list[int]


class _Scan(QRunnable):
    def __init__(self, report: _Found, max_index: int):
        super().__init__()
        self.report, self.max_index = report, max_index

    def run(self) -> None:
        try:
            cameras = list_cameras(self.max_index)
        except Exception:  # noqa: BLE001 - a broken driver means "no cameras", not a crash
            cameras = []
        self.report.found.emit(cameras)


class CameraScanner(QObject):
    found = Signal(object)  # list[int]

    def __init__(self, parent: QObject | None = None, max_index: int = 4):
        super().__init__(parent)
        self.max_index = max_index
        self.scanning = False
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._report = _Found(self)
        self._report.found.connect(self._done)

    def scan(self) -> None:
        if not self.scanning:
            self.scanning = True
            self._pool.start(_Scan(self._report, self.max_index))

    def _done(self, cameras: list[int]) -> None:
        self.scanning = False
        self.found.emit(cameras)

    def wait(self, msecs: int) -> bool:
        return self._pool.waitForDone(msecs)
