"""A thin view of the newest PredictionFrame: what layer 0 expected beside what it saw,
the surprise as a heat overlay that can be switched off."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QSizePolicy, QWidget

from ..live.keyframe_views import rgb_qimage
from .prediction_preview import PredictionFrame, surprise_overlay

PICTURE_PX = 192
"""The pictures' size where the dock has room"""
SMALLEST_PICTURE_PX = 128
"""... and on a small screen: two of these keep the window inside 1280 pixels"""
PICTURES_MARGIN = 20
"""Pixels beside and between the two pictures"""


class PredictionView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.frame: PredictionFrame | None = None
        self.expected = self._picture()
        self.seen = self._picture()
        self.overlay = QCheckBox("Surprise overlay")
        self.overlay.setChecked(True)
        self.overlay.setToolTip("Colour each region of the picture by how wrong layer 0's "
                                "prediction of it was (bright: surprised)")
        self.caption = QLabel("<span style='color:gray'>Waiting for layer 0's first "
                              "prediction…</span>")
        self.caption.setWordWrap(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(6, 4, 6, 4)
        grid.addWidget(QLabel("<b>Expected</b> (layer 0)"), 0, 0)
        grid.addWidget(QLabel("<b>Seen</b>"), 0, 1)
        grid.addWidget(self.expected, 1, 0)
        grid.addWidget(self.seen, 1, 1)
        grid.addWidget(self.overlay, 2, 0, 1, 2)
        grid.addWidget(self.caption, 3, 0, 1, 2)
        grid.setRowStretch(1, 10)  # the pictures grow first (to PICTURE_PX), then the rest
        grid.setRowStretch(4, 1)
        self.overlay.toggled.connect(lambda _: self._draw())

    @staticmethod
    def _picture() -> QLabel:
        label = QLabel()
        label.setMinimumSize(SMALLEST_PICTURE_PX, SMALLEST_PICTURE_PX)
        label.setMaximumSize(PICTURE_PX, PICTURE_PX)
        label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("background: #1e1f22;")
        return label

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        """Room for both pictures at full size when the dock can give it."""
        width = max(self.layout().sizeHint().width(), 2 * PICTURE_PX + PICTURES_MARGIN)
        return QSize(width, self.heightForWidth(width))

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt's name)
        """Room for the pictures as large as this width allows (the grid's own hint has
        them at their least size)."""
        side = min(PICTURE_PX, max(SMALLEST_PICTURE_PX, (width - PICTURES_MARGIN) // 2))
        return self.layout().sizeHint().height() + side - SMALLEST_PICTURE_PX

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._draw()  # the pictures follow their labels' size

    def show_frame(self, frame: PredictionFrame) -> None:
        self.frame = frame
        self._draw()

    def clear(self) -> None:
        self.frame = None
        for label in (self.expected, self.seen):
            label.clear()

    def _draw(self) -> None:
        frame = self.frame
        if frame is None:
            return
        seen = surprise_overlay(frame.seen, frame.surprise) if self.overlay.isChecked() \
            else frame.seen
        for label, rgb in ((self.expected, frame.expected), (self.seen, seen)):
            label.setPixmap(QPixmap.fromImage(rgb_qimage(rgb)).scaled(
                label.size(), Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        self.caption.setText(f"at {frame.time:.1f} s · prediction error ({frame.measure}) "
                             f"{frame.error:.3f}")
