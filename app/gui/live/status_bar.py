"""The status bar: what the session does in words (status_line), then the figures: device,
capture fps, learning speed, skips, layers, updates."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QStatusBar
from superqt import QElidingLabel

SENTENCE_TIP = "What the model is doing, in words"


class RateMeter:
    """Events per second over the last `window` seconds."""

    def __init__(self, window: float = 10.0):
        self.window = window
        self._times: deque[float] = deque()

    def tick(self, now: float | None = None) -> None:
        self._times.append(time.monotonic() if now is None else now)
        self._trim(self._times[-1])

    def _trim(self, now: float) -> None:
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        self._trim(now)
        if len(self._times) < 2:
            return 0.0
        span = max(now - self._times[0], self._times[-1] - self._times[0], 1e-6)
        return (len(self._times) - 1) / span if now - self._times[-1] < 3.0 else 0.0

    def clear(self) -> None:
        self._times.clear()


@dataclass(frozen=True)
class StatusFigures:
    device: str
    capture_fps: float
    steps_per_second: float
    realtime_factor: float
    """Stream seconds learned per wall-clock second: 1.0 = keeps up with the source"""
    skipped: int
    layers: int
    optimizer_steps: int
    learning: bool


class StudioStatusBar(QStatusBar):
    def __init__(self) -> None:
        super().__init__()
        # A small screen shortens the sentence with "…" (its tooltip has all of it), not
        # the window.
        self.sentence = QElidingLabel()
        self.sentence.setToolTip(SENTENCE_TIP)
        self.sentence.setMinimumWidth(120)
        self.addWidget(self.sentence, 1)
        self.labels = {name: QLabel() for name in
                       ("device", "fps", "steps", "rtf", "skipped", "layers", "updates")}
        tips = {
            "device": "Where the model runs",
            "fps": "Frames per second read from the source",
            "steps": "Model inputs processed per second",
            "rtf": "Real-time factor: seconds of stream taken in per second. Below 1 the "
                   "model cannot keep up: it learns from fewer snippets and, 12 behind, "
                   "drops the oldest.",
            "skipped": "Snippet frames the model had no time for (dropped, not queued)",
            "layers": "Layers in the hierarchy so far",
            "updates": "Optimizer steps (weight updates) so far",
        }
        for name, label in self.labels.items():
            label.setToolTip(tips[name])
            self.addPermanentWidget(label)

    def set_large(self, large: bool) -> None:
        """Presentation mode: the sentence in large type, the figures hidden."""
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * (1.6 if large else 1.0))
        self.sentence.setFont(font)
        self.sentence.setText(self.sentence.text())  # elided again in the new type
        for label in self.labels.values():
            label.setVisible(not large)

    def show_sentence(self, text: str) -> None:
        if self.sentence.text() != text:
            self.sentence.setText(text)
            self.sentence.setToolTip(f"{SENTENCE_TIP}: {text}")

    def show_figures(self, f: StatusFigures) -> None:
        values = {
            "device": f.device,
            "fps": f"capture {f.capture_fps:4.1f} fps",
            "steps": f"{f.steps_per_second:4.2f} steps/s",
            "rtf": f"real-time ×{f.realtime_factor:4.2f}",
            "skipped": f"skipped {f.skipped}",
            "layers": f"layers {f.layers}",
            "updates": f"updates {f.optimizer_steps}",
        }
        for name, text in values.items():
            if self.labels[name].text() != text:
                self.labels[name].setText(text)
