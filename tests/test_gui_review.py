"""Review mode: a recorded session (or a video and its JSON) played over its events."""

import json
import time

import cv2
import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt

from app.gui.review.review_controller import ReviewController
from app.gui.review.review_session import MjpegVideo, ReviewError, ReviewSession, load_hierarchy
from app.gui.review.review_window import ReviewWindow
from app.gui.self_test import scripted_dialogs
from app.session.keyframes import Keyframe, encode_jpeg
from app.session.marks_file import marks_path
from app.session.recorder import (
    CHECKPOINT_NAME,
    REPRESENTATIONS_NAME,
    VIDEO_NAME,
    SessionRecorder,
)
from streamer_core import LayerStep
from streamer_core.event_representations import add_representations
from streamer_core.hierarchy import hierarchy_json

SNIPPET = 0.5
EVENTS = {0: [0.0, 5.0, 12.0, 20.0], 1: [0.0, 12.0, 20.0]}  # boundaries per layer
TRUTH = {0: [0.0, 6.0, 20.0]}
# Layer 0's first and third events alike, its second unlike both; layer 1 has no vectors.
VECTORS = {0: [[1.0, 0.0, 0.2], [0.0, 1.0, 0.0], [0.9, 0.1, 0.3]]}


def shade(step: int) -> np.ndarray:
    """A flat frame whose grey level names its input."""
    return np.full((48, 64, 3), 5 * step, np.uint8)


def level(rgb: np.ndarray) -> float:
    return float(rgb.mean()) / 5


def write_hierarchy(path, boundaries) -> None:
    path.write_text(json.dumps(hierarchy_json({"boundaries": boundaries}, file="clip",
                                              duration=20.0)))


@pytest.fixture
def recording(tmp_path):
    """40 inputs (20 s) recorded as the app does, layer 0 closing events at 5 and 12 s."""
    recorder = SessionRecorder(tmp_path / "session", SNIPPET, "synthetic:1")
    for step in range(40):
        t = step * SNIPPET
        closed = [Keyframe(0, i, EVENTS[0][i], t, (EVENTS[0][i] + t) / 2,
                           encode_jpeg(shade(int((EVENTS[0][i] + t) / 2 / SNIPPET))))
                  for i in range(2) if EVENTS[0][i + 1] == t]
        report = LayerStep(0, step, t, 0.1, 0.2, bool(closed))
        events = [(0, k.start, k.end, np.asarray(VECTORS[0][k.index], np.float32))
                  for k in closed]
        while not recorder.add_input(shade(step), [report], closed, events):
            time.sleep(0.01)  # the writer's queue is full: wait, every frame is needed here
    recorder.set_hierarchy(hierarchy_json({"boundaries": EVENTS}, file=VIDEO_NAME,
                                          duration=20.0))
    recorder.close()
    write_hierarchy(tmp_path / "truth.json", TRUTH)
    return tmp_path / "session"


def test_a_recorded_session_opens_with_its_events_frames_and_keyframes(recording):
    session = ReviewSession.open_recording(recording)
    assert session.video.frame_count == 40 and session.duration == 20.0
    assert [len(layer.starts) for layer in session.hierarchies[0].layers] == [3, 2]
    session.seek(7.0)
    assert level(session.picture()) == pytest.approx(14, abs=0.5)
    assert session.event_at(0, 0) == (5.0, 12.0, 1)
    assert session.event_at(0, 1) == (0.0, 12.0, 0)
    assert session.keyframes.at(0, 7.0).start == 5.0
    assert session.seek(99.0) == 20.0 and session.picture() is None  # after the video


def test_a_video_torn_by_a_crash_keeps_its_whole_frames(recording):
    data = (recording / VIDEO_NAME).read_bytes()
    torn = recording / "torn.mjpeg"
    torn.write_bytes(data[:-300])
    video = MjpegVideo(torn, 2.0)
    assert video.frame_count == 40
    assert level(video.frame(38)) == pytest.approx(38, abs=0.5)
    assert video.frame(39) is None  # torn: skipped, not a crash
    capture = cv2.VideoCapture(str(recording / VIDEO_NAME))  # and OpenCV plays the file
    assert capture.read()[0]


def test_bad_files_are_refused_with_the_reason(tmp_path):
    (tmp_path / "bad.json").write_text('{"layers": [{"annots": [{"start": "x"}]}]}')
    with pytest.raises(ReviewError, match="not a hierarchy JSON"):
        load_hierarchy(tmp_path / "bad.json")
    with pytest.raises(ReviewError, match="not a recorded session"):
        ReviewSession.open_recording(tmp_path)


def test_the_controller_seeks_to_a_clicked_event_and_plays(qtbot, recording):
    controller = ReviewController()
    pictures = []
    controller.picture.connect(pictures.append)
    assert controller.open_recording(recording)
    assert controller.seek_event(0, 0, 8.3)  # a click inside layer 0's second event
    assert controller.session.position == 5.0
    assert level(pictures[-1]) == pytest.approx(10, abs=0.5)
    assert not controller.seek_event(0, 5, 8.3)  # no such row
    controller.play()
    qtbot.waitUntil(lambda: controller.session.position > 5.4, timeout=5000)
    controller.pause()
    assert not controller.timer.isActive()


def open_review(qtbot, tmp_path) -> ReviewWindow:
    window = ReviewWindow(popups=False)
    window.dialogs = scripted_dialogs(window, tmp_path / "model.pt", tmp_path)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


def click_timeline(qtbot, window: ReviewWindow, seconds: float, row: int) -> None:
    """A real mouse click on the timeline at `seconds` in the `row`-th row from the top."""
    timeline = window.timeline
    viewbox = timeline.plot.getViewBox()
    y = len(timeline.rows) - 1 - row + 0.5
    scene = viewbox.mapViewToScene(QPointF(seconds, y))
    point = timeline.mapFromScene(scene)
    qtbot.mouseClick(timeline.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(point))


def test_clicking_an_event_seeks_the_video_there(qtbot, recording):
    window = open_review(qtbot, recording.parent)
    assert window.controller.open_recording(recording)
    assert window.timeline.rows == [(0, 0), (0, 1)]
    assert window.slider.maximum() == 20_000
    click_timeline(qtbot, window, 15.0, row=0)  # layer 0's third event, 12-20 s
    qtbot.waitUntil(lambda: window.controller.session.position == 12.0, timeout=3000)
    assert window.slider.value() == 12_000 and window.timeline.playhead.value() == 12.0
    assert level(window.video._array) == pytest.approx(24, abs=0.5)
    assert [b.event for b in window.video.badges] == [2, 1]
    click_timeline(qtbot, window, 3.0, row=1)  # layer 1's first event
    qtbot.waitUntil(lambda: window.controller.session.position == 0.0, timeout=3000)

    window.slider.setValue(9_000)  # scrubbing
    assert window.controller.session.position == 9.0
    assert level(window.video._array) == pytest.approx(18, abs=0.5)
    window.play_button.click()
    assert window.controller.playing and "Pause" in window.play_button.text()
    window.play_button.click()
    assert not window.controller.playing



def test_a_recording_with_snippets_never_seen_stays_on_the_streams_clock(qtbot, tmp_path):
    """Inputs 10-13 never reached the model: the video repeats the frame before for them,
    so its pictures keep the hierarchy's times, and review cuts the stretch out of every
    row."""
    recorder = SessionRecorder(tmp_path / "session", SNIPPET, "synthetic:1")
    for step in [*range(10), *range(14, 40)]:
        report = LayerStep(0, step, step * SNIPPET, 0.1, 0.2, False)
        while not recorder.add_input(shade(step), [report]):
            time.sleep(0.01)  # the writer's queue is full: its own drops would fill too
    recorder.set_hierarchy(hierarchy_json({"boundaries": EVENTS}, file=VIDEO_NAME,
                                          duration=20.0))
    recorder.close()
    assert recorder.filled == 4 and recorder.unseen == [(5.0, 7.0)]
    session = ReviewSession.open_recording(tmp_path / "session")
    assert session.video.frame_count == 40 and session.unseen == [(5.0, 7.0)]
    for seconds, shown in ((4.5, 9), (6.0, 9), (7.0, 14), (19.5, 39)):
        session.seek(seconds)
        assert level(session.picture()) == pytest.approx(shown, abs=0.5), seconds
    window = open_review(qtbot, tmp_path)
    assert window.controller.open_recording(tmp_path / "session")
    holes = window.timeline.bars[-1]
    assert list(holes.opts["x0"]) == [5.0] and list(holes.opts["width"]) == [2.0]
    assert holes.opts["height"] == len(window.timeline.rows)
    window.slider.setValue(6_000)
    assert "not seen by the model" in window.video.caption
    window.slider.setValue(8_000)
    assert "not seen" not in window.video.caption

def test_a_second_hierarchy_adds_rows_beside_the_first(qtbot, recording):
    window = open_review(qtbot, recording.parent)
    window.controller.open_recording(recording)
    assert window.controller.compare_with(recording.parent / "truth.json")
    # Layer by layer: recorded layer 0, truth layer 0, recorded layer 1.
    assert window.timeline.rows == [(0, 0), (1, 0), (0, 1)]
    ticks = window.timeline.plot.getAxis("left")._tickLevels[0]
    assert [text for _, text in ticks] == ["recorded · layer 0", "truth.json · layer 0",
                                          "recorded · layer 1"]
    assert list(window.timeline.bars[1].opts["x0"]) == [0.0, 6.0]
    click_timeline(qtbot, window, 10.0, row=1)  # the truth's event 6-20 s
    qtbot.waitUntil(lambda: window.controller.session.position == 6.0, timeout=3000)
    window.controller.compare_with(recording.parent / "missing.json")
    assert window.notifier.messages[-1].title == "Cannot compare"


def test_a_video_file_opens_with_its_hierarchy(qtbot, tmp_path):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 4.0, (64, 48))
    for step in range(80):  # 20 s at 4 fps
        writer.write(shade(step // 2))
    writer.release()
    write_hierarchy(tmp_path / "clip.json", EVENTS)
    window = open_review(qtbot, tmp_path)
    assert window.controller.open_video(video, tmp_path / "clip.json")
    window.controller.seek_event(0, 0, 6.0)
    assert window.controller.session.position == 5.0
    assert level(window.video._array) == pytest.approx(10, abs=0.5)  # frame 20 of 80


def clip_with_representations(tmp_path, vectors: dict[int, list] | None):
    """clip.avi (20 s, each frame's grey level naming its input) and clip.json with EVENTS,
    whose events carry `vectors` (as `segment --representations` writes them)."""
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 4.0, (64, 48))
    for step in range(80):
        writer.write(shade(step // 2))
    writer.release()
    doc = hierarchy_json({"boundaries": EVENTS}, file="clip", duration=20.0)
    if vectors is not None:
        add_representations(doc, {layer: [np.asarray(v, np.float32) for v in listed]
                                  for layer, listed in vectors.items()})
    (tmp_path / "clip.json").write_text(json.dumps(doc))
    return video, tmp_path / "clip.json"


def test_clicking_an_event_lists_the_events_most_like_it_and_one_of_them_plays(qtbot, tmp_path):
    video, doc = clip_with_representations(tmp_path, VECTORS)
    window = open_review(qtbot, tmp_path)
    assert window.controller.open_video(video, doc)
    click_timeline(qtbot, window, 2.0, row=0)  # layer 0's first event, 0-5 s
    qtbot.waitUntil(lambda: window.similar.list.count() == 3, timeout=3000)
    listed = [window.similar.list.item(row).text() for row in range(3)]
    assert listed[0].startswith("0.0–5.0 s") and "this event" in listed[0]
    assert listed[1].startswith("12.0–20.0 s")  # the one like it first
    assert listed[2].startswith("5.0–12.0 s")
    assert "2 most similar events" in window.similar.heading.text()
    assert not window.similar.list.item(1).icon().isNull()  # the video's frame at 16 s
    window.similar.list.itemClicked.emit(window.similar.list.item(1))
    assert window.controller.playing
    assert window.controller.session.position == pytest.approx(12.0, abs=0.2)
    window.controller.pause()

    click_timeline(qtbot, window, 15.0, row=1)  # layer 1: no representations
    qtbot.waitUntil(lambda: "no representation" in window.similar.heading.text(),
                    timeout=3000)
    assert window.similar.list.count() == 0


def test_a_hierarchy_without_representations_says_where_they_come_from(qtbot, tmp_path):
    video, doc = clip_with_representations(tmp_path, None)
    controller = ReviewController()
    said = []
    controller.similar_missing.connect(said.append)
    assert controller.open_video(video, doc)
    assert controller.seek_event(0, 0, 8.0)
    assert "segment --representations" in said[-1]
    assert controller.session.position == 5.0  # the seek itself is unchanged


def test_a_recorded_session_finds_its_similar_events_by_what_it_recorded(recording):
    """The app records each closed event's representation; the last line may be torn."""
    with open(recording / REPRESENTATIONS_NAME, "a", encoding="utf-8") as file:
        file.write('{"layer": 0, "start": 12.0, "end": 20.0, "representation": [0.9, 0.')
    session = ReviewSession.open_recording(recording)
    query, found = session.similar(0, 2.0, 8)  # recorded: the events closed at 5 and 12 s
    assert (query.start, query.end) == (0.0, 5.0)
    assert [(event.start, event.end) for event, _ in found] == [(5.0, 12.0)]
    assert found[0][1] == pytest.approx(0.0)  # unlike it (two events: compared as they are)
    assert session.similar(0, 15.0, 8) is None  # the event still open: none written


def test_a_recorded_sessions_open_events_are_found_by_their_slot_in_its_json(recording):
    """The app writes the open events' representations into the recording's hierarchy
    (the closed ones go to representations.jsonl as they close)."""
    doc = hierarchy_json({"boundaries": EVENTS}, file=VIDEO_NAME, duration=20.0)
    add_representations(doc, {0: [None, None, np.array([0.9, 0.1, 0.3], np.float32)]})
    (recording / "hierarchy.json").write_text(json.dumps(doc))
    query, found = ReviewSession.open_recording(recording).similar(0, 15.0, 8)
    assert (query.start, query.end) == (12.0, 20.0)
    assert [(event.start, event.end) for event, _ in found][0] == (0.0, 5.0)  # alike


def test_the_marks_saved_with_a_recorded_session_come_with_it(qtbot, recording):
    """A person's live marks are saved beside the session's checkpoint: review shows them
    as rows of their own, and a comparison goes beside them."""
    write_hierarchy(marks_path(recording / CHECKPOINT_NAME), {0: [0.0, 4.5, 13.0]})
    window = open_review(qtbot, recording.parent)
    assert window.controller.open_recording(recording)
    assert window.timeline.rows == [(0, 0), (1, 0), (0, 1)]
    ticks = window.timeline.plot.getAxis("left")._tickLevels[0]
    assert ticks[1][1] == "your marks · layer 0"
    assert window.controller.compare_with(recording.parent / "truth.json")
    assert [h.label for h in window.controller.session.hierarchies] == [
        "recorded", "your marks", "truth.json"]
    assert window.controller.compare_with(recording.parent / "truth.json")  # replaced
    assert len(window.controller.session.hierarchies) == 3
