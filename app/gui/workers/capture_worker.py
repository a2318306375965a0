"""Reads one source on its own thread: the newest frame for the display, one per snippet for
the learner, both through bounded mailboxes (one frame; the learner's a few snippets) so
nothing queues behind a slow consumer.

One worker serves one source from open to close; switching sources retires the worker and
starts another. Its loop blocks the thread's event loop on purpose, so control goes
through thread-safe flags (stop, pause), not queued slots.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from streamer_core.frames_between import MAX_FRAMES
from streamer_core.sources import (
    Frame,
    FrameSource,
    SnippetTaker,
    SourceError,
    StreamSource,
    open_source,
    to_rgb,
)
from streamer_core.sources.mailbox import LatestMailbox

STREAM_OPEN_TIMEOUT = 5.0
STREAM_READ_TIMEOUT = 2.0  # a stalled server is declared dead this fast; bounds shutdown
POLL = 0.05  # seconds between looks at the stop flag while waiting
MAX_BAD_FRAMES = 50  # consecutive unusable frames before a source counts as broken


@dataclass(frozen=True)
class SourceInfo:
    token: int
    """Which worker opened it: reports of a retired worker are recognised and ignored"""
    spec: str
    description: str
    is_live: bool
    fps: float | None
    duration: float | None


@dataclass(frozen=True)
class CaptureStats:
    frames: int
    fps: float
    dropped_by_source: int
    """Frames a live source skipped because we read too slowly (synthetic reports it)"""
    rejected: int = 0
    """Frames that were not a picture (wrong shape or type) and were skipped"""


def make_source(spec: str) -> FrameSource:
    """The source for a spec; network streams give up quickly so closing never hangs."""
    source = open_source(spec)
    if isinstance(source, StreamSource):
        source.open_timeout = STREAM_OPEN_TIMEOUT
        source.read_timeout = STREAM_READ_TIMEOUT
    return source


class CaptureWorker(QObject):
    opened = Signal(object)  # SourceInfo
    failed = Signal(int, str, str)  # token, spec, why it could not be opened
    ended = Signal(int, str)  # token, why the source died (end of file, stream stopped...)
    snippet_ready = Signal()  # the learner's mailbox went from empty to full
    finished = Signal()

    def __init__(self, spec: str, snippet_size: float, display: LatestMailbox[Frame],
                 snippets: LatestMailbox[Frame], follow_learner: bool = False, token: int = 0,
                 loop: bool = False, opener: Callable[[str], FrameSource] = make_source):
        super().__init__()
        self.opener = opener
        self.rejected = 0
        self.loop = loop
        self.spec = spec
        self.token = token
        self.display = display
        self.snippets = snippets
        self.follow_learner = follow_learner
        self.snippet_taker = SnippetTaker(snippet_size, keep_between=MAX_FRAMES)
        self._stop = threading.Event()
        self._go = threading.Event()
        self._paused = threading.Event()
        self._lock = threading.Lock()
        self._frames = 0
        self._recent: deque[float] = deque(maxlen=120)
        self._source: FrameSource | None = None

    # --- control from other threads --------------------------------------------------

    def stop(self) -> None:
        self._stop.set()

    def go(self) -> None:
        """Opened sources wait for this: the window lets a new source take over only once
        it works, while the old one keeps playing."""
        self._go.set()

    def set_snippet_size(self, seconds: float) -> None:
        """The model changed its snippet size: sample on the new grid from now on. The same
        size keeps the grid: a file's inputs stay on its frames 0, 5, 10... at 10 fps, so
        the model's times are the file's."""
        with self._lock:
            if seconds == self.snippet_taker.snippet_size:
                return
            self.snippet_taker = SnippetTaker(seconds, MAX_FRAMES,
                                              self.snippet_taker.clock_jitters)

    def set_follow_learner(self, follow: bool) -> None:
        self.follow_learner = follow

    def set_loop(self, loop: bool) -> None:
        self.loop = loop

    def set_paused(self, paused: bool) -> None:
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def stats(self) -> CaptureStats:
        with self._lock:
            now = time.monotonic()
            recent = [t for t in self._recent if now - t <= 2.0]
            fps = (len(recent) - 1) / (recent[-1] - recent[0]) if len(recent) > 2 else 0.0
            if recent and now - recent[-1] > 1.0:
                fps = 0.0  # stalled or paused
            source = self._source
            dropped = int(getattr(source, "dropped_frames", 0) or 0)
            return CaptureStats(self._frames, fps, dropped, self.rejected)

    # --- the loop, on the capture thread ---------------------------------------------

    @Slot()
    def run(self) -> None:
        try:
            source = self._open()
            if source is not None:
                try:
                    while not self._go.wait(POLL):
                        if self._stop.is_set():
                            return
                    self._pump(source)
                finally:
                    source.close()
        finally:
            self.finished.emit()

    def _open(self) -> FrameSource | None:
        try:
            source = self.opener(self.spec)
            source.open()
        except SourceError as err:
            if not self._stop.is_set():
                self.failed.emit(self.token, self.spec, str(err))
            return None
        except Exception as err:  # noqa: BLE001 - an OpenCV surprise must not kill the thread
            if not self._stop.is_set():
                self.failed.emit(self.token, self.spec,
                                 f"{self.spec}: could not be opened ({err})")
            return None
        with self._lock:
            self._source = source
            self.snippet_taker = SnippetTaker(self.snippet_taker.snippet_size, MAX_FRAMES,
                                              clock_jitters=source.is_live)
        self.opened.emit(SourceInfo(self.token, self.spec, source.description, source.is_live,
                                    source.fps, source.duration))
        return source

    def _read(self, source: FrameSource) -> Frame | None:
        """The next usable frame as H x W x 3 RGB uint8, or None when the source is over.

        Gray, 4-channel, 16-bit or strided pictures are converted; anything that is not a
        picture is skipped and counted, and a run of them ends the source with the reason.
        A source that raises instead of returning None ends too, never the thread.
        """
        bad = 0
        while not self._stop.is_set():
            try:
                frame = source.read()
            except Exception as err:  # noqa: BLE001 - a broken driver must not kill the thread
                source.end_reason = f"{source.description}: reading failed ({err})"
                return None
            if frame is None:
                return None
            image = frame.image
            if (isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3
                    and image.shape[2] == 3 and image.flags.c_contiguous and image.size):
                return frame
            try:
                return replace(frame, image=to_rgb(image, "rgb"))
            except (ValueError, TypeError) as err:
                with self._lock:
                    self.rejected += 1
                bad += 1
                if bad >= MAX_BAD_FRAMES:
                    source.end_reason = (f"{source.description}: {bad} unusable frames in a "
                                         f"row ({err})")
                    return None
        return None

    def _pump(self, source: FrameSource) -> None:
        paced = not source.is_live  # files play at their own speed, not as fast as decoded
        clock: tuple[float, float] | None = None  # (wall time, source time) of a frame
        while not self._stop.is_set():
            if self._paused.is_set():
                self._stop.wait(POLL)
                clock = None  # resume from where we are, not by racing to catch up
                continue
            frame = self._read(source)
            if frame is None and self.loop and not source.is_live and not self._stop.is_set():
                frame = self._rewind(source)
                clock = None
            if frame is None:
                if not self._stop.is_set():
                    self.ended.emit(self.token,
                                    source.end_reason or f"{source.description}: ended")
                return
            with self._lock:
                self._frames += 1
                self._recent.append(time.monotonic())
            if paced:
                clock = self._keep_pace(frame, clock)
                if self._stop.is_set():
                    return
            self.display.put(frame)
            snippet = self.snippet_taker.offer(frame)
            if snippet is not None:
                if not self._stop.is_set() and self.snippets.put(snippet):
                    self.snippet_ready.emit()
                if paced and self.follow_learner:
                    # Read on only once the learner took it: the picture on screen is then
                    # one snippet ahead of the input it learns from, not two.
                    if not self._wait_for_learner():
                        return
                    clock = None

    def _rewind(self, source: FrameSource) -> Frame | None:
        """Plays a file again from the start; the sampler restarts on the earlier time."""
        reason = source.end_reason
        source.close()
        try:
            source.open()
        except Exception:  # noqa: BLE001 - gone or unreadable now: end with the first reason
            source.end_reason = reason
            return None
        frame = self._read(source)
        if frame is None:
            source.end_reason = reason
        return frame

    def _keep_pace(self, frame: Frame, clock: tuple[float, float] | None
                   ) -> tuple[float, float]:
        now = time.monotonic()
        if clock is None or self.follow_learner:
            return (now, frame.timestamp)
        due = clock[0] + (frame.timestamp - clock[1])
        while now < due and not self._stop.is_set():
            self._stop.wait(min(POLL, due - now))
            now = time.monotonic()
        if now - due > 0.5:
            return (now, frame.timestamp)  # fell behind (slow decoder): do not burst
        return clock

    def _wait_for_learner(self) -> bool:
        """False if asked to stop while waiting."""
        while not self.snippets.wait_until_empty(POLL):
            if self._stop.is_set():
                return False
        return not self._stop.is_set()
