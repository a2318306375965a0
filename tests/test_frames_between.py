"""frames_between: the source frames between two inputs tell a cut from motion."""

from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from streamer_core.frames_between import (
    APART_RATIO,
    CUT_SHARE,
    MAX_FRAMES,
    MIN_STEPS,
    SAME_VIEW_PEAK,
    FramesBetween,
    IntervalReading,
)
from streamer_core.networks import CNNEncoder
from streamer_core.presets import preset_arguments
from streamer_core.sources import Frame, FrameSource
from streamer_core.sources.mailbox import LatestMailbox
from streamer_core.sources.preprocess import preprocess_frame


def _blocks() -> tuple:
    torch.manual_seed(0)
    return CNNEncoder(64).first_convolutions()


def _scene(seed: int, offset: int = 0) -> np.ndarray:
    """A view of a textured wall with a few coloured blocks on it; `offset` turns the
    camera right by that many pixels (what comes into view is more of the same wall)."""
    rng = np.random.default_rng(seed)
    wall = cv2.GaussianBlur(rng.integers(0, 255, (128, 192, 3), dtype=np.uint8), (5, 5), 0)
    for _ in range(6):
        y, x = rng.integers(0, 96), rng.integers(0, 160)
        wall[y:y + 32, x:x + 24] = rng.integers(0, 255, size=3)
    return np.ascontiguousarray(wall[:, offset:offset + 128])


def _interval(pictures: list[np.ndarray]) -> FramesBetween:
    frames = FramesBetween()
    frames.take_input(preprocess_frame(pictures[0]))
    for picture in pictures[1:-1]:
        frames.pass_over(preprocess_frame(picture))
    frames.take_input(preprocess_frame(pictures[-1]))
    return frames


def test_a_cut_holds_most_of_the_step_and_motion_spreads_it():
    cut = _interval([_scene(1, 0), _scene(1, 1), _scene(1, 2),
                     _scene(2, 0), _scene(2, 1), _scene(2, 2)])
    reading = cut.read(_blocks())
    assert reading.largest_at == 2 and reading.share >= CUT_SHARE
    assert reading.peak < SAME_VIEW_PEAK and reading.is_cut and not reading.is_gradual
    assert reading.peak < APART_RATIO * reading.others_peak  # the frames around it do
    moving = _interval([_scene(1, offset) for offset in range(0, 60, 10)])
    spread = moving.read(_blocks())
    assert spread.share < CUT_SHARE and spread.is_gradual and not spread.is_cut


def test_a_step_between_two_views_is_not_gradual_though_it_holds_little():
    """Between two rooms of a like mix of colours, in a jittering, noisy view, the step
    holds a third of the interval's change; its two frames show two views where the others
    show one, so the frames do not call it motion (nor a cut). A face turning holds as
    little, its frames showing one view as the others do (stream 217 and montage 213)."""
    two_rooms = IntervalReading(largest_at=3, share=0.33, peak=0.13, others_peak=0.40)
    assert two_rooms.shows_two_views and not two_rooms.is_gradual and not two_rooms.is_cut
    turning = IntervalReading(largest_at=2, share=0.31, peak=0.49, others_peak=0.50)
    assert not turning.shows_two_views and turning.is_gradual


@pytest.mark.parametrize("peak, others_peak, gradual", [
    (0.19, 0.15, False),  # no other pair shows one view: their steps are jitter, noise
    (0.30, SAME_VIEW_PEAK, True),
    (0.49, 0.50, True),  # they do (a face turning in a close-up): the change spread
    (0.30, None, True),  # no other pair to tell by: the share decides, as before
])
def test_the_spread_is_told_only_where_the_other_frames_show_one_view(peak, others_peak,
                                                                      gradual):
    """A scene change of the jittering synthetic view held 0.39 of its interval's change,
    its two frames peaking at 0.19 and the others at 0.15 (stream 224, seed 1)."""
    reading = IntervalReading(largest_at=3, share=0.39, peak=peak, others_peak=others_peak)
    assert not reading.shows_two_views and not reading.is_cut
    assert reading.is_gradual == gradual


def test_a_jerk_of_the_camera_holds_the_step_but_shows_one_view():
    jerk = _interval([_scene(1, 0), _scene(1, 1), _scene(1, 2), _scene(1, 40), _scene(1, 41),
                      _scene(1, 42)])
    reading = jerk.read(_blocks())
    assert reading.largest_at == 2 and reading.share >= CUT_SHARE
    assert reading.peak >= SAME_VIEW_PEAK and not reading.is_cut


def _noisy_wall(seed: int, with_object: bool) -> np.ndarray:
    """A flat grey wall under heavy sensor noise, drawn anew for every frame; with a
    magenta ball in front of it, its edge soft (no detail of its own that phase
    correlation could hold on to)."""
    wall = np.full((128, 128, 3), 120.0)
    if with_object:
        ball = np.zeros((128, 128), np.float32)
        cv2.circle(ball, (64, 64), 36, 1.0, -1)
        ball = cv2.GaussianBlur(ball, (0, 0), 8)[..., None]
        wall = wall * (1.0 - ball) + np.array([230.0, 40.0, 200.0]) * ball
    wall += np.random.default_rng(seed).normal(0.0, 30.0, wall.shape)
    return np.clip(wall, 0, 255).astype(np.uint8)


def test_where_no_two_frames_show_one_view_a_sudden_step_is_no_cut():
    popped = _interval([_noisy_wall(seed, with_object=seed >= 3) for seed in range(6)])
    reading = popped.read(_blocks())
    # From one frame to the next, between two frames that peak low: a cut by those alone.
    assert reading.largest_at == 2 and reading.share >= CUT_SHARE
    assert reading.peak < SAME_VIEW_PEAK
    # But the frames on either side of them show one view no better: the noise, not a cut.
    assert reading.peak >= APART_RATIO * reading.others_peak
    assert not reading.is_cut


def test_too_few_frames_between_tell_nothing():
    pictures = [_scene(1, offset) for offset in range(MIN_STEPS - 1)] + [_scene(2)]
    assert _interval(pictures).read(_blocks()) is None
    first = FramesBetween()
    first.take_input(preprocess_frame(_scene(1)))  # the stream's first input: no interval
    assert first.read(_blocks()) is None


def test_frames_before_the_first_input_are_not_kept_and_too_many_are_not_read():
    frames = FramesBetween()
    frames.pass_over(preprocess_frame(_scene(1)))
    frames.take_input(preprocess_frame(_scene(1)))
    assert frames._interval == []
    for offset in range(MAX_FRAMES + 1):
        frames.pass_over(preprocess_frame(_scene(1, offset % 60)))
    assert len(frames._between) <= MAX_FRAMES
    frames.take_input(preprocess_frame(_scene(2)))
    assert frames.read(_blocks()) is None
    frames.reset()
    assert frames._last_input is None and frames._between == []


def test_live_reads_the_frames_between_and_paper_does_not():
    from streamer_core.model import StreamerModel

    assert preset_arguments("live")[0].frames_between
    assert not preset_arguments("paper")[0].frames_between
    args, _ = preset_arguments("paper")
    args.feature_dim, args.buffer_size = 64, 4
    model = StreamerModel(args)
    assert model.frames_between is None
    model.pass_over(preprocess_frame(_scene(1)))  # nothing kept, nothing raised


def test_the_cli_pipeline_passes_the_frames_between_inputs_to_the_model(tmp_path):
    from source_helpers import write_video

    from app.cli.pipeline import Segmenter
    from streamer_core.model import StreamerModel
    from streamer_core.sources import VideoFileSource

    video = tmp_path / "six.avi"
    write_video(video, 6, fps=10.0)  # 0.5 s: two inputs, four frames between
    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    segmenter = Segmenter(model, None, learn=False)
    with VideoFileSource(video) as source:
        segmenter.run(source)
    assert segmenter.steps == 2
    assert len(model.frames_between._interval) == 6  # the two inputs and the four between


def test_repeated_frames_are_no_steps():
    """A camera repeating frames while something moves: two real steps are too few."""
    pictures = [_scene(1, 0), _scene(1, 0), _scene(1, 0), _scene(1, 6), _scene(1, 6),
                _scene(1, 12)]
    assert _interval(pictures).read(_blocks()) is None


def test_an_interval_with_frames_lost_is_not_read():
    pictures = [_scene(1, 0), _scene(1, 1), _scene(1, 2), _scene(2, 0), _scene(2, 1)]
    frames = FramesBetween()
    frames.take_input(preprocess_frame(pictures[0]))
    for picture in pictures[1:-1]:
        frames.pass_over(preprocess_frame(picture))
    frames.frames_lost()
    frames.take_input(preprocess_frame(pictures[-1]))
    assert frames.read(_blocks()) is None
    for picture in pictures[:-1]:  # the next interval is whole again
        frames.pass_over(preprocess_frame(picture))
    frames.take_input(preprocess_frame(pictures[0]))
    assert frames.read(_blocks()) is not None


class _TenFramesASecond(FrameSource):
    """`count` pictures, 0.1 s apart: five to a 0.5 s snippet."""

    is_live = True  # not paced: the test does not wait

    def __init__(self, count: int):
        self.count, self.description, self._next = count, "ten a second", None

    def open(self) -> None:
        self._next = 0

    def read(self) -> Frame | None:
        if self._next is None or self._next >= self.count:
            self.end_reason = "done"
            return None
        i, self._next = self._next, self._next + 1
        return Frame(_scene(1, i), i * 0.1, i)

    def close(self) -> None:
        self._next = None


class _KeepingMailbox(LatestMailbox):
    def __init__(self) -> None:
        super().__init__()
        self.given: list[Frame] = []

    def put(self, item: Frame) -> bool:
        self.given.append(item)
        return super().put(item)


def test_the_apps_capture_hands_each_snippet_the_frames_passed_over_since_the_last(qapp):
    from app.gui.workers.capture_worker import CaptureWorker

    snippets = _KeepingMailbox()
    worker = CaptureWorker("ten", 0.5, LatestMailbox(), snippets,
                           opener=lambda spec: _TenFramesASecond(11))
    worker.go()
    worker.run()
    assert [frame.index for frame in snippets.given] == [0, 5, 10]
    assert [frame.follows for frame in snippets.given] == [None, 0, 5]
    assert [len(frame.between) for frame in snippets.given] == [0, 4, 4]
    assert snippets.given[1].between[0].shape == (128, 128, 3)


@pytest.mark.parametrize("live, taken", [(True, [0, 5, 10]), (False, [0, 6, 11])])
def test_the_apps_capture_allows_a_live_clock_its_jitter(qapp, live, taken):
    from app.gui.workers.capture_worker import CaptureWorker

    class Early(_TenFramesASecond):
        """Frames 5 and 10 come 2 ms before their ticks: a live source's arrival times."""

        is_live = live

        def read(self) -> Frame | None:
            frame = super().read()
            if frame is not None and frame.index in (5, 10):
                frame = replace(frame, timestamp=frame.timestamp - 0.002)
            return frame

    snippets = _KeepingMailbox()
    worker = CaptureWorker("early", 0.5, LatestMailbox(), snippets,
                           opener=lambda spec: Early(12))
    worker.go()
    worker.run()
    assert [frame.index for frame in snippets.given] == taken


def test_the_apps_capture_keeps_its_grid_when_the_model_comes_with_the_same_snippet(qapp):
    """The model is built while the file starts: its snippet size arrives a few frames in.
    The same size must not restart the grid there, or a file's inputs (and the model's
    times) fall between its snippets: frames 3, 8 for 0, 5, 10."""
    from app.gui.workers.capture_worker import CaptureWorker

    snippets = _KeepingMailbox()

    class ModelArrives(_TenFramesASecond):
        def read(self) -> Frame | None:
            frame = super().read()
            if frame is not None and frame.index == 3:
                worker.set_snippet_size(0.5)
            return frame

    worker = CaptureWorker("ten", 0.5, LatestMailbox(), snippets,
                           opener=lambda spec: ModelArrives(11))
    worker.go()
    worker.run()
    assert [frame.index for frame in snippets.given] == [0, 5, 10]


def test_the_apps_learner_reads_the_frames_between_only_after_the_snippet_before(qapp):
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker

    mailbox = LatestMailbox()
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    worker.start()
    between = tuple(_scene(1, offset) for offset in (1, 2, 3, 4))

    def learn(index: int, follows: int | None) -> list:
        mailbox.put(Frame(_scene(1, 5), index * 0.1, index, between, follows))
        worker.on_snippet_ready()
        return worker.model.frames_between._interval

    learn(0, None)
    assert len(learn(5, 0)) == 6  # the snippet before, the four between, this one
    assert learn(15, 10) == []  # snippet 10 never reached the learner: frames are missing
    worker.model.stop_background_learning()  # not finish(): it quits this thread's loop


def test_the_cli_pipeline_reads_no_interval_a_live_reader_dropped_frames_from():
    from app.cli.pipeline import Segmenter
    from streamer_core.model import StreamerModel

    class Dropping(_TenFramesASecond):
        def read(self) -> Frame | None:
            frame = super().read()
            if frame is not None and frame.index == 7:  # frames 7 and 8 never arrive
                self._next = 9
                frame = super().read()
            return frame

    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    segmenter = Segmenter(model, None, learn=False)
    with Dropping(11) as source:
        segmenter.run(source)
    assert segmenter.steps == 3  # inputs at 0, 0.5 and 1.0 s
    assert model.frames_between._interval == []


def test_a_cut_the_frames_show_is_a_boundary_even_below_the_pooled_limit(monkeypatch):
    """The wiring: at the input whose frames showed a cut, layer 0 marks a boundary that ends
    the event above, though its pooled step (a still picture) is no boundary."""
    from streamer_core.layer import StreamerLayer
    from streamer_core.model import StreamerModel

    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    cut_at = 12
    cut = IntervalReading(largest_at=3, share=0.7, peak=0.05, others_peak=0.5)
    monkeypatch.setattr(StreamerLayer, "_read_between_frames",
                        lambda layer: cut if layer.layer_num == 0
                        and model.base_counter == cut_at else None)
    x = preprocess_frame(_scene(1))
    reports = [model(x + 0.01 * torch.randn_like(x)) for _ in range(cut_at + 1)]
    layer_zero = [r for step in reports for r in step if r.layer == 0]
    assert [r.step for r in layer_zero if r.boundary] == [cut_at]
    assert model.layers()[0].last_new_scene == cut_at


def test_the_frames_are_asked_at_a_change_spread_over_the_picture_not_only_at_most_of_it():
    """A cut between two views of one colour changed under half of the picture's regions,
    spread all over it (docs/quality.md, session forty-one): the frames between are asked
    there; at a change of as many regions carried by a few of them (something moving on a
    flat wall), or of too few regions, they are not, unless it stood out from the step
    before as a cut does (a cut between two close-ups of one face, session forty-nine)."""
    from streamer_core.layer import SPREAD_FOCUS, SPREAD_SHARE
    from streamer_core.model import StreamerModel
    from streamer_core.picture_change import CUT_STANDS_OUT

    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    model(preprocess_frame(_scene(1)))
    layer = model.layers()[0]
    layer.create_parent(True)
    layer.frames_between = _interval([_scene(1, 0), _scene(1, 1), _scene(1, 2),
                                      _scene(2, 0), _scene(2, 1), _scene(2, 2)])
    assert SPREAD_SHARE < 0.41 < args.new_scene_share
    layer.picture.size_before, layer.picture.size = 0.01, 0.02  # no sudden step
    layer.picture.share, layer.picture.focus = 0.41, 0.25
    assert layer._read_between_frames()
    layer.picture.focus = SPREAD_FOCUS + 0.25
    assert not layer._read_between_frames()
    layer.picture.size = CUT_STANDS_OUT * 0.01  # sudden: asked, though in a few regions
    assert layer._read_between_frames()
    layer.picture.share, layer.picture.focus = SPREAD_SHARE - 0.05, 0.25
    assert not layer._read_between_frames()
    layer.picture.size = 0.02
    layer.picture.share = args.new_scene_share  # most of the picture: asked however focused
    layer.picture.focus = SPREAD_FOCUS + 0.25
    assert layer._read_between_frames()
