"""Keyframes on a timeline: a picture per event in its band where there is room, and the
event's picture in a popup under the mouse.

Thin views over a KeyframeStore, used by the live timeline and the review window.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.session.keyframes import Keyframe, KeyframeStore

MAX_THUMBNAILS_PER_ROW = 48
THUMBNAIL_GAP_PX = 3
THUMBNAIL_HEIGHT_PX = 34


def rgb_qimage(rgb: np.ndarray) -> QImage:
    """A QImage that owns its pixels (a QImage over a numpy buffer does not)."""
    array = np.ascontiguousarray(rgb)
    height, width = array.shape[:2]
    return QImage(array.data, width, height, array.strides[0],
                  QImage.Format.Format_RGB888).copy()


def event_caption(keyframe: Keyframe) -> str:
    return (f"Layer {keyframe.layer}, event {keyframe.index + 1}: "
            f"{keyframe.start:.1f}-{keyframe.end:.1f} s ({keyframe.end - keyframe.start:.1f} s)")


class KeyframeStrip:
    """Thumbnails inside one layer's event band, one per event wide enough to hold it."""

    def __init__(self, band: pg.PlotItem):
        self.band = band
        self.items: list[pg.ImageItem] = []
        self.shown: list[Keyframe] = []

    def update(self, store: KeyframeStore | None, layer: int, x0: float, x1: float,
               pixels: int, band_pixels: float) -> None:
        """Shows the keyframes of events in [x0, x1] at least a thumbnail wide on screen;
        none when zoomed out (too many or too narrow)."""
        wanted: list[Keyframe] = []
        seconds_per_pixel = (x1 - x0) / max(pixels, 1)
        height_px = min(THUMBNAIL_HEIGHT_PX, band_pixels - 4)
        if store is not None and seconds_per_pixel > 0 and height_px >= 10:
            candidates = store.between(layer, x0, x1)
            if len(candidates) <= 4 * MAX_THUMBNAILS_PER_ROW:
                wanted = [k for k in candidates
                          if (k.end - k.start) / seconds_per_pixel
                          >= self._width_px(store, k, height_px) + 2 * THUMBNAIL_GAP_PX]
                wanted = wanted[:MAX_THUMBNAILS_PER_ROW]
        height = height_px / max(band_pixels, 1.0)  # in the band's 0..1
        while len(self.items) < len(wanted):
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(5)
            self.band.addItem(item)
            self.items.append(item)
        for item, keyframe in zip(self.items, wanted):
            if keyframe not in self.shown:
                item.setImage(store.picture(keyframe)[::-1], levels=(0, 255))
            width = self._width_px(store, keyframe, height_px) * seconds_per_pixel
            left = keyframe.start + THUMBNAIL_GAP_PX * seconds_per_pixel
            item.setRect(QRectF(left, (1 - height) / 2, width, height))
            item.setVisible(True)
        for item in self.items[len(wanted):]:
            item.setVisible(False)
        self.shown = wanted

    @staticmethod
    def _width_px(store: KeyframeStore, keyframe: Keyframe, height_px: float) -> float:
        height, width = store.picture(keyframe).shape[:2]
        return height_px * width / height


class KeyframePopup(QWidget):
    """A small frameless window with an event's picture and times, under the mouse."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.ToolTip)
        self.picture = QLabel()
        self.caption = QLabel()
        self.caption.setStyleSheet("color: #eee; font-size: 9pt")
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.setSpacing(2)
        box.addWidget(self.picture)
        box.addWidget(self.caption)
        self.setStyleSheet("background: #26282c; border: 1px solid #555")
        self.shown_key: tuple | None = None

    def show_picture(self, rgb: np.ndarray, caption: str, at: QPoint) -> None:
        key = (id(rgb), caption)
        if key != self.shown_key:
            self.shown_key = key
            self.picture.setPixmap(QPixmap.fromImage(rgb_qimage(rgb)))
            self.caption.setText(caption)
            self.adjustSize()
        self.move(at + QPoint(16, 16))
        self.show()

    def hide_picture(self) -> None:
        self.shown_key = None
        self.hide()


class KeyframeHover(QObject):
    """Shows the keyframe of the event under the mouse on a pyqtgraph timeline.

    `layer_at(scene_pos)` says which layer's row a scene point is in and at what time
    (None outside the rows)."""

    def __init__(self, graphics: pg.GraphicsView, store: KeyframeStore,
                 layer_at: Callable[[QPointF], tuple[int, float] | None]):
        super().__init__(graphics)
        self.graphics = graphics
        self.store = store
        self.layer_at = layer_at
        self.popup = KeyframePopup(graphics)
        graphics.scene().sigMouseMoved.connect(self.moved)
        graphics.viewport().installEventFilter(self)

    def moved(self, scene_pos: QPointF) -> None:
        found = self.layer_at(scene_pos)
        picture = self.picture_at(*found) if found else None
        if picture is None:
            self.popup.hide_picture()
            return
        view_pos = self.graphics.mapFromScene(scene_pos)
        self.popup.show_picture(*picture, self.graphics.viewport().mapToGlobal(view_pos))

    def picture_at(self, layer: int, time: float) -> tuple[np.ndarray, str] | None:
        keyframe = self.store.at(layer, time)
        if keyframe is not None:
            return self.store.picture(keyframe), event_caption(keyframe)
        current = self.store.current(layer)
        if current is not None and time >= current.start:
            return current.rgb, (f"Layer {layer}, event {current.index + 1} "
                                 f"(open since {current.start:.1f} s)")
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Leave:
            self.popup.hide_picture()
        return False
