"""A thin view of the newest PredictionFrame: what layer 0 expected beside what it saw,
the surprise as a heat overlay that can be switched off."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QWidget

from ..live.keyframe_views import rgb_qimage
from .prediction_preview import PredictionFrame, surprise_overlay

PICTURE_PX = 192


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
        grid.setRowStretch(4, 1)
        self.overlay.toggled.connect(lambda _: self._draw())

    @staticmethod
    def _picture() -> QLabel:
        label = QLabel()
        label.setFixedSize(PICTURE_PX, PICTURE_PX)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setStyleSheet("background: #1e1f22;")
        return label

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
                PICTURE_PX, PICTURE_PX, Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation))
        self.caption.setText(f"at {frame.time:.1f} s · prediction error (MSE) "
                             f"{frame.error:.3f}")
