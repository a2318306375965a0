"""Owns the STREAMER model and optimizer on its own thread; everything touching them runs
here, between learning steps: save, load, reset, live demarcation changes, exports.

Requests arrive as queued signals (LearnerRequests), so they wait for the step in flight
and never race it. Snippet frames arrive through a small mailbox: the learner takes each
in turn, learning from those `LearningPace` says; past SNIPPETS_WAITING the oldest are
dropped and counted, not queued.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field, replace

import numpy as np
import torch
from PySide6.QtCore import QObject, Qt, Signal, Slot

from app.session.keyframes import EventKeyframes, Keyframe, OpenKeyframe, thumbnail
from app.session.recorder import FLUSH_SECONDS, VIDEO_NAME, RecordedEvent, SessionRecorder
from streamer_core import (
    LayerStep,
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
)
from streamer_core.atomic_file import write_json
from streamer_core.buffer import SIMILARITY
from streamer_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from streamer_core.device import describe_device
from streamer_core.divergence import DivergenceGuard
from streamer_core.event_representations import (
    add_representations,
    add_representations_by_times,
    as_vector,
)
from streamer_core.hierarchy import hierarchy_json
from streamer_core.learning import learning_step, pass_over_between
from streamer_core.learning_pace import LearningPace
from streamer_core.sources import Frame, preprocess_frame, to_rgb
from streamer_core.sources.mailbox import LatestMailbox

from ..insight.event_memory import EventMemory, RememberedEvent, remembered_events
from ..insight.prediction_preview import PredictionFrame, PredictionPreview


@dataclass(frozen=True)
class StepResult:
    reports: list[LayerStep]
    frame_index: int
    seconds: float
    """Wall time the step took"""
    num_layers: int
    optimizer_steps: int
    base_counter: int
    skipped: int
    """Snippet frames dropped from the mailbox before the learner could take them, so far"""
    learned: bool = True
    """Whether the model learned from this input (not when paused learning, nor behind)"""
    keyframes: list[Keyframe] = field(default_factory=list)
    """The events this input closed, with their pictures"""
    open_keyframes: list[OpenKeyframe] = field(default_factory=list)
    """Each layer's open event with its middle picture so far"""
    diverged: str = ""
    """What the divergence guard undid at this step ("" when it learned normally)"""
    events: list[RememberedEvent] = field(default_factory=list)
    """The events this input closed, with their representations"""
    prediction: PredictionFrame | None = None
    """What layer 0 expected of this input, when a preview was due"""
    first_blocks_loss: float | None = None
    """Layer 0's first blocks' own loss (block_objective "sparse_change"), the latest"""
    stream_end: bool = False
    """The reports of the stream's end (StreamerModel.end_stream): no input, no step"""
    source_time: float | None = None
    """The input's frame time on its source's clock (Frame.timestamp)"""
    unseen: tuple[float, float] | None = None
    """The stretch of the stream just before this input that the model never saw (its
    snippets were dropped), on the stream's clock"""


@dataclass(frozen=True)
class ModelInfo:
    reason: str  # "new", "reset" or "loaded"
    device: str
    num_layers: int
    base_counter: int
    optimizer_steps: int
    model_args: StreamerModelArguments
    opt_args: StreamerOptimizerArguments
    boundaries: dict[int, list[float]] = field(default_factory=dict)
    """Each layer's boundaries, on the stream's clock (StreamerModel.stream_boundaries)"""
    stream_seconds: float = 0.0
    """Where its next input falls on the stream's clock"""
    unseen: list[tuple[float, float]] = field(default_factory=list)
    """The stretches of its stream it never saw (InputClock.gaps)"""
    path: str = ""


class LearnerRequests(QObject):
    """Emitted on the GUI thread, delivered queued on the learner thread."""

    reset = Signal(object, object)  # model args, optimizer args: a brand-new model
    demarcation = Signal(object)  # dict for StreamerModel.set_demarcation
    optimize_every = Signal(int)
    learning = Signal(bool)
    save = Signal(str, str)  # path, why ("save", "autosave")
    load = Signal(str)
    export_hierarchy = Signal(str, str)  # path, file name written into the JSON
    hierarchy = Signal(str, str)  # a tag, the file name: the doc comes back, hierarchy_ready
    recording = Signal(object)  # a SessionRecorder to feed, or None to stop
    end_stream = Signal()  # a video ended or the source was stopped: decide what is held
    finish = Signal()  # closing: after the requests queued before it, the thread ends

    def connect_to(self, worker: LearnerWorker) -> None:
        queued = Qt.ConnectionType.QueuedConnection
        self.reset.connect(worker.reset, queued)
        self.demarcation.connect(worker.set_demarcation, queued)
        self.optimize_every.connect(worker.set_optimize_every, queued)
        self.learning.connect(worker.set_learning, queued)
        self.save.connect(worker.save, queued)
        self.load.connect(worker.load, queued)
        self.export_hierarchy.connect(worker.export_hierarchy, queued)
        self.hierarchy.connect(worker.send_hierarchy, queued)
        self.recording.connect(worker.set_recorder, queued)
        self.end_stream.connect(worker.end_stream, queued)
        self.finish.connect(worker.finish, queued)


def learner_threads(cores: int | None = None) -> int:
    """Torch threads for learning: all cores but one, which capture and drawing need.

    With every core given to torch, its worker threads spin against the capture and GUI
    threads and a step gets slower, not faster (measured 3x on a busy 2-core machine).
    """
    cores = cores or os.cpu_count() or 1
    return max(1, cores - 1)


def device_label(device: torch.device) -> str:
    if device.type == "cuda":
        return describe_device(device)
    threads = torch.get_num_threads()
    return f"CPU ({threads} learning thread{'s' if threads != 1 else ''})"


def recorded_events(result: StepResult) -> list[RecordedEvent]:
    """The events a step closed, as a recorded session keeps their representations."""
    return [(event.layer, event.start, event.end, event.vector) for event in result.events]


class LearnerWorker(QObject):
    model_ready = Signal(object)  # ModelInfo
    stepped = Signal(object)  # StepResult
    saved = Signal(str, str)  # path, why
    exported = Signal(str)
    hierarchy_ready = Signal(str, object)  # the request's tag, a hierarchy JSON doc
    demarcation_changed = Signal(object)  # the dict that was applied
    failed = Signal(str, str)  # title, message for the user
    warned = Signal(str, str)  # title, message: something was skipped, learning goes on

    def __init__(self, snippets: LatestMailbox[Frame], model_args: StreamerModelArguments,
                 opt_args: StreamerOptimizerArguments, learning: bool = True):
        super().__init__()
        self.snippets = snippets
        self._initial = (model_args, opt_args)
        self.learning = learning
        self.model: StreamerModel | None = None
        self.optimizer: StreamerOptimizer | None = None
        self.guard: DivergenceGuard | None = None
        self._stop = threading.Event()
        self._halted = ""  # why learning stopped after an unexpected error
        self.keyframes = EventKeyframes()
        self.closed_events = EventMemory()
        """The newest closed events' representations, for an exported hierarchy"""
        self.recorder: SessionRecorder | None = None
        self._hierarchy_sent = 0.0  # time.monotonic() the recorder last got the hierarchy
        self.preview = PredictionPreview()
        self.rejected_frames = 0
        """Frames that could not become a model input (skipped, not fatal)"""
        self._last_taken: int | None = None  # the index of the last snippet taken
        self._skipped_told = 0  # the mailbox's dropped snippets the model was told of
        self.pace = LearningPace()
        """Which snippets it learns from while behind its source"""
        self._last_picture: np.ndarray | None = None  # its thumbnail (the stream's end's)

    def request_stop(self) -> None:
        """Thread-safe: the step in flight is abandoned, an autosave in flight cancelled,
        and of the requests still queued only the user's saves run (see `finish`)."""
        self._stop.set()

    @Slot()
    def finish(self) -> None:
        """Queued after everything the window asked before closing, so a save the user
        asked for just before quitting is written, then the thread's loop ends. Closing
        ends the stream too: a recorded session gets what layer 0 still held back, and
        its hierarchy up to the last input."""
        try:
            if self.recorder is not None:
                self._end_stream()  # nobody is left to show it: only the recording
        finally:  # whatever the end raised (the app's hook logs it), the thread ends
            if self.model is not None:
                self.model.stop_background_learning()  # no thread of its own outlives this
            thread = self.thread()
            if thread is not None:
                thread.quit()

    # --- model lifecycle -------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        self.reset(*self._initial, reason="new")

    @Slot(object, object)
    def reset(self, model_args: StreamerModelArguments, opt_args: StreamerOptimizerArguments,
              reason: str = "reset") -> None:
        if self._stop.is_set():
            return
        try:
            model = StreamerModel(model_args)
            optimizer = StreamerOptimizer(model, opt_args)
        except (ValueError, RuntimeError) as err:
            what = "kept the current model" if self.model is not None else "no model"
            self.failed.emit("Cannot build the model", f"{err}\n\n({what})")
            return
        self._install(model, optimizer, reason)

    def _install(self, model: StreamerModel, optimizer: StreamerOptimizer, reason: str,
                 path: str = "") -> None:
        self.model, self.optimizer = model, optimizer
        self.guard = DivergenceGuard(model, optimizer)
        self._halted = ""
        if reason != "new":
            self.recorder = None  # a recorded session is one model's: the app starts another
            self.snippets.clear()  # the new clock starts at the next snippet
        # The first model learns from the snippets that came while it was built: a file's
        # first is its frame 0.
        self._skipped_told = self.snippets.skipped
        boundaries = model.stream_boundaries()
        self.closed_events.clear()
        self.keyframes.restart({layer: (len(times) - 1, times[-1])
                                for layer, times in boundaries.items()})
        self.model_ready.emit(ModelInfo(
            reason=reason, device=device_label(model.device),
            num_layers=model.get_num_layers(), base_counter=model.base_counter,
            optimizer_steps=optimizer.optimizer_steps, model_args=replace(model.args),
            opt_args=replace(optimizer.args), boundaries=boundaries,
            stream_seconds=model.stream_seconds(),
            unseen=model.input_clock.gaps(),
            path=path))

    # --- learning --------------------------------------------------------------------

    @Slot()
    def on_snippet_ready(self) -> None:
        if self._stop.is_set():
            return
        frame = self.snippets.take()
        if frame is None or self.model is None or self._halted:
            return
        started = time.perf_counter()
        try:
            x = preprocess_frame(frame.image)
            rgb = to_rgb(frame.image, "rgb")
            picture = thumbnail(rgb)
        except (ValueError, TypeError) as err:  # a damaged frame costs that frame only
            self.rejected_frames += 1
            if self.rejected_frames == 1:
                self.warned.emit("Frame skipped", f"A frame could not be used ({err}); it "
                                 "was skipped and learning goes on.")
            return
        pass_over_between(self.model, frame, self._last_taken)
        self._last_taken = frame.index
        # Snippets the mailbox dropped keep their time: the events after them stay where
        # they happened (the timeline, the marks, exports and the recording alike).
        lost = self.snippets.skipped_at_take - self._skipped_told
        self.model.snippets_lost(lost)
        self._skipped_told = self.snippets.skipped_at_take
        try:
            expected = self.preview.expectation(self.model)
            behind = not self.pace.learns(self.snippets.left_at_take)
            reports = learning_step(self.model, self.optimizer, x, self.learning, self._stop,
                                    self.guard, picture=frame.image, behind=behind)
            if self._stop.is_set():
                return  # closing: the step was abandoned rather than back-propagated
            reports = self.model.input_clock.reports(reports)
        except Exception as err:  # noqa: BLE001 - e.g. out of memory; the GUI must hear it
            self._halted = str(err)
            self.failed.emit("Learning stopped",
                             f"The model failed on a frame: {err}\n\nSave the model if you "
                             "want to keep it, then reset or load one to continue.")
            return
        self._last_picture = picture
        # Against the input as layer 0 took it: its light and view held steady (live).
        scale_free = self.model.streamer.distance_mode == SIMILARITY  # the loss: cosines
        prediction = (self.preview.frame(expected, self.model.input_seen, reports[0].time,
                                         scale_free)
                      if expected is not None else None)
        unseen = self.model.input_clock.gaps()[-1] if lost > 0 else None
        result = self._result(reports, picture, started, frame_index=frame.index,
                              source_time=frame.timestamp, unseen=unseen,
                              diverged=(self.guard.diverged or "") if self.learning else "",
                              prediction=prediction,
                              first_blocks_loss=self.model.first_blocks_loss(),
                              learned=self.learning and not behind)
        self.stepped.emit(result)
        if self.recorder is not None:
            self._record(rgb, reports, result)

    @Slot()
    def end_stream(self) -> None:
        """The stream ended (a video played to its end, or the user stopped the source):
        the boundary layer 0 still held back (a new scene waits 1.5 s to be seen staying)
        reaches the layers above now, as `segment` does after a file's last frame or an
        interrupt. Its reports come as a StepResult of no input of its own."""
        if self._stop.is_set():
            return
        result = self._end_stream()
        if result is not None:
            self.stepped.emit(result)

    def _end_stream(self) -> StepResult | None:
        """Ends the model's stream and records its reports and the whole hierarchy (between
        inputs it is written every FLUSH_SECONDS); what the GUI thread hears of the
        reports, None when there were none."""
        if self.model is None or self._halted:
            return None
        started = time.perf_counter()
        reports = self.model.input_clock.reports(self.model.end_stream())
        result = None
        if reports and self._last_picture is not None:
            result = self._result(reports, self._last_picture, started, frame_index=-1,
                                  stream_end=True)
        if self.recorder is not None:
            if result is not None:
                self.recorder.add_reports(reports, result.keyframes, recorded_events(result))
            self._send_hierarchy()
        return result

    def _result(self, reports: list[LayerStep], picture: np.ndarray, started: float,
                **details) -> StepResult:
        """What the GUI thread hears of these reports: with the events they closed (their
        pictures, `picture` offered to each layer's open event, and representations) and
        the model's counts; `details` are the StepResult fields of an input's own."""
        closed, open_keyframes = self.keyframes.observe(reports, picture)
        events = remembered_events(self.model, reports)
        self.closed_events.add_all(events)
        return StepResult(
            reports=reports, seconds=time.perf_counter() - started,
            num_layers=self.model.get_num_layers(),
            optimizer_steps=self.optimizer.optimizer_steps,
            base_counter=self.model.base_counter, skipped=self.snippets.skipped,
            keyframes=closed, open_keyframes=open_keyframes,
            events=events, **details)

    def _record(self, image: np.ndarray, reports: list[LayerStep], result: StepResult) -> None:
        self.recorder.add_input(image, reports, result.keyframes, recorded_events(result))
        if time.monotonic() - self._hierarchy_sent >= FLUSH_SECONDS:
            self._send_hierarchy()

    def _send_hierarchy(self) -> None:
        """The recorder's hierarchy, as the model has it now."""
        self._hierarchy_sent = time.monotonic()
        self.recorder.set_hierarchy(self._with_representations(self._hierarchy(VIDEO_NAME),
                                                               closed=False))

    @Slot(object)
    def set_recorder(self, recorder: SessionRecorder | None) -> None:
        """Inputs from now on also go to `recorder` (None: to none)."""
        self.recorder = recorder
        self._hierarchy_sent = 0.0

    @Slot(bool)
    def set_learning(self, learning: bool) -> None:
        self.learning = learning

    @Slot(object)
    def set_demarcation(self, changes: dict) -> None:
        if self.model is None:
            return
        try:
            self.model.set_demarcation(**changes)
        except ValueError as err:
            self.failed.emit("Demarcation not changed", str(err))
            return
        self.demarcation_changed.emit(dict(changes))

    @Slot(int)
    def set_optimize_every(self, value: int) -> None:
        if self.optimizer is None:
            return
        if value < 1:
            self.failed.emit("Setting not changed", "optimize_every must be at least 1")
            return
        self.optimizer.args.optimize_every = value

    # --- files -----------------------------------------------------------------------

    @Slot(str, str)
    def save(self, path: str, why: str = "save") -> None:
        """A user's save always completes, even when closing; an autosave is skipped or
        cancelled then, so closing never waits for one (the previous file stays)."""
        autosave = why == "autosave"
        if autosave and self._stop.is_set():
            return
        if self.model is None:
            self.failed.emit("Not saved", "There is no model yet.")
            return
        try:
            save_checkpoint(path, self.model, self.optimizer,
                            cancel=self._stop if autosave else None)
        except CheckpointError as err:
            if not self._stop.is_set():
                self.failed.emit("Autosave failed" if autosave else "Checkpoint not saved",
                                 f"{err}\n\nThe previous file is unchanged; the model "
                                 "keeps learning.")
            return
        except Exception as err:  # noqa: BLE001 - never lose the thread over a save
            self.failed.emit("Checkpoint not saved", f"{path}: {err}")
            return
        self.saved.emit(path, why)

    @Slot(str)
    def load(self, path: str) -> None:
        if self._stop.is_set():
            return  # closing: the model would be thrown away at once
        device = self.model.args.device if self.model is not None else "auto"
        try:
            model, optimizer = load_checkpoint(path, device=device)
        except CheckpointError as err:
            self.failed.emit("Checkpoint not loaded",
                             f"{err}\n\nThe current model is unchanged.")
            return
        except Exception as err:  # noqa: BLE001 - e.g. a CUDA device that is gone
            self.failed.emit("Checkpoint not loaded",
                             f"{path}: {err}\n\nThe current model is unchanged.")
            return
        if self._stop.is_set():
            return
        self._install(model, optimizer, "loaded", path)

    def _hierarchy(self, file_name: str) -> dict | None:
        if self.model is None:
            self.failed.emit("Not exported", "There is no model yet.")
            return None
        return hierarchy_json({"boundaries": self.model.stream_boundaries()},
                              file=file_name, duration=self.model.stream_seconds())

    def _with_representations(self, doc: dict, closed: bool = True) -> dict:
        """`doc` with each event's representation in its slot, as `segment
        --representations` writes them (the open event's too): `similar` and review mode
        then find events like it. An event this model closed before it was loaded, or that
        the bounded memory forgot, has "null". Without `closed`, only the open events'
        (a recording keeps the closed ones apart, as they close)."""
        still_open = {}  # the last event of each layer
        for layer in doc["layers"]:
            order = int(layer.get("order", 0))
            vector = self.model.open_representation(order)
            still_open[order] = [None] * (len(layer["annots"]) - 1) + [
                as_vector(vector) if vector is not None else None]
        add_representations(doc, still_open)
        if closed:
            add_representations_by_times(doc, {
                layer: [(e.start, e.end, e.vector) for e in self.closed_events.events(layer)]
                for layer in still_open})
        return doc

    @Slot(str, str)
    def send_hierarchy(self, tag: str, file_name: str) -> None:
        """The events so far, for a writer off this thread (an export in another format)."""
        doc = self._hierarchy(file_name)
        if doc is not None:
            self.hierarchy_ready.emit(tag, doc)

    @Slot(str, str)
    def export_hierarchy(self, path: str, file_name: str) -> None:
        doc = self._hierarchy(file_name)
        if doc is None:
            return
        doc = self._with_representations(doc)
        try:
            write_json(path, doc)
        except OSError as err:
            self.failed.emit("Hierarchy not exported", f"{path}: {err.strerror or err}")
            return
        self.exported.emit(path)

