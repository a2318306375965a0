"""What camera, file and network sources share: an OpenCV VideoCapture read safely."""

from __future__ import annotations

import contextlib
import threading
import time
from abc import abstractmethod
from collections.abc import Iterator

import cv2

from .base import Frame, FrameSource
from .color import to_rgb


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silences OpenCV's own warnings while probing; our SourceError says it better."""
    logging = getattr(cv2, "utils", None) and getattr(cv2.utils, "logging", None)
    if logging is None:
        yield
        return
    previous = logging.getLogLevel()
    logging.setLogLevel(logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        logging.setLogLevel(previous)


def positive_or_none(value: float, upper: float = float("inf")) -> float | None:
    """OpenCV reports unknown properties as 0, -1 or nonsense; keep only plausible values."""
    return float(value) if 0 < value < upper else None


class CaptureSource(FrameSource):
    """Reads frames from a cv2.VideoCapture that a subclass opens.

    A lock makes close() from another thread wait for a read in progress instead of
    releasing the capture under it (which can crash the process).
    """

    failed_reads_allowed = 1
    """Consecutive failed grabs before the source counts as dead"""

    def __init__(self) -> None:
        self._capture: cv2.VideoCapture | None = None
        self._lock = threading.Lock()
        self._index = 0
        self._opened_at = 0.0
        self._ever_opened = False

    @abstractmethod
    def _open_capture(self) -> cv2.VideoCapture:
        """An opened capture, or SourceError saying why not."""

    @abstractmethod
    def _timestamp(self, capture: cv2.VideoCapture, index: int) -> float:
        """Source time of the frame just read."""

    def _dead_reason(self, index: int) -> str:
        return "the source stopped delivering frames"

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def open(self) -> None:
        self.close()
        self.end_reason = None
        self.ended_early = False
        with quiet_opencv():
            capture = self._open_capture()
        with self._lock:
            self._capture = capture
            self._ever_opened = True
            self._index = 0
            self._opened_at = time.monotonic()

    def read(self) -> Frame | None:
        with self._lock:
            capture = self._capture
            if capture is None:
                if not self._ever_opened:
                    raise self._never_opened()
                return None
            image = None
            for _ in range(self.failed_reads_allowed):
                try:
                    ok, image = capture.read()
                except cv2.error:
                    ok = False
                if ok and image is not None and image.size:
                    break
            else:
                self._die(self._dead_reason(self._index), self._ended_early(self._index))
                return None
            try:
                rgb = to_rgb(image, "bgr")
            except ValueError as err:
                self._die(f"unusable frame: {err}")
                return None
            frame = Frame(rgb, self._timestamp(capture, self._index), self._index)
            self._index += 1
            return frame

    def _ended_early(self, index: int) -> bool:
        """Whether dying after `index` frames is a failure rather than the source's end."""
        return True

    def _die(self, reason: str, early: bool = True) -> None:
        """Called with the lock held."""
        self.end_reason = reason
        self.ended_early = early
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def close(self) -> None:
        with self._lock:
            if self._capture is not None:
                self._capture.release()
                self._capture = None

    def _since_open(self) -> float:
        return time.monotonic() - self._opened_at
