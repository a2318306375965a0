"""The live picture with, on top of it, the current event of every layer.

Paints the newest frame scaled to fit (aspect kept), a caption (source, state), an optional
banner (e.g. "no camera: synthetic scene") and one badge per layer in the event's
timeline colour; a badge lights up for a moment when its layer has just closed an event.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.session.keyframes import KeyframeStore
from streamer_core.sources import to_rgb

from ..controllers.session_history import SessionHistory
from .keyframe_views import rgb_qimage
from .timeline_view import event_colour

FLASH_SECONDS = 1.0
BADGE_PICTURE_HEIGHT = 40
BANNER_COLOURS = {"info": QColor(40, 90, 160, 230), "warning": QColor(170, 110, 10, 235),
                  "error": QColor(170, 40, 40, 235)}


@dataclass(frozen=True)
class EventBadge:
    layer: int
    event: int
    """Event number within the layer (0 = the layer's first event)"""
    started: float
    """Stream time the event started"""
    now: float
    boundary_wall_time: float
    """time.monotonic() of the layer's latest boundary, 0 if none yet"""
    picture: np.ndarray | None = None
    """The event's keyframe so far (its middle input), RGB"""


def event_badges(history: SessionHistory, boundary_wall: dict[int, float],
                 keyframes: KeyframeStore | None = None) -> list[EventBadge]:
    """Each layer's current event, from the history; `boundary_wall`: time.monotonic() of
    each layer's latest boundary (the badge flashes after one); `keyframes`: their pictures."""
    badges = []
    for layer in history.layers:
        starts, first = layer.event_starts()
        current = keyframes.current(layer.layer) if keyframes is not None else None
        badges.append(EventBadge(layer.layer, first + len(starts) - 1, float(starts[-1]),
                                 history.latest_time, boundary_wall.get(layer.layer, 0.0),
                                 current.rgb if current is not None else None))
    return badges


class VideoView(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 200)
        self._array: np.ndarray | None = None  # the QImage borrows this buffer: keep it
        self._image: QImage | None = None
        self.frames_shown = 0
        self.caption = ""
        self.placeholder = "Starting…"
        self.banner = ""
        self.banner_level = "info"
        self.badges: list[EventBadge] = []
        self._badge_images: dict[int, tuple[np.ndarray, QImage]] = {}
        self.text_scale = 1.0
        """Presentation mode: captions and badges this many times their size"""

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        return QSize(640, 400)

    # --- model ------------------------------------------------------------------------

    def set_frame(self, image: np.ndarray) -> None:
        """Any picture (RGB, gray, RGBA, any size); QImage needs 3 packed channels."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            image = to_rgb(image, "rgb")
        array = np.ascontiguousarray(image)
        height, width = array.shape[:2]
        self._array = array
        self._image = QImage(array.data, width, height, array.strides[0],
                             QImage.Format.Format_RGB888)
        self.frames_shown += 1
        self.update()

    def clear_frame(self, placeholder: str) -> None:
        self._array, self._image = None, None
        self.placeholder = placeholder
        self.update()

    def set_caption(self, text: str) -> None:
        if text != self.caption:
            self.caption = text
            self.update()

    def set_banner(self, text: str, level: str = "info") -> None:
        self.banner, self.banner_level = text, level
        self.update()

    def set_text_scale(self, scale: float) -> None:
        self.text_scale = scale
        self.update()

    def set_badges(self, badges: list[EventBadge]) -> None:
        pictures = {id(b.picture): self._badge_images.get(id(b.picture))
                    for b in badges if b.picture is not None}
        for badge in badges:  # converted once per new picture, not on every paint
            if badge.picture is not None and pictures[id(badge.picture)] is None:
                pictures[id(badge.picture)] = (badge.picture, rgb_qimage(badge.picture))
        self._badge_images = pictures
        self.badges = badges
        self.update()

    # --- painting ---------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt name)
        painter = QPainter(self)
        text_font = QFont(self.font())
        text_font.setPointSizeF(text_font.pointSizeF() * self.text_scale)
        painter.setFont(text_font)
        painter.fillRect(self.rect(), QColor(18, 18, 20))
        area = QRectF(self.rect())
        if self._image is not None:
            size = self._image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF((area.width() - size.width()) / 2,
                            (area.height() - size.height()) / 2, size.width(), size.height())
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            painter.drawImage(target, self._image)
        else:
            painter.setPen(QColor(200, 200, 200))
            font = QFont(painter.font())
            font.setPointSizeF(font.pointSizeF() * 1.3)
            painter.setFont(font)
            painter.drawText(area, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                             self.placeholder)
            painter.setFont(text_font)
        top = 6.0
        if self.banner:
            top = self._paint_banner(painter, area) + 6
        if self.caption:
            self._paint_label(painter, 8, top, self.caption, QColor(0, 0, 0, 160),
                              QColor(235, 235, 235))
        self._paint_badges(painter, area)
        painter.end()

    def _paint_banner(self, painter: QPainter, area: QRectF) -> float:
        metrics = painter.fontMetrics()
        text_rect = metrics.boundingRect(0, 0, int(area.width()) - 24, 1000,
                                         int(Qt.TextFlag.TextWordWrap), self.banner)
        height = text_rect.height() + 12
        rect = QRectF(0, 0, area.width(), height)
        painter.fillRect(rect, BANNER_COLOURS.get(self.banner_level, BANNER_COLOURS["info"]))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(rect.adjusted(12, 6, -12, -6),
                         int(Qt.TextFlag.TextWordWrap | Qt.AlignmentFlag.AlignVCenter),
                         self.banner)
        return height

    def _paint_label(self, painter: QPainter, x: float, y: float, text: str,
                     background: QColor, foreground: QColor) -> QRectF:
        metrics = painter.fontMetrics()
        rect = QRectF(x, y, metrics.horizontalAdvance(text) + 14, metrics.height() + 8)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(foreground)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        return rect

    def _paint_badges(self, painter: QPainter, area: QRectF) -> None:
        metrics = painter.fontMetrics()
        with_pictures = any(b.picture is not None for b in self.badges)
        line = max(metrics.height(), BADGE_PICTURE_HEIGHT if with_pictures else 0) + 10
        y = area.height() - 8 - line * len(self.badges)
        wall = time.monotonic()
        for badge in sorted(self.badges, key=lambda b: -b.layer):  # coarsest on top
            colour = event_colour(badge.layer, badge.event)
            length = max(0.0, badge.now - badge.started)
            fresh = badge.boundary_wall_time and wall - badge.boundary_wall_time < FLASH_SECONDS
            text = f"Layer {badge.layer}   event {badge.event + 1}   {length:5.1f} s"
            if fresh:
                text += "   ● new event"
            image = self._badge_images.get(id(badge.picture))
            picture_width = 0.0
            if image is not None:
                picture_width = image[1].width() * (line - 14) / max(image[1].height(), 1) + 6
            width = metrics.horizontalAdvance(text) + 40 + picture_width
            rect = QRectF(8, y, width, line - 4)
            painter.setPen(QPen(QColor(255, 255, 255), 2) if fresh else Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 170))
            painter.drawRoundedRect(rect, 5, 5)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(QRectF(rect.left() + 6, rect.top() + 5, 18,
                                           rect.height() - 10), 3, 3)
            if image is not None:
                painter.drawImage(QRectF(rect.left() + 30, rect.top() + 5, picture_width - 6,
                                         rect.height() - 10), image[1])
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(rect.adjusted(32 + picture_width, 0, 0, 0),
                             int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                             text)
            y += line
