"""The timeline's legend: what each colour and symbol of the rows means, on lines that
never break.

A legend that wraps mid-phrase looks broken on a projector (a 1280x720 window leaves the
timeline about 600 px). So the key is one line: in full where the timeline is wide enough
for the full key, compact otherwise. The reading guide ("each row is a layer...") gets a
line of its own under a full key, and with the curves hidden it is the whole legend; where
it has no room it moves to the tooltip, which always holds the full text (as does Help >
How to read this screen).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QResizeEvent, QTextDocument
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

# The colours the rows draw with: the legend says what each one means.
SIGNAL_COLOUR = "#4aa3ff"
THRESHOLD_COLOUR = "#ffb347"
BOUNDARY_COLOUR = "#ff5a5a"

GUIDE = ("each row is a layer; each colour band is one event; the row below groups the "
         "events of the row above into longer ones")
SHORT_GUIDE = "each row is a layer; each colour band is one event, grouped into longer ones below"
POINTS_KEY = "●&nbsp;ended an event, ○&nbsp;did not"
HELD_BACK_KEY = "layer 1: ○ above the line: held back (not a big change, or too soon)"
SHORT_HELD_BACK_KEY = " (above the line: held back)"
SIDES_NOTE = ("layer 0: a ▼ under the line was marked at the picture's left or right edge "
              "(someone entering or leaving), not by the change the curve shows")
GAP = "&nbsp;&nbsp;"


def _coloured(colour: str, html: str) -> str:
    return f"<span style='color:{colour}'>{html}</span>"


def key_line(held_back: bool, full: bool) -> str:
    """Signal, threshold, boundary, the upper rows' points and (`held_back`: layer 1 has a
    new-scene line) what a hollow point above that line means."""
    points = POINTS_KEY
    if held_back and not full:
        points += SHORT_HELD_BACK_KEY
    parts = [_coloured(SIGNAL_COLOUR, "━&nbsp;signal"),
             _coloured(THRESHOLD_COLOUR, "╍&nbsp;threshold"),
             _coloured(BOUNDARY_COLOUR, "▼&nbsp;boundary"),
             _coloured(SIGNAL_COLOUR, points)]
    if held_back and full:
        parts.append(_coloured(SIGNAL_COLOUR, HELD_BACK_KEY))
    return GAP.join(parts)


def guide_line(full: bool) -> str:
    return _coloured("gray", GUIDE if full else SHORT_GUIDE)


class TimelineLegend(QLabel):
    """Chooses its text from the width the layout gives it (it never asks for more), so
    each line stays whole."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setWordWrap(False)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.curves = True
        self.held_back = False
        self._fit()

    def set_content(self, curves: bool, held_back: bool) -> None:
        """`curves`: the signal rows show (else only the guide); `held_back`: layer 1 draws
        the new-scene line, whose hollow points above it need a word."""
        self.curves, self.held_back = curves, held_back
        self._fit()

    def full_text(self) -> str:
        """Everything the legend can say, whatever the width (the tooltip)."""
        if not self.curves:
            return guide_line(full=True)
        return (f"{key_line(self.held_back, full=True)}<br>{guide_line(full=True)}<br>"
                f"{_coloured('gray', SIDES_NOTE)}")

    def _width_of(self, html: str) -> float:
        document = QTextDocument()
        document.setDocumentMargin(0)
        document.setDefaultFont(self.font())
        document.setHtml(html)
        return document.idealWidth()

    def _lines(self, width: float) -> list[str]:
        """The richest lines that each fit `width`. A full key needs the room of the
        longest one (the held-back key included), so the line count does not hang on
        whether layer 1 has a new-scene line yet."""
        if not self.curves:  # clipped if even the short guide does not fit
            return [guide_line(full=self._width_of(guide_line(full=True)) <= width)]
        if self._width_of(key_line(held_back=True, full=True)) <= width:
            return [key_line(self.held_back, full=True), guide_line(full=True)]
        return [key_line(self.held_back, full=False)]

    def _fit(self) -> None:
        text = "<br>".join(self._lines(self.contentsRect().width()))
        if text != self.text():
            self.setText(text)
        self.setToolTip(self.full_text())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit()
