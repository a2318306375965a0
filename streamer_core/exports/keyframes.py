"""Keyframes: one small JPEG per event, the footage's picture at the event's middle."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import cv2

from .events import EventFileError

KEYFRAME_WIDTH = 192  # pixels; about 6 KB per JPEG


def video_keyframes(video: str | os.PathLike, times: Iterable[float],
                    width: int = KEYFRAME_WIDTH) -> dict[float, bytes]:
    """{time: JPEG} for each time (seconds) the video has a picture at; a time past its
    end has none. EventFileError when the video cannot be opened."""
    path = Path(video)
    if not path.is_file():
        raise EventFileError(f"video not found: {path}")
    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise EventFileError(f"cannot read {path}: not a video OpenCV can decode")
        pictures = {}
        for time in sorted(set(times)):
            capture.set(cv2.CAP_PROP_POS_MSEC, time * 1000)
            ok, frame = capture.read()
            if ok and frame is not None:
                pictures[time] = jpeg_thumbnail(frame, width)
        return pictures
    finally:
        capture.release()


def jpeg_thumbnail(frame, width: int = KEYFRAME_WIDTH) -> bytes:
    """A BGR picture scaled to `width` pixels across, as JPEG bytes."""
    height = max(1, round(frame.shape[0] * width / frame.shape[1]))
    small = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    if not ok:
        raise EventFileError("a keyframe could not be encoded as JPEG")
    return data.tobytes()
