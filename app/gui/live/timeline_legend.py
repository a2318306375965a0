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
UNSEEN_COLOUR = "#505050"  # the holes' key: read on the window's light background

GUIDE = ("each row is a layer; each colour band is one event; the row below groups the "
         "events of the row above into longer ones")
SHORT_GUIDE = "each row is a layer; each colour band is one event, grouped into longer ones below"
POINTS_KEY = "●&nbsp;ended an event, ○&nbsp;did not"
HELD_BACK_KEY = "layer 1: ○ above the line: held back (not a big change, or too soon)"
SHORT_HELD_BACK_KEY = " (above the line: held back)"
SIDES_NOTE = ("layer 0: a ▼ under the line was marked at the picture's left or right edge "
              "(someone entering or leaving), not by the change the curve shows")
UNSEEN_KEY = "▯&nbsp;not seen (the learner was behind)"
SHORT_UNSEEN_KEY = "▯&nbsp;not seen"
GAP = "&nbsp;&nbsp;"


def _coloured(colour: str, html: str) -> str:
    return f"<span style='color:{colour}'>{html}</span>"


def key_line(held_back: bool, full: bool, unseen: bool = False) -> str:
    """Signal, threshold, boundary, the upper rows' points, (`held_back`: layer 1 has a
    new-scene line) what a hollow point above that line means, and (`unseen`) the
    holes in the bands where the model saw nothing, briefly (in full: guide_line)."""
    points = POINTS_KEY
    if held_back and not full:
        points += SHORT_HELD_BACK_KEY
    parts = [_coloured(SIGNAL_COLOUR, "━&nbsp;signal"),
             _coloured(THRESHOLD_COLOUR, "╍&nbsp;threshold"),
             _coloured(BOUNDARY_COLOUR, "▼&nbsp;boundary"),
             _coloured(SIGNAL_COLOUR, points)]
    if held_back and full:
        parts.append(_coloured(SIGNAL_COLOUR, HELD_BACK_KEY))
    if unseen:
        parts.append(_coloured(UNSEEN_COLOUR, SHORT_UNSEEN_KEY))
    return GAP.join(parts)


def guide_line(full: bool, unseen: bool = False) -> str:
    """The reading guide, and (`unseen`) what the holes in the bands are."""
    line = _coloured("gray", GUIDE if full else SHORT_GUIDE)
    if not unseen:
        return line
    return line + GAP + _coloured(UNSEEN_COLOUR, UNSEEN_KEY if full else SHORT_UNSEEN_KEY)


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
        self.unseen = False
        self._fit()

    def set_content(self, curves: bool, held_back: bool, unseen: bool = False) -> None:
        """`curves`: the signal rows show (else only the guide); `held_back`: layer 1 draws
        the new-scene line, whose hollow points above it need a word; `unseen`: some of
        the stream was never seen (a hole in the bands)."""
        self.curves, self.held_back, self.unseen = curves, held_back, unseen
        self._fit()

    def full_text(self) -> str:
        """Everything the legend can say, whatever the width (the tooltip)."""
        if not self.curves:
            return guide_line(full=True, unseen=self.unseen)
        return (f"{key_line(self.held_back, full=True)}<br>"
                f"{guide_line(full=True, unseen=self.unseen)}<br>"
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
            return [self._first_fitting(width, guide_line(True, self.unseen),
                                        guide_line(False, self.unseen), guide_line(False))]
        full_lines = [key_line(self.held_back, full=True),
                      guide_line(full=True, unseen=self.unseen)]
        widest = max(self._width_of(key_line(held_back=True, full=True)),
                     self._width_of(full_lines[1]))
        if widest <= width:
            return full_lines
        return [self._first_fitting(width, key_line(self.held_back, False, self.unseen),
                                    key_line(self.held_back, full=False))]

    def _first_fitting(self, width: float, *lines: str) -> str:
        """The first of `lines` that fits, else the last (the holes' key is always in the
        tooltip)."""
        return next((line for line in lines if self._width_of(line) <= width), lines[-1])

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
