"""The QApplication and the window, set up the same way for users, the self-test and docs."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication, QMainWindow

from .resources import app_icon
from .settings import SettingsStore


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "streamer-studio", *(argv or [])])
    app.setApplicationName("Streamer Studio")
    app.setOrganizationName("StreamerStudio")
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=False, background="#1e1f22", foreground="#d0d0d0")
    return app


def restore_window_state(window: QMainWindow, store: SettingsStore) -> None:
    """The last size and layout, or most of the screen on a first launch."""
    geometry, state = store.window_state()
    if geometry is None or not window.restoreGeometry(geometry):
        screen = window.screen().availableGeometry()
        width = min(1600, int(screen.width() * 0.9))
        height = min(1000, int(screen.height() * 0.9))
        window.resize(width, height)
        window.move(screen.x() + (screen.width() - width) // 2,
                    screen.y() + (screen.height() - height) // 2)
    if state is not None:
        window.restoreState(state)
