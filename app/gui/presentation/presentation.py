"""Presentation mode: the window full screen for an audience, and back exactly as it was.

Entering remembers the window (geometry, maximised or not, docks and their places, the
menu bar, whether the signal curves showed), hides the docks and the menu bar, and makes
the picture, the event rows and the status line readable from the back of a room; the
signal curves stay hidden unless asked for. Leaving puts all of it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter

from ..live.status_bar import StudioStatusBar
from ..live.timeline_view import LARGE, TimelineView, room_for_rows
from ..live.video_view import VideoView

HINT = "Presentation mode: F11 or Esc to leave, C shows the signal curves"
PICTURE_SHARE = 0.55
"""Of the height, for the picture (the event rows get the rest, or what they need)"""


@dataclass(frozen=True)
class WindowLook:
    """What entering changes, as it was before."""

    geometry: QByteArray
    state: QByteArray
    """Docks and toolbars: visibility and places (QMainWindow.saveState)"""
    window_state: Qt.WindowState
    menu_bar: bool
    curves: bool
    split: QByteArray
    """The picture's and the timeline's shares (QSplitter.saveState)"""


class PresentationMode(QObject):
    changed = Signal(bool)  # active
    curves_changed = Signal(bool)  # the signal curves show

    def __init__(self, window: QMainWindow, splitter: QSplitter, timeline: TimelineView,
                 video: VideoView, status: StudioStatusBar):
        """`splitter`: the central one, the picture above the timeline."""
        super().__init__(window)
        self.window, self.splitter = window, splitter
        self.timeline, self.video, self.status = timeline, video, status
        self.saved: WindowLook | None = None
        self.curves = True
        """Whether the signal curves show now"""

    @property
    def active(self) -> bool:
        return self.saved is not None

    def toggle(self) -> None:
        self.leave() if self.active else self.enter()

    def enter(self) -> None:
        if self.active:
            return
        w = self.window
        self.saved = WindowLook(w.saveGeometry(), w.saveState(), w.windowState(),
                                w.menuBar().isVisible(), self.curves,
                                self.splitter.saveState())
        for dock in w.findChildren(QDockWidget):
            dock.hide()
        w.menuBar().hide()
        self._look(large=True, curves=False)
        w.showFullScreen()
        room_for_rows(self.splitter, self.timeline, PICTURE_SHARE)
        self.status.showMessage(HINT, 6000)
        self.changed.emit(True)

    def leave(self) -> None:
        saved, self.saved = self.saved, None
        if saved is None:
            return
        w = self.window
        w.setWindowState(saved.window_state)
        if w.saveGeometry() != saved.geometry:  # (where leaving full screen did not already)
            w.restoreGeometry(saved.geometry)
        w.restoreState(saved.state)
        w.menuBar().setVisible(saved.menu_bar)
        self.splitter.restoreState(saved.split)
        self._look(large=False, curves=saved.curves)
        self.status.clearMessage()
        self.changed.emit(False)

    def window_to_remember(self) -> tuple[QByteArray, QByteArray]:
        """Geometry and dock state to store at exit: the window's as it was before
        presentation mode, if that is on (closing leaves the window as it is)."""
        if self.saved is not None:
            return self.saved.geometry, self.saved.state
        return self.window.saveGeometry(), self.window.saveState()

    def set_curves(self, show: bool) -> None:
        """The signal, threshold and boundary curves under each layer's events."""
        self._look(large=self.active, curves=show)
        room_for_rows(self.splitter, self.timeline)

    def _look(self, large: bool, curves: bool) -> None:
        self.curves = curves
        self.timeline.set_look(large, curves)
        self.video.set_text_scale(LARGE if large else 1.0)
        self.status.set_large(large)
        self.curves_changed.emit(curves)
