"""Ctrl-C and SIGTERM as a request to stop that never lands inside a learning step.

A signal that arrives while a step runs (the model's forward, the accumulated backward
passes, the optimizer's weight update) is held until the step ends: stopping half-way
would leave gradients half back-propagated and weights half updated, and the checkpoint
promised at exit could not be collected. Outside a step (waiting for a frame, decoding)
it stops at once. SIGTERM (`timeout`, systemd, `docker stop`) is handled like Ctrl-C, so
the results so far are written either way.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

HANDLED = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None))
                if s is not None)


class Interrupted(KeyboardInterrupt):
    """Raised at a safe point after SIGINT or SIGTERM; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal's number (130 for Ctrl-C)."""
        return 128 + self.signum


class Interrupts:
    """Installs the handlers for a `with` block (main thread only; elsewhere a no-op)."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._atomic_depth = 0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum
        if self._atomic_depth == 0:
            raise Interrupted(self.received)

    @contextlib.contextmanager
    def atomic(self) -> Iterator[None]:
        """A block that a signal does not cut; a held signal is raised when it ends."""
        self._atomic_depth += 1
        try:
            yield
        finally:
            self._atomic_depth -= 1
        if self._atomic_depth == 0 and self.received is not None:
            raise Interrupted(self.received)

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """A block that a signal does not cut and that raises nothing when it ends
        (writing the results after an interrupt: a second Ctrl-C must not lose them)."""
        self._atomic_depth += 1
        try:
            yield
        finally:
            self._atomic_depth -= 1
