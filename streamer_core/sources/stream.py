"""A network stream (MJPEG over HTTP, RTSP, HLS ...) through OpenCV's FFmpeg backend."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import cv2

from .base import SourceError
from .capture import CaptureSource, positive_or_none

STREAM_SCHEMES = ("http", "https", "rtsp", "rtsps", "rtmp", "udp", "tcp", "srt")


def redact_url(url: str) -> str:
    """The URL without user:password, for titles and messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


class StreamSource(CaptureSource):
    """Opening and each read give up after their timeouts, so a dead server never hangs us."""

    is_live = True

    def __init__(self, url: str, *, open_timeout: float = 10.0, read_timeout: float = 10.0):
        super().__init__()
        if urlsplit(url).scheme.lower() not in STREAM_SCHEMES:
            raise SourceError(f"Not a stream URL: {redact_url(url)} "
                              f"(expected one of {', '.join(STREAM_SCHEMES)})")
        if open_timeout <= 0 or read_timeout <= 0:
            raise SourceError("Stream timeouts must be positive")
        self.url = url
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.description = redact_url(url)

    def _open_capture(self) -> cv2.VideoCapture:
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(self.open_timeout * 1000),
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(self.read_timeout * 1000)]
        capture = cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            raise SourceError(f"Cannot open stream {self.description}: no video arrived within "
                              f"{self.open_timeout:g} s (server down, wrong URL or format)")
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # ignored by FFmpeg; harmless where not
        self.fps = (None if self._mjpeg_over_http(capture)
                    else positive_or_none(capture.get(cv2.CAP_PROP_FPS), 1000.0))
        return capture

    def _mjpeg_over_http(self, capture: cv2.VideoCapture) -> bool:
        """MJPEG over HTTP sends pictures one by one with no frame rate: FFmpeg reports 25
        fps whatever they come at (10 from the test server). Its rate is unknown, not 25."""
        fourcc = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
        return (urlsplit(self.url).scheme.lower() in ("http", "https")
                and fourcc.to_bytes(4, "little") == b"MJPG")

    def _timestamp(self, capture: cv2.VideoCapture, index: int) -> float:
        return self._since_open()

    def _dead_reason(self, index: int) -> str:
        return (f"Stream {self.description} stopped: no frame within "
                f"{self.read_timeout:g} s, or the server closed it")
