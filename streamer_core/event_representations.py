"""Each event's representation, as the reference's hierarchy JSON carries it.

The representation of an event is the one its boundary's report carries
(`LayerStep.representation`): under `event_representation` "summary" (the spec) the one
its layer sends up when the event closes (the temporal encoder's summary of the event's
buffered inputs), under "features" the median of its inputs' features (event_features).
The event still open at the end of the stream has its open representation.
In the JSON it is each annotation's `representation` slot: a list of floats, or the
string "null" (the reference's placeholder) when the layer had none. Beside the JSON, a
structured `.npy` holds the same vectors with their layer, index, start and end.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .atomic_file import atomic_file
from .layer import LayerStep
from .model import StreamerModel

MISSING = "null"
"""The reference's value of a `representation` slot without one"""


def as_vector(representation) -> np.ndarray:
    """A representation tensor [1, D] (any device) as a float32 vector [D]."""
    return representation.detach().float().cpu().numpy().reshape(-1)


class EventRepresentations:
    """Collects the representations of closed events from the steps' reports.

    Collected only when asked for (the CLI's --representations): a long run keeps one
    vector per event."""

    def __init__(self) -> None:
        self.closed: dict[int, list[np.ndarray | None]] = {}

    def reset(self) -> None:
        """A new stream for the model (its boundaries restart too)."""
        self.closed = {}

    def observe(self, reports: Iterable[LayerStep]) -> None:
        for report in reports:
            if report.boundary:
                vector = (as_vector(report.representation)
                          if report.representation is not None else None)
                self.closed.setdefault(report.layer, []).append(vector)

    def per_layer(self, model: StreamerModel) -> dict[int, list[np.ndarray | None]]:
        """Event i of layer k (in the order of its boundaries) -> its vector or None; the
        last one is the event still open (StreamerModel.open_representation)."""
        result = {}
        for layer in model.layers():
            vectors = list(self.closed.get(layer.layer_num, []))
            current = model.open_representation(layer.layer_num)
            vectors.append(as_vector(current) if current is not None else None)
            result[layer.layer_num] = vectors
        return result


def add_representations(doc: dict, vectors: dict[int, list[np.ndarray | None]]) -> dict:
    """Fills every annotation's `representation` slot of `doc` (in place; returned).

    Annotations are matched by position in their layer; one without a vector (the tail
    that the export adds to an upper layer after layer 0's last boundary) gets "null"."""
    for layer in doc["layers"]:
        layer_vectors = vectors.get(layer_order(layer, 0), [])
        for i, annot in enumerate(layer["annots"]):
            vector = layer_vectors[i] if i < len(layer_vectors) else None
            annot["representation"] = ([float(v) for v in vector] if vector is not None
                                       else MISSING)
    return doc


def add_representations_by_times(
        doc: dict, events: dict[int, Iterable[tuple[float, float, np.ndarray]]]) -> dict:
    """Fills the `representation` slot of each annotation of `doc` (in place; returned)
    that one of `events` (layer -> start, end, vector) spans, the times matched to a
    microsecond; other slots are left as they are. For events kept apart from the doc: as
    a recorded session or the app's memory of closed events holds them."""
    for position, layer in enumerate(doc["layers"]):
        by_times = {(round(start, 6), round(end, 6)): vector for start, end, vector
                    in events.get(layer_order(layer, position), [])}
        for annot in layer["annots"]:
            vector = by_times.get((round(float(annot["start"]), 6),
                                   round(float(annot["end"]), 6)))
            if vector is not None:
                annot["representation"] = [float(value) for value in vector]
    return doc


def read_representations(doc: dict) -> dict[int, list[tuple[float, float, np.ndarray | None]]]:
    """Layer -> its events (start, end, vector or None), in the doc's order.

    Accepts the reference's "null" and JSON null; raises ValueError for a slot that is
    neither a list of numbers nor missing."""
    result = {}
    for position, layer in enumerate(doc.get("layers", [])):
        events = []
        for index, annot in enumerate(layer.get("annots", [])):
            value = annot.get("representation")
            vector = None
            if isinstance(value, list):
                try:
                    vector = np.asarray(value, dtype=np.float32)
                except (TypeError, ValueError):
                    raise ValueError(f"layer {position} event {index}: its representation "
                                     "is not a list of numbers") from None
                if vector.ndim != 1 or not len(vector) or not np.isfinite(vector).all():
                    raise ValueError(f"layer {position} event {index}: its representation "
                                     "is not a list of finite numbers")
            elif value not in (None, MISSING):
                raise ValueError(f"layer {position} event {index}: its representation is "
                                 "neither a list of numbers nor \"null\"")
            events.append((float(annot["start"]), float(annot["end"]), vector))
        result[layer_order(layer, position)] = events
    return result


def layer_order(layer: dict, position: int) -> int:
    """The layer's "order", its position in the doc where it has none; ValueError if it
    is not a whole number (1e400 in a damaged file, null)."""
    try:
        return int(layer.get("order", position))
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"a layer's \"order\" is not a whole number "
                         f"({layer.get('order')!r})") from None


def representation_table(doc: dict) -> np.ndarray:
    """The events that have a representation, as one structured array: fields layer,
    index (in its layer), start, end, representation [D]."""
    rows = [(layer, index, start, end, vector)
            for layer, events in read_representations(doc).items()
            for index, (start, end, vector) in enumerate(events) if vector is not None]
    size = len(rows[0][4]) if rows else 0
    dtype = np.dtype([("layer", "<i4"), ("index", "<i4"), ("start", "<f8"), ("end", "<f8"),
                      ("representation", "<f4", (size,))])
    return np.array(rows, dtype=dtype)


def npy_path(json_path: str | Path) -> Path:
    """Where the table of a hierarchy JSON goes: beside it, same name, `.npy`."""
    return Path(json_path).with_suffix(".npy")


def write_table(path: str | Path, table: np.ndarray) -> None:
    """Whole or not at all; loads with np.load (no pickle)."""
    with atomic_file(path, "wb") as handle:
        np.save(handle, table, allow_pickle=False)
