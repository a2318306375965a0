"""A local camera by index."""

from __future__ import annotations

import cv2

from .base import SourceError
from .capture import CaptureSource, positive_or_none, quiet_opencv


class CameraSource(CaptureSource):
    is_live = True
    failed_reads_allowed = 3  # a USB camera may drop the odd frame without being gone

    def __init__(self, index: int = 0, *, size: tuple[int, int] | None = None,
                 backend: int = cv2.CAP_ANY):
        super().__init__()
        if index < 0:
            raise SourceError(f"Camera index must be 0 or more, not {index}")
        self.index = index
        self.size = size
        self.backend = backend
        self.description = f"Camera {index}"

    def _open_capture(self) -> cv2.VideoCapture:
        capture = cv2.VideoCapture(self.index, self.backend)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"Camera {self.index} could not be opened: there is no camera "
                              "with that number, or another program is using it")
        # Cameras queue frames; a short queue keeps what we read close to now.
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        if self.size is not None:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        self.fps = positive_or_none(capture.get(cv2.CAP_PROP_FPS), 1000.0)
        return capture

    def _timestamp(self, capture: cv2.VideoCapture, index: int) -> float:
        return self._since_open()

    def _dead_reason(self, index: int) -> str:
        return f"Camera {self.index} stopped delivering frames (unplugged or taken over?)"


def list_cameras(max_index: int = 5) -> list[int]:
    """Indices 0..max_index that open as cameras; takes a moment per camera found.

    Opening a camera can take a second: call this off the GUI thread.
    """
    found = []
    with quiet_opencv():
        for index in range(max_index + 1):
            capture = cv2.VideoCapture(index)
            try:
                if capture.isOpened():
                    found.append(index)
            finally:
                capture.release()
    return found
