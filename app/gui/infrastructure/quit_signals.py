"""How the app quits: SIGINT (Ctrl-C in the terminal) and SIGTERM (logout, systemd,
`kill`, `docker stop`) close the window the way the user would, and once the window has
shut down the process ends at once.

Python runs its signal handlers only between bytecodes, and Qt's event loop runs C++
for as long as nothing happens, so a plain handler would wait for the next Python slot
(and the default one raises KeyboardInterrupt inside whichever slot that is). Instead
the C-level handler writes the signal's number to a socket (`signal.set_wakeup_fd`);
a QSocketNotifier wakes the event loop, and the window is closed from there. A second
signal while closing ends the event loop at once.
"""

from __future__ import annotations

import contextlib
import signal
import socket

from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, Slot
from PySide6.QtWidgets import QWidget

HANDLED = tuple(s for s in (getattr(signal, "SIGINT", None), getattr(signal, "SIGTERM", None))
                if s is not None)


class QuitOnSignals(QObject):
    """Installed for the life of the app (main thread only). `signum`: the first signal
    received, if any (the process then exits with 128 + signum, as the CLI does)."""

    def __init__(self, window: QWidget):
        super().__init__(window)
        self.window = window
        self.signum: int | None = None
        self._reader, self._writer = socket.socketpair()
        for end in (self._reader, self._writer):
            end.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {s: signal.signal(s, lambda *_: None) for s in HANDLED}
        self.notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self.notifier.activated.connect(self._woken)

    @Slot()
    def _woken(self) -> None:
        try:
            received = self._reader.recv(64)
        except OSError:  # spurious wake-up: nothing to read
            return
        for signum in received:
            if signum not in HANDLED:  # another handler's signal (the fd is process-wide)
                continue
            if self.signum is not None:  # a second signal: no more waiting
                QCoreApplication.exit(128 + self.signum)
                return
            self.signum = signum
            self.window.close()

    def uninstall(self) -> None:
        """The previous handlers back, once the event loop has ended."""
        with contextlib.suppress(ValueError):  # not the main thread, or at interpreter exit
            for signum, handler in self._previous.items():
                signal.signal(signum, handler)
            signal.set_wakeup_fd(self._previous_fd)
        self._previous = {}
        self.notifier.setEnabled(False)
        for end in (self._reader, self._writer):
            end.close()

