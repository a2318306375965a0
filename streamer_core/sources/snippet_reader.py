"""Reads a live source on its own thread and keeps its last few snippets for a slower model.

A live source does not wait. A model slower than it that read the newest frame instead
took inputs a second or more apart at places, and layer 0 read those steps against its
half-second ones: a still camera's events were lost (benchmarks/live_lag.py). This reader,
like the app's capture worker, samples the snippets as the frames come and keeps the last
SNIPPETS_WAITING of them; the model sees each and learns from those LearningPace says.
"""

from __future__ import annotations

import threading

from ..learning_pace import SNIPPETS_WAITING
from .base import Frame, FrameSource
from .mailbox import LatestMailbox
from .sampling import SnippetTaker


class LiveSnippetReader(FrameSource):
    """Wraps a live source for a plain (non-Qt) consumer such as the CLI: read() returns
    the oldest snippet frame waiting (with the frames passed over before it, Frame.between),
    `waiting` how many more are, and `skipped_snippets` those dropped, oldest first, while
    the consumer was SNIPPETS_WAITING behind.
    """

    def __init__(self, inner: FrameSource, snippet_size: float, keep_between: int):
        self.inner = inner
        self.snippet_size = snippet_size
        self.keep_between = keep_between
        self.description = inner.description
        self.is_live = inner.is_live
        self.fps = inner.fps
        self.duration = inner.duration
        self._snippets: LatestMailbox[Frame] = LatestMailbox(SNIPPETS_WAITING)
        self._finished = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._taker: SnippetTaker | None = None
        self._ever_opened = False

    @property
    def waiting(self) -> int:
        """Snippets read and not yet taken: how far behind the consumer is."""
        return self._snippets.waiting

    @property
    def skipped_snippets(self) -> int:
        return self._snippets.skipped

    @property
    def read_span(self) -> tuple[float, float] | None:
        """The source's seconds the frames read cover (SnippetSampler.read_span): before
        the first snippet taken when older ones were dropped, past the newest, whose frames
        after it were read too."""
        return self._taker.sampler.read_span if self._taker is not None else None

    @property
    def skipped_before_read(self) -> int:
        """The snippets dropped before the one `read` returned last."""
        return self._snippets.skipped_at_take

    def open(self) -> None:
        self.close()
        self.inner.open()
        self._ever_opened = True
        self.fps = self.inner.fps
        self.end_reason, self.ended_early = None, False
        self._snippets = LatestMailbox(SNIPPETS_WAITING)
        self._finished.clear()
        self._stop.clear()
        self._thread = threading.Thread(target=self._pump, name=f"read {self.description}",
                                        daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        self._taker = taker = SnippetTaker(self.snippet_size, self.keep_between,
                                           clock_jitters=self.inner.is_live)
        try:
            while not self._stop.is_set():
                frame = self.inner.read()
                if frame is None:
                    return
                snippet = taker.offer(frame)
                if snippet is not None:
                    self._snippets.put(snippet)
        except Exception as err:  # noqa: BLE001 - a reader must end, not hang its consumer
            self.end_reason = f"{self.description}: reading failed ({err})"
            self.ended_early = True
        finally:
            self.end_reason = self.end_reason or self.inner.end_reason
            self.ended_early = self.ended_early or self.inner.ended_early
            self._finished.set()

    def read(self) -> Frame | None:
        """The oldest snippet waiting; None once the source ended and all were taken."""
        if not self._ever_opened:
            raise self._never_opened()
        while True:
            finished = self._finished.is_set() or self._thread is None  # before the take
            snippet = self._snippets.take()
            if snippet is not None or finished:
                return snippet
            self._snippets.wait_for_item(timeout=0.1)

    def close(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        self.inner.close()  # waits for a read in progress, then the pump sees None
        if thread is not None:
            thread.join(timeout=5.0)
        self._finished.set()
