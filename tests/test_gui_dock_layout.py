"""The docks on a first launch: sized for the screen (issue: they opened at their narrowest,
the Learning plot squeezed under Controls with room to spare); a stored layout wins."""

from __future__ import annotations

from dataclasses import replace

from gui_helpers import SLOW
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabBar

from app.gui.application import restore_window_state
from app.gui.infrastructure.settings import SettingsStore
from app.gui.insight.learning_view import LEAST_READABLE_HEIGHT
from app.gui.live.dock_layout import MOST_COLUMN_WIDTH, column_width
from app.gui.live.main_window import MainWindow
from app.gui.self_test import small_settings

SOURCE = "synthetic:2:600"


def test_side_columns_take_a_share_of_the_width_within_their_bounds():
    assert column_width(1280, least=282) == 282  # a small screen: as narrow as they go
    assert 282 < column_width(1700, least=282) < column_width(1920, least=282)
    assert column_width(4000, least=282) == MOST_COLUMN_WIDTH
    assert column_width(4000, least=500) == 500  # never below what the docks need


def launch(qtbot, tmp_path, width: int, height: int) -> MainWindow:
    """The app's window as run_gui opens it: the stored window state, if any, then shown."""
    store = SettingsStore.at(tmp_path / "settings.ini")
    window = MainWindow(store, replace(small_settings(SOURCE), device="cpu"), popups=False,
                        scan_cameras=False)
    qtbot.addWidget(window)
    restore_window_state(window, store)  # nothing stored: maximised, but no window manager
    window.setWindowState(Qt.WindowState.WindowNoState)
    window.resize(width, height)  # ... so the size a maximised window would have
    window.show()
    return window


def wait_arranged(qtbot, window: MainWindow, width: int) -> None:
    """Until the left column has a first launch's width."""
    insight = window.insight
    left = (insight.prediction_dock, insight.memory_dock, insight.annotation_dock)
    least = max(d.minimumSizeHint().width() for d in left)
    qtbot.waitUntil(lambda: insight.prediction_dock.width() == column_width(width, least),
                    timeout=5000)


def front_tabs(window: MainWindow) -> list[str]:
    """The titles of the docks in front in the window's groups of tabs."""
    return [bar.tabText(bar.currentIndex()) for bar in window.findChildren(QTabBar)
            if bar.count() > 1]


def test_a_first_launch_sizes_the_docks_for_the_window(qtbot, tmp_path):
    window = launch(qtbot, tmp_path, 1700, 1000)
    insight = window.insight
    wait_arranged(qtbot, window, 1700)
    # Controls with their plain part in sight (once the source has opened), the Learning
    # panel the rest of the column
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=SLOW)
    qtbot.wait(100)
    controls = window.controls
    last = controls.advanced.button
    assert last.mapTo(controls.viewport(), last.rect().bottomLeft()).y() \
        <= controls.viewport().height()
    plot = window.learning_dock.view.plot
    assert plot.height() >= 0.4 * window.centralWidget().height()
    assert window.tabifiedDockWidgets(window.controls_dock) == []  # room for both
    # The pictures of the Prediction dock at the size the column allows
    picture = insight.prediction.seen
    assert picture.height() >= min(picture.width(), picture.maximumHeight()) - 2


def test_on_a_small_screen_the_learning_panel_is_a_tab_behind_the_controls(qtbot, tmp_path):
    # Under Controls at 1280x720 the Learning plot had 200 px, its points hard to read
    window = launch(qtbot, tmp_path, 1280, 720)
    wait_arranged(qtbot, window, 1280)
    controls, learning = window.controls_dock, window.learning_dock
    qtbot.waitUntil(lambda: window.tabifiedDockWidgets(controls) == [learning], timeout=5000)
    assert front_tabs(window) == ["Controls"]  # in front, first
    learning.raise_()
    qtbot.waitUntil(lambda: learning.height() >= LEAST_READABLE_HEIGHT, timeout=5000)
    assert learning.height() >= 0.8 * controls.height()  # the tabs fill the column


def test_a_stored_layout_wins_over_the_first_launch_sizes(qtbot, tmp_path):
    first = launch(qtbot, tmp_path, 1700, 1000)
    docks = (first.insight.prediction_dock, first.controls_dock)
    wait_arranged(qtbot, first, 1700)
    for dock, width in zip(docks, (300, 480)):  # as the user drags the docks' edges
        first.resizeDocks([dock], [width], Qt.Orientation.Horizontal)
    qtbot.waitUntil(lambda: (docks[0].width(), docks[1].width()) == (300, 480), timeout=5000)
    first.close()  # stores the window's state

    again = launch(qtbot, tmp_path, 1700, 1000)
    qtbot.wait(300)  # shown and laid out: a first launch would have sized the docks by now
    assert again.insight.prediction_dock.width() == 300
    assert again.controls_dock.width() == 480
