"""What the app keeps when something goes wrong: a rotating log in the user's data folder,
Python's fault traces (faulthandler) beside it, and a dialog naming the log when an
exception escapes on any thread, instead of a window that vanishes or a silent thread.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
import threading
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType
from typing import IO

from PySide6.QtCore import QObject, QStandardPaths, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget

LOG_FILE = "streamer-studio.log"
FAULTS_FILE = "faults.log"
"""faulthandler writes to a raw descriptor: a file of its own, never rotated under it"""
PREVIOUS_FAULTS_FILE = "faults.previous.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
log = logging.getLogger("streamer_studio")


def log_folder() -> Path:
    """`logs` in the folder the app keeps its data in (the autosave's, by Qt's names)."""
    data = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(data or Path.home() / ".streamer-studio") / "logs"


def start_logging(folder: Path) -> Path:
    """Log records (INFO and up) to a rotating file in `folder`, and Python's fault traces
    (a segfault, an abort) to FAULTS_FILE there. Returns the log's path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOG_FILE
    handler = RotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS,
                                  encoding="utf-8")
    handler.setFormatter(logging.Formatter(
        "%(asctime)s %(levelname)s [%(threadName)s] %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    faults = folder / FAULTS_FILE
    if faults.exists() and faults.stat().st_size > 0:  # the last run died: keep its trace
        kept = faults.replace(folder / PREVIOUS_FAULTS_FILE)
        log.warning("The previous run stopped on a fault; its trace is in %s", kept)
    faulthandler.enable(file=_open_faults(faults), all_threads=True)
    log.info("Streamer Studio started (Python %s)", sys.version.split()[0])
    return path


_fault_file: IO | None = None  # kept open for faulthandler as long as the process runs


def _open_faults(path: Path) -> IO:
    global _fault_file
    _fault_file = open(path, "w", encoding="utf-8")  # noqa: SIM115 - lives with the process
    return _fault_file


def open_folder(folder: Path) -> bool:
    """Shows `folder` in the desktop's file manager (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def summary(kind: type[BaseException], value: BaseException | None) -> str:
    return "".join(traceback.format_exception_only(kind, value)).strip()


class CrashReporter(QObject):
    """Logs an uncaught exception of any thread and shows it on the GUI thread.

    `show(text, log_path)` is what the user sees (default: `CrashDialog`); tests pass
    their own and call the hooks directly."""

    crashed = Signal(str)  # the exception in one line; queued to the GUI thread

    def __init__(self, log_path: Path, show: Callable[[str, Path], None] | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.log_path = log_path
        self.show = show or CrashDialog(parent).show_crash
        self._previous: tuple | None = None
        self.crashed.connect(self._show)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.excepthook
        threading.excepthook = self.thread_excepthook

    def uninstall(self) -> None:
        if self._previous is not None:
            sys.excepthook, threading.excepthook = self._previous
            self._previous = None

    def excepthook(self, kind: type[BaseException], value: BaseException,
                   tb: TracebackType | None) -> None:
        """Also Qt's: an exception escaping a slot or an event handler comes here."""
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, value, tb)
            return
        log.critical("Uncaught exception", exc_info=(kind, value, tb))
        self.crashed.emit(summary(kind, value))

    def thread_excepthook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "a thread"
        log.critical("Uncaught exception in thread %s", name,
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        self.crashed.emit(f"{summary(args.exc_type, args.exc_value)} (thread {name})")

    @Slot(str)
    def _show(self, text: str) -> None:
        self.show(text, self.log_path)


class CrashDialog:
    """One non-modal box, reused: a burst of errors updates it instead of stacking."""

    def __init__(self, parent: QWidget | None):
        self.parent = parent
        self.box: QMessageBox | None = None
        self.count = 0

    def show_crash(self, text: str, log_path: Path) -> None:
        self.count += 1
        if self.box is None:
            self.box = QMessageBox(self.parent)
            self.box.setModal(False)
            self.box.setIcon(QMessageBox.Icon.Critical)
            self.box.setWindowTitle("Streamer Studio: unexpected error")
            folder = self.box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
            folder.clicked.connect(lambda: open_folder(log_path.parent))
            self.box.addButton(QMessageBox.StandardButton.Close)
        more = f" ({self.count} errors so far)" if self.count > 1 else ""
        self.box.setText(f"<b>Something went wrong{more}.</b> The app keeps running, but "
                         "what it was doing may not have finished.")
        self.box.setInformativeText(f"{text}\n\nThe details are in the log:\n{log_path}")
        self.box.show()
        self.box.raise_()
