"""Live annotation: a person watching marks where events start; the model is scored
against the marks as it goes.

`AnnotationMarks` holds the marks (model time, the timeline's clock) and works out, from
the session's history, each layer's running agreement with them: boundary precision,
recall and F1 within a tolerance (streamer_core.evaluation, as `evaluate` does). The marks
are a one-layer hierarchy JSON, so `streamer-studio evaluate PRED.json MARKS.json` takes
them as ground truth. No widgets here: the panel and the timeline row are thin views.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from streamer_core.evaluation import (
    BoundaryScore,
    HierarchyFormatError,
    boundary_scores,
    check_hierarchy,
    layer_boundaries,
)
from streamer_core.hierarchy import hierarchy_json

from ..controllers.session_history import SessionHistory

TOLERANCE = 1.0
"""Seconds a boundary may be off a mark and still agree with it (evaluate's default)"""


@dataclass(frozen=True)
class LayerAgreement:
    layer: int
    score: BoundaryScore


def picture_ahead(picture_time: float | None, input_time: float | None,
                  limit: float) -> float:
    """Seconds the picture on screen is ahead of the model's newest input, both on the
    source's clock: the snippets waiting for the learner (a weight update, a slow machine)
    are already shown. At most `limit` (what the learner's mailbox holds: older snippets
    are dropped); 0 when either time is unknown or the picture is the older (a file
    started again, a new source)."""
    if picture_time is None or input_time is None:
        return 0.0
    return min(max(picture_time - input_time, 0.0), limit)


class AnnotationMarks(QObject):
    """The marks of one model's stream; cleared when the model restarts its clock."""

    changed = Signal()

    def __init__(self, history: SessionHistory, tolerance: float = TOLERANCE,
                 parent: QObject | None = None):
        super().__init__(parent)
        self.history = history
        self.tolerance = tolerance
        self.marks: list[float] = []
        self.version = 0

    def _changed(self) -> None:
        self.version += 1
        self.changed.emit()

    def mark(self, ahead: float = 0.0) -> float | None:
        """A mark `ahead` seconds after the newest time the model has seen (where the
        picture the person saw will be on the model's clock; `picture_ahead`); None
        before its first step (or twice at the same moment: one mark per event start)."""
        if self.history.latest_step < 0:
            return None
        time = self.history.latest_time + ahead
        if self.marks and abs(self.marks[-1] - time) < 1e-9:
            return None
        bisect.insort(self.marks, time)
        self._changed()
        return time

    def undo(self) -> None:
        """Forgets the newest mark (a key pressed by mistake)."""
        if self.marks:
            self.marks.remove(max(self.marks))
            self._changed()

    def clear(self) -> None:
        if self.marks:
            self.marks = []
            self._changed()

    # --- agreement --------------------------------------------------------------------

    def span(self) -> tuple[float, float] | None:
        """What was annotated: from the first mark (less the tolerance) to now."""
        if not self.marks:
            return None
        return self.marks[0] - self.tolerance, max(self.history.latest_time, self.marks[-1])

    def agreement(self) -> list[LayerAgreement]:
        """Each layer's boundaries inside the annotated span against the marks."""
        span = self.span()
        if span is None:
            return []
        start, end = span
        result = []
        for layer in self.history.layers:
            times = layer.boundaries["time"]
            predicted = [float(t) for t in times if start <= t <= end]
            result.append(LayerAgreement(layer.layer,
                                         boundary_scores(predicted, self.marks,
                                                         self.tolerance)))
        return result

    # --- files ------------------------------------------------------------------------

    def hierarchy_doc(self, file: str = "live annotation") -> dict:
        """The marks as a one-layer hierarchy (ground truth for `evaluate`), covering the
        stream up to now."""
        duration = self.history.latest_time
        if self.marks and self.marks[-1] >= duration:  # the end of a stream is no boundary
            duration = self.marks[-1] + self.tolerance
        bounds = [0.0, *(t for t in self.marks if t > 0.0)]
        return hierarchy_json({"boundaries": {0: bounds}}, file=file, duration=duration)

    def load_doc(self, doc: object) -> None:
        """Marks from a doc written by `hierarchy_doc` (its first layer's boundaries).
        Raises HierarchyFormatError for anything else."""
        check_hierarchy(doc, "marks")
        if not doc["layers"]:
            raise HierarchyFormatError("marks: no layer")
        self.marks = layer_boundaries(doc, 0)
        self._changed()
