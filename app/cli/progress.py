"""A progress line on stderr: redrawn in place on a terminal, a line now and then in logs."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None,
                 enabled: bool = True, log_every: float = 10.0):
        self.label = label
        self.total = total
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = enabled
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.log_every = log_every
        self.started = time.monotonic()
        self._last_draw = -1e9
        self._width = 0

    def rate(self, steps: int) -> float:
        elapsed = time.monotonic() - self.started
        return steps / elapsed if elapsed > 0 else 0.0

    def line(self, steps: int, layers: int, boundaries: list[int], seconds: float) -> str:
        if self.total:
            done = min(1.0, steps / self.total)
            bar = "#" * int(done * 20)
            head = f"[{bar:<20}] {steps}/{self.total} steps"
        else:
            head = f"{steps} steps"
        counts = "/".join(str(b) for b in boundaries) or "0"
        return (f"{self.label} {head}  {self.rate(steps):.1f} steps/s  layers {layers}  "
                f"boundaries {counts}  video {seconds:.1f} s")

    def update(self, steps: int, layers: int, boundaries: list[int], seconds: float,
               force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        period = 0.1 if self.interactive else self.log_every
        if not force and now - self._last_draw < period:
            return
        self._last_draw = now
        text = self.line(steps, layers, boundaries, seconds)
        if self.interactive:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self, steps: int, layers: int, boundaries: list[int], seconds: float) -> None:
        if not self.enabled:
            return
        self.update(steps, layers, boundaries, seconds, force=True)
        if self.interactive:
            self.stream.write("\n")
            self.stream.flush()
