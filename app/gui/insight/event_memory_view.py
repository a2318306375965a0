"""A thin view of an EventMemory query: the clicked event, then the most similar past
events of its layer with their pictures and times; clicking one asks to jump to it,
double-clicking asks to play it.
Review mode shows its similar events with it too (any time of the video, by their
representations)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from app.session.keyframes import KeyframeStore

from ..live.keyframe_views import rgb_qimage
from .event_memory import RememberedEvent, compared_by

ICON_SIZE = QSize(96, 72)
EVENT_ROLE = Qt.ItemDataRole.UserRole


def event_times(event: RememberedEvent) -> str:
    return f"{event.start:.1f}–{event.end:.1f} s ({event.end - event.start:.1f} s)"


LIVE_HINT = ("Click an event on the timeline to see the most similar past events of its "
             "layer.")
LIVE_JUMP_TIP = ("Click an event to show it on the timeline; double-click to play it (a "
                 "recorded session: File > Record session)")


class EventMemoryPanel(QWidget):
    jump_requested = Signal(float, float)  # start, end of the chosen event
    play_requested = Signal(float, float)  # start, end of the event double-clicked

    def __init__(self, keyframes: KeyframeStore | None = None, parent: QWidget | None = None,
                 *, pictures: Callable[[RememberedEvent], np.ndarray | None] | None = None,
                 hint: str = LIVE_HINT, jump_tip: str = LIVE_JUMP_TIP):
        """Each event's picture is its keyframe in `keyframes`, else what `pictures` gives
        (review mode: the video's frame)."""
        super().__init__(parent)
        self.keyframes = keyframes
        self.pictures = pictures
        self.event_representation = ""
        """The model's setting: what the similarity is of (compared_by)"""
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setIconSize(ICON_SIZE)
        self.list.setSpacing(2)
        self.list.setToolTip(jump_tip)
        box = QVBoxLayout(self)
        box.setContentsMargins(6, 4, 6, 4)
        box.addWidget(self.heading)
        box.addWidget(self.list, 1)
        self.list.itemClicked.connect(self._clicked)
        self.list.itemDoubleClicked.connect(self._double_clicked)
        self.show_message(hint)

    def show_message(self, text: str) -> None:
        self.heading.setText(f"<span style='color:gray'>{text}</span>")
        self.list.clear()

    def show_similar(self, query: RememberedEvent, found: list[tuple[RememberedEvent, float]],
                     basis: str | None = None, past: bool = True) -> None:
        """`basis`: what the similarity is of (default: the model's setting's words)."""
        basis = basis or compared_by(self.event_representation, query.layer)
        events = "past events" if past else "events"
        self.heading.setText(f"<b>Layer {query.layer}</b>, {event_times(query)}<br>"
                             f"{len(found)} most similar {events}, by {basis}:")
        self.list.clear()
        self.list.addItem(self._item(query, None))
        for event, similarity in found:
            self.list.addItem(self._item(event, similarity))

    def _item(self, event: RememberedEvent, similarity: float | None) -> QListWidgetItem:
        # Two short lines beside the picture: read in full in the dock at its narrowest
        text = event_times(event) + ("\nthis event" if similarity is None
                                     else f"\nsimilarity {similarity:.3f}")
        item = QListWidgetItem(text)
        item.setData(EVENT_ROLE, (event.start, event.end))
        picture = self._picture(event)
        if picture is not None:
            item.setIcon(QIcon(picture))
        return item

    def _picture(self, event: RememberedEvent) -> QPixmap | None:
        keyframe = (self.keyframes.at(event.layer, (event.start + event.end) / 2)
                    if self.keyframes is not None else None)
        if keyframe is not None:
            rgb = self.keyframes.picture(keyframe)
        else:
            rgb = self.pictures(event) if self.pictures is not None else None
        if rgb is None:
            return None
        return QPixmap.fromImage(rgb_qimage(rgb)).scaled(
            ICON_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation)

    def _clicked(self, item: QListWidgetItem) -> None:
        start, end = item.data(EVENT_ROLE)
        self.jump_requested.emit(start, end)

    def _double_clicked(self, item: QListWidgetItem) -> None:
        start, end = item.data(EVENT_ROLE)
        self.play_requested.emit(start, end)
