"""Events of a hierarchy JSON doc in the formats other tools read, chosen by the file's
extension, and read back from them (ground truth written in ELAN or a spreadsheet).

Every writer goes through `atomic_file`; every reader gives a hierarchy JSON doc.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

from .csv_events import read_csv, write_csv
from .eaf_events import read_eaf, write_eaf
from .events import Event, EventFileError, hierarchy_doc, hierarchy_events
from .html_report import write_html
from .keyframes import video_keyframes
from .otio_events import read_otio, write_otio
from .vtt_events import read_vtt, write_vtt

EXPORT_FORMATS = {
    ".csv": "CSV, one row per event",
    ".vtt": "WebVTT chapters of one layer",
    ".otio": "OpenTimelineIO, one track per layer",
    ".eaf": "ELAN, one tier per layer",
    ".html": "HTML report with keyframes",
}
NEEDS_PICTURES = (".html",)
"""Formats that show each event's picture: from the footage or a session's keyframes"""

READERS: dict[str, Callable[[str | os.PathLike], dict]] = {
    ".csv": read_csv, ".eaf": read_eaf, ".otio": read_otio, ".vtt": read_vtt}

__all__ = ["EXPORT_FORMATS", "Event", "EventFileError", "NEEDS_PICTURES", "READERS",
           "export_events", "export_format", "hierarchy_doc", "hierarchy_events",
           "read_events"]


def export_format(path: str | os.PathLike) -> str:
    """The format of `path` by its extension; EventFileError for one we do not write."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORT_FORMATS:
        known = ", ".join(EXPORT_FORMATS)
        raise EventFileError(f"{Path(path).name}: unknown export format "
                             f"{suffix or '(no extension)'}; give a file ending in {known}")
    return suffix


def export_events(doc: dict, path: str | os.PathLike, layer: int | None = None,
                  video: str | os.PathLike | None = None,
                  keyframes: Mapping[tuple[int, int], bytes] | None = None) -> None:
    """Writes the doc's events to `path` in the format of its extension.

    `layer`: the one layer of a .vtt (default: the top one). `video`: the footage, linked
    from .otio and .eaf (default: the doc's "file"). The .html's pictures: `keyframes`
    ({(layer, event index): JPEG}, e.g. those a live session kept), else `video`'s frame
    at each event's middle; one of them is required. EventFileError (or
    HierarchyFormatError) for bad input.
    """
    suffix = export_format(path)
    layers = hierarchy_events(doc)
    if not layers:
        raise EventFileError("the hierarchy has no layers")
    if layer is not None and not 0 <= layer < len(layers):
        have = f"layers 0 to {len(layers) - 1}" if len(layers) > 1 else "only layer 0"
        raise EventFileError(f"layer {layer} does not exist: the hierarchy has {have}")
    if layer is not None and suffix != ".vtt":
        raise EventFileError(f"a layer is chosen for .vtt only; {suffix} holds every layer")
    media = str(video) if video else doc.get("file") or None
    if suffix == ".csv":
        write_csv(layers, path)
    elif suffix == ".vtt":
        write_vtt(layers[len(layers) - 1 if layer is None else layer], path)
    elif suffix == ".otio":
        write_otio(layers, path, media=media)
    elif suffix == ".eaf":
        write_eaf(layers, path, media=media)
    else:
        title = f"Events of {Path(str(doc.get('file') or video or 'the session')).name}"
        if keyframes is not None:
            write_html(layers, path, lambda e: keyframes.get((e.layer, e.index)), title,
                       footage="the pictures the session kept, at each event's middle")
        elif video:
            frames = video_keyframes(video, [e.middle for events in layers for e in events])
            write_html(layers, path, lambda e: frames.get(e.middle), title,
                       footage=f"{Path(video).name} at each event's middle")
        else:
            raise EventFileError("an HTML report shows each event's keyframe: it needs the "
                                 "footage (a video file)")


def read_events(path: str | os.PathLike) -> dict:
    """A hierarchy JSON doc of the events in a .csv, .eaf, .otio or .vtt file. OSError if
    it cannot be read, EventFileError if it is malformed or of another format."""
    suffix = Path(path).suffix.lower()
    if suffix not in READERS:
        raise EventFileError(f"{Path(path).name}: events are read from "
                             f"{', '.join(READERS)} files or hierarchy JSON")
    return READERS[suffix](path)
