"""Where a model's inputs fall on the stream's clock.

The model counts time in inputs: input n is at n x snippet_size seconds (the spec). A
model slower than its live source drops snippets it never sees, and counting would close
up their gaps: every later event would come early, and the hierarchy would end before the
stream did. The clock keeps how many snippets were lost before each input, so a counted
time can be put back where it happened. Nothing in the layers uses it: they go on
counting inputs, as the spec has them.
"""

from __future__ import annotations

import bisect
from dataclasses import replace

from .layer import LayerStep


class InputClock:
    """The snippets lost before the model's inputs, as the inputs where the count grew."""

    def __init__(self, snippet_size: float) -> None:
        self.snippet_size = snippet_size
        self._inputs: list[int] = []
        """Inputs (the model's count) before which snippets were lost, ascending"""
        self._lost: list[int] = []
        """Snippets lost in all before each of `_inputs`"""

    @property
    def lost(self) -> int:
        """Snippets lost since the stream began."""
        return self._lost[-1] if self._lost else 0

    def lose(self, next_input: int, count: int) -> None:
        """`count` snippets of the stream were lost before input `next_input`. An input
        earlier than the last one told is taken for that one (the count only grows)."""
        if count <= 0:
            return
        if self._inputs and next_input <= self._inputs[-1]:
            self._lost[-1] += count
            return
        self._inputs.append(int(next_input))
        self._lost.append(self.lost + int(count))

    def lost_before(self, counted: float) -> int:
        """Snippets lost before the input at the counted time `counted` (seconds)."""
        index = round(counted / self.snippet_size)
        where = bisect.bisect_right(self._inputs, index)
        return self._lost[where - 1] if where else 0

    def stream_time(self, counted: float) -> float:
        """A time the model counted, on the stream's clock: later by the snippets lost
        before it (past the last input, by all of them)."""
        return counted + self.lost_before(counted) * self.snippet_size

    def gaps(self) -> list[tuple[float, float]]:
        """The stretches of the stream the model never saw (start, end), on its clock."""
        stretches, before = [], 0
        for index, lost in zip(self._inputs, self._lost):
            seen_at = (index + lost) * self.snippet_size
            stretches.append((seen_at - (lost - before) * self.snippet_size, seen_at))
            before = lost
        return stretches

    def boundaries(self, counted: dict[int, list[float]]) -> dict[int, list[float]]:
        """StreamerModel.event_boundaries() on the stream's clock."""
        return {layer: [self.stream_time(t) for t in times] for layer, times in counted.items()}

    def reports(self, reports: list[LayerStep]) -> list[LayerStep]:
        """Reports with their times on the stream's clock (the same objects when nothing
        was lost; `step` still counts inputs)."""
        if not self._inputs:
            return reports
        return [replace(r, time=self.stream_time(r.time)) for r in reports]

    def reset(self) -> None:
        """A new stream: nothing lost yet."""
        self._inputs, self._lost = [], []

    def state(self) -> list[list[int]]:
        """What a checkpoint keeps: [input, snippets lost before it in all] pairs."""
        return [[i, n] for i, n in zip(self._inputs, self._lost)]

    def load_state(self, pairs: list) -> None:
        """A checkpoint's pairs; ValueError if they are not ascending whole numbers."""
        inputs, lost = [], []
        for pair in pairs:
            try:
                index, count = (int(v) for v in pair)
            except (TypeError, ValueError) as err:
                raise ValueError("the lost snippets are not pairs of whole numbers") from err
            if (inputs and index <= inputs[-1]) or count <= (lost[-1] if lost else 0):
                raise ValueError("the lost snippets do not grow input by input")
            inputs.append(index)
            lost.append(count)
        self._inputs, self._lost = inputs, lost
