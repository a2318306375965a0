"""Presentation mode, the first run that explains itself, the status line in words, and a
window state in the settings file that is damaged (issue 16, case 6)."""

from __future__ import annotations

import pytest
from gui_helpers import open_window
from PySide6.QtCore import QByteArray, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QFont, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMenu, QSplitter

from app.gui.application import restore_window_state
from app.gui.controllers.session import RunState
from app.gui.controllers.session_history import SessionHistory
from app.gui.infrastructure.settings import SettingsStore
from app.gui.insight.annotation_view import MarksRow
from app.gui.insight.annotations import AnnotationMarks
from app.gui.live.status_bar import StatusFigures, StudioStatusBar
from app.gui.live.timeline_view import LEAST_PICTURE_SHARE, TimelineView, room_for_rows
from app.gui.live.video_view import VideoView
from app.gui.presentation.presentation import PresentationMode
from app.gui.presentation.status_line import Counters, StatusLine
from streamer_core.layer import LayerStep

SOURCE = "synthetic:2:600"


def test_presentation_mode_goes_full_screen_and_leaving_restores_the_window(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    window.learning_dock.hide()  # the user's choice: it must stay hidden after leaving
    window.setGeometry(20, 30, 760, 560)  # within the offscreen screen (800 x 800)
    qtbot.waitUntil(lambda: window.controls_dock.isVisible())
    geometry, state = window.geometry(), window.saveState()
    assert window.action_presentation.shortcut() == QKeySequence("F11")

    window.action_presentation.trigger()
    assert window.isFullScreen() and window.action_presentation.isChecked()
    assert not window.controls_dock.isVisible() and not window.menuBar().isVisible()
    assert window.timeline.large and not window.timeline.curves  # curves hidden unless asked
    assert window.video.text_scale > 1 and not window.status.labels["fps"].isVisible()
    window.action_curves.trigger()  # asked for
    assert window.timeline.curves and window.action_curves.isChecked()

    assert window.action_leave_presentation.shortcut() == QKeySequence("Esc")
    window.action_leave_presentation.trigger()
    qtbot.waitUntil(lambda: window.geometry() == geometry, timeout=5000)
    assert not window.isFullScreen() and not window.action_presentation.isChecked()
    assert window.controls_dock.isVisible() and not window.learning_dock.isVisible()
    assert window.saveState() == state and window.menuBar().isVisible()
    assert not window.timeline.large and window.timeline.curves
    assert window.status.labels["fps"].isVisible()


def test_closing_in_presentation_mode_remembers_the_window_from_before(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    before = window.saveGeometry()
    window.presentation.enter()
    window.close()
    stored, _ = SettingsStore.at(tmp_path / "settings.ini").window_state()
    assert QByteArray(stored) == before


def history_with_events(layers: int = 2, steps: int = 40) -> SessionHistory:
    history = SessionHistory()
    for step in range(steps):
        for layer in range(layers):
            history.add(LayerStep(layer, step, step * 0.5, 0.1 * (step % 5), 0.2,
                                  step % (7 + 5 * layer) == 0, 0.1))
    return history


def test_presentation_rows_name_the_current_event_and_hide_the_curves(qtbot):
    timeline = TimelineView(history_with_events())
    qtbot.addWidget(timeline)
    timeline.show()
    timeline.refresh()
    assert all(row.plot.isVisible() for row in timeline.rows)
    desk_title = timeline.rows[-1].plot.getAxis("bottom").label.boundingRect().height()
    timeline.set_look(large=True, curves=False)
    assert not any(row.plot.isVisible() for row in timeline.rows)
    title = timeline.rows[-1].band.getAxis("bottom").label  # the time axis's, under the bands
    assert title.boundingRect().height() >= 1.5 * desk_title  # read from the back, as the ticks
    assert "color" in timeline.rows[-1].band.getAxis("bottom").labelStyle  # not black on dark
    # Layer 0's boundaries at steps 0, 7, ... 35: its 7th event, open since 17.5 s.
    assert "event 7" in timeline.rows[0].label.text and "2 s" in timeline.rows[0].label.text
    assert "each row is a layer" in timeline.legend.text()
    timeline.set_look(large=False, curves=True)
    assert all(row.plot.isVisible() for row in timeline.rows)
    assert timeline.rows[-1].plot.getAxis("bottom").label.boundingRect().height() \
        == pytest.approx(desk_title)
    assert "signal" in timeline.legend.text()


def test_the_first_run_explains_itself_until_dismissed(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    qtbot.waitUntil(window.legend.isVisible)
    assert "each colour band is one event" in window.legend.findChild(QLabel).text()
    window.legend.button.click()
    assert not window.legend.isVisible() and window.settings.show_legend is False
    window.prefs.save()
    assert SettingsStore.at(tmp_path / "settings.ini").load()[0].show_legend is False
    window.action_legend.trigger()  # Help brings it back
    assert window.legend.isVisible()


def test_help_lists_every_keyboard_shortcut(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    window.action_shortcuts.trigger()
    message = window.notifier.last
    assert message.title == "Keyboard shortcuts"
    keyed = [a for a in window.actions() if not a.shortcut().isEmpty()]
    assert len(keyed) >= 15
    in_menus = {a for menu in window.menuBar().findChildren(QMenu) for a in menu.actions()
                if not a.shortcut().isEmpty()}
    assert in_menus <= set(keyed)  # so their keys work with the menu bar hidden too
    for action in keyed:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert f"<b>{keys}</b>" in message.text, action.text()


def counters(wall: float, steps: int, skipped: int, updates: int = 0,
             state: RunState = RunState.RUNNING) -> Counters:
    return Counters(wall, state, True, 3, steps, skipped, updates, "camera:0")


def test_the_status_line_says_in_words_what_the_model_does():
    line = StatusLine()
    assert line.sentence(counters(0.0, 0, 0)) == "waiting for the first pictures of the camera…"
    line.sentence(counters(1.0, 10, 0))
    line.sentence(counters(2.0, 12, 0, updates=1))
    assert (line.sentence(counters(14.0, 30, 1, updates=1))
            == "learning: 3 layers, last update 12 s ago, keeping up with the camera")
    behind = line.sentence(counters(20.0, 40, 11, updates=1))  # 10 learned, 10 skipped
    assert behind.endswith("too slow for the camera: learns from 50% of it"), behind
    assert line.sentence(counters(21.0, 40, 11, 1, RunState.PAUSED)).startswith("paused")


def test_the_status_line_tells_inputs_seen_without_learning_from_skipped_ones():
    """A learner behind sees every snippet and learns from those with none waiting."""
    line = StatusLine()

    def seen(wall: float, steps: int, skipped: int, learned: int) -> str:
        return line.sentence(Counters(wall, RunState.RUNNING, True, 3, steps, skipped, 0,
                                      "camera:0", learned))

    seen(0.0, 10, 0, 10)
    assert seen(5.0, 30, 0, 29).endswith("keeping up with the camera")
    assert seen(10.0, 50, 0, 34).endswith("too slow for the camera: learns from 60% of it")
    # The last 10 s (from 5.0 s on): 40 snippets, 30 seen, 8 learned from.
    assert seen(14.0, 60, 10, 37).endswith(
        "too slow for the camera: learns from 20% of it, sees 75%")


def test_the_status_line_names_the_remedy_for_a_file_too_fast_for_the_model():
    """A file, unlike a camera, can wait for the model: the line says how."""
    line = StatusLine()

    def video(wall: float, steps: int, learned: int, could_wait: bool) -> str:
        return line.sentence(Counters(wall, RunState.RUNNING, True, 3, steps, 0, 0,
                                      "clip.mp4", learned, could_wait))

    video(0.0, 10, 10, True)
    assert video(5.0, 30, 18, True).endswith(
        "too slow for the video: learns from 40% of it; Advanced › Play files at learning "
        "speed learns from all")
    assert video(6.0, 32, 18, False).endswith("too slow for the video: learns from 36% of it")


def stored_window(tmp_path, geometry: object) -> SettingsStore:
    qsettings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    qsettings.setValue("window/geometry", geometry)
    qsettings.setValue("window/state", geometry)
    qsettings.sync()
    return SettingsStore.at(tmp_path / "settings.ini")


def test_a_damaged_window_state_is_ignored_and_the_window_opens_maximised(qtbot, tmp_path,
                                                                          caplog):
    for damaged in ("not a geometry", 12345, QByteArray(b"\x01\x02garbage")):
        window = QMainWindow()
        qtbot.addWidget(window)
        restore_window_state(window, stored_window(tmp_path, damaged))  # no exception
        assert window.windowState() & Qt.WindowState.WindowMaximized, damaged
        assert "Ignored the stored window geometry" in caplog.text
        caplog.clear()


def test_the_window_opens_maximised_the_first_time_then_as_it_was_left(qtbot, tmp_path):
    first = QMainWindow()
    qtbot.addWidget(first)
    store = SettingsStore.at(tmp_path / "settings.ini")
    restore_window_state(first, store)
    assert first.windowState() & Qt.WindowState.WindowMaximized
    first.setWindowState(Qt.WindowState.WindowNoState)
    first.setGeometry(50, 40, 500, 300)
    first.show()
    store.save_window_state(first.saveGeometry(), first.saveState())
    again = QMainWindow()
    qtbot.addWidget(again)
    restore_window_state(again, SettingsStore.at(tmp_path / "settings.ini"))
    assert not again.windowState() & Qt.WindowState.WindowMaximized
    assert again.geometry().size() == first.geometry().size()


def marks_row_left(row: MarksRow, timeline: TimelineView) -> float:
    """Where the marks' time axis starts, in the timeline's pixels."""
    return row.widget.mapTo(timeline, QPoint(0, 0)).x() \
        + row.plot.getViewBox().sceneBoundingRect().left()


def test_presentation_shows_your_marks_large_under_the_layers_or_no_row_at_all(qtbot):
    history = history_with_events()
    timeline = TimelineView(history)
    qtbot.addWidget(timeline)
    marks = AnnotationMarks(history)
    row = MarksRow(timeline, marks)
    timeline.resize(1200, 500)
    timeline.show()

    def shown() -> None:
        for _ in range(2):  # the row aligns to the layers' laid out axis, then draws
            timeline.refresh()
            row.refresh()
            qtbot.wait(50)

    def layers_left() -> float:
        band = timeline.rows[0].band.getViewBox()
        return timeline.graphics.mapTo(timeline, QPoint(0, 0)).x() + \
            band.sceneBoundingRect().left()

    shown()
    assert row.widget.isVisible()  # at the desk: where M's marks will go
    assert marks_row_left(row, timeline) == pytest.approx(layers_left(), abs=1)
    desk_height = row.widget.height()

    timeline.set_look(large=True, curves=False)
    shown()
    assert not row.widget.isVisible()  # no marks: no empty row in front of an audience
    history.latest_time = 12.0
    marks.mark()  # the presenter presses M
    shown()
    assert row.widget.isVisible() and row.widget.height() >= 1.5 * desk_height
    assert row.axis.style["tickFont"].pointSizeF() >= 1.5 * QFont().pointSizeF()
    assert marks_row_left(row, timeline) == pytest.approx(layers_left(), abs=1)  # wider labels
    assert row.lines.opts["x"].tolist() == [12.0]
    time_at = row.plot.getViewBox().mapViewToScene(QPointF(12.0, 0.5)).x() \
        + row.widget.mapTo(timeline, QPoint(0, 0)).x()
    band = timeline.rows[0].band.getViewBox()
    boundary_at = band.mapViewToScene(QPointF(12.0, 0.5)).x() \
        + timeline.graphics.mapTo(timeline, QPoint(0, 0)).x()
    assert time_at == pytest.approx(boundary_at, abs=2)  # the mark over its time


def test_a_sentence_too_long_for_the_status_bar_is_shortened_and_whole_in_its_tooltip(qtbot):
    """At 1280x720 the remedy for a file too fast for the model ran off the window's edge."""
    bar = StudioStatusBar()
    qtbot.addWidget(bar)
    bar.resize(1280, 30)
    bar.show_figures(StatusFigures("CPU (1 learning thread)", 10.0, 1.93, 0.97, 0, 3, 34,
                                   learning=True))
    bar.show()
    text = ("learning: 3 layers, last update 4 s ago, too slow for the scene: learns from 75% "
            "of it; Advanced › Play files at learning speed learns from all")
    bar.show_sentence(text)
    qtbot.waitUntil(lambda: QLabel.text(bar.sentence).endswith("…"))
    shown = QLabel.text(bar.sentence)
    assert text.startswith(shown[:-1]) and len(shown) < len(text)
    assert bar.sentence.toolTip().endswith(text)
    bar.show_sentence("learning: 3 layers, keeping up with the scene")
    assert QLabel.text(bar.sentence) == "learning: 3 layers, keeping up with the scene"


def test_presentation_takes_from_the_picture_what_the_rows_need_to_show_whole(qtbot):
    """At 1280x720 the picture's 55 % left the third layer's row and the time axis cut off;
    here, on the 800 px test screen, four layers need more than the other 45 %."""
    window = QMainWindow()
    qtbot.addWidget(window)
    history = history_with_events(layers=3)
    video, timeline = VideoView(), TimelineView(history)
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(video)
    splitter.addWidget(timeline)
    window.setCentralWidget(splitter)
    timeline.rows_added.connect(lambda: room_for_rows(splitter, timeline))  # as the window
    status = StudioStatusBar()
    window.setStatusBar(status)
    presentation = PresentationMode(window, splitter, timeline, video, status)
    window.show()
    timeline.refresh()
    presentation.enter()
    qtbot.waitUntil(window.isFullScreen)

    def rows_whole() -> bool:
        least = timeline.layout_item.effectiveSizeHint(Qt.SizeHint.MinimumSize).height()
        return timeline.graphics.height() >= least - 1

    qtbot.waitUntil(rows_whole, timeout=3000)
    for step in range(40, 80):  # a fourth layer grows while presenting
        history.add(LayerStep(3, step, step * 0.5, 0.1, 0.2, step % 9 == 0, 0.1))
    timeline.refresh()
    assert len(timeline.rows) == 4
    qtbot.waitUntil(rows_whole, timeout=3000)
    assert video.height() >= LEAST_PICTURE_SHARE * sum(splitter.sizes()) - 1
    bands = [row.band.getViewBox().height() for row in timeline.rows]
    assert min(bands) >= 0.9 * max(bands)  # the bottom one carries the time axis too
