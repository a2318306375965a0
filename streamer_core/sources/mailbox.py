"""A bounded, thread-safe "latest" box: a slow reader sees the newest items, never a
growing queue."""

from __future__ import annotations

import threading
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class LatestMailbox(Generic[T]):
    """Holds the newest `capacity` items, oldest taken first (one by default: the newest
    only). A put into a full box drops the oldest and counts a skip, so memory is bounded
    however slow the reader is, and the loss is visible."""

    def __init__(self, capacity: int = 1) -> None:
        if capacity < 1:
            raise ValueError(f"a mailbox holds at least one item, not {capacity}")
        self._items: deque[T] = deque(maxlen=capacity)
        self._changed = threading.Condition()
        self.skipped = 0
        self.delivered = 0
        self.left_at_take = 0
        """Items still in the box when the reader last took one: how far behind it was
        then. `waiting`, read later, also counts what a producer put since: a file played
        at the learner's pace puts its next snippet as soon as one is taken."""
        self.skipped_at_take = 0
        """`skipped` when the reader last took an item: the items dropped before it (a put
        after the take may drop more, which come before the next one)"""

    def put(self, item: T) -> bool:
        """True if the item was added, not put in the place of one nobody took: the reader
        needs one wake-up per item."""
        with self._changed:
            full = len(self._items) == self._items.maxlen
            if full:
                self.skipped += 1
            self._items.append(item)  # a full deque drops its oldest
            self._changed.notify_all()
            return not full

    def take(self) -> T | None:
        """The oldest item, None when the box is empty."""
        with self._changed:
            item = self._items.popleft() if self._items else None
            if item is not None:
                self.delivered += 1
            self.left_at_take = len(self._items)
            self.skipped_at_take = self.skipped
            self._changed.notify_all()
            return item

    @property
    def waiting(self) -> int:
        """Items in the box: after a `take`, those the reader is behind by."""
        with self._changed:
            return len(self._items)

    def peek(self) -> T | None:
        """The newest item, left in the box."""
        with self._changed:
            return self._items[-1] if self._items else None

    def wait_for_item(self, timeout: float) -> bool:
        """For a reader that blocks: False if the box stayed empty for `timeout` s."""
        with self._changed:
            return self._changed.wait_for(lambda: bool(self._items), timeout=timeout)

    def wait_until_empty(self, timeout: float) -> bool:
        """For a producer that must not skip (a file played at the learner's pace)."""
        with self._changed:
            return self._changed.wait_for(lambda: not self._items, timeout=timeout)

    def clear(self) -> None:
        with self._changed:
            self._items.clear()
            self._changed.notify_all()
