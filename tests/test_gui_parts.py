"""The GUI's non-visual parts: mailbox, session history, settings, timeline drawing."""

import ctypes
import json
import math
import threading
import time

import numpy as np
import pyqtgraph as pg
import pytest
from gui_helpers import shown_timeline
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QApplication

from app.gui import open_review, run_gui
from app.gui.controllers.session_history import SessionHistory, trace_rows
from app.gui.infrastructure.settings import SettingsStore, StudioSettings
from app.gui.insight.annotation_view import MarksRow
from app.gui.insight.annotations import AnnotationMarks
from app.gui.live.timeline_view import (
    LABEL_GAP_PX,
    LARGE,
    MARK_SIZE,
    UPPER_MARK_SIZE,
    SpacedValueAxis,
    TimelineView,
    peak_decimate,
    wider_spacing,
)
from app.session.recorder import SessionRecorder
from streamer_core import LayerStep
from streamer_core.hierarchy import hierarchy_json
from streamer_core.presets import preset_arguments
from streamer_core.sources.mailbox import LatestMailbox


def step(layer, t, signal=0.5, threshold=0.4, boundary=False, snippet=0.5, loss=None):
    return LayerStep(layer, t, t * snippet, signal, threshold, boundary, loss)


# --- mailbox ------------------------------------------------------------------------

def test_mailbox_keeps_only_the_newest_and_counts_what_it_replaced():
    box = LatestMailbox()
    assert box.put(1) is True  # was empty: wake the reader
    assert box.put(2) is False
    assert box.put(3) is False
    assert box.skipped == 2
    assert box.take() == 3
    assert box.take() is None
    assert box.delivered == 1


def test_a_larger_mailbox_hands_over_oldest_first_and_drops_the_oldest_when_full():
    box = LatestMailbox(3)
    assert [box.put(n) for n in range(5)] == [True, True, True, False, False]
    assert box.skipped == 2 and box.waiting == 3
    assert box.take() == 2 and box.waiting == 2  # the reader is behind by two
    box.put(5)  # a producer puts while the reader is busy with what it took
    assert box.waiting == 3 and box.left_at_take == 2
    assert [box.take(), box.take(), box.take(), box.take()] == [3, 4, 5, None]
    assert box.waiting == 0 and box.left_at_take == 0 and box.delivered == 4
    with pytest.raises(ValueError, match="at least one"):
        LatestMailbox(0)


def test_mailbox_producer_can_wait_for_the_reader():
    box = LatestMailbox()
    box.put("frame")
    assert box.wait_until_empty(0.05) is False
    reader = threading.Timer(0.1, box.take)
    reader.start()
    started = time.monotonic()
    assert box.wait_until_empty(5.0) is True
    assert time.monotonic() - started < 2.0
    reader.join()


# --- session history ----------------------------------------------------------------

def test_history_records_signals_boundaries_and_event_starts():
    history = SessionHistory()
    history.add_all([step(0, 0, signal=None, threshold=None)])
    history.add_all([step(0, 1), step(0, 2, boundary=True), step(1, 2, signal=None)])
    history.add_all([step(0, 3), step(0, 4, boundary=True), step(1, 4, boundary=True)])
    layer0, layer1 = history.layers
    assert list(layer0.steps["step"]) == [0, 1, 2, 3, 4]
    assert math.isnan(layer0.steps["signal"][0])
    starts, first = layer0.event_starts()
    assert first == 0 and list(starts) == [0.0, 1.0, 2.0]
    starts, first = layer1.event_starts()
    # Layer 1 appeared at 1.0 s; its first event sums up layer 0's since 0.0, as the
    # hierarchy JSON has it (every layer's first event starts at the stream's start).
    assert list(starts) == [0.0, 2.0]
    assert layer0.event_count == 3 and layer1.event_count == 2
    assert history.latest_time == 2.0


def test_history_stays_bounded_and_keeps_event_numbers():
    history = SessionHistory(capacity=8)
    for t in range(40):
        history.add(step(0, t, boundary=(t % 2 == 1)))
    layer = history.layers[0]
    assert len(layer.steps) <= 8 and len(layer.boundaries) <= 8
    assert layer.steps["step"][-1] == 39
    assert np.all(np.diff(layer.steps["step"]) == 1)  # still chronological
    starts, first = layer.event_starts()
    # 20 boundaries -> events 0..20; the remembered ones end with the open event 20.
    assert layer.event_count == 21
    assert first + len(starts) - 1 == 20
    assert starts[-1] == 39 * 0.5


def test_history_starts_over_when_the_model_clock_goes_back():
    history = SessionHistory()
    for t in range(5):
        history.add(step(0, t))
    history.add(step(0, 0))
    assert len(history.layers[0].steps) == 1


def test_trace_rows_match_the_cli_format():
    history = SessionHistory()
    history.add_all([step(0, 0, signal=None, threshold=None)])
    history.new_source()
    history.add_all([step(0, 1, boundary=True, loss=-0.75),
                     step(1, 1, signal=None, threshold=None)])
    rows = trace_rows(history.trace_snapshot())
    assert rows[0]["loss"] is None and rows[1]["loss"] == -0.75
    assert [(r["step"], r["layer"]) for r in rows] == [(0, 0), (1, 0), (1, 1)]
    assert rows[0]["signal"] is None and rows[1]["boundary"] is True
    assert rows[0]["video"] + 1 == rows[1]["video"]
    assert set(rows[0]) == {"video", "step", "time", "layer", "signal", "threshold",
                            "boundary", "loss"}
    json.dumps(rows)  # plain types only


def test_seeded_history_draws_a_loaded_model_boundaries():
    history = SessionHistory()
    history.seed_boundaries({0: [0, 1.5, 3.0], 1: [0, 3.0]}, now=4.0, step=8)
    assert list(history.layers[0].boundaries["time"]) == [1.5, 3.0]
    assert history.layers[1].event_count == 2
    history.add(step(0, 8, boundary=True))  # continues, no start-over
    assert history.layers[0].event_count == 4


# --- settings -----------------------------------------------------------------------

def test_default_settings_are_the_live_preset(tmp_path):
    settings, notes = SettingsStore.at(tmp_path / "s.ini").load()
    assert notes == []
    model_args, opt_args = settings.model_arguments()
    live_model, live_opt = preset_arguments("live")
    assert model_args.feature_dim == live_model.feature_dim
    assert model_args.evolve_every == live_model.evolve_every
    assert opt_args.optimize_every == live_opt.optimize_every
    assert settings.autosave_minutes == 0  # off by default


def test_settings_round_trip_through_qsettings(tmp_path):
    store = SettingsStore.at(tmp_path / "s.ini")
    settings = StudioSettings.from_preset("live")
    settings.source = "/videos/a clip.mp4"
    settings.loss_threshold = 0.125
    settings.window_size = 7
    settings.learning = False
    settings.autosave_minutes = 5
    store.save(settings)
    loaded, notes = SettingsStore.at(tmp_path / "s.ini").load()
    assert notes == []
    assert loaded == settings


def test_bad_stored_settings_fall_back_with_a_note(tmp_path):
    store = SettingsStore.at(tmp_path / "s.ini")
    store.qsettings.setValue("settings/window_size", json.dumps("many"))
    store.qsettings.setValue("settings/feature_dim", json.dumps(30))  # not a multiple of 8
    store.qsettings.setValue("settings/modifier", "{not json")
    store.qsettings.sync()
    loaded, notes = store.load()
    live_model, _ = preset_arguments("live")
    assert loaded.window_size == live_model.window_size
    assert loaded.feature_dim == live_model.feature_dim
    assert any("window_size" in note for note in notes)
    assert any("feature_dim" in note for note in notes)
    assert any("modifier" in note for note in notes)
    loaded.model_arguments()  # usable


def test_invalid_model_settings_are_refused_with_the_reason():
    settings = StudioSettings.from_preset("live")
    settings.demarcation_mode = "accum"  # needs the distance signal
    with pytest.raises(ValueError, match="accum"):
        settings.model_arguments()
    settings.distance_mode = "distance"
    settings.model_arguments()


def test_paper_preset_fills_every_model_field():
    paper = StudioSettings.from_preset("paper")
    model_args, opt_args = paper.model_arguments()
    reference, reference_opt = preset_arguments("paper")
    assert model_args.feature_dim == reference.feature_dim == 1024
    assert model_args.evolve_every == reference.evolve_every
    assert model_args.force_fixed_buffer is True
    assert opt_args.optimize_every == reference_opt.optimize_every


# --- timeline -----------------------------------------------------------------------

def test_peak_decimation_keeps_spikes_and_gaps():
    x = np.arange(10_000, dtype=float)
    y = np.zeros(10_000)
    y[5_003] = -7.0  # a dip, as at a boundary
    y[2_000:2_100] = np.nan  # a fresh start: no signal
    dx, dy = peak_decimate(x, y, 200)
    assert len(dx) <= 220
    assert np.nanmin(dy) == -7.0
    assert np.isnan(dy).any()
    assert np.all(np.diff(dx) >= 0)
    small = np.arange(5.0)
    assert peak_decimate(small, small, 200)[0] is small


def test_timeline_follows_live_until_the_user_pans_back(qtbot):
    history = SessionHistory()
    view = shown_timeline(qtbot, history, span=30.0)
    for t in range(200):  # 100 s of model time, a boundary every 5 s
        history.add(step(0, t, boundary=(t % 10 == 9)))
    view.refresh()
    x0, x1 = view.visible_range()
    assert x1 - x0 == pytest.approx(30.0) and x1 >= history.latest_time
    assert view.bar_count(0) <= 8  # only the events in view are handed to the bars

    view.rows[0].plot.setXRange(10, 40, padding=0)  # as a drag back in time does
    view._user_moved()
    assert view.following is False and view.live_button.isChecked() is False
    history.add(step(0, 200))
    view.refresh()
    assert view.visible_range() == pytest.approx((10, 40))  # paused: stays put

    view.show_whole_session()
    x0, x1 = view.visible_range()
    assert x0 <= 0.0 and x1 >= 99.0
    assert view.bar_count(0) == history.layers[0].event_count

    view.live_button.click()
    assert view.following
    assert view.visible_range()[1] >= history.latest_time


def test_a_layer_without_input_yet_has_a_row_that_says_so(qtbot):
    history = SessionHistory()
    view = shown_timeline(qtbot, history, span=30.0)
    for t in range(20):
        history.add(step(0, t, boundary=(t == 9)))
    history.grow_to(2)  # the model grew layer 1; no layer-0 event has reached it yet
    view.refresh()
    assert len(view.rows) == 2 and view.bar_count(1) == 1  # its one event over the stream
    assert "no input yet" in view.rows[1].label.text
    assert "no input yet" not in view.rows[0].label.text
    history.add(step(1, 19, boundary=False))
    view.refresh()
    assert "no input yet" not in view.rows[1].label.text


def test_cleared_timeline_rows_are_unlinked_before_they_go(qtbot):
    """A removed row still linked to the others was resized after Qt deleted it (an
    exception in the event loop when a reset came during a redraw)."""
    history = SessionHistory()
    view = TimelineView(history, span=30.0)
    qtbot.addWidget(view)
    view.show()
    for t in range(40):
        history.add(step(0, t, boundary=(t % 10 == 9)))
        if t % 10 == 9:
            history.add(step(1, t))
    marks = MarksRow(view, AnnotationMarks(history))  # the marks' row follows the first band
    view.refresh()
    marks.refresh()
    removed = list(view.rows)
    assert len(removed) == 2 and removed[1].plot.getViewBox().linkedView(0) is not None
    assert marks.plot.getViewBox().linkedView(0) is removed[0].band.getViewBox()
    view.clear()
    for row in removed:
        for plot in (row.band, row.plot):
            assert plot.getViewBox().linkedView(0) is None
    assert marks.plot.getViewBox().linkedView(0) is None
    history.add(step(0, 40))
    view.refresh()
    assert len(view.rows) == 2  # drawn afresh, linked to the new first row
    assert view.rows[1].plot.getViewBox().linkedView(0) is view.rows[0].plot.getViewBox()


def open_two_layer_timeline(qtbot, upper_signal, upper_threshold) -> TimelineView:
    """Layer 0 every 0.5 s; layer 1 a point per layer-0 boundary (every 5 s)."""
    history = SessionHistory()
    view = shown_timeline(qtbot, history, span=60.0)
    for t in range(120):
        history.add(step(0, t, signal=0.1, threshold=0.2, boundary=(t % 10 == 9)))
        if t % 10 == 9:
            history.add(step(1, t, signal=upper_signal[t // 10 % len(upper_signal)],
                             threshold=upper_threshold))
    return view


def lowest_shown(view: TimelineView, layer: int) -> float:
    view.refresh()
    viewbox = view.rows[layer].plot.getViewBox()
    viewbox.updateAutoRange()
    return viewbox.viewRange()[1][0]


def test_the_y_axis_of_a_signal_that_cannot_be_negative_starts_at_zero(qtbot):
    surprises = open_two_layer_timeline(qtbot, [0.001, 0.3, 0.1], 0.2)
    assert lowest_shown(surprises, 1) >= 0.0  # autorange's padding went below 0
    assert lowest_shown(surprises, 0) >= 0.0
    similarities = open_two_layer_timeline(qtbot, [-0.2, 0.3], 0.1)
    assert lowest_shown(similarities, 1) <= -0.2  # a cosine similarity can be negative


def test_escalating_upper_rows_draw_the_class_split_below_as_held_levels(qtbot):
    """An escalating row has no threshold of its own: its points met the class split of
    the layer below, which its reports carry; each level holds until the next point."""
    view = open_two_layer_timeline(qtbot, [0.02, 0.05], 0.04)  # the class split below
    view.set_signal_names("similarity", "surprise", upper_threshold=False)
    view.refresh()
    layer0, layer1 = view.rows
    assert len(layer0.threshold.getData()[0]) > 0 and not layer0.split_label.isVisible()
    assert layer1.threshold.isVisible() and layer1.split_label.isVisible()
    x, y = layer1.threshold.getData()
    assert set(y) == {0.04}
    assert "0.04" in layer1.split_label.textItem.toPlainText()
    view.history.add(step(1, 120, signal=0.03, threshold=0.025))  # the split moved
    view.refresh()
    x, y = layer1.threshold.getData()
    assert list(y[-4:]) == [0.04, 0.04, 0.025, 0.025]  # held, then the new level
    assert list(x[-4:]) == pytest.approx([59.5, 60.0, 60.0, 60.0])

    view.set_signal_names("similarity", "similarity", upper_threshold=True)  # `own` again
    view.refresh()
    assert layer1.threshold.isVisible() and not layer1.split_label.isVisible()
    x, _ = layer1.threshold.getData()
    assert len(x) > 1 and (np.diff(x) > 0).all()  # a curve through each step's value


def test_layer_two_draws_the_size_split_that_ended_its_events(qtbot):
    """With layer 0 on features, layer 1's row has the new-scene line (no split); layer 2's
    points are the size of the change, filled where it reached the upper class of layer
    1's recent changes: that level is drawn, dashed and labelled, so a viewer sees why."""
    view = open_two_layer_timeline(qtbot, [0.6, 0.9], 0.5)  # layer 1: share, share line
    for t, size, level in ((29, 0.3, np.nan), (59, 0.7, 0.62), (89, 0.4, 0.62)):
        view.history.add(step(2, t, signal=size, threshold=level, boundary=size >= level))
    view.set_signal_names("feature step", "picture changed", False, "change size")
    view.set_new_scene_share(0.5)
    view.refresh()
    layer1, layer2 = view.rows[1:]
    assert layer1.share_line.isVisible() and not layer1.threshold.isVisible()
    assert not layer1.split_label.isVisible()
    assert layer2.threshold.isVisible()
    assert layer2.threshold.opts["pen"].style() == Qt.PenStyle.DashLine
    x, y = layer2.threshold.getData()
    assert np.isnan(y[:2]).all() and list(y[2:]) == [0.62] * 4  # none before two classes
    label = layer2.split_label
    assert label.isVisible() and "0.62" in label.textItem.toPlainText()
    assert label.pos().y() == pytest.approx(0.62)
    view.set_look(large=True, curves=True)
    assert label.textItem.font().pointSizeF() > 12  # read from the back of the room


def test_boundary_marks_keep_their_size_through_each_look(qtbot):
    """An upper row's ▼ fills the top of a larger square than layer 0's: the same size when
    the row is built, after presentation mode scales it, after leaving, and for a row that
    appears while presenting."""
    view = open_two_layer_timeline(qtbot, [0.6, 0.9], 0.5)

    def sizes() -> list[float]:
        return [row.marks.opts["size"] for row in view.rows]

    view.refresh()
    assert sizes() == pytest.approx([MARK_SIZE, UPPER_MARK_SIZE])
    view.set_look(large=True, curves=True)
    assert sizes() == pytest.approx([MARK_SIZE * LARGE, UPPER_MARK_SIZE * LARGE])
    view.history.add(step(2, 119, signal=0.3, boundary=True))  # layer 2 comes while large
    view.refresh()
    assert sizes()[2] == pytest.approx(UPPER_MARK_SIZE * LARGE)
    view.set_look(large=False, curves=True)
    assert sizes() == pytest.approx([MARK_SIZE, UPPER_MARK_SIZE, UPPER_MARK_SIZE])


def test_layer_two_row_is_named_apart_from_layer_one(qtbot):
    """Layer 1's row plots the share of the picture that changed, layer 2's the size of
    the change (its class split decides there): their axes say so."""
    view = open_two_layer_timeline(qtbot, [0.6, 0.9], 0.5)
    view.history.add(step(2, 119, signal=0.3, threshold=0.2, boundary=True))
    view.set_signal_names("feature step", "picture changed", False, "change size")
    view.refresh()
    labels = [row.plot.getAxis("left").labelText for row in view.rows]
    assert labels == ["feature step", "picture changed", "change size"]
    view.set_signal_names("similarity", "surprise", upper_threshold=False)  # no third name
    assert [row.plot.getAxis("left").labelText for row in view.rows][2] == "surprise"


def test_layer_one_draws_the_new_scene_share_and_which_points_ended_its_event(qtbot):
    """With layer 0 on features, layer 1's row plots the share of the picture that changed
    at each layer-0 boundary: the share that ends a layer-1 event is drawn as a line, and a
    point above it that did not end one (held back) looks unlike one that did."""
    history = SessionHistory()
    view = shown_timeline(qtbot, history, span=60.0)
    view.set_signal_names("feature step", "picture changed", upper_threshold=False)
    view.set_new_scene_share(0.6)  # before layer 1 exists: its row gets the line anyway
    shares = [0.7, 0.9, 0.8, 0.95]
    ended = [False, True, False, True]  # 0.7 and 0.8: above the line but held back
    for t in range(40):
        history.add(step(0, t, signal=0.1, threshold=0.2, boundary=(t % 10 == 9)))
        if t % 10 == 9:
            history.add(step(1, t, signal=shares[t // 10], threshold=0.6,
                             boundary=ended[t // 10]))
    view.refresh()
    layer0, layer1 = view.rows
    line = layer1.share_line
    assert line.isVisible() and line.value() == pytest.approx(0.6)
    assert line.pen.style() == Qt.PenStyle.DashLine
    assert "0.6" in line.label.toPlainText()
    assert not layer0.share_line.isVisible()
    assert lowest_shown(view, 1) <= 0.6  # the line stays in view though every point is above
    assert layer1.plot.getViewBox().viewRange()[1][1] >= 1.0  # the whole picture's scale

    x, y = layer1.signal.getData()
    assert list(y) == shares
    filled = [brush.style() != Qt.BrushStyle.NoBrush for brush in layer1.signal.data["brush"]]
    assert filled == ended
    assert "held back" in view.legend.text()

    view.set_new_scene_share(None)  # e.g. layer 0 back on pixels
    assert not line.isVisible()
    assert lowest_shown(view, 1) > 0.5  # the axis fits the points again (and the split)
    assert "held back" not in view.legend.text()


TIMELINE_AT_1280 = 608  # the timeline's width in a maximised 1280x720 window (Xvfb)
TIMELINE_AT_1700 = 953  # and in a maximised 1700x1100 one


def legend_lines(view: TimelineView, width: int) -> tuple[int, str]:
    """How many lines the legend takes at this timeline width, and its text; fails if a
    line is wider than the legend (clipped)."""
    view.resize(width, 500)
    view.show()
    QApplication.processEvents()
    legend = view.legend
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setDefaultFont(legend.font())
    document.setHtml(legend.text())
    assert document.idealWidth() <= legend.width(), "a line does not fit: wrapped or clipped"
    return round(legend.height() / legend.fontMetrics().lineSpacing()), legend.text()


def test_the_legend_keeps_one_line_at_1280_and_says_everything_when_wide(qtbot):
    """A legend that wraps mid-phrase looks broken on a projector's 1280x720: there it is
    one line; a wide window still shows every key in full and the reading guide."""
    view = TimelineView(SessionHistory(), span=60.0)
    qtbot.addWidget(view)
    for share in (None, 0.5):  # layer 1 with a new-scene line adds the held-back key
        view.set_new_scene_share(share)
        lines, text = legend_lines(view, TIMELINE_AT_1280)
        assert lines == 1
        assert "threshold" in text and "did not" in text
        assert ("held back" in text) == (share is not None)
    lines, text = legend_lines(view, TIMELINE_AT_1700)
    assert lines == 2 and "too soon" in text and "each row is a layer" in text
    assert "too soon" in view.legend.toolTip()  # everything, at any width

    view.set_look(large=True, curves=False)  # presentation at 1280x720: the guide alone
    lines, text = legend_lines(view, 1272)
    assert lines == 1 and "each colour band is one event" in text
    view.set_look(large=True, curves=True)  # C shows the curves: their key, large
    lines, text = legend_lines(view, 1272)
    assert lines == 1 and "boundary" in text



def test_what_the_model_never_saw_is_cut_out_of_the_bands_and_named_in_the_legend(qtbot):
    """Snippets the learner dropped while behind: their stretch of the stream is a hole in
    every row's band, and the legend says what the hole is where it has room (never a
    clipped line at 1280x720; always in the tooltip)."""
    history = SessionHistory()
    view = TimelineView(history, span=60.0)
    qtbot.addWidget(view)
    for t in range(40):
        history.add(step(0, t, boundary=(t % 10 == 9)))
        history.add(step(1, t))
    view.refresh()
    assert len(view.rows[0].unseen.opts["x0"]) == 0 and "not seen" not in view.legend.text()
    history.add_unseen(20.0, 22.5)  # five snippets dropped before the input at 22.5 s
    for t in range(45, 60):
        history.add(step(0, t))
    view.refresh()
    for row in view.rows:
        assert list(row.unseen.opts["x0"]) == [20.0] and list(row.unseen.opts["width"]) == [2.5]
    x, y = view.rows[0].signal.getData()  # no line drawn across the hole
    assert list(x[(x > 19.5) & (x < 22.5)]) == [20.0] and np.isnan(y[x == 20.0]).all()
    lines, text = legend_lines(view, TIMELINE_AT_1280)
    assert lines == 1 and "not seen" in text
    view.set_new_scene_share(0.5)  # the held-back key too: no room left at 1280
    lines, text = legend_lines(view, TIMELINE_AT_1280)
    assert lines == 1 and "held back" in text
    assert "the learner was behind" in view.legend.toolTip()
    lines, text = legend_lines(view, TIMELINE_AT_1700)
    assert lines == 2 and "the learner was behind" in text
    view.set_look(large=True, curves=False)  # presentation at 1280x720: the guide alone
    lines, text = legend_lines(view, 1272)
    assert lines == 1 and "not seen" in text
    view.set_look(large=False, curves=True)
    view.rows[0].plot.setXRange(23, 29, padding=0)  # scrolled past it
    view._user_moved()
    view.refresh()
    assert view.visible_range() == pytest.approx((23, 29))
    assert len(view.rows[0].unseen.opts["x0"]) == 0
    history.clear()
    view.refresh()
    assert "not seen" not in view.legend.toolTip()

# --- entry point --------------------------------------------------------------------

def test_run_gui_without_a_display_says_so_instead_of_crashing(monkeypatch, capsys):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert run_gui([]) == 2
    assert "no display" in capsys.readouterr().err


def test_run_gui_with_a_display_nobody_serves_says_so_instead_of_aborting(monkeypatch, capsys):
    """Qt's xcb plugin aborts the process (core dump) when DISPLAY names no X server."""
    try:
        ctypes.CDLL("libxcb.so.1")
    except OSError:
        pytest.skip("libxcb is not installed: Qt could not use X11 anyway")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":5999")  # no /tmp/.X11-unix/X5999
    monkeypatch.setattr("sys.platform", "linux")
    assert run_gui([]) == 2
    assert "cannot open the display :5999" in capsys.readouterr().err


def test_run_gui_rejects_bad_arguments(capsys):
    assert run_gui(["--screenshot", "x.png"]) == 2
    assert "--self-test" in capsys.readouterr().err
    assert run_gui(["--no-such-option"]) == 2
    assert run_gui(["--help"]) == 0
    assert "--self-test" in capsys.readouterr().out


def test_the_app_collects_garbage_on_the_gui_thread_only(qtbot):
    import gc

    from app.gui.application import make_application
    gc.enable()  # as a fresh process starts (the test session turns it off)
    make_application()
    assert not gc.isenabled()  # a worker thread that allocates never runs the collector
    for _ in range(2000):  # cycles only the collector frees, past its first threshold
        cycle: list = []
        cycle.append(cycle)
    before = gc.get_count()[0]
    assert before > gc.get_threshold()[0]
    qtbot.waitUntil(lambda: gc.get_count()[0] < before, timeout=5000)  # on its timer


def test_a_learner_behind_learns_when_none_waits_and_completes_a_lone_learned_input():
    from streamer_core.learning_pace import LearningPace

    pace = LearningPace()
    waiting = [0, 3, 2, 1, 0, 0, 2, 2, 1, 0, 3]
    # A prediction is learned from at the next input: a lone learned input gets a second.
    assert [pace.learns(w) for w in waiting] == [True, True, False, False, True, True,
                                                 False, False, False, True, True]


def test_a_short_signal_row_labels_fewer_values_rather_than_overlapping_them(qtbot):
    """At 1280x720 the bottom row's plot was 30 px tall, and its four labels overlapped."""
    axis = SpacedValueAxis("left")
    major = axis.tickSpacing(0.1, 0.9, 30)[0][0]
    assert 0.8 / major * LABEL_GAP_PX <= 30  # room for a line of text between labels
    assert axis.tickSpacing(0.1, 0.9, 300) == pg.AxisItem("left").tickSpacing(0.1, 0.9, 300)
    assert [wider_spacing(s) for s in (0.1, 0.2, 0.5, 2.0)] == [0.2, 0.5, 1.0, 5.0]


def test_review_from_the_command_line_refuses_what_it_cannot_open(capsys, tmp_path):
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"")
    assert run_gui(["--review", str(tmp_path / "missing")]) == 2
    assert "missing: no such file or folder" in capsys.readouterr().err
    assert run_gui(["--review", str(video)]) == 2  # a video without its hierarchy
    assert "--review VIDEO JSON" in capsys.readouterr().err
    assert run_gui(["--review", str(video), str(video), str(video)]) == 2
    assert "a video and its hierarchy JSON" in capsys.readouterr().err


def test_review_from_the_command_line_opens_a_recorded_session(qtbot, tmp_path):
    folder = tmp_path / "session"
    recorder = SessionRecorder(folder, 0.5, "synthetic:1")
    for i in range(4):
        assert recorder.add_input(np.full((48, 64, 3), 40 * i, np.uint8),
                                  [step(0, i, boundary=i == 2)])
    recorder.set_hierarchy(hierarchy_json({"boundaries": {0: [0.0, 1.0]}}, file="video.mjpeg",
                                          duration=2.0))
    recorder.close()
    window = open_review([str(folder)])
    qtbot.addWidget(window)
    assert window.controller.session.video.frame_count == 4
    assert window.timeline.rows == [(0, 0)] and folder.name in window.windowTitle()
