"""Which frames become model inputs: one every `snippet_size` seconds of source time."""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import replace

import numpy as np

from .base import Frame
from .preprocess import resize_for_model

_EPSILON = 1e-6  # 15 frames of a 30 fps clip are 0.5 s even with rounding in timestamps
_RECENT_GAPS = 15  # frame gaps a jittering clock's usual gap is told from
_MOST_EARLY = 0.25  # of a snippet: a frame is never taken for a tick further ahead of it


class SnippetSampler:
    """Picks the first frame at or after each tick of a grid `snippet_size` seconds apart.

    The grid starts at the first frame offered. A frame that jumps several ticks ahead
    (a live source that dropped frames) is taken once and the grid moves past it, so there
    is no burst of catch-up inputs. A timestamp earlier than the previous one means the
    source started over (a new file, a reopened stream) and restarts the grid.

    `clock_jitters` is for a live source, which stamps each frame with the time it
    arrived. The grid starts at a frame, so at a steady frame rate that divides the
    snippet the later ticks fall on frames too, and a few milliseconds of jitter decide
    whether the frame due on a tick is taken or passed over for the next. The inputs
    then stand a frame more or a frame less apart (on 3-44% of the steps when measured
    with benchmarks/live_stream.py). With
    `clock_jitters` a frame up to half the usual frame gap early is taken for its tick.
    A file's timestamps are its frames' positions and do not jitter.
    """

    def __init__(self, snippet_size: float = 0.5, clock_jitters: bool = False):
        if not snippet_size > 0 or not math.isfinite(snippet_size):
            raise ValueError(f"snippet_size must be a positive number of seconds, "
                             f"not {snippet_size}")
        self.snippet_size = float(snippet_size)
        self.clock_jitters = clock_jitters
        self.reset()

    def reset(self) -> None:
        self._origin: float | None = None
        self._next_tick = 0
        self._last_timestamp = -math.inf
        self._gaps: deque[float] = deque(maxlen=_RECENT_GAPS)
        self.taken = 0

    @property
    def read_span(self) -> tuple[float, float] | None:
        """The source's seconds the frames offered cover: from the first one's timestamp
        to the newest one's, and on a live source's clock its usual frame gap after it;
        None before any."""
        if self._origin is None:
            return None
        gap = statistics.median(self._gaps) if self._gaps else 0.0
        return self._origin, self._last_timestamp + gap

    def _early_allowance(self) -> float:
        """How far ahead of a tick (in snippets) a frame still counts for it."""
        if not self.clock_jitters or not self._gaps:
            return 0.0
        return min(_MOST_EARLY, statistics.median(self._gaps) / 2 / self.snippet_size)

    def offer(self, frame: Frame) -> bool:
        timestamp = frame.timestamp
        if timestamp < self._last_timestamp:
            self.reset()
        if self.clock_jitters and self._origin is not None:
            self._gaps.append(timestamp - self._last_timestamp)
        self._last_timestamp = timestamp
        if self._origin is None:
            self._origin = timestamp
        ticks = (timestamp - self._origin) / self.snippet_size + self._early_allowance()
        if ticks + _EPSILON < self._next_tick:
            return False
        self._next_tick = math.floor(ticks + _EPSILON) + 1
        self.taken += 1
        return True


class SnippetTaker:
    """The sampler's frames, each carrying model-sized copies of the frames passed over
    since the one taken before it (Frame.between, Frame.follows): for a model on another
    thread, which reads from them how a change spread between its inputs (frames_between).

    More than `keep_between` frames in one interval are not kept (that interval is then
    not read), nor frames before the first one taken.
    """

    def __init__(self, snippet_size: float, keep_between: int, clock_jitters: bool = False):
        self.sampler = SnippetSampler(snippet_size, clock_jitters)
        self.keep_between = keep_between
        self._between: list[np.ndarray] = []
        self._last_taken: int | None = None  # the index of the frame taken last

    @property
    def snippet_size(self) -> float:
        return self.sampler.snippet_size

    @property
    def clock_jitters(self) -> bool:
        return self.sampler.clock_jitters

    def offer(self, frame: Frame) -> Frame | None:
        """The frame as a snippet (with the frames between) if it is one, else None."""
        if self.sampler.offer(frame):
            snippet = replace(frame, between=tuple(self._between), follows=self._last_taken)
            self._between, self._last_taken = [], frame.index
            return snippet
        if self._last_taken is None:
            return None
        if len(self._between) >= self.keep_between:
            self._between, self._last_taken = [], None  # too many: this interval is lost
            return None
        self._between.append(resize_for_model(frame.image))
        return None
