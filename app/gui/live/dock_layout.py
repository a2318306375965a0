"""The docks' sizes on a first launch, before the user has arranged any (a stored layout
wins: MainWindow arranges only when none was restored).

Left to itself, Qt opens each dock column at its narrowest and shares the height by size
hints: the Prediction dock's pictures shrink to their least size beside a wide picture
area, and the Learning plot is squeezed under Controls that have room to spare. Here each
side column takes a share of the window's width (at least its docks' least width, at
most MOST_COLUMN_WIDTH) and, top to bottom, each dock the height it asks for; one dock per
column, one that can use any room (a list, a plot), gets the rest. Where the rest is less
than that dock can use (the Learning plot under Controls at 1280x720: 200 px, hard to
read), it shares the place of the dock above it as a tab, with the column's full height.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

SIDE_SHARE = 0.21
"""Of the window's width, for each side column"""
MOST_COLUMN_WIDTH = 420
"""Pixels: a wider column takes the picture's and the timeline's room for nothing"""


@dataclass(frozen=True)
class Column:
    docks: tuple[QDockWidget, ...]
    """Top to bottom, in one dock area"""
    filler: QDockWidget
    """The one that gets the height the others do not ask for"""
    least_filler_height: int = 0
    """Pixels: with less left for the filler, it becomes a tab behind the dock above it"""


def column_width(window_width: int, least: int) -> int:
    return max(least, min(round(SIDE_SHARE * window_width), MOST_COLUMN_WIDTH))


def window_size(window: QMainWindow) -> QSize:
    """The size the window has, or is about to have when maximised (a window manager may
    apply that after the first show)."""
    return window.screen().availableGeometry().size() if window.isMaximized() \
        else window.size()


def wanted_height(dock: QDockWidget, width: int) -> int:
    """Its content's height at this width (wrapped text, pictures) or its height hint, its
    title bar, and a line to spare (a status line may wrap once the source opens). Not
    the dock's own hint: that can be the one from before its content was built."""
    content = dock.widget()
    for_width = content.heightForWidth(width - (dock.width() - content.width()))
    height = for_width if for_width > 0 else content.sizeHint().height()
    return height + dock.height() - content.height() + content.fontMetrics().lineSpacing()


def arrange_docks(window: QMainWindow, columns: Sequence[Column]) -> None:
    window.layout().activate()  # the docks' geometry: their title bars' height
    size = window_size(window)
    height = (size.height() - window.menuBar().sizeHint().height()
              - window.statusBar().sizeHint().height())
    for column in columns:
        docks = [d for d in column.docks if not d.isHidden() and not d.isFloating()]
        if not docks:
            continue
        least = max(d.minimumSizeHint().width() for d in docks)
        width = column_width(size.width(), least)
        window.resizeDocks([docks[0]], [width], Qt.Orientation.Horizontal)
        wanted = [wanted_height(d, width) for d in docks]
        if column.filler in docks:
            i = docks.index(column.filler)
            rest = height - (sum(wanted) - wanted[i])
            if rest < column.least_filler_height and i > 0:
                window.tabifyDockWidget(docks[i - 1], column.filler)
                docks[i - 1].raise_()  # the panel above stays in sight, the filler a tab
                del docks[i], wanted[i]
                i -= 1  # the tabs fill the column
                rest = height - (sum(wanted) - wanted[i])
            wanted[i] = max(docks[i].minimumSizeHint().height(), rest)
        window.resizeDocks(docks, wanted, Qt.Orientation.Vertical)
