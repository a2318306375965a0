"""The status line in words, for someone who has never seen the app: "learning: 3 layers,
last update 12 s ago, keeping up with the camera". No Qt: the window feeds it the
session's counters every half second and shows the sentence beside the figures."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from ..controllers.session import RunState

RECENT_SECONDS = 10.0
"""Whether the model keeps up is judged on this much recent wall time"""
BEHIND_SHARE = 0.1
"""More than this share of the recent snippets skipped, or seen without learning from them
(a learner behind: streamer_core/learning_pace.py), and the model falls behind"""


def source_word(spec: str | None) -> str:
    """What the model watches, as a viewer would name it."""
    spec = spec or ""
    if spec.startswith("camera:"):
        return "the camera"
    if spec.startswith("synthetic"):
        return "the scene"
    if "://" in spec:
        return "the stream"
    return "the video"


@dataclass(frozen=True)
class Counters:
    """What the session has counted so far (totals since the app started)."""

    wall: float
    """time.monotonic() of the reading"""
    state: RunState
    learning: bool
    layers: int
    steps: int
    skipped: int
    updates: int
    """Weight updates of the running model"""
    source: str | None
    learned: int | None = None
    """Of the steps, those learned from (None: all of them)"""
    file_could_wait: bool = False
    """A file played at its own speed: at learning speed it would wait for the model"""


class StatusLine:
    """Turns successive `Counters` into one sentence."""

    def __init__(self) -> None:
        self._recent: deque[Counters] = deque()
        self._last_update_wall: float | None = None
        self._updates: int | None = None

    def sentence(self, now: Counters) -> str:
        self._remember(now)
        if now.state is RunState.OPENING:
            return "opening the source…"
        if now.state is RunState.RECONNECTING:
            return f"lost {source_word(now.source)}, trying again; the model is kept"
        if now.state is RunState.STOPPED:
            return "stopped: press Start (F5) to watch and learn again; the model is kept"
        if now.state is RunState.PAUSED:
            return f"paused: {self._layers(now)}, press Start (F5) to go on"
        if now.steps == 0:
            return f"waiting for the first pictures of {source_word(now.source)}…"
        verb = "learning" if now.learning else "segmenting, not learning"
        parts = [f"{verb}: {self._layers(now)}"]
        if now.learning:
            parts.append(self._update_words(now.wall))
        parts.append(self._pace_words(now))
        return ", ".join(parts)

    # --- parts ------------------------------------------------------------------------

    def _remember(self, now: Counters) -> None:
        if self._updates is not None and now.updates < self._updates:
            self._last_update_wall = None  # a new model
        if self._updates is not None and now.updates > self._updates:
            self._last_update_wall = now.wall
        self._updates = now.updates
        if self._recent and now.steps < self._recent[-1].steps:
            self._recent.clear()
        self._recent.append(now)
        while now.wall - self._recent[0].wall > RECENT_SECONDS:
            self._recent.popleft()

    @staticmethod
    def _layers(now: Counters) -> str:
        return f"{now.layers} layer{'s' if now.layers != 1 else ''}"

    def _update_words(self, wall: float) -> str:
        if self._last_update_wall is None:
            return "no weight update yet" if not self._updates else "waiting for the next update"
        seconds = wall - self._last_update_wall
        return f"last update {seconds:.0f} s ago" if seconds < 120 else \
            f"last update {seconds / 60:.0f} min ago"

    def _pace_words(self, now: Counters) -> str:
        first = self._recent[0]
        steps, skipped = now.steps - first.steps, now.skipped - first.skipped
        source = source_word(now.source)
        offered = steps + skipped
        if offered == 0:
            return f"keeping up with {source}"
        learned = (steps if now.learned is None or first.learned is None
                   else now.learned - first.learned)
        seen, learned = steps / offered, learned / offered
        if min(seen, learned if now.learning else seen) >= 1 - BEHIND_SHARE:
            return f"keeping up with {source}"
        if not now.learning:
            return f"too slow for {source}: sees {seen:.0%} of it"
        seen_words = f", sees {seen:.0%}" if learned < seen < 1 - BEHIND_SHARE else ""
        remedy = ("; Advanced › Play files at learning speed learns from all"
                  if now.file_could_wait else "")
        return f"too slow for {source}: learns from {learned:.0%} of it{seen_words}{remedy}"
