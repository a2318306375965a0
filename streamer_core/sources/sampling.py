"""Which frames become model inputs: one every `snippet_size` seconds of source time."""

from __future__ import annotations

import math

from .base import Frame

_EPSILON = 1e-6  # 15 frames of a 30 fps clip are 0.5 s even with rounding in timestamps


class SnippetSampler:
    """Picks the first frame at or after each tick of a grid `snippet_size` seconds apart.

    The grid starts at the first frame offered. A frame that jumps several ticks ahead
    (a live source that dropped frames) is taken once and the grid moves past it, so there
    is no burst of catch-up inputs. A timestamp earlier than the previous one means the
    source started over (a new file, a reopened stream) and restarts the grid.
    """

    def __init__(self, snippet_size: float = 0.5):
        if not snippet_size > 0 or not math.isfinite(snippet_size):
            raise ValueError(f"snippet_size must be a positive number of seconds, "
                             f"not {snippet_size}")
        self.snippet_size = float(snippet_size)
        self.reset()

    def reset(self) -> None:
        self._origin: float | None = None
        self._next_tick = 0
        self._last_timestamp = -math.inf
        self.taken = 0

    def offer(self, frame: Frame) -> bool:
        timestamp = frame.timestamp
        if timestamp < self._last_timestamp:
            self.reset()
        self._last_timestamp = timestamp
        if self._origin is None:
            self._origin = timestamp
        ticks = (timestamp - self._origin) / self.snippet_size
        if ticks + _EPSILON < self._next_tick:
            return False
        self._next_tick = math.floor(ticks + _EPSILON) + 1
        self.taken += 1
        return True
