"""One string names any source: what the CLI takes as VIDEO and the app stores in settings."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from .base import FrameSource, SourceError
from .camera import CameraSource
from .stream import STREAM_SCHEMES, StreamSource
from .synthetic import SyntheticSource
from .video_file import VideoFileSource

SPEC_HELP = ("a video file, camera:N (or N), a stream URL (http://, rtsp://, ...), or "
             "synthetic[:SEED[:SECONDS]]")


def parse_synthetic(spec: str) -> tuple[int, float | None]:
    """'synthetic[:SEED[:SECONDS]]' -> (seed, seconds or None for endless)."""
    parts = spec.split(":")
    if parts[0] != "synthetic" or len(parts) > 3:
        raise SourceError(f"Bad synthetic source {spec!r}: expected synthetic[:SEED[:SECONDS]]")
    try:
        seed = int(parts[1]) if len(parts) > 1 and parts[1] != "" else 0
    except ValueError:
        raise SourceError(f"Bad synthetic source {spec!r}: the seed {parts[1]!r} is not a "
                          "whole number") from None
    seconds = None
    if len(parts) == 3:
        try:
            seconds = float(parts[2])
        except ValueError:
            seconds = math.nan
        if not (seconds > 0 and math.isfinite(seconds)):
            raise SourceError(f"Bad synthetic source {spec!r}: the length {parts[2]!r} is not "
                              "a positive number of seconds")
    return seed, seconds


def open_source(spec: str) -> FrameSource:
    """The source a spec names, not yet opened; SourceError if the spec cannot be one."""
    if not isinstance(spec, str) or not spec.strip():
        raise SourceError(f"No source given: expected {SPEC_HELP}")
    spec = spec.strip()
    if spec.isdigit():
        return CameraSource(int(spec))
    if spec.startswith("camera:"):
        index = spec.split(":", 1)[1]
        if not index.isdigit():
            raise SourceError(f"Bad camera source {spec!r}: expected camera:N with N = 0, 1, ...")
        return CameraSource(int(index))
    if spec == "synthetic" or spec.startswith("synthetic:"):
        seed, seconds = parse_synthetic(spec)
        return SyntheticSource(seed, seconds)
    try:
        scheme = urlsplit(spec).scheme.lower()
    except ValueError as err:  # e.g. "http://[::1": the message would repeat a password
        raise SourceError(f"Not a valid URL ({err})") from None
    if scheme in STREAM_SCHEMES:
        return StreamSource(spec)
    if scheme == "file":
        spec = urlsplit(spec).path
    source = VideoFileSource(spec)
    if not source.path.exists():
        raise SourceError(f"Video file not found: {spec}")
    if source.path.is_dir():
        raise SourceError(f"{spec} is a folder, not a video file")
    return source
