"""OpenTimelineIO: one track per layer, one clip per event, for video editors (and, through
OTIO's adapters, EDL, FCP XML, AAF...)."""

from __future__ import annotations

import os
from pathlib import Path

import opentimelineio as otio

from streamer_core.atomic_file import atomic_file

from .events import Event, EventFileError, event_title, hierarchy_doc, layer_name

RATE = 1000.0
"""Times are kept in milliseconds (fractions allowed): no frame rate is assumed"""


def _time(seconds: float) -> otio.opentime.RationalTime:
    return otio.opentime.RationalTime(seconds * RATE, RATE)


def otio_timeline(layers: list[list[Event]], media: str | None, name: str) -> otio.schema.Timeline:
    """Each clip shows the media from its event's start to its end; gaps stay gaps."""
    timeline = otio.schema.Timeline(name=name)
    for layer, events in enumerate(layers):
        track = otio.schema.Track(name=layer_name(layer), kind=otio.schema.TrackKind.Video)
        cursor = 0.0
        for e in events:
            if e.start < cursor - 1e-9:
                raise EventFileError(f"{layer_name(layer)}: events overlap; an OTIO track "
                                     "holds one event after another")
            if e.start > cursor:
                track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(
                    _time(0.0), _time(e.start - cursor))))
            reference = (otio.schema.ExternalReference(target_url=media) if media
                         else otio.schema.MissingReference())
            track.append(otio.schema.Clip(
                name=event_title(e), media_reference=reference,
                source_range=otio.opentime.TimeRange(_time(e.start), _time(e.duration))))
            cursor = e.end
        timeline.tracks.append(track)
    return timeline


def write_otio(layers: list[list[Event]], path: str | os.PathLike,
               media: str | None = None, name: str = "") -> None:
    """`media`: the video's path or URL, referenced by every clip."""
    timeline = otio_timeline(layers, media, name or Path(path).stem)
    with atomic_file(path) as handle:
        handle.write(timeline.to_json_string())


def read_otio(path: str | os.PathLike) -> dict:
    """A hierarchy doc: one layer per track, the clips' places on it."""
    try:
        timeline = otio.core.deserialize_json_from_file(str(path))
    except (ValueError, otio.exceptions.OTIOError) as err:
        raise EventFileError(f"{path}: not an OpenTimelineIO file ({err})") from None
    if not isinstance(timeline, otio.schema.Timeline):
        raise EventFileError(f"{path}: holds no OpenTimelineIO timeline")
    layers, names = [], []
    for track in timeline.tracks:
        spans = []
        for i, item in enumerate(track):
            if isinstance(item, otio.schema.Clip):
                placed = track.range_of_child_at_index(i)
                spans.append((placed.start_time.to_seconds(),
                              placed.end_time_exclusive().to_seconds()))
        layers.append(spans)
        names.append(track.name or layer_name(len(names)))
    if not any(layers):
        raise EventFileError(f"{path}: no clips")
    return hierarchy_doc(layers, file=Path(path).name, names=names)
