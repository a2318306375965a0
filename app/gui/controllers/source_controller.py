"""The source's lifecycle, without widgets: opening, switching, pausing, stopping, getting
a lost camera or stream back, and falling back to the synthetic scene at startup.

A capture worker per source runs on its own QThread. A new source opens beside the one
playing, which keeps playing until the new one answers, so a bad choice costs nothing;
a worker's reports carry its token, so those of a retired worker are ignored. What the
user should see goes out as signals; the run state goes to SessionStatus.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot

from streamer_core.sources import Frame
from streamer_core.sources.mailbox import LatestMailbox

from ..workers.camera_scan import CameraScanner
from ..workers.capture_worker import CaptureStats, CaptureWorker, SourceInfo
from .session import RunState, SessionStatus

SYNTHETIC_SPEC = "synthetic"
SOURCE_LOST = "Source lost"
"""The title of the message shown while a lost source is retried (closed when it is back)"""
RECONNECT_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before each new attempt to reopen a lost camera or stream; the last repeats"""


def is_live_spec(spec: str) -> bool:
    """A camera or a stream: something that may come up later, unlike a file."""
    return spec.startswith("camera:") or "://" in spec


def describe_spec(spec: str) -> str:
    if spec == SYNTHETIC_SPEC or spec.startswith("synthetic:"):
        return "Synthetic scene (built-in)"
    if spec.startswith("camera:"):
        return f"Camera {spec.split(':', 1)[1]}"
    if "://" in spec:
        return f"URL: {spec}"
    return f"File: {spec.replace(chr(92), '/').rsplit('/', 1)[-1]}"


@dataclass
class Reconnect:
    """A live source that died and is being reopened until it answers or the user moves on."""

    spec: str
    description: str
    reason: str
    """Why it was lost, in the source's own words"""
    last_error: str = ""
    """Why the last attempt failed"""
    attempt: int = 0
    """Attempts made so far"""
    due: float = 0.0
    """clock() of the next attempt; 0 while one is in flight"""
    stand_in: bool = False
    """Down at launch: the synthetic scene plays meanwhile (else the picture is gone)"""


Capture = tuple[QThread, CaptureWorker]


class SourceController(QObject):
    opened = Signal(object)  # SourceInfo: now playing (the window remembers it unless fallback)
    status = Signal(str, str)  # the source panel's line and its tooltip
    banner = Signal(str, str)  # text over the picture ("" hides it), level
    picture_cleared = Signal(str)  # no picture any more: what to show instead
    message = Signal(str, str, str)  # level, title, text: for the user's attention
    resolved = Signal(str)  # the title of a message that no longer holds
    note = Signal(str, int)  # a passing status-bar note, milliseconds
    cameras_found = Signal(object)  # list[CameraDevice]: the cameras that answered
    choice_refused = Signal()  # a chosen source did not open: show the one playing again
    stream_ended = Signal()  # a video played to its end, or the user stopped the source

    def __init__(self, session: SessionStatus, snippets: LatestMailbox[Frame],
                 snippet_ready: Callable[[], None], parent: QObject | None = None, *,
                 snippet_size: float = 0.5, follow_learner: bool = False, loop: bool = False,
                 clock: Callable[[], float] = time.monotonic):
        """`snippet_ready`: the learner's slot, woken when its mailbox fills.
        `clock`: monotonic seconds (tests pass their own)."""
        super().__init__(parent)
        self.session = session
        self.snippets = snippets
        self.snippet_ready = snippet_ready
        self.clock = clock
        self.snippet_size = snippet_size
        self.follow_learner = follow_learner
        self.loop = loop
        self.delays = RECONNECT_DELAYS
        self.reconnecting: Reconnect | None = None
        self.display: LatestMailbox[Frame] = LatestMailbox()
        self.last_opened = ""  # what Start reopens after Stop or the end of a file
        self.fallback_reason = ""  # why we are on the synthetic scene instead of a camera
        self.startup = True
        self.shut_down = False
        self.capture: Capture | None = None  # the one shown
        self.pending: Capture | None = None  # opening, to replace it
        self.retiring: list[Capture] = []
        self._token = 0
        self.reconnect_timer = QTimer(self)
        self.reconnect_timer.setSingleShot(True)
        self.reconnect_timer.timeout.connect(self.reconnect_now)
        self.cameras = CameraScanner(self)
        self.cameras.found.connect(self.cameras_found)

    # --- opening ----------------------------------------------------------------------

    @Slot(str)
    def open(self, spec: str, retry: bool = False) -> None:
        """Opens `spec` on a new thread. `retry`: an attempt to get back a lost source;
        any other call is the user choosing a source, which ends the waiting for it."""
        spec = spec.strip()
        if not spec:
            return
        if not retry:
            self._end_reconnect()
        self._retire(self.pending)
        self._token += 1
        worker = CaptureWorker(spec, self.snippet_size, LatestMailbox(), self.snippets,
                               follow_learner=self.follow_learner, token=self._token,
                               loop=self.loop)
        thread = QThread(self)
        thread.setObjectName(f"capture {self._token}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI
        # thread, which may itself be waiting for this thread (shutdown).
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.opened.connect(self._opened)
        worker.failed.connect(self._failed)
        worker.ended.connect(self._ended)
        worker.snippet_ready.connect(self.snippet_ready)
        self.pending = (thread, worker)
        if not retry:  # a retry's status is the reconnect countdown
            self.status.emit(f"Opening {describe_spec(spec)}…", "")
        if self.capture is None and not retry:
            self.session.set_run_state(RunState.OPENING)
            self.picture_cleared.emit(f"Opening {describe_spec(spec)}…")
        thread.start()

    def _retire(self, capture: Capture | None) -> None:
        """Asks a reader to stop without waiting for it; it is dropped once it has."""
        if capture is None:
            return
        thread, worker = capture
        if capture is self.capture:
            self.capture = None
        if capture is self.pending:
            self.pending = None
        worker.stop()
        self.retiring.append(capture)
        thread.finished.connect(self._reap)
        self._reap()

    @Slot()
    def _reap(self) -> None:
        self.retiring = [(t, w) for t, w in self.retiring if not t.isFinished()]

    def _is_current(self, token: int) -> bool:
        return self.capture is not None and self.capture[1].token == token

    def _is_pending(self, token: int) -> bool:
        return self.pending is not None and self.pending[1].token == token

    @Slot(object)
    def _opened(self, info: SourceInfo) -> None:
        if not self._is_pending(info.token):
            return
        self._retire(self.capture)
        self.capture, self.pending = self.pending, None
        worker = self.capture[1]
        self.display = worker.display
        worker.go()
        back = self.reconnecting
        if back is not None and back.spec == info.spec:
            attempts = f"{back.attempt} attempt{'s' if back.attempt != 1 else ''}"
            self.note.emit(f"{info.description} answered after {attempts}: learning goes on "
                           "from it with the same model" if back.stand_in else
                           f"{info.description} is back after {attempts}: learning goes on "
                           "with the same model", 10_000)
        if back is not None and back.spec == info.spec and not back.stand_in:
            self.resolved.emit(SOURCE_LOST)
        if back is None or back.spec == info.spec or not back.stand_in:
            self._end_reconnect()  # (the stand-in opening leaves the waiting on)
        self.startup = False
        self.last_opened = info.spec
        self.session.set_source(info)
        details = [f"{info.fps:g} fps"] if info.fps else []
        if info.duration:
            details.append(f"{info.duration:.0f} s")
        details.append("live" if info.is_live else "file")
        self.status.emit(f"Playing: {info.description} ({', '.join(details)})", "")
        if self.is_fallback(info.spec):
            self.banner.emit(self.fallback_reason, "warning")
        else:
            self.fallback_reason = ""
            self.banner.emit("", "")
        self.opened.emit(info)
        self.session.set_run_state(RunState.RUNNING)

    def is_fallback(self, spec: str) -> bool:
        """The synthetic scene standing in for a camera that was not there at startup."""
        return bool(self.fallback_reason) and spec == SYNTHETIC_SPEC

    @Slot(int, str, str)
    def _failed(self, token: int, spec: str, message: str) -> None:
        if not self._is_pending(token):
            return
        self.pending = None
        if self.reconnecting is not None and self.reconnecting.spec == spec:
            self.reconnecting.last_error = message
            self._schedule_reconnect()
            return
        if self.startup and spec != SYNTHETIC_SPEC:
            # Launched without the camera (or a stored file that is gone): keep working on
            # the synthetic scene, and keep trying a camera or stream that may come up.
            self.startup = False
            what = "No camera found" if spec.startswith("camera:") else "Source unavailable"
            self.fallback_reason = (
                f"{what} ({message}). Showing the built-in synthetic scene instead: choose "
                "a camera, video file or stream URL in the Source panel on the right.")
            self.open(SYNTHETIC_SPEC)
            if is_live_spec(spec):
                self.reconnecting = Reconnect(spec, describe_spec(spec), f"{what} ({message})",
                                              last_error=message, stand_in=True)
                self._schedule_reconnect()
            return
        self.choice_refused.emit()
        info = self.session.source_info
        if self.capture is not None and info is not None:
            still = f"Still playing {info.description}."
            self.status.emit(f"Could not open: {message}. {still}", "")
            self.message.emit("error", "Cannot open source", f"{message}\n\n{still}")
            return
        self.session.set_run_state(RunState.STOPPED)
        self.status.emit(f"Could not open: {message}", "")
        self.picture_cleared.emit("No source. Choose one in the Source panel.")
        self.banner.emit(message, "error")
        self.message.emit("error", "Cannot open source", message)

    @Slot(int, str)
    def _ended(self, token: int, reason: str) -> None:
        if not self._is_current(token):
            return
        spec = self.capture[1].spec
        info = self.session.source_info
        self._retire(self.capture)
        if info is not None and info.is_live and not spec.startswith("synthetic"):
            self._begin_reconnect(spec, info.description, reason)
            return
        self.session.set_run_state(RunState.STOPPED)
        self.stream_ended.emit()
        text = (f"{reason}. The model is kept; press Start to open the source again, or "
                "choose another one.")
        self.status.emit(f"Ended: {reason}", "")
        self.banner.emit(text, "warning")
        self.message.emit("warning", "Source ended", text)

    # --- getting a lost camera or stream back ----------------------------------------

    def _begin_reconnect(self, spec: str, description: str, reason: str) -> None:
        """The model, the timeline and the session stay; the source is tried again and
        again, ever less often, until it answers or the user picks another or stops."""
        self.reconnecting = Reconnect(spec, description, reason)
        self.session.set_run_state(RunState.RECONNECTING)
        self.picture_cleared.emit(f"No picture from {description}")
        self.message.emit("warning", SOURCE_LOST,
                          f"{reason}.\n\nThe model and the timeline are kept. Streamer "
                          "Studio keeps trying to reconnect and goes on learning when "
                          "frames return; choose another source or press Stop to give up.")
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        back = self.reconnecting
        if back is None:
            return
        delay = self.delays[min(back.attempt, len(self.delays) - 1)]
        back.due = self.clock() + delay
        self.reconnect_timer.start(max(1, int(delay * 1000)))
        self.show_reconnect()

    def show_reconnect(self) -> None:
        """The countdown to the next attempt (the window calls it twice a second)."""
        back = self.reconnecting
        if back is None:
            return
        if back.due:
            wait = max(0.0, back.due - self.clock())
            when = f"Next try in {wait:.0f} s" if wait >= 0.5 else "Trying again now"
        else:
            when = "Trying to reconnect…"
        tries = (f" ({back.attempt} attempt{'s' if back.attempt != 1 else ''} so far)"
                 if back.attempt else "")
        last = f"Last attempt: {back.last_error}" if back.last_error else ""
        if back.stand_in:
            self.banner.emit(f"{back.reason}. Showing the built-in synthetic scene meanwhile "
                             f"and trying again: {when.lower()}{tries}. Or choose a camera, "
                             "video file or stream URL in the Source panel on the right.",
                             "warning")
            self.status.emit(f"Playing the synthetic scene. Waiting for {back.description}: "
                             f"{when}{tries}.", last)
            return
        self.banner.emit(f"{back.reason}. Reconnecting: {when.lower()}{tries}. The model and "
                         "timeline are kept; learning resumes when frames return. Choose "
                         "another source, or Stop to give up.", "warning")
        self.status.emit(f"Lost: {back.description}. {when}{tries}.", last)

    @Slot()
    def reconnect_now(self) -> None:
        back = self.reconnecting
        if back is None or self.shut_down:
            return
        if back.stand_in and self.pending is not None:  # the stand-in is still opening
            self._schedule_reconnect()
            return
        self.reconnect_timer.stop()
        back.attempt += 1
        back.due = 0.0
        self.show_reconnect()
        self.open(back.spec, retry=True)

    def _end_reconnect(self) -> None:
        if self.reconnecting is None:
            return
        self.reconnecting = None
        self.reconnect_timer.stop()
        self.banner.emit("", "")

    # --- run control ------------------------------------------------------------------

    def current_spec(self, default: str) -> str:
        return self.capture[1].spec if self.capture is not None else default

    @Slot()
    def scan_cameras(self, unless_busy: bool = False) -> None:
        """Looks for cameras (cameras_found says which). `unless_busy`: not while a camera
        is open or opening: probing it again could disturb it on some platforms."""
        busy = any(c is not None and c[1].spec.startswith("camera:")
                   for c in (self.capture, self.pending))
        if not (unless_busy and busy):
            self.cameras.scan()

    def start(self, default: str = "") -> None:
        """Start or Retry: resumes, retries now, or reopens the last source (or `default`)."""
        state = self.session.run_state
        if state is RunState.RECONNECTING:
            self.reconnect_now()  # the user does not want to wait for the next try
        elif state is RunState.PAUSED and self.capture is not None:
            self.capture[1].set_paused(False)
            self.session.set_run_state(RunState.RUNNING)
        elif state is RunState.STOPPED:
            self.open(self.last_opened or default)

    @Slot()
    def pause(self) -> None:
        if self.session.run_state is RunState.RUNNING and self.capture is not None:
            self.capture[1].set_paused(True)
            self.session.set_run_state(RunState.PAUSED)

    @Slot()
    def stop(self) -> None:
        if self.session.run_state is RunState.STOPPED:
            return
        self._end_reconnect()
        self._retire(self.pending)
        self._retire(self.capture)
        self.session.set_run_state(RunState.STOPPED)
        # Start plays a file from its beginning, a camera after a gap: not what came next.
        self.stream_ended.emit()
        self.picture_cleared.emit("Stopped. Press Start to continue, or choose a source.")
        self.status.emit("Stopped", "")

    def set_follow_learner(self, follow: bool) -> None:
        self.follow_learner = follow
        if self.capture is not None:
            self.capture[1].set_follow_learner(follow)

    def set_loop(self, loop: bool) -> None:
        self.loop = loop
        if self.capture is not None:
            self.capture[1].set_loop(loop)

    def set_snippet_size(self, seconds: float) -> None:
        self.snippet_size = seconds
        if self.capture is not None:
            self.capture[1].set_snippet_size(seconds)

    def stats(self) -> CaptureStats | None:
        return self.capture[1].stats() if self.capture is not None else None

    # --- shutdown ---------------------------------------------------------------------

    def threads(self) -> list[QThread]:
        return [t for t, _ in self.retiring] + [c[0] for c in (self.capture, self.pending)
                                                if c is not None]

    def shutdown(self) -> None:
        """Asks every reader to stop; the caller waits for `threads()`."""
        self.shut_down = True
        self.reconnect_timer.stop()
        for capture in [*self.retiring, self.capture, self.pending]:
            if capture is not None:
                capture[1].stop()

    def wait(self, msecs: int) -> None:
        """After `shutdown` and the threads: the camera scan, if one is running."""
        self.cameras.wait(msecs)
