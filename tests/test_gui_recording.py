"""Recording from the window: File > Record session writes a session folder as it runs."""

import json
import time

import cv2
import numpy as np
import pytest
from gui_helpers import SLOW, open_window, wait_steps
from test_session_recording import recorded_frames

from app.gui.insight.event_memory import RememberedEvent
from app.session.recorder import (
    CHECKPOINT_NAME,
    HIERARCHY_NAME,
    SESSION_NAME,
    TRACE_NAME,
    VIDEO_NAME,
)
from streamer_core import LayerStep, StreamerModel

SOURCE = "synthetic:2:600"


def test_record_session_writes_a_folder_and_shows_its_disk_use(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"))
    wait_steps(qtbot, window, 1)
    window.action_record.trigger()
    assert window.recording.recording and window.action_record.isChecked()
    folder = window.recording.recorder.folder
    assert folder.parent == tmp_path / "rec"
    qtbot.waitUntil(lambda: window.recording.recorder.frames >= 3, timeout=SLOW)
    qtbot.waitUntil(lambda: window.recording_indicator.isVisible()
                    and window.recording.recorder.disk_bytes > 0, timeout=SLOW)
    assert "REC" in window.recording_indicator.text()
    assert "MB" in window.recording_indicator.text()

    window.action_record.trigger()  # stop: the model is saved into the folder once more
    assert not window.recording.recording and not window.recording_indicator.isVisible()
    qtbot.waitUntil(lambda: (folder / CHECKPOINT_NAME).exists(), timeout=SLOW)
    qtbot.waitUntil(lambda: json.loads((folder / SESSION_NAME).read_text())["frames"] >= 3,
                    timeout=SLOW)
    video = cv2.VideoCapture(str(folder / VIDEO_NAME))
    assert video.read()[0]
    assert window.settings.record_session is False

    window.action_review.trigger()  # review mode opens beside the live window
    assert window.review.isVisible() and window.isVisible()
    assert window.review.controller.open_recording(folder)
    assert window.review.timeline.rows[0] == (0, 0)


def test_a_new_model_starts_a_new_session_folder(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"),
                         record_session=True)
    assert window.recording.recording  # remembered from the last launch
    first = window.recording.recorder.folder
    wait_steps(qtbot, window, 2)
    window.learner.reset(window.settings)
    qtbot.waitUntil(lambda: window.recording.recorder.folder != first, timeout=SLOW)
    assert sorted(p.name for p in (tmp_path / "rec").iterdir()) == sorted(
        [first.name, window.recording.recorder.folder.name])


@pytest.mark.parametrize("held_back", [True, False])
def test_closing_the_window_ends_the_recorded_stream(qtbot, tmp_path, monkeypatch, held_back):
    """Closing ends the stream as Stop does: what layer 0 still held back reaches the
    recording (here a scripted layer-1 boundary from StreamerModel.end_stream), and the
    recorded hierarchy reaches the last input whether or not anything was held back."""
    ends: list[int] = []  # the model's input count at each end

    def scripted_end(model: StreamerModel) -> list[LayerStep]:
        ends.append(model.base_counter)
        step = model.base_counter - 2
        return [LayerStep(1, step, step * model.args.snippet_size, 0.9, None, True)
                ] if held_back else []
    monkeypatch.setattr(StreamerModel, "end_stream", scripted_end)
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"),
                         record_session=True)
    folder = window.recording.recorder.folder
    wait_steps(qtbot, window, 3)
    window.close()
    assert len(ends) == 1
    rows = [json.loads(line) for line in (folder / TRACE_NAME).read_text().splitlines()]
    end_row = {"layer": 1, "step": ends[0] - 2, "boundary": True}.items() <= rows[-1].items()
    assert end_row == held_back
    hierarchy = json.loads((folder / HIERARCHY_NAME).read_text())
    assert hierarchy["duration"] == ends[0] * window.learner.snippet_size


def test_an_unwritable_recordings_folder_is_refused_with_a_message(qtbot, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(blocker))
    window.action_record.trigger()
    assert not window.recording.recording and not window.action_record.isChecked()
    assert window.notifier.messages[-1].title == "Not recording"


def test_a_recorder_that_cannot_write_stops_recording_with_a_message(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"))
    window.action_record.trigger()
    window.recording.recorder.error = "/rec/video.mjpeg: No space left on device"
    window.recording._show_disk_use()  # as its status timer does every second
    assert not window.recording.recording and not window.action_record.isChecked()
    assert window.notifier.messages[-1].title == "Recording stopped"
    assert "No space left" in window.notifier.messages[-1].text


def test_closing_ends_the_thread_even_when_the_end_of_the_stream_fails(qtbot, tmp_path,
                                                                        monkeypatch):
    """The window still closes within its wait, and the failure reaches the app's hook."""
    def failing_end(model: StreamerModel) -> list[LayerStep]:
        raise RuntimeError("the end failed")
    monkeypatch.setattr(StreamerModel, "end_stream", failing_end)
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"),
                         record_session=True)
    wait_steps(qtbot, window, 2)
    with qtbot.captureExceptions() as raised:
        window.close()
    assert not window.threads_running()
    assert [str(e[1]) for e in raised] == ["the end failed"]  # reported, not swallowed


def test_a_past_event_double_clicked_in_the_event_memory_plays_from_the_recording(
        qtbot, tmp_path):
    """A live session keeps no frames: a listed event plays from the session's recording,
    in review mode's window; without one, the status bar says how to get one."""
    window = open_window(qtbot, tmp_path, SOURCE, recordings_folder=str(tmp_path / "rec"))
    panel = window.insight.memory
    wait_steps(qtbot, window, 1)
    earlier = RememberedEvent(0, 0.0, 0.5, np.ones(3, np.float32))
    panel.show_similar(earlier, [])
    item = panel.list.item(0)
    panel.list.itemDoubleClicked.emit(item)  # as a double-click on it does
    assert "Record session" in window.statusBar().currentMessage()
    assert getattr(window, "review", None) is None

    window.action_record.trigger()
    recorder = window.recording.recorder
    qtbot.waitUntil(lambda: recorded_frames(recorder.folder) >= 8  # session.json's
                    and (recorder.folder / HIERARCHY_NAME).exists(), timeout=SLOW)
    first = json.loads((recorder.folder / SESSION_NAME).read_text())["first_time"]
    assert first > 0.0  # the recording began after the session
    panel.list.itemDoubleClicked.emit(item)  # an event from before it
    assert "before the recording began" in window.statusBar().currentMessage()
    recorded = RememberedEvent(0, first + 1.0, first + 2.0, np.ones(3, np.float32))
    panel.show_similar(recorded, [])
    panel.list.itemDoubleClicked.emit(panel.list.item(0))
    review = window.review
    assert review.isVisible() and review.controller.playing
    assert review.controller.session.position == pytest.approx(first + 1.0, abs=0.3)
    review.controller.pause()


def test_a_learner_that_stalls_leaves_holes_and_exports_on_the_streams_clock(
        qtbot, tmp_path, monkeypatch):
    """The real window on a source in real time, its learner stalled once for longer than
    its mailbox holds: snippets are dropped, the timeline keeps the hole, and the exported
    hierarchy reaches the newest input's time on the source's clock."""
    import app.gui.workers.learner_worker as learner_module

    real_step = learner_module.learning_step
    calls = []

    def stalling(*args, **kwargs):
        calls.append(1)
        if len(calls) == 4:
            time.sleep(8.0)  # 16 snippets arrive meanwhile; the mailbox keeps 12
        return real_step(*args, **kwargs)

    monkeypatch.setattr(learner_module, "learning_step", stalling)
    window = open_window(qtbot, tmp_path, SOURCE, follow_learner=False)
    qtbot.waitUntil(lambda: len(window.history.unseen) > 0, timeout=60_000)
    wait_steps(qtbot, window, 2)
    holes = window.history.unseen
    lost = sum(holes["end"] - holes["start"]) / window.learner.snippet_size
    assert lost == pytest.approx(window.snippets.skipped, abs=2)  # some since the last step
    out = tmp_path / "events.json"
    window.learner.requests.export_hierarchy.emit(str(out), "synthetic")
    qtbot.waitUntil(out.exists, timeout=SLOW)
    doc = json.loads(out.read_text())
    newest = window.learner.input_source_time
    assert doc["duration"] >= newest - 1.0  # counted in inputs it fell short by the hole
    assert doc["duration"] >= window.history.latest_time
