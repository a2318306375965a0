"""Thin views of AnnotationMarks: the "Your marks" panel and the marks' row on the timeline."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..live.timeline_view import LARGE, TimelineView
from .annotations import AnnotationMarks

MARK_COLOUR = "#f5d442"
ROW_HEIGHT = 30
"""The marks' row, at desk size"""
LARGE_ROW_HEIGHT = 45
"""... in presentation mode: room for its large label, no more (on a 720-pixel screen the
layers' rows need the rest)"""
COLUMNS = ("Layer", "F1", "Precision", "Recall", "Matched")
TITLE_MARGIN = 12
"""Pixels a column needs beside its title's text (the header's padding)"""
ROWS_SHOWN = 4
"""Layers the table has room for before it scrolls"""


class AnnotationPanel(QWidget):
    """A button to mark an event start, and each layer's running agreement with the marks."""

    mark_requested = Signal()
    undo_requested = Signal()

    def __init__(self, marks: AnnotationMarks, parent: QWidget | None = None):
        super().__init__(parent)
        self.marks = marks
        self.mark_button = QPushButton("Mark event start (M)")
        self.mark_button.setToolTip("Press when, as you see it, a new event starts. The "
                                    "model is scored against your marks as it goes.")
        self.undo_button = QPushButton("Undo")
        self.undo_button.setToolTip("Forget the newest mark")
        self.count = QLabel()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        header = self.table.horizontalHeader()  # as wide as the dock, never wider
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        for narrow in (COLUMNS.index("Layer"), COLUMNS.index("F1")):
            header.setSectionResizeMode(narrow, QHeaderView.ResizeMode.ResizeToContents)
        # ... and the dock no narrower than every title, read in full
        titles = sum(header.fontMetrics().horizontalAdvance(t) + TITLE_MARGIN for t in COLUMNS)
        self.table.setMinimumWidth(titles + 2 * self.table.frameWidth())
        # A row per layer: no taller than a few, so the docks above keep the room
        rows = ROWS_SHOWN * self.table.verticalHeader().defaultSectionSize()
        self.table.setMaximumHeight(header.sizeHint().height() + rows
                                    + 2 * self.table.frameWidth())
        note = QLabel(f"<span style='color:gray'>Boundaries within ±{marks.tolerance:g} s of "
                      "a mark agree with it, one to one; counted from your first mark.</span>")
        note.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.mark_button, 1)
        buttons.addWidget(self.undo_button)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.addLayout(buttons)
        box.addWidget(self.count)
        box.addWidget(self.table)
        box.addWidget(note)
        box.addStretch(1)
        self.mark_button.clicked.connect(self.mark_requested)
        self.undo_button.clicked.connect(self.undo_requested)
        self._shown: tuple | None = None
        self.refresh()

    def refresh(self) -> None:
        """Cheap when nothing changed; called by the window's redraw timer."""
        key = (self.marks.version, self.marks.history.version)
        if key == self._shown:
            return
        self._shown = key
        count = len(self.marks.marks)
        self.count.setText("No marks yet: press M when an event starts." if not count else
                           f"{count} mark{'s' if count != 1 else ''}")
        rows = self.marks.agreement()
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            s = row.score
            cells = (str(row.layer), f"{s.f1:.2f}", f"{s.precision:.2f}", f"{s.recall:.2f}",
                     f"{s.matched} of {s.ground_truth}")
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                self.table.setItem(i, j, item)
        self.undo_button.setEnabled(bool(count))


class MarksRow:
    """The marks as a row under the timeline's layers, on the same time axis.

    Its own small plot widget under the timeline's graphics, x-linked to the layers' rows
    (a row inside their grid would be resized with theirs). It follows the timeline's look:
    in presentation mode its label is as large as the layers' and the row shows only once
    there are marks (an empty row tells an audience nothing; the presenter's first M
    brings it up, under the boundaries it is compared with)."""

    def __init__(self, timeline: TimelineView, marks: AnnotationMarks):
        self.timeline = timeline
        self.marks = marks
        self.widget = pg.PlotWidget(background="#1e1f22")
        self.plot = self.widget.getPlotItem()
        self.plot.setMouseEnabled(x=False, y=False)  # the layers' rows own the time range
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.disableAutoRange()
        self.plot.hideAxis("bottom")
        self.axis = self.plot.getAxis("left")
        self.axis.setStyle(tickLength=0)
        self.plot.setYRange(0, 1, padding=0)
        self.lines = pg.BarGraphItem(x=np.zeros(0), height=1.0, width=0.12, y0=0.0,
                                     brush=pg.mkBrush(MARK_COLOUR), pen=None)
        self.plot.addItem(self.lines)
        timeline.layout().addWidget(self.widget)
        self._linked_to = None
        timeline.rows_cleared.connect(self._unlink)
        self._drawn: tuple | None = None
        self._large: bool | None = None
        self._set_large(False)

    def _set_large(self, large: bool) -> None:
        """Label and height at the timeline's scale (LARGE in presentation mode)."""
        self._large = large
        scale = LARGE if large else 1.0
        self.widget.setFixedHeight(LARGE_ROW_HEIGHT if large else ROW_HEIGHT)
        font = QFont()
        font.setPointSizeF(font.pointSizeF() * scale)
        font.setBold(large)  # as the layers' names
        self.axis.setStyle(tickFont=font)
        self.axis.setTicks([[(0.5, "You")]])
        self._drawn = None

    def _align(self, band: pg.ViewBox) -> None:
        """The row's time axis spans the same pixels as the layers' (whose label column
        is wider in presentation mode), so a mark sits over the same time as a boundary."""
        target = self._span(band, self.timeline.graphics)
        now = self._span(self.plot.getViewBox(), self.widget)
        left = self.axis.width() + round(target.left() - now.left())
        right = self.plot.layout.getContentsMargins()[2] + round(now.right() - target.right())
        if left > 0 and left != self.axis.width():
            self.axis.setWidth(left)
        if right >= 0 and right != self.plot.layout.getContentsMargins()[2]:
            self.plot.setContentsMargins(0, 0, right, 0)

    def _span(self, view: pg.ViewBox, widget: QWidget) -> QRectF:
        """The view's rectangle in the timeline's pixels."""
        return view.sceneBoundingRect().translated(QPointF(widget.mapTo(self.timeline,
                                                                        QPoint(0, 0))))

    def _unlink(self) -> None:
        """The band it followed is removed: linked to it, a resize would reach it deleted."""
        self.plot.setXLink(None)
        self._linked_to = None

    def refresh(self) -> None:
        """Follows the layers' time axis and look; redraws when the marks or the view moved."""
        rows = self.timeline.rows
        band = rows[0].band.getViewBox() if rows else None  # shown in every look
        if band is not self._linked_to:
            self.plot.setXLink(band)
            self._linked_to = band
        if self.timeline.large != self._large:
            self._set_large(self.timeline.large)
        self.widget.setVisible(bool(rows) and (bool(self.marks.marks) or not self._large))
        if band is None or self.widget.isHidden():
            return
        self._align(band)
        key = (self.marks.version, tuple(round(v, 3) for v in self.timeline.visible_range()))
        if key == self._drawn:
            return
        self._drawn = key
        x0, x1 = self.timeline.visible_range()
        times = np.asarray(self.marks.marks, dtype=float)
        shown = times[(times >= x0) & (times <= x1)]
        scale = LARGE if self._large else 1.0
        self.lines.setOpts(x=shown, width=max(scale * (x1 - x0) / 400, 0.05))
