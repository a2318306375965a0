"""The QApplication and the window, set up the same way for users, the self-test and docs."""

from __future__ import annotations

import sys

import pyqtgraph as pg
from PySide6.QtWidgets import QApplication

from .resources import app_icon


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication([sys.argv[0] if sys.argv else "streamer-studio", *(argv or [])])
    app.setApplicationName("Streamer Studio")
    app.setOrganizationName("StreamerStudio")
    app.setWindowIcon(app_icon())
    pg.setConfigOptions(antialias=False, background="#1e1f22", foreground="#d0d0d0")
    return app
