"""Keeps only the newest frame of a live source, so a slow consumer sees the present."""

from __future__ import annotations

import threading

from .base import Frame, FrameSource


class NewestFrameSource(FrameSource):
    """Wraps a live source: a thread reads it continuously; read() returns the newest frame
    not yet returned, and frames the consumer was too slow for are dropped and counted.

    For a plain (non-Qt) consumer such as the CLI; the app has its own capture worker.
    """

    def __init__(self, inner: FrameSource):
        self.inner = inner
        self.description = inner.description
        self.is_live = inner.is_live
        self.fps = inner.fps
        self.duration = inner.duration
        self.dropped_frames = 0
        self._newest: Frame | None = None
        self._finished = False
        self._stop = threading.Event()
        self._changed = threading.Condition()
        self._thread: threading.Thread | None = None
        self._ever_opened = False

    def open(self) -> None:
        self.close()
        self.inner.open()
        self._ever_opened = True
        self.fps = self.inner.fps
        self._newest, self._finished, self.end_reason = None, False, None
        self.ended_early = False
        self.dropped_frames = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._pump, name=f"read {self.description}",
                                        daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            while not self._stop.is_set():
                frame = self.inner.read()
                if frame is None:
                    return
                with self._changed:
                    if self._newest is not None:
                        self.dropped_frames += 1
                    self._newest = frame
                    self._changed.notify_all()
        except Exception as err:  # noqa: BLE001 - a reader must end, not hang its consumer
            self.end_reason = f"{self.description}: reading failed ({err})"
            self.ended_early = True
        finally:
            with self._changed:
                self._finished = True
                self.end_reason = self.end_reason or self.inner.end_reason
                self.ended_early = self.ended_early or self.inner.ended_early
                self._changed.notify_all()

    def read(self) -> Frame | None:
        if not self._ever_opened:
            raise self._never_opened()
        with self._changed:
            while self._newest is None and not self._finished and self._thread is not None:
                self._changed.wait(timeout=0.5)
            frame, self._newest = self._newest, None
            return frame

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        self.inner.close()  # waits for a read in progress, then the pump sees None
        if thread is not None:
            thread.join(timeout=5.0)
        with self._changed:
            self._changed.notify_all()
