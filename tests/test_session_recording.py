"""A recorded session survives kill -9: a video OpenCV reads, a hierarchy JSON that loads,
the trace, keyframes and the checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from app.gui.controllers.learner_controller import LearnerController
from app.gui.controllers.session import SessionStatus
from app.gui.controllers.session_history import SessionHistory
from app.gui.self_test import small_settings
from app.gui.workers.learner_worker import LearnerWorker
from app.session.keyframes import Keyframe, encode_jpeg
from app.session.recorder import (
    CHECKPOINT_NAME,
    HIERARCHY_NAME,
    KEYFRAMES_DIR,
    SESSION_NAME,
    TRACE_NAME,
    VIDEO_NAME,
    SessionRecorder,
    new_session_folder,
    read_keyframes,
    read_recorded_representations,
)
from streamer_core import LayerStep
from streamer_core.checkpoint import load_checkpoint
from streamer_core.event_representations import read_representations
from streamer_core.sources import SyntheticSource
from streamer_core.sources.mailbox import LatestMailbox

CHILD = Path(__file__).with_name("recording_child.py")


def recorded_frames(folder: Path) -> int:
    try:
        return json.loads((folder / SESSION_NAME).read_text())["frames"]
    except (OSError, ValueError):
        return 0


def test_a_session_killed_with_sigkill_leaves_a_readable_folder(tmp_path):
    folder = tmp_path / "session"
    child = subprocess.Popen([sys.executable, str(CHILD), str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 120
        for _line in child.stdout:  # until a flush has written 6 frames and an event
            if time.monotonic() > deadline:
                pytest.fail("the recording child is too slow")
            if recorded_frames(folder) >= 6 and (folder / HIERARCHY_NAME).exists() and any(
                    (folder / KEYFRAMES_DIR).iterdir()):
                break
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    assert child.returncode == -signal.SIGKILL

    video = cv2.VideoCapture(str(folder / VIDEO_NAME))
    frames = []
    while True:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(frame)
    assert len(frames) >= 6 and frames[0].ndim == 3 and frames[0].mean() > 5

    doc = json.loads((folder / HIERARCHY_NAME).read_text())
    assert doc["file"] == VIDEO_NAME and doc["layers"][0]["annots"]
    session = json.loads((folder / SESSION_NAME).read_text())
    assert session["frames"] >= 6 and session["snippet_size"] > 0
    lines = (folder / TRACE_NAME).read_text().splitlines()
    rows = [json.loads(line) for line in lines[:-1]]  # the last may be torn by the kill
    assert len({row["step"] for row in rows if row["layer"] == 0}) >= 5
    model, _ = load_checkpoint(str(folder / CHECKPOINT_NAME), device="cpu")
    assert model.base_counter >= 2
    keyframes = read_keyframes(folder)
    assert keyframes and all(k.layer == 0 or k.layer == 1 for k in keyframes)


def test_the_recorder_drops_rather_than_waits_and_counts_disk_use(tmp_path):
    recorder = SessionRecorder(new_session_folder(tmp_path), snippet_size=0.5)
    image = np.random.default_rng(0).integers(0, 255, (480, 640, 3), np.uint8)
    # A disk that does not answer until the test says so: a recorder that waited for it
    # would never get through the inputs (not a timing: the writer is held, not slow).
    disk = threading.Event()
    real_write = recorder._write
    recorder._write = lambda item: disk.wait(60) and real_write(item)
    accepted_each: list[bool] = []

    def feed() -> None:
        for step in range(200):
            keyframes = [Keyframe(0, step, step * 0.5, step * 0.5 + 0.5, step * 0.5,
                                  encode_jpeg(image[:60, :80]))]
            accepted_each.append(recorder.add_input(
                image, [LayerStep(0, step, step * 0.5, 0.1, 0.2, True)], keyframes))

    feeder = threading.Thread(target=feed)
    feeder.start()
    feeder.join(30)
    held = feeder.is_alive()
    disk.set()
    feeder.join()
    assert not held, "add_input waited for the disk"
    accepted = sum(accepted_each)
    assert recorder.dropped > 0  # the queue filled up while the disk was held
    recorder.close()
    assert accepted + recorder.dropped == 200
    # Inputs the queue dropped between two accepted ones are filled with the frame before,
    # so the video stays on the stream's clock: one frame per step up to the last accepted.
    last_accepted = max(step for step, ok in enumerate(accepted_each) if ok)
    assert recorder.frames - recorder.filled == accepted
    assert recorder.frames == last_accepted + 1
    assert recorder.disk_bytes == sum(p.stat().st_size for p in recorder.folder.rglob("*")
                                      if p.is_file())
    assert len(read_keyframes(recorder.folder)) == accepted
    assert recorder.add_input(image, []) is False  # closed


def test_session_folders_are_new_each_time(tmp_path):
    first, second = new_session_folder(tmp_path), new_session_folder(tmp_path)
    assert first != second and first.is_dir() and second.is_dir()


def test_a_folder_that_cannot_be_written_stops_the_recorder_with_the_reason(tmp_path):
    recorder = SessionRecorder(new_session_folder(tmp_path), snippet_size=0.5)
    shutil.rmtree(recorder.folder)  # the folder vanished (an unplugged disk, a user)
    keyframe = Keyframe(0, 0, 0.0, 0.5, 0.25, encode_jpeg(np.zeros((30, 40, 3), np.uint8)))
    recorder.add_input(np.zeros((48, 64, 3), np.uint8), [], [keyframe])
    recorder.close()
    assert "No such file or directory" in recorder.error
    assert recorder.add_input(np.zeros((48, 64, 3), np.uint8), []) is False


def test_reports_of_the_stream_end_are_traced_without_a_frame(tmp_path):
    """The stream's end brings layer 1's late boundary and the event it closed, but no
    picture: trace rows and a keyframe, and the recorded video keeps one frame per input."""
    recorder = SessionRecorder(new_session_folder(tmp_path), snippet_size=0.5)
    image = np.zeros((48, 64, 3), np.uint8)
    assert recorder.add_input(image, [LayerStep(0, 0, 0.0, 0.1, 0.2, False)])
    late = LayerStep(1, 0, 0.0, 0.9, None, True)
    closed = Keyframe(1, 0, 0.0, 0.5, 0.0, encode_jpeg(image[:8, :8]))
    assert recorder.add_reports([late], [closed])
    recorder.close()
    rows = [json.loads(line) for line in (recorder.folder / TRACE_NAME).read_text().splitlines()]
    assert [(row["layer"], row["boundary"]) for row in rows] == [(0, False), (1, True)]
    assert recorder.frames == 1 and recorded_frames(recorder.folder) == 1
    assert [k.layer for k in read_keyframes(recorder.folder)] == [1]


def test_the_app_records_each_closed_events_representation_for_review(tmp_path):
    """The learner worker hands the recorder the events each step closed; review mode
    reads them back (read_recorded_representations) to list similar events."""
    torch.manual_seed(0)
    settings = replace(small_settings("synthetic"), device="cpu", window_size=2)
    model_args, opt_args = settings.model_arguments()
    worker = LearnerWorker(LatestMailbox(), model_args, opt_args)
    worker.start()
    recorder = SessionRecorder(tmp_path / "session", model_args.snippet_size, "synthetic:3")
    worker.set_recorder(recorder)
    source = SyntheticSource(3, fps=1.0 / model_args.snippet_size, realtime=False)
    source.open()
    for _ in range(40):
        worker.snippets.put(source.read())
        worker.on_snippet_ready()
    recorder.close()
    closed = {(k.layer, k.start, k.end) for k in read_keyframes(recorder.folder)}
    recorded = read_recorded_representations(recorder.folder)
    assert len(closed) >= 3 and {(layer, start, end) for layer, events in recorded.items()
                       for start, end, _ in events} == closed
    assert all(np.isfinite(vector).all() and len(vector) > 1
               for events in recorded.values() for _, _, vector in events)
    doc = json.loads((recorder.folder / HIERARCHY_NAME).read_text())
    assert read_representations(doc)[0][-1][2] is not None  # the open event's, in its slot


def test_snippets_the_learner_never_saw_keep_their_time_in_the_app(tmp_path):
    """A learner behind its source loses snippets from its mailbox: each input's events,
    the exported hierarchy and the recorded video stay on the source's clock, not the
    count of inputs (which would close up the gaps and end early)."""
    torch.manual_seed(0)
    settings = replace(small_settings("synthetic"), device="cpu", window_size=2)
    model_args, opt_args = settings.model_arguments()
    worker = LearnerWorker(LatestMailbox(2), model_args, opt_args)
    worker.start()
    recorder = SessionRecorder(tmp_path / "session", model_args.snippet_size, "synthetic:3")
    worker.set_recorder(recorder)
    results = []
    worker.stepped.connect(results.append)
    source = SyntheticSource(3, fps=1.0 / model_args.snippet_size, realtime=False)
    source.open()
    for number in range(40):
        for _ in range(4 if number % 10 == 5 else 1):  # some dropped, four times
            worker.snippets.put(source.read())
        worker.on_snippet_ready()
    while worker.snippets.waiting:
        worker.on_snippet_ready()
    worker.end_stream()
    recorder.close()
    lost = worker.snippets.skipped
    assert lost >= 8 and worker.model.input_clock.lost == lost
    inputs = [r for r in results if not r.stream_end]
    assert [r.reports[0].time for r in inputs] == [r.source_time for r in inputs]
    unseen = [r.unseen for r in inputs if r.unseen is not None]  # the timeline's holes
    assert unseen == worker.model.input_clock.gaps() and len(unseen) == 4
    assert sum(end - start for start, end in unseen) == pytest.approx(lost * 0.5)
    assert all(end in {r.source_time for r in inputs} for _, end in unseen)
    controller = LearnerController(SessionStatus(), SessionHistory(), worker.snippets)
    for result in results:  # as the window's controller hears them
        controller._stepped(result)
    kept = controller.history.unseen
    assert list(zip(kept["start"], kept["end"])) == unseen
    last = source.read().timestamp  # the snippet after the last one put
    doc = worker._hierarchy("x")
    assert doc["duration"] == pytest.approx(last)
    assert all(layer["annots"][-1]["end"] == pytest.approx(last) for layer in doc["layers"])
    session = json.loads((recorder.folder / SESSION_NAME).read_text())
    assert session["frames"] == round(last / model_args.snippet_size)
    assert session["filled"] == lost + recorder.dropped  # and any its own queue dropped
    video = cv2.VideoCapture(str(recorder.folder / VIDEO_NAME))
    frames = 0
    while video.read()[0]:
        frames += 1
    assert frames == session["frames"]
