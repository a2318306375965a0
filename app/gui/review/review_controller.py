"""Review mode's controller, without widgets: opening, seeking (to a time or to the event
under a click, with the events most like it), play and pause. Views bind to its signals.

Playback advances the position by the wall time elapsed, so a slow frame read delays
the picture, never the clock; a frame is decoded only when the position reaches a new one.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from .review_session import ReviewError, ReviewSession

TICK_MS = 40
SIMILAR_EVENTS = 8
"""How many similar events a click lists (as the live Event memory does)"""


class ReviewController(QObject):
    opened = Signal(object)  # the ReviewSession (hierarchies changed too)
    position_changed = Signal(float)
    picture = Signal(object)  # RGB array, or None where the video has no frame
    playing_changed = Signal(bool)
    message = Signal(str, str, str)  # level, title, text
    similar_found = Signal(object, object)  # the clicked event, [(event, similarity)]
    similar_missing = Signal(str)  # why a clicked event lists no similar ones

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.session: ReviewSession | None = None
        self.playing = False
        self._shown_frame: int | None = None
        self._clock = (0.0, 0.0)  # (time.monotonic(), position) when playback (re)started
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    # --- opening ----------------------------------------------------------------------

    def open_recording(self, folder: str | Path) -> bool:
        return self._open(lambda: ReviewSession.open_recording(Path(folder)))

    def open_video(self, video: str | Path, hierarchy: str | Path) -> bool:
        return self._open(lambda: ReviewSession.open_video(Path(video), Path(hierarchy)))

    def _open(self, build) -> bool:
        try:
            session = build()
        except ReviewError as err:
            self.message.emit("error", "Cannot review", str(err))
            return False
        self.pause()
        self.session = session
        self._shown_frame = None
        self.opened.emit(session)
        self.seek(0.0)
        return True

    def compare_with(self, hierarchy: str | Path) -> bool:
        """Shows a second hierarchy's rows (e.g. ground truth) beside the first's."""
        if self.session is None:
            self.message.emit("warning", "Nothing to compare", "Open a video or a recorded "
                              "session first.")
            return False
        try:
            self.session.compare_with(Path(hierarchy))
        except ReviewError as err:
            self.message.emit("error", "Cannot compare", str(err))
            return False
        self.opened.emit(self.session)
        return True

    # --- position ---------------------------------------------------------------------

    @Slot(float)
    def seek(self, seconds: float) -> None:
        if self.session is None:
            return
        position = self.session.seek(seconds)
        self._clock = (time.monotonic(), position)
        self._show(position)

    def seek_event(self, hierarchy: int, layer: int, seconds: float) -> bool:
        """A click on a row at `seconds`: to the start of the event there (False if none);
        an event of the first hierarchy also lists the events most like it."""
        if self.session is None:
            return False
        event = self.session.event_at(hierarchy, layer, seconds)
        if event is None:
            return False
        self.seek(event[0])
        if hierarchy == 0:
            self._list_similar(layer, (event[0] + event[1]) / 2)
        return True

    def _list_similar(self, layer: int, seconds: float) -> None:
        found = self.session.similar(layer, seconds, SIMILAR_EVENTS)
        if found is not None:
            self.similar_found.emit(*found)
        elif not len(self.session.hierarchies[0].memory):
            self.similar_missing.emit("This hierarchy has no event representations: "
                                      "'streamer-studio segment --representations' writes "
                                      "them, and so does a recorded session.")
        else:
            self.similar_missing.emit(f"This event of layer {layer} has no representation.")

    @Slot(float, float)
    def play_event(self, start: float, end: float) -> None:
        """A similar event chosen from the list: played from its start."""
        self.seek(start)
        self.play()

    def _show(self, position: float) -> None:
        self.position_changed.emit(position)
        index = self.session.frame_index() if position >= self.session.first_time else -1
        if index != self._shown_frame:
            self._shown_frame = index
            picture: np.ndarray | None = self.session.picture()
            self.picture.emit(picture)

    # --- playback ---------------------------------------------------------------------

    @Slot()
    def play(self) -> None:
        if self.session is None or self.playing:
            return
        if self.session.position >= self.session.duration:
            self.seek(0.0)
        self.playing = True
        self._clock = (time.monotonic(), self.session.position)
        self.timer.start()
        self.playing_changed.emit(True)

    @Slot()
    def pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        self.timer.stop()
        self.playing_changed.emit(False)

    @Slot()
    def toggle(self) -> None:
        self.pause() if self.playing else self.play()

    @Slot()
    def _tick(self) -> None:
        started, position = self._clock
        target = position + (time.monotonic() - started)
        if target >= self.session.duration:
            self.session.seek(self.session.duration)
            self._show(self.session.position)
            self.pause()
            return
        self.session.seek(target)
        self._show(target)
