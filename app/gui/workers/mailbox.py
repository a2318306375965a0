"""A one-slot, thread-safe "latest" box: a slow reader sees the newest item, never a queue."""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestMailbox(Generic[T]):
    """Holds at most one item. A put over an item nobody took replaces it and counts a skip,
    so memory is bounded however slow the reader is, and the loss is visible."""

    def __init__(self) -> None:
        self._item: T | None = None
        self._changed = threading.Condition()
        self.skipped = 0
        self.delivered = 0

    def put(self, item: T) -> bool:
        """True if the box was empty: the reader may be idle and needs a wake-up."""
        with self._changed:
            was_empty = self._item is None
            if not was_empty:
                self.skipped += 1
            self._item = item
            self._changed.notify_all()
            return was_empty

    def take(self) -> T | None:
        with self._changed:
            item, self._item = self._item, None
            if item is not None:
                self.delivered += 1
            self._changed.notify_all()
            return item

    def peek(self) -> T | None:
        with self._changed:
            return self._item

    def wait_until_empty(self, timeout: float) -> bool:
        """For a producer that must not skip (a file played at the learner's pace)."""
        with self._changed:
            return self._changed.wait_for(lambda: self._item is None, timeout=timeout)

    def clear(self) -> None:
        with self._changed:
            self._item = None
            self._changed.notify_all()
