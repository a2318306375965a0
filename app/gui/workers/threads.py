"""Ending worker threads at shutdown."""

from __future__ import annotations

import time

from PySide6.QtCore import QThread

PATIENCE_MS = 15_000


def join_threads(threads: list[QThread], timeout: float) -> bool:
    """Waits for `threads` to end; True if all did within `timeout` seconds. Those that
    did not (a source still opening, a step still running) are waited for a while longer
    rather than destroyed while running, which would abort the process."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.wait(max(0, int((deadline - time.monotonic()) * 1000)))
    stopped = not any(t.isRunning() for t in threads)
    if not stopped:
        for thread in threads:
            thread.wait(PATIENCE_MS)
    return stopped
