"""Frames to model steps, headless: source -> sampler -> preprocess -> model (-> optimizer)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TextIO

import numpy as np
import torch

from streamer_core import LayerStep, StreamerModel, StreamerOptimizer
from streamer_core.divergence import DivergenceGuard
from streamer_core.event_representations import EventRepresentations, add_representations
from streamer_core.frames_between import MAX_FRAMES
from streamer_core.hierarchy import hierarchy_json
from streamer_core.learning import learning_step, pass_over_between
from streamer_core.learning_monitor import LearningMonitor
from streamer_core.learning_pace import LearningPace
from streamer_core.sources import (
    Frame,
    FrameSource,
    LiveSnippetReader,
    SnippetSampler,
    SyntheticSource,
    preprocess_frame,
)
from streamer_core.trace import trace_row

from .progress import Progress


def snippet_too_short(snippet_size: float, source: FrameSource) -> str | None:
    """Why the snippet cannot be used on this source, if it is shorter than one of its
    frames: each input is then still one frame, while the model counts it as a snippet,
    so every time would come out too short (0.01 s snippets over a 10 fps video: a
    tenth of each)."""
    if not source.fps or snippet_size * source.fps >= 1.0 - 1e-6:
        return None
    frame = 1.0 / source.fps
    return (f"a snippet of {snippet_size:g} s is shorter than one frame of "
            f"{source.description} ({source.fps:g} fps: {frame:.3g} s a frame), so the "
            f"times would shrink to {snippet_size * source.fps:.2g} of the video's; "
            f"give --snippet {frame:.3g} or more")


class Segmenter:
    """Runs one model over one or more sources; the caller opens and closes them.

    `steps` counts model inputs over the whole run; the model's own step counter restarts
    when the caller resets it for a new video. Each step runs inside `atomic()` (the CLI
    holds Ctrl-C there); a diverged model is put back to its last good weights and
    `warn` is told. `after_step` runs after each step, outside it (a distributed run
    averages the ranks' weights there). With `representations`, the hierarchy
    carries each event's representation.
    """

    def __init__(self, model: StreamerModel, optimizer: StreamerOptimizer | None, *,
                 learn: bool = True, max_steps: int | None = None,
                 trace: TextIO | None = None, progress: Progress | None = None,
                 atomic: Callable[[], AbstractContextManager] = contextlib.nullcontext,
                 warn: Callable[[str], None] = lambda message: None,
                 after_step: Callable[[], None] | None = None,
                 representations: bool = False):
        if learn and optimizer is None:
            raise ValueError("learning needs an optimizer")
        self.model = model
        self.optimizer = optimizer
        self.learn = learn
        self.behind = False
        """The next input is seen without gradients (learning_step's `behind`): set for a
        live reader's snippets by `pace`, or as benchmarks/live_lag.py plays a reader"""
        self.pace = LearningPace()
        self.steps_behind = 0
        """Inputs seen without gradients, over the whole run"""
        self.max_steps = max_steps
        self.trace = trace
        self.progress = progress
        self.atomic = atomic
        self.warn = warn
        self.after_step = after_step
        self.guard = DivergenceGuard(model, optimizer) if learn else None
        self.steps = 0
        self.boundaries: list[int] = []
        self.learning = LearningMonitor(self._optimizer_steps())
        self.representations = EventRepresentations() if representations else None
        self.sampler = SnippetSampler(model.args.snippet_size)
        self._seconds_before = 0.0  # source time of the earlier videos since the reset
        self._video_span: tuple[float, float] | None = None  # (start, end), source seconds
        self._frame_seconds = 0.0  # how long one frame of the current video lasts
        self._video_read = False  # the current video was read to its end
        self._last_index: int | None = None  # the last frame's, to see frames dropped
        self._skipped_seen = 0  # the live reader's dropped snippets the model was told of

    def _optimizer_steps(self) -> int:
        return self.optimizer.optimizer_steps if self.optimizer else 0

    @property
    def done(self) -> bool:
        return self.max_steps is not None and self.steps >= self.max_steps

    def start_video(self, reset_model: bool) -> None:
        """A new source: restart sampling; with reset_model, a new stream for the model."""
        self.sampler.reset()
        self._seconds_before += self._video_seconds()
        self._video_span = None
        self._video_read = False
        self._last_index = None
        self._skipped_seen = 0
        self.pace = LearningPace()
        if reset_model:
            self.model.reset_model()
            self.boundaries = []
            self._seconds_before = 0.0
            if self.representations is not None:
                self.representations.reset()

    def step(self, image: np.ndarray, video: int = 0) -> list[LayerStep]:
        """One input, whole: forward, gradients, a weight update if due, the trace line."""
        x = preprocess_frame(image, device=self.model.device)
        with self.atomic():
            return self._step(x, video, image)

    def _step(self, x: torch.Tensor, video: int, image: np.ndarray) -> list[LayerStep]:
        reports = learning_step(self.model, self.optimizer, x, self.learn, guard=self.guard,
                                picture=image, behind=self.behind)
        self.steps_behind += int(self.learn and self.behind)
        if self.guard is not None and self.guard.diverged:
            self.warn(self.guard.diverged)
        self.learning.observe(reports, self._optimizer_steps(), self.model.first_blocks_loss())
        self.steps += 1
        self._note(reports, video)
        return reports

    def end_stream(self, video: int = 0) -> None:
        """The stream is over: the boundaries the model still held back join the hierarchy
        (StreamerModel.end_stream). Again, or before any input, it does nothing."""
        with self.atomic():
            self._note(self.model.end_stream(), video)

    def _note(self, reports: list[LayerStep], video: int) -> None:
        """Counts, keeps and traces what the layers marked."""
        if self.representations is not None:
            self.representations.observe(reports)
        for report in reports:
            while len(self.boundaries) <= report.layer:
                self.boundaries.append(0)
            self.boundaries[report.layer] += int(report.boundary)
        if self.trace is not None:
            for r in self.model.input_clock.reports(reports):  # as the hierarchy
                self.trace.write(json.dumps(trace_row(
                    video, r.step, r.time, r.layer, r.signal, r.threshold, r.boundary,
                    loss=r.loss)) + "\n")

    def run(self, source: FrameSource, video: int = 0) -> None:
        """Until the source dies or max_steps is reached. A LiveSnippetReader's frames are
        snippets already, each one an input."""
        self._frame_seconds = 1.0 / source.fps if source.fps else 0.0
        live = isinstance(source, LiveSnippetReader)
        for frame in source:
            if self.done:
                return
            if live:
                self._take_snippet(frame, source)
            else:
                start = self._video_span[0] if self._video_span else frame.timestamp
                self._video_span = (min(start, frame.timestamp),
                                    frame.timestamp + self._frame_seconds)
                if not self._take_frame(frame):
                    continue
            self.step(frame.image, video)
            if self.after_step is not None:
                self.after_step()
            self.show_progress()
        self._video_read = True
        if live:  # the snippets dropped before the first input and after the newest count
            self._video_span = source.read_span

    def _take_frame(self, frame: Frame) -> bool:
        """True if the sampler takes the frame as an input. Otherwise layer 0 reads it to
        tell a cut from motion, under frames_between (StreamerModel.pass_over); without,
        it is not even preprocessed."""
        if self._last_index is not None and frame.index != self._last_index + 1:
            self.model.frames_lost()  # the source dropped some: no cut is read there
        self._last_index = frame.index
        if self.sampler.offer(frame):
            return True
        if self.model.frames_between is not None:
            self.model.pass_over(preprocess_frame(frame.image, device=self.model.device))
        return False

    def _take_snippet(self, snippet: Frame, reader: LiveSnippetReader) -> None:
        """A live reader's snippet: the frames passed over before it, whether it is learned
        from (LearningPace, by how many more wait), and the snippets dropped before it."""
        pass_over_between(self.model, snippet, self._last_index)
        self._last_index = snippet.index
        self.behind = not self.pace.learns(reader.waiting)
        lost = reader.skipped_before_read - self._skipped_seen
        self.model.snippets_lost(lost)
        self._skipped_seen += lost

    def _video_seconds(self) -> float:
        if self._video_span is None:
            return 0.0
        start, end = self._video_span
        return end - start

    @property
    def seconds(self) -> float:
        """Seconds of input the model has seen since its last reset: its inputs times the
        snippet, but no more than the sources lasted (one input of a 1e9 s snippet over a
        5 s stream is 5 s). From a live source, with the snippets it dropped (InputClock)."""
        inputs = self.model.stream_seconds()
        if not self._video_read:  # stopped mid-video: its last input's snippet is not read yet
            return inputs
        return min(inputs, self._seconds_before + self._video_seconds())

    def show_progress(self, final: bool = False) -> None:
        if self.progress is None:
            return
        args = (self.steps, self.model.get_num_layers(), self.boundaries, self.seconds)
        if final:
            self.progress.finish(*args)
        else:
            self.progress.update(*args)

    def hierarchy(self, file: str) -> dict:
        """The events so far, on the stream's clock (a live source's dropped snippets keep
        their time: InputClock)."""
        doc = hierarchy_json({"boundaries": self.model.stream_boundaries()}, file=file,
                             duration=self.seconds)
        if self.representations is not None:
            add_representations(doc, self.representations.per_layer(self.model))
        return doc


def reader_for(source: FrameSource, snippet_size: float) -> FrameSource:
    """Live inputs through a reader that keeps the last few snippets: a slow model then
    sees each of them (learning from some), never a growing backlog."""
    if source.is_live and not isinstance(source, SyntheticSource):
        return LiveSnippetReader(source, snippet_size, keep_between=MAX_FRAMES)
    return source


@dataclass
class VideoResult:
    """What one source gave: its hierarchy (None if no input came) and why it ended early."""

    description: str
    hierarchy: dict | None
    steps: int
    ended_early: str | None = None


def segment_video(segmenter: Segmenter, source: FrameSource, *, video: int = 0,
                  reset_model: bool = True, ends_stream: bool = True) -> VideoResult:
    """One source through the model, opened and closed here: the per-video work that the
    one-stream CLI, the manifest batch (one process, a shard, a torchrun rank) and the app's
    file mode share. Without `reset_model` the model goes on with the stream it was in
    (several videos as one stream); the hierarchy is then that of the whole stream. Unless
    the next video goes on with it (`ends_stream` False), the stream ends with this video
    (Segmenter.end_stream)."""
    steps_before = segmenter.steps
    segmenter.start_video(reset_model=reset_model)
    behind_before = segmenter.steps_behind
    with reader_for(source, segmenter.model.args.snippet_size) as frames:
        segmenter.run(frames, video=video)
        ended_early = (frames.end_reason or source.description) if frames.ended_early else None
    if isinstance(frames, LiveSnippetReader):
        _tell_how_far_behind(segmenter, frames, segmenter.steps - steps_before,
                             segmenter.steps_behind - behind_before)
    if ends_stream:
        segmenter.end_stream(video)
    steps = segmenter.steps - steps_before
    hierarchy = (segmenter.hierarchy(source.description)
                 if segmenter.model.base_counter > 0 else None)
    return VideoResult(source.description, hierarchy, steps, ended_early)


def _tell_how_far_behind(segmenter: Segmenter, reader: LiveSnippetReader, steps: int,
                         behind: int) -> None:
    """A model slower than its live source says what it missed: inputs it only saw (no
    gradients) and snippets dropped past the reader's few."""
    if not behind and not reader.skipped_snippets:
        return
    seen = f"saw {steps} inputs" + (f" and learned from {steps - behind}" if behind else "")
    unseen = reader.skipped_snippets * segmenter.model.args.snippet_size
    dropped = (f"; {reader.skipped_snippets} snippets were dropped ({unseen:g} s it never "
               "saw; the hierarchy keeps their time)" if reader.skipped_snippets else "")
    segmenter.warn(f"{reader.description}: the model was slower than the source: it "
                   f"{seen}{dropped}")
