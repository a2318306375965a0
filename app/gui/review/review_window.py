"""Review mode's window: a thin view over ReviewController.

The video with each layer's event at the playback position, play/pause and a scrub
slider, and a timeline with one row per layer of each hierarchy (a second hierarchy's
rows interleaved with the first's, layer by layer, to compare them). Clicking an event
seeks the video to its start and, where the first hierarchy has representations, lists
the events most like it (the Similar events dock; clicking one plays it); hovering a
recorded session's event shows its keyframe.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QSignalBlocker, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QSlider,
    QSplitter,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.session.keyframes import KeyframeStore

from ..infrastructure.dialogs import Dialogs, Notifier
from ..insight.event_memory import RememberedEvent
from ..insight.event_memory_view import EventMemoryPanel
from ..live.keyframe_views import KeyframeHover
from ..live.timeline_view import UNSEEN_EDGE, UNSEEN_FILL, event_colour
from ..live.video_view import EventBadge, VideoView
from .review_controller import ReviewController
from .review_session import ReviewSession

ROW_HEIGHT_PX = 30
SIMILAR_HINT = ("Click an event of the first hierarchy's rows to list the events most like "
                "it; click one of them to play it.")
SIMILAR_BASIS = "their representations (cosine, each dimension standardised)"
JSON_FILTER = "Hierarchy JSON (*.json);;All files (*)"


class ReviewTimeline(pg.GraphicsLayoutWidget):
    """One row of event bands per layer and hierarchy, and the playhead."""

    event_clicked = Signal(int, int, float)  # hierarchy, layer, seconds

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setBackground("#1e1f22")
        self.plot: pg.PlotItem = self.addPlot()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getAxis("bottom").setLabel("time", units="s")
        self.plot.getAxis("left").setWidth(150)
        self.playhead = pg.InfiniteLine(0.0, pen=pg.mkPen("#ffffff", width=2))
        self.playhead.setZValue(10)
        self.plot.addItem(self.playhead)
        self.rows: list[tuple[int, int]] = []  # (hierarchy, layer) from the top
        self.bars: list[pg.BarGraphItem] = []
        self.scene().sigMouseClicked.connect(self._clicked)

    def show_session(self, session: ReviewSession) -> None:
        for item in self.bars:
            self.plot.removeItem(item)
        self.bars, self.rows, ticks = [], [], []
        deepest = max(len(h.layers) for h in session.hierarchies)
        for layer in range(deepest):
            for h, hierarchy in enumerate(session.hierarchies):
                if layer < len(hierarchy.layers):
                    self.rows.append((h, layer))
                    ticks.append(f"{hierarchy.label} · {hierarchy.layers[layer].name}")
        count = len(self.rows)
        for r, (h, layer) in enumerate(self.rows):
            row = session.hierarchies[h].layers[layer]
            y = count - 1 - r
            bars = pg.BarGraphItem(
                x0=row.starts, width=row.ends - row.starts, y0=y + 0.1, height=0.8,
                brushes=[event_colour(layer, i) for i in range(len(row.starts))],
                pen=pg.mkPen(30, 30, 30, 200))
            self.plot.addItem(bars)
            self.bars.append(bars)
        if session.unseen:  # what the model never saw: a hole through every row
            starts, ends = np.array(session.unseen).T
            holes = pg.BarGraphItem(x0=starts, width=ends - starts, y0=0.0, height=count,
                                    brush=UNSEEN_FILL, pen=pg.mkPen(UNSEEN_EDGE, width=1))
            holes.setZValue(5)  # over the bands, under the playhead
            self.plot.addItem(holes)
            self.bars.append(holes)
        self.plot.getAxis("left").setTicks([[(count - 1 - r + 0.5, text)
                                              for r, text in enumerate(ticks)]])
        self.plot.setYRange(0, count, padding=0.02)
        self.plot.setXRange(0, max(session.duration, 1.0), padding=0.01)
        self.plot.setLimits(xMin=-1.0, xMax=session.duration + 1.0)
        self.setMinimumHeight(60 + ROW_HEIGHT_PX * count)

    def set_position(self, seconds: float) -> None:
        self.playhead.setValue(seconds)

    def row_at(self, scene_pos: QPointF) -> tuple[int, int, float] | None:
        """(hierarchy, layer, seconds) under a scene point, None outside the rows."""
        viewbox = self.plot.getViewBox()
        if not self.rows or not viewbox.sceneBoundingRect().contains(scene_pos):
            return None
        point = viewbox.mapSceneToView(scene_pos)
        r = len(self.rows) - 1 - int(np.floor(point.y()))
        if not 0 <= r < len(self.rows):
            return None
        return (*self.rows[r], point.x())

    def layer_at(self, scene_pos: QPointF) -> tuple[int, float] | None:
        """For keyframes: the first hierarchy's layer under the point (they are its)."""
        found = self.row_at(scene_pos)
        return (found[1], found[2]) if found and found[0] == 0 else None

    def _clicked(self, event) -> None:
        found = self.row_at(event.scenePos())
        if found is not None and event.button() == Qt.MouseButton.LeftButton:
            self.event_clicked.emit(*found)


def badges_at(session: ReviewSession) -> list[EventBadge]:
    """Each layer's event of the first hierarchy at the position, with its keyframe."""
    badges = []
    for layer in range(len(session.hierarchies[0].layers)):
        event = session.event_at(0, layer)
        if event is not None:
            keyframe = session.keyframes.at(layer, session.position)
            picture = session.keyframes.picture(keyframe) if keyframe else None
            badges.append(EventBadge(layer, event[2], event[0], session.position, 0.0,
                                     picture))
    return badges


class ReviewWindow(QMainWindow):
    def __init__(self, parent: QWidget | None = None, dialogs: Dialogs | None = None,
                 popups: bool = True, folder: str = ""):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Streamer Studio: review")
        self.controller = ReviewController(self)
        self.dialogs = dialogs or Dialogs(self)
        self.notifier = Notifier(self, popups=popups)
        self.folder = folder or str(Path.home())
        self._build()
        self._bind()

    def _build(self) -> None:
        self.video = VideoView()
        self.video.placeholder = ("Open a recorded session, or a video with its hierarchy "
                                  "JSON (File menu or toolbar)")
        self.timeline = ReviewTimeline()
        self.play_button = QPushButton("▶ Play")
        self.play_button.setToolTip("Play or pause (Space)")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setToolTip("Drag to scrub through the video")
        self.time_label = QLabel("0.0 / 0.0 s")
        controls = QHBoxLayout()
        controls.addWidget(self.play_button)
        controls.addWidget(self.slider, 1)
        controls.addWidget(self.time_label)
        top = QWidget()
        box = QVBoxLayout(top)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.video, 1)
        box.addLayout(controls)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.setCentralWidget(splitter)
        self.hover = KeyframeHover(self.timeline, KeyframeStore(), self.timeline.layer_at)
        self.similar = EventMemoryPanel(pictures=self._video_picture, hint=SIMILAR_HINT,
                                        jump_tip="Click an event to play it")
        dock = QDockWidget("Similar events", self)
        dock.setObjectName("similar_events")
        dock.setWidget(self.similar)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)

        self.action_open_session = self._action("Open recorded &session…",
                                                self.ask_recording, "Ctrl+O")
        self.action_open_video = self._action("Open &video and hierarchy…",
                                              self.ask_video, "Ctrl+Shift+O")
        self.action_compare = self._action("&Compare with hierarchy…", self.ask_comparison,
                                           "Ctrl+K")
        self.action_play = self._action("&Play / pause", self.controller.toggle, "Space")
        toolbar = QToolBar("Review")
        toolbar.setMovable(False)
        for action in (self.action_open_session, self.action_open_video,
                       self.action_compare, self.action_play):
            toolbar.addAction(action)
        self.addToolBar(toolbar)
        menu = self.menuBar().addMenu("&File")
        for action in (self.action_open_session, self.action_open_video,
                       self.action_compare, None):
            menu.addSeparator() if action is None else menu.addAction(action)
        menu.addAction(self._action("&Close", self.close, QKeySequence.StandardKey.Close))

    def _action(self, text: str, slot, shortcut) -> QAction:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        return action

    def _bind(self) -> None:
        c = self.controller
        c.opened.connect(self._opened)
        c.position_changed.connect(self._position)
        c.picture.connect(self._picture)
        c.playing_changed.connect(
            lambda on: self.play_button.setText("❚❚ Pause" if on else "▶ Play"))
        c.message.connect(self.notifier.show)
        self.play_button.clicked.connect(c.toggle)
        self.slider.valueChanged.connect(lambda ms: c.seek(ms / 1000.0))
        self.timeline.event_clicked.connect(c.seek_event)
        c.similar_found.connect(lambda query, found: self.similar.show_similar(
            query, found, basis=SIMILAR_BASIS, past=False))
        c.similar_missing.connect(self.similar.show_message)
        self.similar.jump_requested.connect(c.play_event)

    # --- what the user asks -------------------------------------------------------------

    @Slot()
    def ask_recording(self) -> None:
        folder = self.dialogs.choose_folder("Open a recorded session", self.folder)
        if folder:
            self.folder = str(Path(folder).parent)
            self.controller.open_recording(folder)

    @Slot()
    def ask_video(self) -> None:
        video = self.dialogs.open_video(self.folder)
        if not video:
            return
        self.folder = str(Path(video).parent)
        hierarchy = self.dialogs.open_file("Its hierarchy JSON", self.folder, JSON_FILTER)
        if hierarchy:
            self.controller.open_video(video, hierarchy)

    @Slot()
    def ask_comparison(self) -> None:
        path = self.dialogs.open_file("Compare with a hierarchy (e.g. ground truth)",
                                      self.folder, JSON_FILTER)
        if path:
            self.controller.compare_with(path)

    # --- what the controller says -------------------------------------------------------

    @Slot(object)
    def _opened(self, session: ReviewSession) -> None:
        self.setWindowTitle(f"Streamer Studio: review {session.title}")
        self.hover.store = self.similar.keyframes = session.keyframes
        self.timeline.show_session(session)
        self.similar.show_message(SIMILAR_HINT)
        with QSignalBlocker(self.slider):
            self.slider.setRange(0, int(session.duration * 1000))
        self._position(session.position)

    @Slot(float)
    def _position(self, seconds: float) -> None:
        session = self.controller.session
        self.timeline.set_position(seconds)
        with QSignalBlocker(self.slider):
            self.slider.setValue(int(seconds * 1000))
        self.time_label.setText(f"{seconds:6.1f} / {session.duration:.1f} s")
        self.video.set_badges(badges_at(session))
        unseen = "   not seen by the model" if session.unseen_at(seconds) else ""
        self.video.set_caption(f"{session.title}   {seconds:.1f} s{unseen}")

    def _video_picture(self, event: RememberedEvent) -> np.ndarray | None:
        """A listed event's picture where the session kept no keyframe of it: the video's
        frame at its middle."""
        return self.controller.session.picture_at((event.start + event.end) / 2)

    @Slot(object)
    def _picture(self, picture: np.ndarray | None) -> None:
        if picture is None:
            self.video.clear_frame("No frame of the video at this time")
        else:
            self.video.set_frame(picture)
