"""Events as every export format sees them: per layer, numbered, with start and end.

A hierarchy JSON doc (hierarchy.py) is the source of every export and what every reader
gives back, so `evaluate` scores a CSV or ELAN ground truth like a JSON one.
"""

from __future__ import annotations

from dataclasses import dataclass

from streamer_core.evaluation import check_hierarchy
from streamer_core.hierarchy import layer_colour


@dataclass(frozen=True)
class Event:
    layer: int  # 0 is the finest layer
    index: int  # its number in the layer, from 0
    start: float  # seconds
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def middle(self) -> float:
        return (self.start + self.end) / 2


def hierarchy_events(doc: dict) -> list[list[Event]]:
    """The doc's events, one list per layer (finest first, by the layers' "order"), each
    sorted by start. HierarchyFormatError when the doc is not a hierarchy."""
    check_hierarchy(doc)
    layers = sorted(enumerate(doc["layers"]), key=lambda item: (item[1].get("order", item[0]),
                                                               item[0]))
    result = []
    for layer, (_, entry) in enumerate(layers):
        spans = sorted((float(a["start"]), float(a["end"])) for a in entry["annots"])
        result.append([Event(layer, i, start, end) for i, (start, end) in enumerate(spans)])
    return result


def hierarchy_doc(layers: list[list[tuple[float, float]]], file: str,
                  names: list[str] | None = None) -> dict:
    """A hierarchy JSON doc of the given (start, end) spans per layer (what readers give
    back). Its duration is the latest end."""
    duration = max((end for spans in layers for _, end in spans), default=0.0)
    return {"file": file, "fileType": "", "cursor": 0, "duration": float(duration),
            "zoom": 1, "layers": [
                {"name": names[order] if names else f"layer {order}", "order": order,
                 "annots": [{"start": float(start), "end": float(end), "action": "N/A",
                             "colour": layer_colour(order, i)}
                            for i, (start, end) in enumerate(sorted(spans))]}
                for order, spans in enumerate(layers)]}


def layer_name(layer: int) -> str:
    """What a layer is called in every format: tiers, tracks, CSV rows, chapters."""
    return f"layer {layer}"


def event_title(event: Event) -> str:
    return f"{layer_name(event.layer)} event {event.index}"


class EventFileError(ValueError):
    """An events file that cannot be read (or events that cannot be written in a
    format); the message says why."""


def seconds_text(seconds: float) -> str:
    """Seconds to the microsecond, without trailing zeros: 12.5, 0, 3.000001."""
    return f"{seconds:.6f}".rstrip("0").rstrip(".")
