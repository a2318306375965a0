"""What the window explains by itself: the legend over the timeline on a first run
(dismissible, back from Help), and the list of keyboard shortcuts (Help menu)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QVBoxLayout, QWidget

LEGEND_TITLE = "How to read this screen"
LEGEND = ("Top: the picture the model watches. It learns from it live, with no labels.",
          "Below: each row is a layer; each colour band is one event.",
          "Each row below groups the events of the row above into fewer, longer ones.",
          "Rows and bands appear as the model learns, within the first minutes.")
CARD_WIDTH = 440
MOUSE = (("Drag the timeline", "look back in time"), ("Mouse wheel on the timeline", "zoom"),
         ("Click an event on the timeline", "list the most similar past events (Event memory)"),
         ("Drop a video file on the window", "watch it"))


class LegendOverlay(QFrame):
    """A card over the top right of `host` (the timeline's plot area), following its
    size."""

    dismissed = Signal()

    def __init__(self, host: QWidget, again: str):
        """`again`: where to find it once dismissed, e.g. "Help > How to read this screen"."""
        super().__init__(host)
        self.setObjectName("legend")
        self.setStyleSheet("#legend { background: rgba(20, 24, 32, 235); border: 1px solid "
                           "#5a7bb0; border-radius: 8px } QLabel { color: #e8e8e8 }")
        column = QVBoxLayout(self)
        text = QLabel(f"<b style='font-size:13pt'>{LEGEND_TITLE}</b><ul style='margin:0'>"
                      + "".join(f"<li>{line}</li>" for line in LEGEND)
                      + f"</ul><span style='color:#a0a8b8'>{again} shows this again.</span>")
        text.setWordWrap(True)
        self.button = QPushButton("Got it")
        self.button.setToolTip("Hide this card")
        column.addWidget(text)
        column.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        self.button.clicked.connect(self.dismiss)
        host.installEventFilter(self)
        self.hide()

    def dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()

    def show_over_host(self) -> None:
        self._place()
        self.show()
        self.raise_()

    def _place(self) -> None:
        host = self.parentWidget()
        self.setFixedWidth(max(240, min(CARD_WIDTH, host.width() - 32)))
        self.adjustSize()
        self.move(max(0, host.width() - self.width() - 16), 12)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self._place()
        return False


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(keys, what they do) for every action with a shortcut, in the order given."""
    rows = []
    for action in actions:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        if keys:
            rows.append((keys, action.text().replace("&", "").rstrip("…")))
    return rows


def shortcuts_html(actions: list[QAction]) -> str:
    """The keyboard shortcuts and mouse gestures as a table, for a message box."""
    rows = [*shortcut_rows(actions), *MOUSE]
    return "<table cellspacing='6'>" + "".join(
        f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>" for keys, what in rows) + "</table>"
