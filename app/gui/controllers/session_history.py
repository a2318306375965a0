"""What each layer did during the session, bounded in memory but hours long.

Per layer: one row per input (step, time, signal, threshold, boundary, loss, source) and
the boundary times; for the session, the stretches of the stream the model never saw.
Each series keeps its newest `capacity` entries; on overflow the oldest quarter is
dropped in one move, so appends stay O(1) amortised and the arrays stay contiguous and
chronological (zero-copy views for plotting).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from streamer_core import LayerStep
from streamer_core.trace import trace_row

DEFAULT_CAPACITY = 200_000  # ~28 hours of layer-0 inputs at 2 inputs/s, ~7 MB per layer


class BoundedColumns:
    """Parallel numpy columns with a common length, trimmed from the front when full."""

    def __init__(self, capacity: int, dtypes: dict[str, type]):
        if capacity < 4:
            raise ValueError("capacity must be at least 4")
        self.capacity = capacity
        self._columns = {name: np.zeros(capacity, dtype=dtype) for name, dtype in dtypes.items()}
        self.length = 0
        self.dropped = 0

    def append(self, **values: float) -> None:
        if self.length == self.capacity:
            keep = self.capacity - self.capacity // 4
            for column in self._columns.values():
                column[:keep] = column[self.length - keep:self.length]
            self.dropped += self.length - keep
            self.length = keep
        for name, column in self._columns.items():
            column[self.length] = values[name]
        self.length += 1

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the filled part; valid until the next append."""
        return self._columns[name][:self.length]

    def __len__(self) -> int:
        return self.length


@dataclass
class LayerHistory:
    layer: int
    first_time: float
    steps: BoundedColumns
    boundaries: BoundedColumns  # time, signal

    @property
    def event_count(self) -> int:
        """Events started so far (the open one included)."""
        return self.boundaries.dropped + len(self.boundaries) + 1

    def event_starts(self) -> tuple[np.ndarray, int]:
        """(start times of the remembered events, the open one last; number of the first).

        Event n of a layer started at its n-th boundary (event 0 where the layer below
        started: an upper layer's first input sums up the events below it since then), as
        in the hierarchy JSON, so numbers and colours survive forgetting old events.
        """
        bounds = self.boundaries["time"]
        if self.boundaries.dropped:
            return bounds.copy(), self.boundaries.dropped + 1
        return np.concatenate(([self.first_time], bounds)), 0


class SessionHistory:
    """Appended to on the GUI thread from learner reports; read by the timeline and exports."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY):
        self.capacity = capacity
        self.layers: list[LayerHistory] = []
        self.latest_time = 0.0
        self.latest_step = -1
        self.source_number = 0
        self.version = 0  # bumped on every change: views redraw only when it moved
        self.unseen = self._no_stretches()
        """Stretches of the stream the model never saw (start, end): snippets dropped while
        the learner was behind"""

    def _no_stretches(self) -> BoundedColumns:
        return BoundedColumns(self.capacity, {"start": np.float64, "end": np.float64})

    def clear(self) -> None:
        self.layers = []
        self.latest_time = 0.0
        self.latest_step = -1
        self.unseen = self._no_stretches()
        self.version += 1

    def add_unseen(self, start: float, end: float) -> None:
        self.unseen.append(start=start, end=end)
        self.version += 1

    def new_source(self) -> None:
        """Rows from now on belong to the next source (the trace's `video` column)."""
        self.source_number += 1

    def _layer(self, layer: int, time: float) -> LayerHistory:
        while len(self.layers) <= layer:
            n = len(self.layers)
            self.layers.append(LayerHistory(
                layer=n, first_time=self.layers[-1].first_time if self.layers else time,
                steps=BoundedColumns(self.capacity, {
                    "step": np.int64, "time": np.float64, "signal": np.float64,
                    "threshold": np.float64, "boundary": np.bool_, "loss": np.float64,
                    "source": np.int32}),
                boundaries=BoundedColumns(self.capacity, {"time": np.float64,
                                                          "signal": np.float64})))
        return self.layers[layer]

    def add(self, report: LayerStep) -> None:
        if report.layer == 0 and report.step < self.latest_step:
            # The model's clock went back without a clear(): a new stream. Start over.
            # Only layer 0 reports every input in order: layer 1 hears of a new scene
            # 1.5 s late (streamer_core.pending_scene.SCENE_LOOKAHEAD), at the scene's own step.
            self.clear()
        history = self._layer(report.layer, report.time)
        signal = _finite_or_nan(report.signal)
        history.steps.append(step=report.step, time=report.time, signal=signal,
                             threshold=_finite_or_nan(report.threshold),
                             boundary=report.boundary, loss=_finite_or_nan(report.loss),
                             source=self.source_number)
        if report.boundary:
            history.boundaries.append(time=report.time, signal=signal)
        self.latest_time = max(self.latest_time, report.time)
        self.latest_step = max(self.latest_step, report.step)
        self.version += 1

    def add_all(self, reports: list[LayerStep]) -> None:
        for report in reports:
            self.add(report)

    def grow_to(self, num_layers: int) -> None:
        """A layer for each the model has, before its first input: an escalating layer hears
        nothing until the layer below ends an event, and until then its one event is the
        whole stream (as the exported hierarchy has it)."""
        if self.layers and num_layers > len(self.layers):
            self._layer(num_layers - 1, self.latest_time)
            self.version += 1

    def seed_boundaries(self, boundaries: dict[int, list[float]], now: float,
                        step: int, unseen: list[tuple[float, float]] = ()) -> None:
        """Starts over from a loaded model's boundaries (no signals are known for them) and
        the stretches it never saw."""
        self.clear()
        for start, end in unseen:
            self.unseen.append(start=start, end=end)
        for layer in sorted(boundaries):
            times = [float(t) for t in boundaries[layer]]
            history = self._layer(layer, times[0] if times else 0.0)
            history.first_time = times[0] if times else 0.0
            for t in times[1:]:
                history.boundaries.append(time=t, signal=math.nan)
        self.latest_time = now
        self.latest_step = step - 1
        self.version += 1

    def num_layers(self) -> int:
        return len(self.layers)

    def trace_snapshot(self) -> list[tuple[int, dict[str, np.ndarray]]]:
        """Copies of the per-layer columns (fast), to turn into rows off the GUI thread."""
        names = ("step", "time", "signal", "threshold", "boundary", "loss", "source")
        return [(h.layer, {n: h.steps[n].copy() for n in names}) for h in self.layers]


def trace_rows(snapshot: list[tuple[int, dict[str, np.ndarray]]]) -> list[dict]:
    """The CLI's trace format, one row per step and layer, in step order."""
    rows = []
    for layer, cols in snapshot:
        for i in range(len(cols["step"])):
            rows.append(trace_row(cols["source"][i], cols["step"][i], cols["time"][i], layer,
                                  cols["signal"][i], cols["threshold"][i],
                                  cols["boundary"][i], loss=cols["loss"][i]))
    rows.sort(key=lambda row: (row["step"], row["layer"]))
    return rows


def _finite_or_nan(value: float | None) -> float:
    return float(value) if value is not None and math.isfinite(value) else math.nan
