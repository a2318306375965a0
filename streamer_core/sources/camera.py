"""A local camera by index, and finding the cameras there are (with their names)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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


V4L2_SYSFS = Path("/sys/class/video4linux")
"""Where Linux names its video devices: video<N>/name is camera N's"""


@dataclass(frozen=True)
class CameraDevice:
    """A camera that opened, with what the platform tells about it (empty/0 if nothing)."""

    index: int
    name: str = ""
    width: int = 0
    height: int = 0
    fps: float = 0.0

    @property
    def spec(self) -> str:
        return f"camera:{self.index}"

    @property
    def label(self) -> str:
        """'Camera 0: HD Webcam (1280×720, 30 fps)', or as much of it as is known."""
        details = []
        if self.width and self.height:
            details.append(f"{self.width}×{self.height}")
        if self.fps:
            details.append(f"{self.fps:.3g} fps")
        text = f"Camera {self.index}" + (f": {self.name}" if self.name else "")
        return text + (f" ({', '.join(details)})" if details else "")


def camera_name(index: int, sysfs: Path = V4L2_SYSFS) -> str:
    """The driver's name for camera `index` (Linux), or "" where the platform has none."""
    try:
        text = (sysfs / f"video{index}" / "name").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return " ".join(text.split())[:80]


def find_cameras(max_index: int = 5, sysfs: Path = V4L2_SYSFS) -> list[CameraDevice]:
    """The cameras 0..max_index that open, with name, frame size and rate; takes a moment
    per camera found: call this off the GUI thread."""
    found = []
    with quiet_opencv():
        for index in range(max_index + 1):
            capture = cv2.VideoCapture(index)
            try:
                if capture.isOpened():
                    found.append(CameraDevice(
                        index, camera_name(index, sysfs),
                        int(capture.get(cv2.CAP_PROP_FRAME_WIDTH) or 0),
                        int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT) or 0),
                        positive_or_none(capture.get(cv2.CAP_PROP_FPS), 1000.0) or 0.0))
            finally:
                capture.release()
    return found


def list_cameras(max_index: int = 5) -> list[int]:
    """Indices 0..max_index that open as cameras (see find_cameras)."""
    return [camera.index for camera in find_cameras(max_index)]
