"""Frame sources: video file, camera, network stream, specs, sampling, live snippet reader."""

from __future__ import annotations

import glob
import threading
import time

import numpy as np
import pytest
from source_helpers import MjpegServer, SilentServer, colour_frame, free_port, write_video

from streamer_core.learning_pace import SNIPPETS_WAITING
from streamer_core.sources import (
    CameraSource,
    Frame,
    LiveSnippetReader,
    SnippetSampler,
    SnippetTaker,
    SourceError,
    StreamSource,
    SyntheticSource,
    VideoFileSource,
    list_cameras,
    open_source,
)
from streamer_core.sources.capture import CaptureSource

# --- video files -----------------------------------------------------------------------


def test_video_file_frames_timestamps_and_end(tmp_path):
    path = write_video(tmp_path / "clip.avi", frames=25, fps=10.0, size=(64, 48))
    source = open_source(str(path))
    assert isinstance(source, VideoFileSource) and not source.is_live
    with source:
        assert source.fps == pytest.approx(10.0)
        assert source.duration == pytest.approx(2.5)
        frames = list(source)
        assert source.read() is None  # stays dead
    assert len(frames) == 25
    assert [f.index for f in frames] == list(range(25))
    assert [f.timestamp for f in frames] == pytest.approx([i / 10 for i in range(25)])
    assert all(f.image.shape == (48, 64, 3) and f.image.dtype == np.uint8 for f in frames)
    assert "end of video" in source.end_reason


def test_video_file_frames_are_rgb(tmp_path):
    def blue(i, size):  # BGR blue, as OpenCV writes it
        frame = np.zeros((size[1], size[0], 3), np.uint8)
        frame[:, :, 0] = 250
        return frame

    path = write_video(tmp_path / "blue.avi", frames=3, make=blue)
    with VideoFileSource(path) as source:
        image = source.read().image
    red, green, blue_channel = image[..., 0].mean(), image[..., 1].mean(), image[..., 2].mean()
    assert blue_channel > 200 and red < 40 and green < 40


def test_video_file_errors(tmp_path):
    with pytest.raises(SourceError, match="not found"):
        open_source(str(tmp_path / "missing.mp4"))
    with pytest.raises(SourceError, match="folder"):
        open_source(str(tmp_path))
    garbage = tmp_path / "garbage.avi"
    garbage.write_bytes(b"not a video at all" * 100)
    source = open_source(str(garbage))
    with pytest.raises(SourceError, match="Cannot read"):
        source.open()
    truncated = tmp_path / "truncated.avi"
    good = write_video(tmp_path / "good.avi", frames=10).read_bytes()
    truncated.write_bytes(good[:400])
    with pytest.raises(SourceError):
        VideoFileSource(truncated).open()


def test_read_before_open_raises_and_after_close_returns_none(tmp_path):
    source = VideoFileSource(write_video(tmp_path / "c.avi", frames=3))
    with pytest.raises(SourceError, match="before open"):
        source.read()
    source.open()
    assert isinstance(source.read(), Frame)
    source.close()
    source.close()  # twice is fine
    assert source.read() is None


class FakeCapture:
    """Hands out the given arrays, then fails like an unplugged camera."""

    def __init__(self, images):
        self.images = list(images)
        self.released = False

    def read(self):
        return (True, self.images.pop(0)) if self.images else (False, None)

    def release(self):
        self.released = True


class FakeSource(CaptureSource):
    def __init__(self, images):
        super().__init__()
        self.capture = FakeCapture(images)
        self.description = "fake"

    def _open_capture(self):
        return self.capture

    def _timestamp(self, capture, index):
        return index * 0.1


def test_gray_bgra_and_odd_frames_come_out_rgb():
    gray = np.full((30, 40), 77, np.uint8)
    bgra = np.zeros((31, 41, 4), np.uint8)
    bgra[..., 2] = 200  # red in BGRA
    single = np.full((32, 42, 1), 5, np.uint8)
    source = FakeSource([gray, bgra, single])
    with source:
        got = list(source)
    assert [f.image.shape for f in got] == [(30, 40, 3), (31, 41, 3), (32, 42, 3)]
    assert got[0].image[0, 0].tolist() == [77, 77, 77]
    assert got[1].image[0, 0].tolist() == [200, 0, 0]
    assert source.end_reason and source.capture.released


def test_an_unusable_frame_ends_the_source_instead_of_raising():
    source = FakeSource([np.zeros((4, 4, 2), np.uint8)])
    with source:
        assert source.read() is None
    assert "unusable frame" in source.end_reason


# --- cameras ---------------------------------------------------------------------------


def test_missing_camera_is_a_clear_error():
    source = open_source("camera:63")
    assert isinstance(source, CameraSource) and source.is_live
    started = time.monotonic()
    with pytest.raises(SourceError, match="Camera 63 could not be opened"):
        source.open()
    assert time.monotonic() - started < 10
    with pytest.raises(SourceError, match="before open"):
        source.read()  # it never opened


def test_list_cameras_returns_openable_indices():
    found = list_cameras(max_index=2)
    assert all(isinstance(i, int) and 0 <= i <= 2 for i in found)
    if not glob.glob("/dev/video*"):
        assert found == []


# --- specs -----------------------------------------------------------------------------


def test_source_specs():
    assert open_source("0").index == 0
    assert open_source("camera:2").index == 2
    stream = open_source("rtsp://user:secret@example.invalid:554/cam")
    assert isinstance(stream, StreamSource) and "secret" not in stream.description
    synthetic = open_source("synthetic:3:12.5")
    assert isinstance(synthetic, SyntheticSource)
    assert (synthetic.seed, synthetic.duration, synthetic.is_live) == (3, 12.5, False)
    endless = open_source("synthetic")
    assert (endless.seed, endless.duration, endless.is_live) == (0, None, True)
    assert open_source("synthetic:7").seed == 7


@pytest.mark.parametrize("spec", ["", "camera:x", "camera:-1", "synthetic:a", "synthetic:1:0",
                                  "synthetic:1:-3", "synthetic:1:2:3", "synthetic:1:inf"])
def test_bad_specs(spec):
    with pytest.raises(SourceError):
        open_source(spec)


# --- network streams -------------------------------------------------------------------


def test_mjpeg_stream_until_the_server_stops():
    with MjpegServer(frames=20, fps=40.0) as server:
        source = open_source(server.url)
        assert isinstance(source, StreamSource) and source.is_live
        source.read_timeout = 3.0
        with source:
            frames = list(source)
    assert 10 <= len(frames) <= 20  # FFmpeg may use the first frames to probe the stream
    assert source.fps is None  # MJPEG over HTTP has no frame rate (FFmpeg would say 25)
    assert frames[0].image.shape == (48, 64, 3)
    times = [f.timestamp for f in frames]
    assert times == sorted(times) and times[0] >= 0
    assert source.end_reason is not None and "stopped" in source.end_reason


def test_stream_refused_and_silent_servers_fail_in_bounded_time():
    started = time.monotonic()
    with pytest.raises(SourceError, match="Cannot open stream"):
        StreamSource(f"http://127.0.0.1:{free_port()}/x.mjpg", open_timeout=2).open()
    with SilentServer() as silent:
        with pytest.raises(SourceError, match="within 1 s"):
            StreamSource(silent.url, open_timeout=1).open()
    assert time.monotonic() - started < 15


def test_stalled_stream_dies_after_the_read_timeout():
    with MjpegServer(frames=100, fps=40.0, stall_after=12) as server:
        source = StreamSource(server.url, open_timeout=3, read_timeout=1)
        with source:
            started = time.monotonic()
            count = sum(1 for _ in source)
            waited = time.monotonic() - started
    assert count >= 1
    assert waited < 10


def test_close_from_another_thread_waits_for_a_blocked_read():
    with MjpegServer(frames=100, fps=40.0, stall_after=5) as server:
        source = StreamSource(server.url, open_timeout=3, read_timeout=1)
        source.open()
        results = []

        def drain():
            results.extend(iter(source.read, None))  # blocks once the server stalls

        reader = threading.Thread(target=drain)
        reader.start()
        time.sleep(0.3)
        started = time.monotonic()
        source.close()
        reader.join(timeout=10)
        assert not reader.is_alive()
        assert time.monotonic() - started < 5
        assert source.read() is None


def test_live_reader_keeps_the_last_snippets_for_a_slow_consumer():
    with MjpegServer(frames=150, fps=50.0) as server:
        reader = LiveSnippetReader(StreamSource(server.url, read_timeout=3),
                                   snippet_size=0.1, keep_between=64)
        with reader:
            first = reader.read()
            time.sleep(0.2 + 0.1 * SNIPPETS_WAITING)  # two more snippets come than are kept
            behind = reader.waiting
            rest = list(reader)
    assert first is not None and behind == SNIPPETS_WAITING
    assert reader.skipped_snippets >= 1
    assert rest[0].follows != first.index  # the snippets between were dropped
    assert all(b.follows == a.index for a, b in zip(rest, rest[1:]))
    assert all(len(b.between) == b.index - a.index - 1 for a, b in zip(rest, rest[1:]))


# --- sampling --------------------------------------------------------------------------


def frames_at(times):
    image = colour_frame(0)
    return [Frame(image, t, i) for i, t in enumerate(times)]


def test_sampler_takes_one_frame_per_snippet():
    sampler = SnippetSampler(0.5)
    taken = [f.index for f in frames_at([i / 30 for i in range(90)]) if sampler.offer(f)]
    assert taken == [0, 15, 30, 45, 60, 75]
    sampler = SnippetSampler(0.5)
    taken = [f.timestamp for f in frames_at([i / 25 for i in range(250)]) if sampler.offer(f)]
    assert len(taken) == 20
    # the first frame at or after each tick k * 0.5 s
    assert all(k * 0.5 - 1e-9 <= t < k * 0.5 + 1 / 25 for k, t in enumerate(taken))


def test_a_jittering_clock_keeps_the_inputs_a_snippet_of_frames_apart():
    jitter = np.random.default_rng(0).uniform(-0.004, 0.004, 400)
    frames = frames_at([i / 10 + jitter[i] for i in range(400)])  # live: arrival times

    def steps(sampler: SnippetSampler) -> set[int]:
        taken = [frame.index for frame in frames if sampler.offer(frame)]
        return {later - earlier for earlier, later in zip(taken, taken[1:])}

    assert steps(SnippetSampler(0.5)) == {4, 5, 6}  # a few ms decide the frame on a tick
    assert steps(SnippetSampler(0.5, clock_jitters=True)) == {5}


def test_a_steady_clock_is_sampled_alike_with_or_without_jitter_allowed():
    frames = frames_at([i / 30 for i in range(300)])
    plain, allowing = SnippetSampler(0.5), SnippetSampler(0.5, clock_jitters=True)
    assert ([f.index for f in frames if plain.offer(f)]
            == [f.index for f in frames if allowing.offer(f)] == list(range(0, 300, 15)))


def test_snippet_taker_hands_on_the_frames_between_unless_too_many():
    taker = SnippetTaker(0.5, keep_between=4)
    times = ([i / 10 for i in range(11)] + [1.0 + i / 12 for i in range(1, 7)]
             + [1.5 + i / 10 for i in range(1, 6)])  # 12 a second from 1.0 to 1.5 s
    snippets = [s for s in map(taker.offer, frames_at(times)) if s is not None]
    assert [s.index for s in snippets] == [0, 5, 10, 16, 21]
    assert [s.follows for s in snippets] == [None, 0, 5, None, 16]
    assert [len(s.between) for s in snippets] == [0, 4, 4, 0, 4]  # 5 between 10 and 16
    assert snippets[1].between[0].shape == (128, 128, 3)


def test_sampler_skips_ahead_without_a_burst_and_restarts_on_rewind():
    sampler = SnippetSampler(0.5)
    times = [0.0, 0.1, 3.2, 3.3, 3.45, 3.5, 0.0, 0.2, 0.5]
    taken = [f.timestamp for f in frames_at(times) if sampler.offer(f)]
    assert taken == [0.0, 3.2, 3.5, 0.0, 0.5]


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf")])
def test_sampler_rejects_bad_snippets(bad):
    with pytest.raises(ValueError):
        SnippetSampler(bad)
