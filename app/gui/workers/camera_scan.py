"""Looks for cameras on a pool thread (a superqt worker): opening each can take a second."""

from __future__ import annotations

from PySide6.QtCore import QObject, QThreadPool, Signal
from superqt.utils import create_worker

from streamer_core.sources import CameraDevice, find_cameras


def _cameras(max_index: int) -> list[CameraDevice]:
    try:
        return find_cameras(max_index)
    except Exception:  # noqa: BLE001 - a broken driver means "no cameras", not a crash
        return []


class CameraScanner(QObject):
    found = Signal(object)  # list[CameraDevice]

    def __init__(self, parent: QObject | None = None, max_index: int = 4):
        super().__init__(parent)
        self.max_index = max_index
        self.scanning = False

    def scan(self) -> None:
        if self.scanning:
            return
        self.scanning = True
        worker = create_worker(_cameras, self.max_index, _start_thread=False)
        worker.returned.connect(self._done)
        worker.start()

    def _done(self, cameras: list[CameraDevice]) -> None:
        self.scanning = False
        self.found.emit(cameras)

    def wait(self, msecs: int) -> bool:
        return QThreadPool.globalInstance().waitForDone(msecs)
