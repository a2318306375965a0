"""The model the user keeps, without widgets (dialogs are injected): checkpoints (save,
save as, load, autosave beside the chosen one), reset, and exports (hierarchy JSON,
trace, and the events in the formats of streamer_core.exports).

An export format: a writer in streamer_core (hierarchy_json, trace_row, exports), an
action in the window's File menu, and a method here that asks for the path.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal, Slot

from app.session.keyframes import KeyframeStore, encode_jpeg
from streamer_core.exports import (
    EXPORT_FORMATS,
    NEEDS_PICTURES,
    EventFileError,
    export_events,
    export_format,
)

from ..infrastructure.autosaves import autosave_beside, newest_autosave_since, rotate_autosaves
from ..infrastructure.dialogs import Dialogs
from ..infrastructure.settings import LastSession, StudioSettings
from ..workers.exports import BackgroundWriter
from ..workers.file_segmentation import FileSegmentation
from .learner_controller import LearnerController
from .session import SessionStatus
from .session_history import SessionHistory, trace_rows
from .settings_controller import SettingsController

AUTOSAVE_CHOICES = (0, 1, 5, 10, 30)
"""Minutes; 0 is off"""


def kept_pictures(store: KeyframeStore, num_layers: int) -> dict[tuple[int, int], bytes]:
    """{(layer, event index): JPEG} of the events whose pictures the session still keeps,
    the open events' provisional ones included."""
    pictures = {(k.layer, k.index): k.jpeg for layer in store.layers()
                for k in store.keyframes(layer)}
    for layer in range(num_layers):
        current = store.current(layer)
        if current is not None:
            pictures[(layer, current.index)] = encode_jpeg(current.rgb)
    return pictures


class ModelFiles(QObject):
    message = Signal(str, str, str)  # level, title, text
    note = Signal(str, int)  # a passing status-bar note, milliseconds
    autosave_changed = Signal(int)  # minutes (0: off)

    def __init__(self, prefs: SettingsController, learner: LearnerController,
                 session: SessionStatus, history: SessionHistory, dialogs: Dialogs,
                 parent: QObject | None = None, autosave_seconds: float | None = None):
        """`autosave_seconds`: overrides the autosave menu's minutes (tests, demos)."""
        super().__init__(parent)
        self.prefs = prefs
        self.learner = learner
        self.session = session
        self.history = history
        self.dialogs = dialogs
        self.autosave_seconds = autosave_seconds
        self.writer = BackgroundWriter(self)
        self.writer.finished.connect(self._written)
        learner.exported.connect(self._exported)
        learner.hierarchy_ready.connect(self._write_events)
        self._event_exports: dict[str, tuple] = {}  # path: (footage, pictures) until the doc
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.file_segmentation = FileSegmentation(self)
        self.file_segmentation.note.connect(self.note)
        self.file_segmentation.finished.connect(
            lambda level, text: self.message.emit(level, "Segment video files", text))
        self._rotated: Path | None = None  # the autosave path this session has made free

    @property
    def settings(self) -> StudioSettings:
        return self.prefs.settings

    def _folder(self) -> Path:
        return Path(self.settings.last_folder or Path.home())

    # --- checkpoints ------------------------------------------------------------------

    @Slot()
    def save(self) -> None:
        if not self.settings.checkpoint_path:
            self.save_as()
            return
        self.learner.save(self.settings.checkpoint_path)

    @Slot()
    def save_as(self) -> None:
        suggestion = self.settings.checkpoint_path or str(self._folder() / "streamer-model.pt")
        path = self.dialogs.save_checkpoint(suggestion)
        if not path:
            return
        self.settings.checkpoint_path = path
        self.settings.last_folder = str(Path(path).parent)
        self.prefs.schedule_save()
        self.learner.save(path)

    @Slot()
    def load(self) -> None:
        folder = self.settings.last_folder or str(Path(self.settings.checkpoint_path).parent)
        path = self.dialogs.open_checkpoint(folder)
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.learner.load(path)

    @Slot()
    def reset_model(self) -> None:
        """A new model from the settings, once the user agrees to lose a trained one."""
        if self.session.optimizer_steps > 0 or self.session.total_steps > 0:
            if not self.dialogs.confirm(
                    "Reset model",
                    "Start a new model? What the current model learned is discarded "
                    "(save it first to keep it)."):
                return
        self.learner.reset(self.settings)

    def set_autosave(self, minutes: int) -> None:
        minutes = minutes if minutes in AUTOSAVE_CHOICES else 0
        self.settings.autosave_minutes = minutes
        if minutes:
            seconds = self.autosave_seconds or minutes * 60
            self.autosave_timer.start(max(1, int(seconds * 1000)))
        else:
            self.autosave_timer.stop()
        self.prefs.schedule_save()
        self.autosave_changed.emit(minutes)

    def autosave_path(self) -> Path:
        """Beside the user's checkpoint (or in the app's folder): see `autosaves`."""
        if self.settings.checkpoint_path:
            return autosave_beside(Path(self.settings.checkpoint_path))
        folder = Path(QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.AppDataLocation))
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "autosave.pt"

    @Slot()
    def autosave(self) -> None:
        try:
            path = self.autosave_path()
        except OSError as err:
            self.message.emit("error", "Autosave failed", str(err))
            return
        if path != self._rotated:  # this session's first autosave there: keep the last's
            try:
                rotate_autosaves(path)
            except OSError as err:
                self.message.emit("error", "Autosave skipped", f"The earlier autosave could "
                                  f"not be kept ({err}), so it was not overwritten.")
                return
            self._rotated = path
        self.learner.save(str(path), "autosave")

    def offer_restore(self, last: LastSession) -> None:
        """After a session that did not close normally, offers its autosave (newer than
        the last normal close). Declining keeps the file; it is rotated, not replaced."""
        if not last.crashed:
            return
        try:
            path = newest_autosave_since(self.autosave_path(), last.clean_exit)
        except OSError:
            return
        if path is None:
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(path.stat().st_mtime))
        if self.dialogs.offer_restore(str(path), when):
            self.learner.load(str(path))
        else:
            self.note.emit(f"Not restored; the autosave stays in {path}", 10_000)

    # --- exports ----------------------------------------------------------------------

    @Slot()
    def export_hierarchy(self) -> None:
        info = self.session.source_info
        path = self.dialogs.save_export("Export hierarchy JSON",
                                        str(self._folder() / "hierarchy.json"),
                                        "JSON (*.json);;All files (*)")
        if path:
            self.learner.requests.export_hierarchy.emit(
                path, info.description if info else "session")

    @Slot()
    def export_trace(self) -> None:
        path = self.dialogs.save_export("Export trace", str(self._folder() / "trace.jsonl"),
                                        "JSON lines (*.jsonl);;All files (*)")
        if path:
            snapshot = self.history.trace_snapshot()  # fast; rows are built off this thread
            self.writer.write_jsonl(path, lambda: trace_rows(snapshot))

    def footage(self) -> str | None:
        """The video file being watched (linked from .otio and .eaf); None for a camera,
        a stream or the synthetic scene."""
        info = self.session.source_info
        if info is None or info.is_live or not Path(info.spec).is_file():
            return None
        return info.spec

    @Slot()
    def export_events(self) -> None:
        """CSV, WebVTT, OTIO, ELAN or an HTML report with the pictures the session kept:
        the model's events so far, written off the GUI thread."""
        path = self.dialogs.save_events(str(self._folder() / "events.csv"), EXPORT_FORMATS)
        if not path:
            return
        try:
            suffix = export_format(path)
        except EventFileError as err:
            self.message.emit("error", "Events not exported", str(err))
            return
        pictures = (kept_pictures(self.learner.keyframes, self.session.num_layers)
                    if suffix in NEEDS_PICTURES else None)
        self._event_exports[path] = (self.footage(), pictures)
        info = self.session.source_info
        self.learner.requests.hierarchy.emit(path, info.description if info else "session")

    @Slot(str, object)
    def _write_events(self, path: str, doc: dict) -> None:
        if path in self._event_exports:
            footage, pictures = self._event_exports.pop(path)
            self.writer.write(path, lambda: export_events(doc, path, video=footage,
                                                          keyframes=pictures))

    @Slot()
    def segment_files(self) -> None:
        """File mode: whole files, one JSON each, with new models of the panel's settings."""
        if self.file_segmentation.running:
            self.message.emit("info", "Segment video files", "Files are being segmented; "
                              "the status bar says how far it is")
            return
        paths = self.dialogs.open_videos(str(self._folder()))
        out_dir = paths and self.dialogs.choose_folder("Folder for the hierarchy JSON files",
                                                       str(Path(paths[0]).parent))
        if not out_dir:
            return
        try:
            model_args, opt_args = self.settings.model_arguments()
        except ValueError as err:
            self.message.emit("error", "Segment video files", f"Invalid model settings: {err}")
            return
        self.file_segmentation.start(paths, out_dir, model_args, opt_args)

    @Slot(str)
    def _exported(self, path: str) -> None:
        self.note.emit(f"Exported {path}", 8000)

    @Slot(str, str)
    def _written(self, path: str, error: str) -> None:
        if error:
            self.message.emit("error", "Export failed", f"{path}: {error}")
        else:
            self._exported(path)

    def shutdown(self) -> None:
        self.autosave_timer.stop()
        self.file_segmentation.cancel()  # stops between two steps
        self.writer.wait(5_000)
