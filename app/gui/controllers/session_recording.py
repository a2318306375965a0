"""Opt-in session recording, without widgets: which folder, when to start a new one, the
checkpoint at the autosave interval, and the disk use to show.

The SessionRecorder it creates is handed to the learner worker (a queued request), which
feeds it each input from its own thread; the recorder writes on a thread of its own. A new
or loaded model starts a new session folder: a session is one model's.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal, Slot
from PySide6.QtWidgets import QLabel

from app.session.recorder import CHECKPOINT_NAME, SessionRecorder, new_session_folder

from ..infrastructure.dialogs import Dialogs
from ..workers.learner_worker import ModelInfo
from .learner_controller import LearnerController
from .session import SessionStatus
from .settings_controller import SettingsController

CHECKPOINT_MINUTES_WHEN_AUTOSAVE_IS_OFF = 5
STATUS_INTERVAL_MS = 1000


def default_recordings_folder() -> Path:
    videos = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.MoviesLocation)
    return Path(videos or Path.home()) / "Streamer Studio sessions"


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count < 1e9 else f"{count / 1e9:.2f} GB"


class SessionRecording(QObject):
    message = Signal(str, str, str)  # level, title, text
    note = Signal(str, int)
    recording_changed = Signal(bool)
    disk_use = Signal(str, str)  # the status bar's text ("" when not recording), tooltip

    def __init__(self, prefs: SettingsController, learner: LearnerController,
                 session: SessionStatus, parent: QObject | None = None,
                 checkpoint_seconds: float | None = None):
        """`checkpoint_seconds` overrides the autosave interval (tests, demos)."""
        super().__init__(parent)
        self.prefs = prefs
        self.learner = learner
        self.session = session
        self.checkpoint_seconds = checkpoint_seconds
        self.recorder: SessionRecorder | None = None
        self.checkpoint_timer = QTimer(self)
        self.checkpoint_timer.timeout.connect(self.save_checkpoint)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self._show_disk_use)
        learner.model_ready.connect(self._model_ready)

    @property
    def folder(self) -> Path:
        """Where new session folders go."""
        chosen = self.prefs.settings.recordings_folder
        return Path(chosen) if chosen else default_recordings_folder()

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    @Slot(bool)
    def set_recording(self, on: bool) -> None:
        if on and self.recorder is None:
            self._start()
        elif not on and self.recorder is not None:
            self._stop(final_checkpoint=True)
            self.note.emit("Recording stopped", 5000)
        self.prefs.remember("record_session", self.recording)
        self.recording_changed.emit(self.recording)

    def choose_folder(self, dialogs: Dialogs) -> None:
        """Asks where sessions from the next one on go."""
        folder = dialogs.choose_folder("Folder for recorded sessions", str(self.folder))
        if folder:
            self.prefs.remember("recordings_folder", folder)
            self.note.emit(f"Sessions will be recorded into {folder}", 5000)

    def _start(self) -> None:
        try:
            folder = new_session_folder(self.folder)
            info = self.session.source_info
            self.recorder = SessionRecorder(folder, self.learner.snippet_size,
                                            info.spec if info else "")
        except OSError as err:
            self.message.emit("error", "Not recording",
                              f"Cannot create a session folder in {self.folder}: "
                              f"{err.strerror or err}")
            return
        self.learner.requests.recording.emit(self.recorder)
        minutes = (self.prefs.settings.autosave_minutes
                   or CHECKPOINT_MINUTES_WHEN_AUTOSAVE_IS_OFF)
        self.checkpoint_timer.start(int(1000 * (self.checkpoint_seconds or minutes * 60)))
        self.status_timer.start(STATUS_INTERVAL_MS)
        self.note.emit(f"Recording the session into {folder}", 8000)
        self._show_disk_use()

    def _stop(self, final_checkpoint: bool) -> None:
        """Closes the session folder; the model is saved into it once more unless it has
        already been replaced (`final_checkpoint` False) or the app is closing."""
        recorder, self.recorder = self.recorder, None
        self.learner.requests.recording.emit(None)
        if final_checkpoint:
            self.learner.save(str(recorder.folder / CHECKPOINT_NAME), "autosave")
        recorder.close(wait=False)  # its thread writes what is queued, then ends
        self.checkpoint_timer.stop()
        self.status_timer.stop()
        self.disk_use.emit("", "")

    @Slot()
    def save_checkpoint(self) -> None:
        if self.recorder is not None:
            self.learner.save(str(self.recorder.folder / CHECKPOINT_NAME), "autosave")

    @Slot(object)
    def _model_ready(self, info: ModelInfo) -> None:
        if self.recorder is not None and info.reason != "new":
            self._stop(final_checkpoint=False)
            self._start()  # the new model's session

    @Slot()
    def _show_disk_use(self) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        if recorder.error:
            self.message.emit("error", "Recording stopped", f"The session folder could not "
                              f"be written: {recorder.error}")
            self.set_recording(False)
            return
        dropped = f", {recorder.dropped} frames dropped" if recorder.dropped else ""
        self.disk_use.emit(f"● REC {megabytes(recorder.disk_bytes)}",
                           f"Recording into {recorder.folder}: {recorder.frames} frames"
                           f"{dropped}")

    def shutdown(self, timeout: float = 5.0) -> None:
        """Closing: the recorder writes what it has (no final checkpoint: closing does not
        wait for one; the last periodic one stays)."""
        self.checkpoint_timer.stop()
        self.status_timer.stop()
        if self.recorder is not None:
            recorder, self.recorder = self.recorder, None
            recorder.close(wait=True, timeout=timeout)


class RecordingIndicator(QLabel):
    """The status bar's "● REC 12.3 MB", hidden while not recording."""

    def __init__(self) -> None:
        super().__init__()
        self.setStyleSheet("color: #e04040; font-weight: bold; padding: 0 6px")
        self.hide()

    @Slot(str, str)
    def show_disk_use(self, text: str, tip: str) -> None:
        self.setText(text)
        self.setToolTip(tip)
        self.setVisible(bool(text))
