"""The CLI's live path: a model slower than its live source sees each snippet the reader
keeps, learns from those LearningPace says, and says what it missed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.cli.pipeline import Segmenter, segment_video
from core_helpers import small_model
from streamer_core.learning_pace import SNIPPETS_WAITING
from streamer_core.model import StreamerModel
from streamer_core.optimizer import StreamerOptimizer
from streamer_core.presets import preset_arguments
from streamer_core.sources import Frame, FrameSource, LiveSnippetReader


class _AllAtOnce(FrameSource):
    """A live source whose frames (ten a second of source time) come as fast as read."""

    is_live = True
    description = "all at once"
    fps = 10.0

    def __init__(self, count: int):
        self.count, self._next = count, None
        self.pictures = np.random.default_rng(0).integers(0, 256, (4, 48, 64, 3), np.uint8)

    def open(self) -> None:
        self._next = 0

    def read(self) -> Frame | None:
        if self._next is None or self._next >= self.count:
            return None
        i, self._next = self._next, self._next + 1
        return Frame(self.pictures[(i // 10) % 4], i / 10, i)

    def close(self) -> None:
        self._next = None


def _wait_for(condition, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the reader did not get there"
        time.sleep(0.01)


def test_a_model_behind_its_live_source_sees_each_snippet_kept_and_learns_from_the_last():
    model_args, opt_args = preset_arguments("live")
    model_args.first_blocks = "drawn"  # no weights file to read
    model = StreamerModel(model_args)
    segmenter = Segmenter(model, StreamerOptimizer(model, opt_args))
    segmenter.start_video(reset_model=True)
    snippets = SNIPPETS_WAITING + 5
    with LiveSnippetReader(_AllAtOnce(5 * snippets - 4), 0.5, keep_between=64) as reader:
        _wait_for(lambda: reader.skipped_snippets == 5)  # the first five are dropped
        segmenter.run(reader)
    assert segmenter.steps == SNIPPETS_WAITING
    assert segmenter.steps_behind == SNIPPETS_WAITING - 1  # only the last had none behind
    # The last snippet follows the one before, which the model took: the frames between
    # them are read.
    assert len(model.frames_between._interval) == 6


def test_segment_video_says_what_a_model_slower_than_its_live_source_missed():
    warnings: list[str] = []
    model, optimizer = small_model()
    segmenter = Segmenter(model, optimizer, warn=warnings.append)
    result = segment_video(segmenter, _AllAtOnce(201))  # 41 snippets in a few milliseconds
    assert SNIPPETS_WAITING <= result.steps < 41
    assert len(warnings) == 1
    assert warnings[0].startswith("all at once: the model was slower than the source: it "
                                  f"saw {result.steps} inputs")
    lost = 41 - result.steps
    assert warnings[0].endswith(f"; {lost} snippets were dropped ({lost * 0.5:g} s it never "
                                "saw; the hierarchy keeps their time)")
    assert result.hierarchy is not None


def test_a_model_that_keeps_up_with_its_live_source_says_nothing():
    warnings: list[str] = []
    model, optimizer = small_model()
    segmenter = Segmenter(model, optimizer, warn=warnings.append)

    class Paced(_AllAtOnce):
        """A snippet's first frame comes once the model has taken every snippet before
        it: a model that keeps up however loaded the machine is (not a timing)."""

        def read(self) -> Frame | None:
            if self._next and self._next % 5 == 0:
                _wait_for(lambda: segmenter.steps >= self._next // 5)
            return super().read()

    result = segment_video(segmenter, Paced(21))
    assert result.steps == 5
    assert segmenter.steps_behind == 0 and warnings == []


def test_the_live_reader_takes_a_frame_that_arrives_just_before_its_tick():
    class Early(_AllAtOnce):
        def read(self) -> Frame | None:
            frame = super().read()
            if frame is not None and frame.index in (5, 10):  # 2 ms early: arrival times
                return Frame(frame.image, frame.timestamp - 0.002, frame.index)
            return frame

    with LiveSnippetReader(Early(12), 0.5, keep_between=64) as reader:
        taken = [snippet.index for snippet in iter(reader.read, None)]
    assert taken == [0, 5, 10]  # not 6 and 11, a frame late


def test_a_live_hierarchy_begins_with_the_snippets_dropped_before_the_models_first_input():
    model, optimizer = small_model()
    segmenter = Segmenter(model, optimizer)
    segmenter.start_video(reset_model=True)
    with LiveSnippetReader(_AllAtOnce(201), 0.5, keep_between=64) as reader:  # 41 snippets
        _wait_for(lambda: reader.skipped_snippets == 41 - SNIPPETS_WAITING)  # before a take
        segmenter.run(reader)
    segmenter.end_stream()
    doc = segmenter.hierarchy("all at once")
    assert segmenter.steps == SNIPPETS_WAITING
    assert doc["duration"] == pytest.approx(20.1)  # not the 6.1 s from the first input on
    for layer in doc["layers"]:
        assert layer["annots"][-1]["end"] >= 20.1 - 1e-9


def test_a_live_hierarchy_lasts_to_the_last_frame_read_when_the_source_says_no_rate():
    class NoRate(_AllAtOnce):  # an MJPEG stream over HTTP says no frame rate
        fps = None

    model, optimizer = small_model()
    result = segment_video(Segmenter(model, optimizer), NoRate(201))  # frames 0.0-20.0 s
    assert result.hierarchy["duration"] == pytest.approx(20.1)  # not the newest snippet's 20.0
    for layer in result.hierarchy["layers"]:
        assert layer["annots"][-1]["end"] == pytest.approx(20.1)


def test_a_slow_models_hierarchy_lasts_as_long_as_its_live_stream():
    model, optimizer = small_model()
    result = segment_video(Segmenter(model, optimizer), _AllAtOnce(201))  # 20.1 s
    assert result.steps * 0.5 < 20  # snippets were dropped
    assert result.hierarchy["duration"] == pytest.approx(20.1)
    for layer in result.hierarchy["layers"]:
        assert layer["annots"][-1]["end"] >= 20.1 - 1e-9
