"""Sources that misbehave: a camera that disappears and comes back, files that end or loop,
pictures of every odd shape. The learned model and the timeline must survive all of them."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from gui_helpers import SLOW, assert_responsive, open_window, wait_steps
from source_helpers import MjpegServer, free_port, write_video

from app.gui.self_test import small_settings
from app.gui.workers.capture_worker import CaptureWorker
from app.gui.workers.learner_worker import LearnerWorker
from streamer_core.sources import Frame, FrameSource, preprocess_frame
from streamer_core.sources.mailbox import LatestMailbox

SHORT_DELAYS = (0.3, 0.6)  # reconnect attempts in a test: fast, but still backing off


def _last_step(window) -> int:
    return int(window.history.layers[0].steps["step"][-1])


def test_a_lost_camera_is_retried_and_learning_resumes_with_the_same_model(qtbot, tmp_path):
    server = MjpegServer(frames=100_000, fps=15.0).__enter__()
    port = server.port  # bound now: no gap in which another process could take it
    try:
        window = open_window(qtbot, tmp_path, server.url)
        window.sources.delays = SHORT_DELAYS
        window.notifier.popups = True  # the message box as a user sees it
        qtbot.waitUntil(lambda: window.session.source_info is not None
                        and window.session.source_info.spec == server.url, timeout=20_000)
        wait_steps(qtbot, window, 2)
        model, info = window.learner.worker.model, window.session.model_info
    finally:
        server.__exit__()

    # The app says so and keeps trying, ever less often; model and timeline stay.
    qtbot.waitUntil(lambda: window.session.run_state == "reconnecting", timeout=15_000)
    step_at_loss = _last_step(window)
    rows_at_loss = len(window.history.layers[0].steps)
    assert window.notifier.last.title == "Source lost" and window.notifier.box.isVisible()
    assert window.controls.start_button.text() == "⟳ Retry now"
    qtbot.waitUntil(lambda: window.sources.reconnecting.attempt >= 2, timeout=10_000)
    assert "Reconnecting" in window.video.banner and "attempt" in window.video.banner
    assert "stopped" in window.video.banner  # why it was lost
    assert window.video.banner_level == "warning"
    assert "Lost" in window.controls.source_status.text()
    assert not any(m.level == "error" for m in window.notifier.messages)
    assert_responsive(qtbot)
    # The timeline is kept (a frame taken before the loss may still have been learned).
    assert len(window.history.layers[0].steps) >= rows_at_loss
    assert window.history.layers[0].steps["step"][0] == 0

    # The camera comes back at the same address: frames and learning resume by themselves.
    with MjpegServer(frames=100_000, fps=15.0, port=port):
        qtbot.waitUntil(lambda: window.session.run_state == "running", timeout=20_000)
        assert window.sources.reconnecting is None and window.video.banner == ""
        assert "is back" in window.statusBar().currentMessage()
        assert not window.notifier.box.isVisible()  # "Source lost" no longer holds
        wait_steps(qtbot, window, 2)
        assert _last_step(window) > step_at_loss  # the same session's clock goes on
        assert window.learner.worker.model is model and window.session.model_info is info
        assert len(window.history.layers[0].steps) > rows_at_loss
        window.sources.stop()  # before the server goes: no second loss to wait for


def test_a_stream_down_at_launch_is_tried_until_it_comes_up_then_replaces_the_stand_in(
        qtbot, tmp_path):
    """It used to fall back to the synthetic scene for good."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/stream.mjpg"
    window = open_window(qtbot, tmp_path, url)
    window.sources.delays = SHORT_DELAYS
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=20_000)
    assert window.session.source_info.spec == "synthetic"  # the stand-in meanwhile
    qtbot.waitUntil(lambda: window.session.model_info is not None, timeout=SLOW)
    model = window.learner.worker.model
    qtbot.waitUntil(lambda: window.sources.reconnecting.attempt >= 2, timeout=15_000)
    window._update_status()
    assert "synthetic scene" in window.video.banner and "trying again" in window.video.banner
    assert window.session.run_state == "running"
    assert f"Waiting for URL: {url}" in window.controls.source_status.text()

    with MjpegServer(frames=100_000, fps=15.0, port=port) as server:  # it comes up
        qtbot.waitUntil(lambda: window.session.source_info.spec == url, timeout=20_000)
        assert window.sources.reconnecting is None and window.video.banner == ""
        assert "answered" in window.statusBar().currentMessage()
        assert window.settings.source == url
        wait_steps(qtbot, window, 1)
        assert window.learner.worker.model is model and server.served > 0
        window.sources.stop()


def test_while_reconnecting_the_user_can_retry_at_once_or_pick_another_source(qtbot,
                                                                              tmp_path):
    with MjpegServer(frames=100_000, fps=15.0) as server:
        window = open_window(qtbot, tmp_path, server.url)
        window.sources.delays = (30.0,)  # only the user makes attempts here
        qtbot.waitUntil(lambda: window.session.source_info is not None
                        and window.session.source_info.spec == server.url, timeout=20_000)
        wait_steps(qtbot, window, 1)
        model = window.learner.worker.model
    qtbot.waitUntil(lambda: window.session.run_state == "reconnecting", timeout=15_000)
    assert window.sources.reconnecting.attempt == 0 and window.sources.reconnect_timer.isActive()
    window.controls.start_button.click()  # "Retry now"
    assert window.sources.reconnecting.attempt == 1
    back = window.sources
    qtbot.waitUntil(lambda: back.reconnecting is not None and back.reconnecting.due > 0,
                    timeout=15_000)  # that attempt failed: the next one is scheduled
    window.controls.source_chosen.emit("synthetic")
    assert window.sources.reconnecting is None and not window.sources.reconnect_timer.isActive()
    qtbot.waitUntil(lambda: window.session.run_state == "running"
                    and window.session.source_info.spec == "synthetic", timeout=15_000)
    wait_steps(qtbot, window, 1)
    assert window.learner.worker.model is model


def test_a_stream_that_changes_resolution_keeps_flowing(qtbot, tmp_path):
    sizes = [(64, 48), (97, 31), (160, 120), (33, 65)]
    with MjpegServer(frames=100_000, fps=20.0, sizes=sizes) as server:
        window = open_window(qtbot, tmp_path, server.url)
        qtbot.waitUntil(lambda: window.session.source_info is not None
                        and window.session.source_info.spec == server.url, timeout=20_000)
        qtbot.waitUntil(lambda: server.served >= 45, timeout=20_000)  # every size was sent
        shown = window.video.frames_shown
        qtbot.waitUntil(lambda: window.video.frames_shown > shown + 3, timeout=10_000)
        wait_steps(qtbot, window, 2)
        assert window.session.run_state == "running" and window.notifier.last is None
        window.sources.stop()


def test_a_file_ends_or_loops_as_the_setting_says_while_learning(qtbot, tmp_path):
    # 4 s: 8 inputs a pass. The capture waits for the learner at every input, so the first
    # pass lasts 8 learning steps: time enough for the tick to land before the file ends
    # (a 2-input clip could end first on a loaded machine, and CI saw it).
    clip = write_video(tmp_path / "short.avi", frames=40, fps=10.0)
    window = open_window(qtbot, tmp_path, str(clip), follow_learner=True, loop_files=False)
    qtbot.waitUntil(lambda: window.session.source_info is not None, timeout=10_000)
    window.controls.loop_box.setChecked(True)  # the user ticks "Loop video files"
    assert window.settings.loop_files
    assert window.session.total_steps < 8, "the first pass ended before the tick"
    wait_steps(qtbot, window, 17)  # two passes and more, every input learned
    assert window.session.run_state == "running" and window.notifier.last is None
    assert window.sources.capture[1].loop

    window.controls.loop_box.setChecked(False)
    qtbot.waitUntil(lambda: window.session.run_state == "stopped", timeout=SLOW)
    assert window.notifier.last.title == "Source ended"
    assert "end of video" in window.notifier.last.text
    assert window.sources.reconnecting is None  # a file is not retried
    window.prefs.save()
    assert window.store.load()[0].loop_files is False


# --- pictures of every shape, through the capture worker and the learner -----------------

def _odd_pictures() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    wide = rng.integers(0, 255, (40, 90, 3), dtype=np.uint8)
    return [
        rng.integers(0, 255, (48, 64), dtype=np.uint8),  # gray
        rng.integers(0, 255, (48, 64, 1), dtype=np.uint8),  # gray with a channel axis
        rng.integers(0, 255, (31, 17, 4), dtype=np.uint8),  # RGBA, odd size
        rng.integers(0, 255, (1, 1, 3), dtype=np.uint8),  # a single pixel
        rng.integers(0, 255, (3, 1001, 3), dtype=np.uint8),  # a sliver
        rng.integers(0, 65535, (24, 32), dtype=np.uint16),  # 16-bit gray
        rng.random((20, 30, 3)).astype(np.float32),  # float RGB in [0, 1]
        wide[:, ::3],  # a strided view (not contiguous)
        rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8),  # resolution jumps up...
        rng.integers(0, 255, (9, 7, 3), dtype=np.uint8),  # ... and down
    ]


def _not_pictures() -> list[object]:
    return [np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4, 3), np.uint8),
            np.zeros(12, np.uint8), "not an image"]


class ScriptedSource(FrameSource):
    """Hands out the given images, one every `step` seconds of source time."""

    is_live = True  # no pacing: the test does not wait for source time

    def __init__(self, images: list[object], step: float = 0.5):
        self.images, self.step = images, step
        self.description = "scripted"
        self._next = None

    def open(self) -> None:
        self._next = 0

    def read(self) -> Frame | None:
        if self._next is None or self._next >= len(self.images):
            self.end_reason = "scripted: done"
            return None
        i, self._next = self._next, self._next + 1
        return Frame(self.images[i], i * self.step, i)  # type: ignore[arg-type]

    def close(self) -> None:
        self._next = None


class RecordingMailbox(LatestMailbox):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[np.ndarray] = []

    def put(self, item: Frame) -> bool:
        self.seen.append(item.image)
        return super().put(item)


def _run_capture(images: list[object]) -> tuple[CaptureWorker, RecordingMailbox, list[str]]:
    display, snippets = RecordingMailbox(), RecordingMailbox()
    worker = CaptureWorker("scripted", 0.5, display, snippets,
                           opener=lambda spec: ScriptedSource(images))
    ended: list[str] = []
    worker.ended.connect(lambda token, reason: ended.append(reason))
    worker.go()
    worker.run()  # on this thread: returns when the source is over
    return worker, snippets, ended


def test_the_capture_worker_turns_any_picture_into_rgb_and_skips_non_pictures(qapp):
    pictures, junk = _odd_pictures(), _not_pictures()
    mixed = [x for pair in zip(pictures, junk + [None] * len(pictures)) for x in pair
             if x is not None]
    worker, snippets, ended = _run_capture(mixed)
    assert ended == ["scripted: done"]
    assert worker.rejected == len(junk) and worker.stats().rejected == len(junk)
    assert len(snippets.seen) == len(pictures)
    for given, image in zip(pictures, snippets.seen):
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert image.shape[:2] == given.shape[:2]
        assert image.flags.c_contiguous
        x = preprocess_frame(image)
        assert x.shape == (1, 3, 128, 128) and bool(x.isfinite().all())


def test_a_source_of_nothing_but_junk_ends_with_the_reason_instead_of_spinning(qapp):
    worker, snippets, ended = _run_capture([np.zeros(3, np.uint8)] * 60)
    assert snippets.seen == []
    assert len(ended) == 1 and "unusable frames" in ended[0]


def test_a_file_at_learning_speed_shows_at_most_a_snippet_ahead_of_the_learner(qapp):
    """The capture reads on once the learner took its snippet: the picture on screen is
    the next snippet at most, not two (a person's mark goes where the picture is)."""
    class File(ScriptedSource):
        is_live = False  # paced: with follow_learner, by the learner

    display, snippets = LatestMailbox(), LatestMailbox()
    worker = CaptureWorker("file", 0.5, display, snippets, follow_learner=True,
                           opener=lambda spec: File([np.zeros((8, 8, 3), np.uint8)] * 31,
                                                    step=0.1))
    worker.go()
    capture = threading.Thread(target=worker.run)
    capture.start()
    leads = []
    while capture.is_alive() or snippets.waiting:
        if not snippets.wait_for_item(0.2):
            continue
        taken = snippets.take()
        time.sleep(0.05)  # a learning step: the capture reads what it may meanwhile
        leads.append(display.peek().timestamp - taken.timestamp)
    capture.join()
    assert len(leads) == 7  # 0, 0.5, ..., 3.0 s: every snippet reached the learner
    assert max(leads) == pytest.approx(0.5)


def test_a_source_that_raises_ends_the_source_not_the_thread(qapp):
    class Exploding(ScriptedSource):
        def read(self) -> Frame | None:
            raise RuntimeError("driver fault")

    display, snippets = LatestMailbox(), LatestMailbox()
    worker = CaptureWorker("x", 0.5, display, snippets, opener=lambda spec: Exploding([]))
    ended, finished = [], []
    worker.ended.connect(lambda token, reason: ended.append(reason))
    worker.finished.connect(lambda: finished.append(True))
    worker.go()
    worker.run()
    assert finished and len(ended) == 1 and "driver fault" in ended[0]


@pytest.fixture
def learner(qapp):
    model_args, opt_args = small_settings().model_arguments()
    mailbox: LatestMailbox[Frame] = LatestMailbox()
    worker = LearnerWorker(mailbox, model_args, opt_args)
    worker.start()
    return worker, mailbox


def test_the_learner_learns_from_odd_pictures_and_skips_a_bad_one(learner):
    worker, mailbox = learner
    steps, warnings, failures = [], [], []
    worker.stepped.connect(steps.append)
    worker.warned.connect(lambda title, text: warnings.append(text))
    worker.failed.connect(lambda title, text: failures.append(text))
    pictures = _odd_pictures()
    feed = pictures[:3] + [np.zeros((4, 4, 5), np.uint8)] + pictures[3:6]
    for i, image in enumerate(feed):
        mailbox.put(Frame(image, i * 0.5, i))
        worker.on_snippet_ready()
    assert failures == []
    assert len(steps) == len(feed) - 1 and worker.rejected_frames == 1
    assert len(warnings) == 1 and "skipped" in warnings[0]
    assert not worker._halted
