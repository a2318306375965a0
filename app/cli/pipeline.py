"""Frames to model steps, headless: source -> sampler -> preprocess -> model (-> optimizer)."""

from __future__ import annotations

import json
from typing import TextIO

from streamer_core import LayerStep, StreamerModel, StreamerOptimizer
from streamer_core.hierarchy import hierarchy_json
from streamer_core.learning import learning_step
from streamer_core.learning_monitor import LearningMonitor
from streamer_core.sources import FrameSource, SnippetSampler, preprocess_frame
from streamer_core.trace import trace_row

from .progress import Progress


class Segmenter:
    """Runs one model over one or more sources; the caller opens and closes them.

    `steps` counts model inputs over the whole run; the model's own step counter restarts
    when the caller resets it for a new video.
    """

    def __init__(self, model: StreamerModel, optimizer: StreamerOptimizer | None, *,
                 learn: bool = True, max_steps: int | None = None,
                 trace: TextIO | None = None, progress: Progress | None = None):
        if learn and optimizer is None:
            raise ValueError("learning needs an optimizer")
        self.model = model
        self.optimizer = optimizer
        self.learn = learn
        self.max_steps = max_steps
        self.trace = trace
        self.progress = progress
        self.steps = 0
        self.boundaries: list[int] = []
        self.learning = LearningMonitor()
        self.sampler = SnippetSampler(model.args.snippet_size)

    @property
    def done(self) -> bool:
        return self.max_steps is not None and self.steps >= self.max_steps

    def start_video(self, reset_model: bool) -> None:
        """A new source: restart sampling; with reset_model, a new stream for the model."""
        self.sampler.reset()
        if reset_model:
            self.model.reset_model()
            self.boundaries = []

    def step(self, image, video: int = 0) -> list[LayerStep]:
        x = preprocess_frame(image, device=self.model.device)
        updates_before = self.optimizer.optimizer_steps if self.optimizer else 0
        reports = learning_step(self.model, self.optimizer, x, self.learn)
        updated = self.optimizer is not None and self.optimizer.optimizer_steps != updates_before
        self.learning.observe(reports, updated)
        self.steps += 1
        for report in reports:
            while len(self.boundaries) <= report.layer:
                self.boundaries.append(0)
            self.boundaries[report.layer] += int(report.boundary)
        if self.trace is not None:
            for r in reports:
                self.trace.write(json.dumps(trace_row(
                    video, r.step, r.time, r.layer, r.signal, r.threshold, r.boundary,
                    loss=r.loss)) + "\n")
        return reports

    def run(self, source: FrameSource, video: int = 0) -> None:
        """Until the source dies or max_steps is reached."""
        for frame in source:
            if self.done:
                return
            if not self.sampler.offer(frame):
                continue
            self.step(frame.image, video)
            self.show_progress()

    @property
    def seconds(self) -> float:
        """Seconds of input the model has seen since its last reset."""
        return self.model.base_counter * self.model.args.snippet_size

    def show_progress(self, final: bool = False) -> None:
        if self.progress is None:
            return
        args = (self.steps, self.model.get_num_layers(), self.boundaries, self.seconds)
        if final:
            self.progress.finish(*args)
        else:
            self.progress.update(*args)

    def hierarchy(self, file: str) -> dict:
        return hierarchy_json(self.model.extract_rep(), file=file, duration=self.seconds)
