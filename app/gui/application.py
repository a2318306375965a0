"""The QApplication and the window, set up the same way for users, the self-test and docs."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pyqtgraph as pg
from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication, QMainWindow

from .infrastructure.diagnostics import log
from .infrastructure.resources import app_icon
from .infrastructure.settings import SettingsStore

_gui_thread_collector: GarbageCollector | None = None


def make_application(argv: list[str] | None = None) -> QApplication:
    global _gui_thread_collector
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "streamer-studio", *(argv or [])])
    if _gui_thread_collector is None:
        # Python's collector runs on whichever thread allocates: a Qt object it frees on
        # the learner thread deadlocks that thread against the GUI (seen inside
        # torch.save). pyqtgraph's collector disables it and collects on the GUI thread.
        _gui_thread_collector = GarbageCollector(interval=1.0)
    app.setApplicationName("Streamer Studio")
    app.setOrganizationName("StreamerStudio")
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=False, background="#1e1f22", foreground="#d0d0d0")
    return app


def restore_window_state(window: QMainWindow, store: SettingsStore) -> None:
    """The size, place and docks the window was left with; maximised on a first launch,
    or when what was stored is damaged (said in the log: the app starts all the same)."""
    geometry, state = store.window_state()
    if geometry is None or not _restored(window.restoreGeometry, geometry, "geometry"):
        window.setWindowState(window.windowState() | Qt.WindowState.WindowMaximized)
    if state is not None:
        _restored(window.restoreState, state, "layout")


def _restored(restore: Callable[[QByteArray], bool], value: object, what: str) -> bool:
    """`restore(value)`, False with a line in the log if the stored value is not one."""
    try:
        ok = isinstance(value, (QByteArray, bytes)) and restore(QByteArray(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        log.warning("Ignored the stored window %s: damaged (a %s)", what,
                    type(value).__name__)
    return ok
