"""Event memory: every closed event's representation, bounded, to find similar past events.

The learner thread turns the reports' representations into `RememberedEvent`s
(`remembered_events`); `EventMemory` keeps the newest `per_layer` of each layer on the GUI
thread and answers "which remembered events of this layer are most like this one"
(streamer_core.retrieval.similar_rows). The pictures are the keyframe store's. No Qt here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from streamer_core import LayerStep, StreamerModel
from streamer_core.event_features import FEATURES, MOTION
from streamer_core.event_representations import as_vector
from streamer_core.retrieval import similar_rows

DEFAULT_PER_LAYER = 4096
"""Events remembered per layer: 4096 x 256 floats is 4 MiB (hours of layer-0 events)"""


def compared_by(event_representation: str, layer: int) -> str:
    """What makes two remembered events of `layer` similar, in a user's words."""
    if event_representation == MOTION and layer == 0:
        return "what moved in them"
    if event_representation in (FEATURES, MOTION):
        return "what most of their pictures show"
    return "their layer's summaries"


@dataclass(frozen=True)
class RememberedEvent:
    layer: int
    start: float
    end: float
    vector: np.ndarray
    """The representation the layer sent up when the event closed [D], float32"""


def remembered_events(model: StreamerModel, reports: Sequence[LayerStep]
                      ) -> list[RememberedEvent]:
    """The events these reports closed, with their representations (learner thread, right
    after the step: the layers' boundaries say where each event started), on the stream's
    clock as the reports are. The reports give up their tensors: only numpy crosses to the
    GUI thread."""
    layers = model.layers()
    events = []
    for report in reports:
        if report.boundary and report.representation is not None:
            bounds = layers[report.layer].hierarchy_boundaries
            start = model.input_clock.stream_time(float(bounds[-2]) if len(bounds) > 1
                                                  else 0.0)
            vector = as_vector(report.representation)
            if np.isfinite(vector).all():  # a diverged step's is no memory
                events.append(RememberedEvent(report.layer, start, float(report.time),
                                              vector))
        report.representation = None
    return events


class EventMemory:
    """The newest `per_layer` closed events of each layer, in time order."""

    def __init__(self, per_layer: int = DEFAULT_PER_LAYER):
        self.per_layer = per_layer
        self.version = 0
        self._events: dict[int, list[RememberedEvent]] = {}
        self._matrices: dict[int, np.ndarray] = {}

    def clear(self) -> None:
        self._events, self._matrices = {}, {}
        self.version += 1

    def __len__(self) -> int:
        return sum(len(events) for events in self._events.values())

    def add(self, event: RememberedEvent) -> None:
        events = self._events.setdefault(event.layer, [])
        if events and event.end <= events[-1].end:
            self.clear()  # the clock went back: a new stream
            events = self._events.setdefault(event.layer, [])
        events.append(event)
        if len(events) > self.per_layer:
            del events[0]
        self._matrices.pop(event.layer, None)
        self.version += 1

    def add_all(self, events: Iterable[RememberedEvent]) -> None:
        for event in events:
            self.add(event)

    def events(self, layer: int) -> list[RememberedEvent]:
        """Oldest first (do not modify)."""
        return self._events.get(layer, [])

    def event_at(self, layer: int, time: float) -> RememberedEvent | None:
        """The remembered event of `layer` that contains `time`."""
        events = self.events(layer)
        i = bisect.bisect_left([e.end for e in events], time)
        if i < len(events) and events[i].start <= time:
            return events[i]
        return None

    def similar(self, query: RememberedEvent, k: int = 8
                ) -> list[tuple[RememberedEvent, float]]:
        """The k remembered events of the query's layer most similar to it, best first."""
        events = self.events(query.layer)
        if not any(e is not query for e in events):
            return []
        matrix = self._matrices.get(query.layer)
        if matrix is None:
            matrix = self._matrices[query.layer] = np.stack([e.vector for e in events])
        row = next((i for i, e in enumerate(events) if e is query), None)
        if row is None:  # not remembered (any more): compared with them all the same
            events, matrix, row = [query, *events], np.vstack([query.vector, matrix]), 0
        return [(events[i], similarity) for i, similarity in similar_rows(matrix, row, k)]
