"""What the model sees and remembers: live annotation marks and their agreement, the event
memory, the prediction preview, and their views in the window."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from gui_helpers import SLOW, open_window, quiesce
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle

from app.gui.controllers.session_history import SessionHistory
from app.gui.insight.annotation_view import ROWS_SHOWN, AnnotationPanel
from app.gui.insight.annotations import AnnotationMarks, picture_ahead
from app.gui.insight.event_memory import EventMemory, RememberedEvent, remembered_events
from app.gui.insight.event_memory_view import EventMemoryPanel
from app.gui.insight.prediction_preview import PredictionPreview, surprise_overlay
from app.gui.insight.prediction_view import PICTURE_PX, PredictionView
from app.session.keyframes import Keyframe, KeyframeStore, encode_jpeg
from app.session.marks_file import marks_path
from streamer_core import LayerStep
from streamer_core.evaluation import evaluate
from streamer_core.hierarchy import hierarchy_json
from streamer_core.input_clock import InputClock


def history_with(boundaries: dict[int, list[float]], until: float) -> SessionHistory:
    """A history of 0.5 s steps with each layer's boundaries at the given times."""
    history = SessionHistory()
    for step in range(int(until / 0.5) + 1):
        t = step * 0.5
        for layer, times in boundaries.items():
            history.add(LayerStep(layer, step, t, 0.5, 0.4, t in times))
    return history


# --- live annotation -----------------------------------------------------------------------

def marks_at(history: SessionHistory, times: list[float]) -> AnnotationMarks:
    marks = AnnotationMarks(history)
    for t in times:
        history.latest_time = t  # as if the model had just seen the input at t
        assert marks.mark() == t
    history.latest_time = 30.0
    return marks


def test_agreement_scores_each_layer_against_the_marks_from_the_first_mark_on():
    history = history_with({0: [2.0, 10.0, 12.0, 20.5, 27.0], 1: [20.0]}, until=30.0)
    marks = marks_at(history, [10.5, 19.0, 26.5])
    rows = {row.layer: row.score for row in marks.agreement()}
    # layer 0: 2.0 is before the first mark (not counted); 10.0 and 27.0 agree
    # (within 1 s), 12.0 and 20.5 do not (19.0 is 1.5 s away from 20.5)
    assert (rows[0].predicted, rows[0].matched) == (4, 2)
    assert rows[0].precision == pytest.approx(0.5) and rows[0].recall == pytest.approx(2 / 3)
    assert (rows[1].matched, rows[1].precision) == (1, 1.0)  # 20.0 is 1 s from 19.0


def test_marks_export_as_ground_truth_that_evaluate_scores_the_same_way():
    history = history_with({0: [10.0, 12.0, 20.5, 27.0]}, until=30.0)
    marks = marks_at(history, [10.5, 19.0, 26.5])
    truth = json.loads(json.dumps(marks.hierarchy_doc("webcam")))
    predicted = hierarchy_json({"boundaries": {0: [0.0, 10.0, 12.0, 20.5, 27.0]}},
                               file="webcam", duration=30.0)
    report = evaluate(predicted, truth, tolerance=1.0)
    row = next(r for r in report["boundaries"] if r["pred_layer"] == 0)
    ours = marks.agreement()[0].score
    assert (row["precision"], row["recall"]) == pytest.approx((ours.precision, ours.recall))

    again = AnnotationMarks(history)
    again.load_doc(truth)
    assert again.marks == [10.5, 19.0, 26.5]


def test_marking_needs_a_step_and_undo_forgets_the_newest():
    history = SessionHistory()
    marks = AnnotationMarks(history)
    assert marks.mark() is None and marks.marks == []  # the model has seen nothing yet
    history.add(LayerStep(0, 0, 0.0, None, None, False))
    history.add(LayerStep(0, 1, 4.0, 0.5, 0.4, False))
    assert marks.mark() == 4.0
    assert marks.mark() is None  # the same moment twice is one mark
    marks.undo()
    assert marks.marks == [] and marks.agreement() == []


def test_a_mark_is_where_the_picture_on_screen_is_while_the_learner_catches_up():
    # The learner's mailbox holds snippets already shown: the person saw 3 s further on.
    assert picture_ahead(picture_time=43.0, input_time=40.0, limit=6.5) == 3.0
    assert picture_ahead(43.0, 30.0, limit=6.5) == 6.5  # older snippets were dropped
    assert picture_ahead(2.0, 40.0, limit=6.5) == 0.0  # the file started again
    assert picture_ahead(None, 40.0, limit=6.5) == picture_ahead(43.0, None, 6.5) == 0.0
    history = history_with({0: []}, until=20.0)
    marks = AnnotationMarks(history)
    assert marks.mark(ahead=3.0) == 23.0 and marks.marks == [23.0]


def test_the_panel_shows_a_row_per_layer(qtbot):
    history = history_with({0: [10.0], 1: [10.0]}, until=20.0)
    marks = marks_at(history, [10.0])
    panel = AnnotationPanel(marks)
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.table.rowCount() == 2
    assert [panel.table.item(0, j).text() for j in range(5)] == \
        ["0", "1.00", "1.00", "1.00", "1 of 1"]
    assert panel.count.text() == "1 mark"


def test_the_panel_table_fits_a_narrow_dock_with_every_column_readable(qtbot):
    history = history_with({0: [10.0], 1: [10.0]}, until=20.0)
    panel = AnnotationPanel(marks_at(history, [10.0]))
    qtbot.addWidget(panel)
    panel.resize(panel.minimumSizeHint().width(), 600)  # the Your marks dock at its narrowest
    panel.show()
    table, header = panel.table, panel.table.horizontalHeader()
    qtbot.waitUntil(lambda: header.length() <= table.viewport().width(), timeout=2000)
    for column in range(table.columnCount()):  # the Recall column was off to the right
        assert 0 <= header.sectionViewportPosition(column)
        assert header.sectionViewportPosition(column) + header.sectionSize(column) \
            <= table.viewport().width()
        title = table.horizontalHeaderItem(column).text()  # not elided
        assert header.sectionSize(column) >= header.fontMetrics().horizontalAdvance(title) \
            + 2 * header.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)
    rows = table.verticalHeader().defaultSectionSize()  # and no taller than a few layers
    assert table.height() <= header.height() + ROWS_SHOWN * rows + 2 * table.frameWidth()


# --- event memory --------------------------------------------------------------------------

def event(layer: int, start: float, end: float, *vector: float) -> RememberedEvent:
    return RememberedEvent(layer, start, end, np.asarray(vector, np.float32))


def test_memory_finds_the_most_similar_events_of_the_same_layer():
    memory = EventMemory()
    memory.add_all([event(0, 0, 5, 1, 0), event(0, 5, 9, 0, 1), event(1, 0, 9, 1, 0),
                    event(0, 9, 12, 0.9, 0.1), event(0, 12, 15, -1, 0)])
    query = memory.event_at(0, 2.5)
    assert (query.start, query.end) == (0, 5)
    found = memory.similar(query, k=3)  # cosines of the layer's standardised vectors
    assert [(e.start, round(s, 3)) for e, s in found] == [(9, 0.991), (12, -0.536),
                                                          (5, -0.688)]
    assert memory.event_at(0, 20.0) is None and memory.event_at(2, 1.0) is None


def test_memory_is_bounded_and_restarts_with_a_new_stream():
    memory = EventMemory(per_layer=3)
    memory.add_all(event(0, t, t + 1, 1, t) for t in range(5))
    assert [e.start for e in memory.events(0)] == [2, 3, 4]
    memory.add(event(0, 0, 1, 1, 0))  # the clock went back
    assert len(memory) == 1


class _Layer:
    def __init__(self, bounds: list[float]):
        self.hierarchy_boundaries = bounds


class _Model:
    def __init__(self, *bounds: list[float]):
        self._layers = [_Layer(b) for b in bounds]
        self.input_clock = InputClock(0.5)

    def layers(self):
        return self._layers


def test_closed_events_are_remembered_from_the_reports_without_their_tensors():
    reports = [LayerStep(0, 8, 4.0, 0.5, 0.4, True, representation=torch.ones(1, 3)),
               LayerStep(1, 8, 4.0, 0.5, 0.4, False)]
    events = remembered_events(_Model([0, 2.5, 4.0], [0]), reports)
    assert [(e.layer, e.start, e.end) for e in events] == [(0, 2.5, 4.0)]
    assert events[0].vector.tolist() == [1.0, 1.0, 1.0]
    assert reports[0].representation is None  # only numpy goes to the GUI thread
    model = _Model([0, 2.5, 4.0])
    model.input_clock.lose(3, 2)  # 1 s lost before the event began: it starts later
    moved = LayerStep(0, 8, 5.0, 0.5, 0.4, True, representation=torch.ones(1, 3))
    assert [(e.start, e.end) for e in remembered_events(model, [moved])] == [(3.5, 5.0)]


def test_the_panel_lists_similar_events_with_pictures_and_jumps(qtbot):
    store = KeyframeStore()
    store.add(Keyframe(0, 0, 0.0, 5.0, 2.5, encode_jpeg(np.full((60, 80, 3), 90, np.uint8))))
    panel = EventMemoryPanel(store)
    qtbot.addWidget(panel)
    query = event(0, 9, 12, 1, 0)
    panel.show_similar(query, [(event(0, 0, 5, 1, 0), 0.99), (event(0, 5, 9, 0, 1), 0.1)])
    assert panel.list.count() == 3  # the clicked event, then the similar ones
    assert "similarity 0.990" in panel.list.item(1).text()
    assert not panel.list.item(1).icon().isNull()  # its keyframe
    assert panel.list.item(2).icon().isNull()  # no keyframe kept
    assert "by their layer's summaries" in panel.heading.text()  # the model's setting unknown
    panel.event_representation = "motion"  # as a new model says (ModelInsight._model_ready)
    panel.show_similar(query, [])
    assert "by what moved in them" in panel.heading.text()
    panel.show_similar(event(1, 0, 12, 1, 0), [])
    assert "by what most of their pictures show" in panel.heading.text()
    panel.show_similar(query, [(event(0, 0, 5, 1, 0), 0.99), (event(0, 5, 9, 0, 1), 0.1)])
    with qtbot.waitSignal(panel.jump_requested) as jumped:
        panel.list.itemClicked.emit(panel.list.item(1))
    assert jumped.args == [0.0, 5.0]


def test_the_similar_events_read_in_full_in_the_dock_at_its_narrowest(qtbot):
    store = KeyframeStore()
    store.add(Keyframe(0, 0, 0.0, 500.0, 250.0,
                       encode_jpeg(np.full((60, 80, 3), 90, np.uint8))))
    panel = EventMemoryPanel(store)
    qtbot.addWidget(panel)
    panel.resize(282, 500)  # the left column at its least width (the Your marks table's)
    panel.show()
    panel.show_similar(event(0, 281.5, 286.0, 1, 0), [(event(0, 272.5, 281.5, 1, 0), 0.998)])
    qtbot.wait(50)
    for row in range(panel.list.count()):  # they were cut off at the right
        assert panel.list.visualItemRect(panel.list.item(row)).right() \
            <= panel.list.viewport().width()


# --- prediction view -----------------------------------------------------------------------

class _Base:
    def __init__(self, context):
        self.context = context


class _PredictingModel:
    def __init__(self, context):
        self.streamer = _Base(context)


def test_preview_is_taken_at_a_bounded_rate():
    now = [100.0]
    preview = PredictionPreview(interval=0.5, clock=lambda: now[0])
    model = _PredictingModel(torch.zeros(1, 3, 32, 32))
    assert preview.expectation(model) is not None
    now[0] += 0.2
    assert preview.expectation(model) is None  # too soon
    now[0] += 0.4
    assert preview.expectation(model) is not None
    now[0] += 1.0
    assert preview.expectation(_PredictingModel(None)) is None  # fresh start: nothing


def test_surprise_is_where_the_prediction_was_wrong():
    expected = torch.zeros(1, 3, 64, 64)
    seen = expected.clone()
    seen[:, :, :16, 48:] = 1.0  # the top right corner came out brighter than predicted
    frame = PredictionPreview.frame(expected, seen, 3.5)
    assert frame.expected.shape == (64, 64, 3) and frame.expected.dtype == np.uint8
    assert int(frame.expected[0, 0, 0]) == 128 and int(frame.seen[0, 63, 0]) == 255
    assert frame.surprise.shape == (16, 16)
    assert frame.surprise[:4, 12:].min() == 1.0 and frame.surprise[4:, :].max() == 0.0
    heat = surprise_overlay(frame.seen, frame.surprise)
    assert heat.shape == frame.seen.shape
    assert (heat[32:, :32] == frame.seen[32:, :32]).all()  # unsurprising: unchanged
    assert (heat[:16, 48:] != frame.seen[:16, 48:]).any()


def test_a_scale_free_prediction_is_drawn_stretched_and_judged_by_its_colours():
    # A layer whose loss is each pixel's cosine learns colours' directions, not lengths.
    seen = torch.full((1, 3, 64, 64), -0.8)
    seen[:, 0] = 0.8  # red
    expected = seen / 10  # the right colours, a tenth as long: what such a layer predicts
    expected[:, :, :16, 48:] *= -1  # the top right corner predicted the opposite colour
    frame = PredictionPreview.frame(expected, seen, 2.0, scale_free=True)
    assert frame.measure == "1 - cosine"
    assert frame.surprise[:4, 12:].min() == 1.0 and frame.surprise[4:, :].max() < 1e-6
    red = frame.expected[40, 10]  # drawn at length 1, not as a flat grey (as_before's)
    assert red[0] > 190 and red[1] < 70 and red[2] < 70
    assert frame.error == pytest.approx(2 * (16 * 16) / (64 * 64))
    as_before = PredictionPreview.frame(expected, seen, 2.0)  # squared error: everywhere
    assert as_before.measure == "MSE" and as_before.surprise[4:, :].min() > 0.5
    assert abs(int(as_before.expected[40, 10, 0]) - int(as_before.expected[40, 10, 1])) < 30


def test_the_view_toggles_the_overlay(qtbot):
    view = PredictionView()
    qtbot.addWidget(view)
    seen = torch.zeros(1, 3, 32, 32)
    seen[:, :, :8, :8] = 1.0
    view.show_frame(PredictionPreview.frame(torch.zeros(1, 3, 32, 32), seen, 1.0))
    with_heat = view.seen.pixmap().toImage()
    view.overlay.setChecked(False)
    assert view.seen.pixmap().toImage() != with_heat
    assert "1.0 s" in view.caption.text()


# --- in the window -------------------------------------------------------------------------

def test_the_window_with_every_dock_fits_a_1280x720_screen(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:3")
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.width() <= 1280, timeout=2000)  # it was 1326 at least
    assert window.minimumSizeHint().width() <= 1280
    controls = window.controls  # the plain controls in sight, the insight docks beside them
    for plain in (controls.sliders[-1], controls.slider_words[-1]):
        bottom = plain.mapTo(controls.viewport(), plain.rect().bottomLeft()).y()
        assert 0 < bottom <= controls.viewport().height()
    view = window.insight.prediction
    seen = torch.zeros(1, 3, 32, 32)
    view.show_frame(PredictionPreview.frame(seen, seen, 1.0))
    for label in (view.expected, view.seen):  # the pictures follow their (smaller) labels
        assert label.width() < PICTURE_PX
        assert label.pixmap().width() <= label.width()


def quiet_window(qtbot, tmp_path):
    """The window once its model is built, its source stopped: the test feeds the history.
    The picture on screen is then the learner's newest input (the capture may have shown a
    frame past it before it stopped: a mark would then go that far ahead)."""
    window = open_window(qtbot, tmp_path, "synthetic:3")
    qtbot.waitUntil(lambda: window.session.num_layers >= 1, timeout=SLOW)
    quiesce(qtbot, window)
    qtbot.waitUntil(lambda: window.sources.display.peek() is None, timeout=SLOW)
    window.picture_time = window.learner.input_source_time
    window.history.clear()
    return window


def test_the_window_marks_with_m_exports_and_keeps_marks_with_the_checkpoint(qtbot, tmp_path):
    window = quiet_window(qtbot, tmp_path)
    history, insight = window.history, window.insight
    for step, t in enumerate([0.0, 5.0, 12.0]):
        history.add(LayerStep(0, step, t, 0.5, 0.4, t == 5.0))
        if t:
            window.activateWindow()
            qtbot.keyClick(window, Qt.Key.Key_M)
    assert insight.marks.marks == [5.0, 12.0]
    window._redraw()
    insight.refresh()
    assert insight.annotation.table.rowCount() == 1
    assert insight.marks_row.lines.opts["x"].tolist() == [5.0, 12.0]

    insight.action_export_marks.trigger()  # scripted dialog: tmp_path / marks.json
    qtbot.waitUntil(lambda: (tmp_path / "marks.json").is_file(), timeout=10_000)
    doc = json.loads((tmp_path / "marks.json").read_text())
    assert [a["start"] for a in doc["layers"][0]["annots"]] == [0.0, 5.0, 12.0]

    # The learner 2 s behind the picture on screen: the mark goes where the picture is.
    window.learner.input_source_time, window.picture_time = 30.0, 32.0
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert insight.marks.marks == [5.0, 12.0, 14.0]
    insight.marks.undo()

    insight._save_marks_beside(str(tmp_path / "model.pt"), "save")
    qtbot.waitUntil(lambda: marks_path(tmp_path / "model.pt").is_file(), timeout=10_000)
    insight.marks.clear()
    insight._load_marks(marks_path(tmp_path / "model.pt"))
    assert insight.marks.marks == [5.0, 12.0]


def test_clicking_an_event_lists_similar_ones_and_jumping_pauses_the_timeline(qtbot, tmp_path):
    window = quiet_window(qtbot, tmp_path)
    insight, memory = window.insight, window.learner.events
    memory.add_all([event(0, 0, 5, 1, 0), event(0, 5, 9, 0, 1), event(0, 9, 12, 1, 0.1)])
    insight.show_similar(0, 10.0)
    assert insight.memory.list.count() == 3
    assert "9.0–12.0 s" in insight.memory.list.item(0).text()
    insight.show_similar(0, 30.0)
    assert "still going on" in insight.memory.heading.text()
    window.history.add(LayerStep(0, 0, 0.0, None, None, False))
    window.history.add(LayerStep(0, 100, 50.0, 0.5, 0.4, False))
    window.timeline.refresh()
    insight.show_event(0.0, 5.0)
    assert not window.timeline.following
    x0, x1 = window.timeline.visible_range()
    assert x0 == pytest.approx(-5.0) and x1 == pytest.approx(10.0)
