"""The window with real sources: frames flow, sources switch, dying sources are survived."""

import time

from gui_helpers import (
    SLOW,
    assert_responsive,
    open_window,
    pause_and_wait_for_the_reader,
    quiesce,
    wait_steps,
)
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from source_helpers import MjpegServer, write_video

from streamer_core import LayerStep, StreamerModel


def test_window_opens_and_frames_flow_from_the_synthetic_scene(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic")
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    assert window.session.source_info.is_live
    assert window.session.run_state == "running"
    shown = window.video.frames_shown
    qtbot.waitUntil(lambda: window.video.frames_shown >= shown + 5, timeout=10_000)
    assert window.windowTitle().startswith("Streamer Studio")
    assert "Synthetic" in window.controls.source_status.text()
    wait_steps(qtbot, window, 1)
    window._update_status()
    assert "CPU" in window.status.labels["device"].text()
    assert window.status.labels["fps"].text().startswith("capture")


def test_without_a_camera_the_window_says_it_shows_the_synthetic_scene(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "camera:9")  # no such camera here (or anywhere)
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=15_000)
    assert window.session.source_info.spec == "synthetic"
    assert "synthetic scene" in window.video.banner
    assert window.video.banner_level == "warning"
    assert "Camera 9" in window.video.banner  # and why
    qtbot.waitUntil(lambda: window.video.frames_shown > 0, timeout=10_000)
    assert window.settings.source == "camera:9"  # the next launch looks for it again


def test_frames_flow_from_a_file_until_it_ends_then_the_app_stays_usable(qtbot, tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=25, fps=10.0)  # 2.5 s, played in real time
    window = open_window(qtbot, tmp_path, str(clip), follow_learner=False)
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    assert not window.session.source_info.is_live
    assert window.session.source_info.description == "clip.avi"
    qtbot.waitUntil(lambda: window.video.frames_shown >= 5, timeout=10_000)
    qtbot.waitUntil(lambda: window.session.run_state == "stopped", timeout=20_000)
    message = window.notifier.last
    assert message.title == "Source ended" and "end of video" in message.text
    assert "end of video" in window.video.banner
    assert_responsive(qtbot)
    # Start plays the file again; the model carried on from where it was.
    steps = window.session.total_steps
    window.action_start.trigger()
    qtbot.waitUntil(lambda: window.session.run_state == "running", timeout=10_000)
    # Counted from before Start: the replay's steps may all land before this line.
    qtbot.waitUntil(lambda: window.session.total_steps > steps, timeout=SLOW)


def test_a_file_played_to_its_end_ends_the_stream_for_the_model(qtbot, tmp_path, monkeypatch):
    """A scene change in a video's last 1.5 s waits for inputs that never come; when the
    file ends, the model decides it (StreamerModel.end_stream) and the timeline shows the
    layer-1 boundary it gives, without counting a step. Here the end gives a scripted one."""
    ends: list[int] = []  # the model's input count at each end

    def scripted_end(model: StreamerModel) -> list[LayerStep]:
        ends.append(model.base_counter)
        step = model.base_counter - 2
        return [LayerStep(1, step, step * model.args.snippet_size, 0.9, None, True)]
    monkeypatch.setattr(StreamerModel, "end_stream", scripted_end)
    clip = write_video(tmp_path / "clip.avi", frames=25, fps=10.0)
    window = open_window(qtbot, tmp_path, str(clip), follow_learner=True)
    qtbot.waitUntil(lambda: window.session.run_state == "stopped", timeout=SLOW)
    qtbot.waitUntil(lambda: bool(ends), timeout=SLOW)
    quiesce(qtbot, window)
    assert ends == [window.session.total_steps]  # once, after the file's last input
    layer_one = window.history.layers[1]
    qtbot.waitUntil(lambda: len(layer_one.boundaries) > 0, timeout=10_000)
    assert layer_one.boundaries["time"][-1] == (ends[0] - 2) * window.learner.snippet_size
    assert len(window.history.layers[0].steps) == window.session.total_steps


def test_stopping_a_source_ends_the_stream_and_pausing_does_not(qtbot, tmp_path, monkeypatch):
    """Start after Stop plays a file from its beginning and a camera after a gap, so what
    layer 0 held back is decided at Stop, with what came; a pause goes on where it was."""
    ends: list[int] = []
    monkeypatch.setattr(StreamerModel, "end_stream",
                        lambda model: ends.append(model.base_counter) or [])
    window = open_window(qtbot, tmp_path, "synthetic")
    wait_steps(qtbot, window, 2)
    window.action_pause.trigger()
    qtbot.waitUntil(lambda: window.session.run_state == "paused", timeout=10_000)
    window.action_start.trigger()
    qtbot.waitUntil(lambda: window.session.run_state == "running", timeout=10_000)
    quiesce(qtbot, window)
    assert len(ends) == 1 and window.session.run_state == "stopped"


def test_a_network_camera_that_stops_leaves_the_app_responsive_with_a_message(qtbot, tmp_path):
    with MjpegServer(frames=100_000, fps=15.0) as server:
        window = open_window(qtbot, tmp_path, "synthetic")
        qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
        window.controls.url_edit.setText(server.url)
        window.controls.url_button.click()
        qtbot.waitUntil(lambda: window.session.source_info is not None
                        and window.session.source_info.spec == server.url, timeout=20_000)
        shown = window.video.frames_shown
        qtbot.waitUntil(lambda: window.video.frames_shown >= shown + 5, timeout=10_000)
    stopped_at = time.monotonic()
    qtbot.waitUntil(lambda: window.session.run_state == "reconnecting", timeout=15_000)
    assert time.monotonic() - stopped_at < 10
    assert window.notifier.last.title == "Source lost"
    assert window.video.banner_level == "warning" and "Reconnecting" in window.video.banner
    assert_responsive(qtbot)
    window.action_stop.trigger()  # the user gives up waiting
    assert window.session.run_state == "stopped" and window.sources.reconnecting is None
    assert not window.sources.reconnect_timer.isActive()
    assert not any(m.level == "error" for m in window.notifier.messages)


def test_switching_sources_keeps_the_model_and_retires_the_old_reader(qtbot, tmp_path):
    clip = write_video(tmp_path / "clip.avi", frames=200, fps=10.0)
    window = open_window(qtbot, tmp_path, "synthetic:3:600")
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    wait_steps(qtbot, window, 2)
    first_model = window.session.model_info

    window.controls.source_chosen.emit(str(clip))
    qtbot.waitUntil(lambda: window.session.source_info is not None
                    and window.session.source_info.description == "clip.avi", timeout=10_000)
    shown = window.video.frames_shown
    qtbot.waitUntil(lambda: window.video.frames_shown > shown + 3, timeout=10_000)
    wait_steps(qtbot, window, 2)

    index = window.controls.source_combo.findData("synthetic")
    window.controls.source_combo.setCurrentIndex(index)
    window.controls.source_combo.activated.emit(index)
    qtbot.waitUntil(lambda: window.session.source_info is not None
                    and window.session.source_info.spec == "synthetic", timeout=10_000)
    qtbot.waitUntil(lambda: not window.sources.retiring, timeout=10_000)  # old readers ended
    assert window.session.model_info is first_model  # same model throughout
    assert window.settings.source == "synthetic"


def test_a_missing_file_gives_a_message_and_keeps_the_running_source(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:3:600")
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    window.sources.open(str(tmp_path / "nope.mp4"))
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=10_000)
    assert window.notifier.last.title == "Cannot open source"
    assert "nope.mp4" in window.notifier.last.text
    assert "Still playing" in window.notifier.last.text
    assert window.settings.source == "synthetic:3:600"  # a bad choice is not remembered
    assert window.session.run_state == "running"
    assert window.session.source_info.spec == "synthetic:3:600"
    shown = window.video.frames_shown
    qtbot.waitUntil(lambda: window.video.frames_shown > shown + 3, timeout=10_000)
    assert_responsive(qtbot)


def test_pause_freezes_the_picture_and_start_resumes(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic")
    qtbot.waitUntil(lambda: window.video.frames_shown >= 3, timeout=10_000)
    pause_and_wait_for_the_reader(qtbot, window)
    assert window.session.run_state == "paused"
    frozen = window.video.frames_shown
    qtbot.wait(700)  # the synthetic scene plays 7 frames in that time
    assert window.video.frames_shown == frozen
    window.controls.start_button.click()
    assert window.session.run_state == "running"
    qtbot.waitUntil(lambda: window.video.frames_shown >= frozen + 3, timeout=10_000)


def test_a_looped_file_plays_again_instead_of_ending(qtbot, tmp_path):
    clip = write_video(tmp_path / "short.avi", frames=8, fps=10.0)  # 0.8 s
    window = open_window(qtbot, tmp_path, str(clip), follow_learner=False, loop_files=True)
    qtbot.waitUntil(lambda: window.video.frames_shown >= 20, timeout=15_000)
    assert window.session.run_state == "running"
    assert window.notifier.last is None


def test_closing_the_window_stops_both_threads_within_two_seconds(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic")
    wait_steps(qtbot, window, 2, timeout=SLOW)
    threads = window.threads()
    assert all(t.isRunning() for t in threads)
    started = time.monotonic()
    window.close()
    took = time.monotonic() - started
    assert not any(t.isRunning() for t in threads)
    assert took < 2.0, f"closing took {took:.2f} s"


def test_a_video_file_dropped_on_the_window_becomes_the_source(qtbot, tmp_path):
    clip = write_video(tmp_path / "dropped.avi", frames=40, fps=10.0)
    window = open_window(qtbot, tmp_path, "synthetic")
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(clip))])
    position = QPointF(window.rect().center())
    enter = QDragEnterEvent(position.toPoint(), Qt.DropAction.CopyAction, data,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(position, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)
    qtbot.waitUntil(lambda: window.session.source_info.description == "dropped.avi", timeout=10_000)

    text = QMimeData()
    text.setText("not a file")
    refused = QDragEnterEvent(position.toPoint(), Qt.DropAction.CopyAction, text,
                              Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    refused.ignore()
    QApplication.sendEvent(window, refused)
    assert not refused.isAccepted()
