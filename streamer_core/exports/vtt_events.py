"""WebVTT chapters (webvtt-py): one cue per event of one layer, for players' chapter menus."""

from __future__ import annotations

import os
from pathlib import Path

import webvtt
from webvtt.errors import MalformedFileError
from webvtt.models import Timestamp

from streamer_core.atomic_file import atomic_file

from .events import Event, EventFileError, event_title, hierarchy_doc


def write_vtt(events: list[Event], path: str | os.PathLike) -> None:
    """Chapters of one layer's events (times to the millisecond, as WebVTT writes them)."""
    captions = [webvtt.Caption(str(Timestamp.from_seconds(e.start)),
                               str(Timestamp.from_seconds(e.end)), event_title(e),
                               identifier=str(e.index + 1))
                for e in events]
    vtt = webvtt.WebVTT(captions=captions, header_text="chapters")
    with atomic_file(path) as handle:
        vtt.write(handle)


def read_vtt(path: str | os.PathLike) -> dict:
    """A one-layer hierarchy doc of the cues' times."""
    try:
        vtt = webvtt.read(str(path))
    except MalformedFileError as err:
        raise EventFileError(f"{path}: not a WebVTT file ({err})") from None
    spans = [(c.start_time.in_milliseconds() / 1000, c.end_time.in_milliseconds() / 1000)
             for c in vtt.captions]
    if not spans:
        raise EventFileError(f"{path}: no cues")
    return hierarchy_doc([spans], file=Path(path).name)
