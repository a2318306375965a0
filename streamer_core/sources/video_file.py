"""A video file in any format OpenCV decodes."""

from __future__ import annotations

from pathlib import Path

import cv2

from .base import Frame, SourceError
from .capture import CaptureSource, positive_or_none


class VideoFileSource(CaptureSource):
    """Frames of a file, timestamped by position (constant frame rate, as the reference).

    open() decodes the first frame, so a file OpenCV opens but cannot decode fails at
    open() with a SourceError rather than as an empty video.
    """

    is_live = False

    def __init__(self, path: str | Path):
        super().__init__()
        self.path = Path(path)
        self.description = self.path.name
        self.frame_count: int | None = None
        self._first: Frame | None = None

    def _open_capture(self) -> cv2.VideoCapture:
        if not self.path.exists():
            raise SourceError(f"Video file not found: {self.path}")
        if self.path.is_dir():
            raise SourceError(f"{self.path} is a folder, not a video file")
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"Cannot read {self.path}: not a video OpenCV can decode "
                              "(unknown format, or a damaged file)")
        self.fps = positive_or_none(capture.get(cv2.CAP_PROP_FPS), 1000.0)
        count = positive_or_none(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = int(count) if count else None
        self.duration = (self.frame_count / self.fps
                         if self.frame_count and self.fps else None)
        return capture

    def open(self) -> None:
        super().open()
        first = super().read()
        if first is None:
            self.close()
            raise SourceError(f"Cannot read {self.path}: it holds no decodable frame")
        self._first = first

    def read(self) -> Frame | None:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return super().read()

    def close(self) -> None:
        self._first = None
        super().close()

    def _timestamp(self, capture: cv2.VideoCapture, index: int) -> float:
        if self.fps:
            return index / self.fps
        return max(capture.get(cv2.CAP_PROP_POS_MSEC), 0.0) / 1000.0

    def _ended_early(self, index: int) -> bool:
        return self.frame_count is not None and index + 2 < self.frame_count

    def _dead_reason(self, index: int) -> str:
        if self._ended_early(index):
            return f"{self.description}: could not decode past frame {index}"
        return f"{self.description}: end of video"
