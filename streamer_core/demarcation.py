"""Event demarcation: turns the prediction signal into boundary decisions."""

from __future__ import annotations

from collections import deque

import numpy as np

from .buffer import DISTANCE, SIMILARITY

FIXED = "fixed"
ACCUM = "accum"
AVERAGE = "average"
PAPER_MODES = (FIXED, ACCUM, AVERAGE)
MODIFIER_TYPES = ("multiply", "add")


class EventDemarcation:
    """The reference's three rules; `last_threshold` records what the signal met.

    fixed:   boundary if s < threshold (similarity) or e > threshold (distance).
    accum:   (distance) running sum; boundary when it exceeds threshold, then reset.
    average: threshold = mean of the last `window_size` values, times or plus the
             modifier; the first value after a reset is stored and never a boundary.
    """

    def __init__(self, dem_mode: str, dist_mode: str, threshold: float = 0.25,
                 window_size: int = 50, modifier_type: str = "multiply",
                 modifier: float = 1.0):
        if dem_mode not in PAPER_MODES:
            raise ValueError(f"demarcation mode must be one of {PAPER_MODES}, got {dem_mode!r}")
        if dist_mode not in (SIMILARITY, DISTANCE):
            raise ValueError(f"unknown distance mode {dist_mode!r}")
        if dem_mode == ACCUM and dist_mode != DISTANCE:
            raise ValueError("accum demarcation needs the distance mode 'distance'")
        if modifier_type not in MODIFIER_TYPES:
            raise ValueError(f"modifier type must be one of {MODIFIER_TYPES}")
        if window_size < 1:
            raise ValueError("window size must be at least 1")
        self.dem_mode = dem_mode
        self.dist_mode = dist_mode
        self.threshold = threshold
        self.modifier_type = modifier_type
        self.modifier = modifier
        self.window: deque[float] = deque(maxlen=window_size)
        self.buffer = 0.0  # accum's running sum
        self.last_threshold: float | None = None

    @property
    def window_size(self) -> int:
        return self.window.maxlen or 0

    def _crosses(self, value: float, threshold: float) -> bool:
        return value < threshold if self.dist_mode == SIMILARITY else value > threshold

    def __call__(self, value: float) -> bool:
        if self.dem_mode == FIXED:
            self.last_threshold = self.threshold
            return self._crosses(value, self.threshold)

        if self.dem_mode == ACCUM:
            self.buffer += value
            self.last_threshold = self.threshold - (self.buffer - value)  # what `value` had to beat
            if self.buffer > self.threshold:
                self.buffer = 0.0
                return True
            return False

        if len(self.window) == 0:
            self.window.append(value)
            self.last_threshold = None
            return False
        avg = float(np.average(list(self.window)))
        avg = avg + self.modifier if self.modifier_type == "add" else avg * self.modifier
        self.last_threshold = avg
        boundary = self._crosses(value, avg)
        self.window.append(value)
        return bool(boundary)

    def reset(self) -> None:
        self.window.clear()
        self.buffer = 0.0
        self.last_threshold = None

    def state(self) -> dict:
        """What it remembers, for checkpoints (plain types only)."""
        return {"window": list(self.window), "buffer": self.buffer}

    def load_state(self, state: dict) -> None:
        self.window.clear()
        self.window.extend(float(v) for v in state.get("window", []))
        self.buffer = float(state.get("buffer", 0.0))
