"""ELAN annotation files (pympi-ling): one tier per layer, one annotation per event, so
annotators can correct a segmentation or write ground truth in ELAN."""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path

from pympi.Elan import Eaf, to_string

from streamer_core.atomic_file import atomic_file

from .events import Event, EventFileError, event_title, hierarchy_doc, layer_name


def _milliseconds(seconds: float) -> int:
    return int(round(seconds * 1000))


def write_eaf(layers: list[list[Event]], path: str | os.PathLike,
              media: str | None = None) -> None:
    """Times to the millisecond (ELAN's unit); an event shorter than 1 ms has no
    annotation. `media`: the video, linked so that ELAN opens it with the tiers."""
    eaf = Eaf(author="Streamer Studio")
    eaf.remove_tier("default")
    if media:
        url = Path(media).resolve().as_uri() if Path(media).exists() else media
        mime = mimetypes.guess_type(media)[0] or "video/mp4"
        eaf.add_linked_file(url, mimetype=mime)
    for layer, events in enumerate(layers):
        tier = layer_name(layer)
        eaf.add_tier(tier)
        for e in events:
            start, end = _milliseconds(e.start), _milliseconds(e.end)
            if end > start:
                eaf.add_annotation(tier, start, end, value=event_title(e))
    with atomic_file(path) as handle:
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n')
        handle.write(to_string(eaf))


def read_eaf(path: str | os.PathLike) -> dict:
    """A hierarchy doc: one layer per tier with timed annotations, in the file's order."""
    try:
        eaf = Eaf(str(path), suppress_version_warning=True)
    except Exception as err:  # noqa: BLE001 - pympi raises whatever its XML parser raises
        raise EventFileError(f"{path}: not an ELAN file ({err})") from None
    layers, names = [], []
    for tier in sorted(eaf.get_tier_names(), key=lambda name: eaf.tiers[name][3]):
        spans = [(start / 1000, end / 1000)
                 for start, end, *_ in eaf.get_annotation_data_for_tier(tier)
                 if start is not None and end is not None]
        if spans:
            layers.append(spans)
            names.append(tier)
    if not layers:
        raise EventFileError(f"{path}: no tier with timed annotations")
    return hierarchy_doc(layers, file=Path(path).name, names=names)
