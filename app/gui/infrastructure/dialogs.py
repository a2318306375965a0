"""The questions the window asks and the messages it shows, behind one small object.

Tests and the self-test substitute `Dialogs` with scripted answers, so every action runs
the same code path as a click, without a modal dialog waiting for a human.
Messages are non-modal: the window keeps running (and learning) while one is shown.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox, QWidget

CHECKPOINT_FILTER = "Checkpoints (*.pt *.pth *.ckpt);;All files (*)"
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.webm *.mpg *.mpeg *.wmv *.m4v);;All files (*)"
LOG_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
"""Every message the user is shown also goes to the log"""


class Dialogs:
    def __init__(self, parent: QWidget):
        self.parent = parent

    def open_checkpoint(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Load checkpoint", folder,
                                              CHECKPOINT_FILTER)
        return path or None

    def save_checkpoint(self, suggestion: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, "Save checkpoint", suggestion,
                                              CHECKPOINT_FILTER)
        return path or None

    def open_video(self, folder: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, "Open video file", folder,
                                              VIDEO_FILTER)
        return path or None

    def open_videos(self, folder: str) -> list[str]:
        paths, _ = QFileDialog.getOpenFileNames(self.parent, "Segment video files", folder,
                                                VIDEO_FILTER)
        return paths

    def choose_folder(self, title: str, folder: str) -> str | None:
        return QFileDialog.getExistingDirectory(self.parent, title, folder) or None

    def save_export(self, title: str, suggestion: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self.parent, title, suggestion, file_filter)
        return path or None

    def save_events(self, suggestion: str, formats: dict[str, str]) -> str | None:
        """A path for an events export; `formats` {".csv": "CSV, ...", ...} are the filters
        (the first chosen). A name typed without extension gets the chosen filter's."""
        filters = [f"{what} (*{suffix})" for suffix, what in formats.items()]
        path, chosen = QFileDialog.getSaveFileName(self.parent, "Export events", suggestion,
                                                   ";;".join(filters))
        if path and not Path(path).suffix and chosen in filters:
            path += list(formats)[filters.index(chosen)]
        return path or None

    def open_file(self, title: str, folder: str, file_filter: str) -> str | None:
        path, _ = QFileDialog.getOpenFileName(self.parent, title, folder, file_filter)
        return path or None

    def ask_url(self) -> str | None:
        url, ok = QInputDialog.getText(self.parent, "Open network stream",
                                       "Stream URL (MJPEG over HTTP, RTSP, …):")
        return url.strip() if ok and url.strip() else None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self.parent, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def offer_restore(self, path: str, when: str) -> bool:
        """After a crash: load the autosave it left? (No keeps the file.)"""
        return self.confirm("Restore autosave?", (
            f"Streamer Studio did not close normally last time. Its autosave from {when} "
            f"holds the model as it was then:\n{path}\n\nRestore it? (No starts with a new "
            "model and keeps the file.)"))


@dataclass(frozen=True)
class Message:
    level: str  # "info", "warning" or "error"
    title: str
    text: str


class Notifier:
    """One reusable non-modal message box, and a record of what was said (for tests)."""

    ICONS = {"info": QMessageBox.Icon.Information, "warning": QMessageBox.Icon.Warning,
             "error": QMessageBox.Icon.Critical}

    def __init__(self, parent: QWidget, popups: bool = True):
        self.parent = parent
        self.popups = popups
        self.messages: list[Message] = []
        self.box: QMessageBox | None = None
        self.showing: Message | None = None
        """The message on screen (also without popups), until closed or dismissed"""

    def show(self, level: str, title: str, text: str) -> Message:
        message = Message(level, title, text)
        logging.getLogger("streamer_studio").log(LOG_LEVELS.get(level, logging.INFO), "%s: %s",
                                                 title, text)
        self.messages.append(message)
        del self.messages[:-50]
        self.showing = message
        if self.popups:
            if self.box is None:
                self.box = QMessageBox(self.parent)
                self.box.setModal(False)
            self.box.setIcon(self.ICONS.get(level, QMessageBox.Icon.Information))
            self.box.setWindowTitle(f"Streamer Studio: {title}")
            self.box.setText(f"<b>{title}</b>")
            self.box.setInformativeText(text)
            self.box.show()
            self.box.raise_()
        return message

    def dismiss(self, title: str) -> None:
        """Closes the message titled `title` if it is still on screen: it no longer holds
        (a lost source that came back)."""
        if self.showing is None or self.showing.title != title:
            return
        self.showing = None
        if self.box is not None:
            self.box.hide()

    @property
    def last(self) -> Message | None:
        return self.messages[-1] if self.messages else None
