"""Whether a session learns, and whether it pays: weight updates and the loss per layer.

A session that stops updating its weights segments with an untrained network, and
nothing on the timeline shows it. `LearningMonitor` watches the steps of a run (the
reports of each input and the optimizer's count of weight updates after it) and keeps,
per layer, the mean prediction loss of every interval between two updates: falling
curves are the model learning what it sees. Under `block_objective` "sparse_change"
layer 0's first blocks learn an objective of their own; its loss at each update is kept
too. Plain Python, bounded memory.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from .layer import LayerStep

MAX_INTERVALS = 2000
"""Intervals kept per layer: at one update per 25 s, about 14 hours"""


@dataclass(frozen=True)
class Interval:
    """The inputs between two weight updates, as one layer saw them."""

    end_time: float
    """Seconds of input when the interval ended (the update, or the latest input)"""
    mean_loss: float
    losses: int
    """How many of the layer's inputs had a loss in the interval"""


class LearningMonitor:
    """Weight updates of a run and the mean loss per layer between them."""

    def __init__(self, optimizer_steps: int = 0, max_intervals: int = MAX_INTERVALS):
        """`optimizer_steps`: the optimizer's count of weight updates as the run starts
        (a loaded checkpoint's); each change of it after an input is an update."""
        self._optimizer_steps = optimizer_steps
        self.updates = 0
        self.last_update_time: float | None = None
        self.longest_gap = 0.0  # seconds of input between two updates (or start and first)
        self.time = 0.0  # the latest input's time
        self.start_time: float | None = None
        self.intervals: dict[int, deque[Interval]] = {}
        self.max_intervals = max_intervals
        self.first_blocks: deque[tuple[float, float]] = deque(maxlen=max_intervals)
        """(time, loss) of layer 0's first blocks' own objective at each update"""
        self._sums: dict[int, tuple[float, int]] = {}

    def observe(self, reports: Iterable[LayerStep], optimizer_steps: int,
                first_blocks_loss: float | None = None) -> None:
        """One input: what each layer reported, and the optimizer's count of weight updates
        after it (a restore to earlier weights changes it too: counted as an update);
        `first_blocks_loss`: the first blocks' own loss after it (None: they have none)."""
        updated = optimizer_steps != self._optimizer_steps
        self._optimizer_steps = optimizer_steps
        for report in reports:
            self.time = max(self.time, report.time)
            if self.start_time is None:
                self.start_time = report.time
            if report.loss is not None and math.isfinite(report.loss):
                total, count = self._sums.get(report.layer, (0.0, 0))
                self._sums[report.layer] = (total + report.loss, count + 1)
        if updated:
            self.longest_gap = max(self.longest_gap, self.current_gap())
            self.updates += 1
            self.last_update_time = self.time
            self._close_interval()
            if first_blocks_loss is not None and math.isfinite(first_blocks_loss):
                self.first_blocks.append((self.time, first_blocks_loss))

    def _close_interval(self) -> None:
        for layer, (total, count) in self._sums.items():
            if count:
                history = self.intervals.setdefault(layer, deque(maxlen=self.max_intervals))
                history.append(Interval(self.time, total / count, count))
        self._sums = {}

    def seconds_since_update(self) -> float | None:
        """Seconds of input since the last update; None before the first."""
        if self.last_update_time is None:
            return None
        return self.time - self.last_update_time

    def current_gap(self) -> float:
        """Seconds of input without an update up to now (the gap still open)."""
        since = self.last_update_time if self.last_update_time is not None else (
            self.start_time or 0.0)
        return self.time - since

    def loss_curve(self, layer: int) -> tuple[list[float], list[float]]:
        """End time and mean loss of each closed interval of a layer."""
        history = self.intervals.get(layer, ())
        return [i.end_time for i in history], [i.mean_loss for i in history]

    def summary(self) -> str:
        """One line for a log or the end of a CLI run."""
        if self.updates == 0:
            return f"weights never updated in {self.time:.0f} s of input"
        gap = max(self.longest_gap, self.current_gap())
        parts = [f"weights updated {self.updates} times, longest gap {gap:.0f} s"]
        for layer in sorted(self.intervals):
            history = self.intervals[layer]
            if len(history) >= 2:
                parts.append(f"layer {layer} loss {history[0].mean_loss:.3f} -> "
                             f"{history[-1].mean_loss:.3f}")
        if len(self.first_blocks) >= 2:
            parts.append(f"layer 0's first blocks {self.first_blocks[0][1]:.2f} -> "
                         f"{self.first_blocks[-1][1]:.2f}")
        return "; ".join(parts)
