"""The learner's lifecycle, without widgets: the worker thread that owns the model, what
the running model was built with, live setting changes, reset, save, load and export.

Requests go to the worker as queued signals (LearnerRequests); its results come back on
the GUI thread and land in SessionHistory and SessionStatus. What the user should see
goes out as signals.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from app.session.keyframes import KeyframeStore
from streamer_core.learning_monitor import LearningMonitor
from streamer_core.sources import Frame
from streamer_core.sources.mailbox import LatestMailbox

from ..infrastructure.settings import (
    LIVE_FIELDS,
    LIVE_MODEL_FIELDS,
    STRUCTURAL_FIELDS,
    StudioSettings,
)
from ..insight.event_memory import EventMemory
from ..insight.prediction_preview import PredictionFrame
from ..live.status_bar import RateMeter
from ..workers.learner_worker import (
    LearnerRequests,
    LearnerWorker,
    ModelInfo,
    StepResult,
    learner_threads,
)
from .session import SessionStatus
from .session_history import SessionHistory


class LearnerController(QObject):
    model_ready = Signal(object)  # ModelInfo, once history and status follow it
    message = Signal(str, str, str)  # level, title, text: for the user's attention
    note = Signal(str, int)  # a passing status-bar note, milliseconds
    live_error = Signal(str)  # why a live change was not applied ("" when it was)
    signal_names = Signal(str, str, bool, str)  # what the rows of layer 0 and layer 1 plot;
    # whether the upper layers have a threshold of their own (not when escalating); what
    # the rows of layer 2 and above plot
    new_scene_share = Signal(object)  # float: the share of the picture whose change ends a
    # layer-1 event (layer 0 reads features and escalates); None where nothing such decides
    loss_modes = Signal(str, str)  # layer 0's distance mode and the upper layers': their losses
    saved = Signal(str, str)  # path, why ("save" or "autosave")
    exported = Signal(str)  # path
    hierarchy_ready = Signal(str, object)  # tag, hierarchy JSON doc (requests.hierarchy)

    def __init__(self, session: SessionStatus, history: SessionHistory,
                 snippets: LatestMailbox[Frame], parent: QObject | None = None):
        super().__init__(parent)
        self.session = session
        self.history = history
        self.snippets = snippets
        self.requests = LearnerRequests()
        self.model_settings = StudioSettings()
        """What the running model was built with, live changes included"""
        self.snippet_size = self.model_settings.snippet_size
        self.step_rate = RateMeter()
        self.learning = LearningMonitor()  # weight updates and losses, for the Learning panel
        self.optimize_clock = "base"
        """Whose losses the running model's optimize_every counts (its preset's choice)"""
        self.keyframes = KeyframeStore()
        """Each event's picture, as the worker chose it"""
        self.events = EventMemory()
        """Each closed event's representation, to find similar ones"""
        self.prediction: PredictionFrame | None = None
        """The newest preview of what layer 0 expected"""
        self.boundary_wall: dict[int, float] = {}
        """time.monotonic() of each layer's last boundary (the picture's badges)"""
        self.input_source_time: float | None = None
        """The newest input's frame time on its source's clock (None before one)"""
        self.last_saved = ""
        self.worker: LearnerWorker | None = None
        self.worker_thread: QThread | None = None
        self._torch_threads = torch.get_num_threads()  # process-wide: restored on shutdown

    def start(self, settings: StudioSettings) -> StudioSettings:
        """Starts the worker with a model built from `settings`; returns them as used
        (the live preset's model settings if theirs were invalid, auto for a missing GPU)."""
        try:
            model_args, opt_args = settings.model_arguments()
        except ValueError as err:
            self.message.emit("warning", "Model settings reset",
                              f"{err}; using the live preset instead.")
            settings = StudioSettings.from_preset("live", settings)
            model_args, opt_args = settings.model_arguments()
        if model_args.device == "cuda" and not torch.cuda.is_available():
            self.message.emit("warning", "No GPU", "CUDA was chosen but no CUDA GPU is "
                              "available; the model runs on the CPU.")
            settings = replace(settings, device="auto")
            model_args = replace(model_args, device="auto")
        self.model_settings = replace(settings)
        self.snippet_size = model_args.snippet_size
        torch.set_num_threads(learner_threads())
        self.worker = LearnerWorker(self.snippets, model_args, opt_args,
                                    learning=settings.learning)
        self.worker_thread = QThread(self)
        self.worker_thread.setObjectName("learner")
        self.worker.moveToThread(self.worker_thread)
        self.worker_thread.started.connect(self.worker.start)
        self.requests.connect_to(self.worker)
        self.worker.model_ready.connect(self._model_ready)
        self.worker.stepped.connect(self._stepped)
        self.worker.saved.connect(self._saved)
        self.worker.exported.connect(self.exported)
        self.worker.hierarchy_ready.connect(self.hierarchy_ready)
        self.worker.failed.connect(lambda title, text: self.message.emit("error", title, text))
        self.worker.warned.connect(
            lambda title, text: self.message.emit("warning", title, text))
        self.worker_thread.start()
        return settings

    @Slot(object)
    def _model_ready(self, info: ModelInfo) -> None:
        device = self.model_settings.device
        self.model_settings = replace(self.model_settings.with_model_arguments(
            info.model_args, info.opt_args), device=device)
        self.snippet_size = info.model_args.snippet_size
        self.boundary_wall.clear()
        self.input_source_time = None
        self.keyframes.clear()
        self.events.clear()
        self.prediction = None
        self.step_rate.clear()
        self.learning = LearningMonitor(info.optimizer_steps)  # a new model's, afresh
        self.optimize_clock = info.opt_args.optimize_clock
        if info.reason == "loaded":
            self.history.seed_boundaries(info.boundaries, now=info.stream_seconds,
                                         step=info.base_counter, unseen=info.unseen)
            self.note.emit(f"Loaded {info.path}: {info.num_layers} layer(s), "
                           f"{info.optimizer_steps} optimizer steps", 8000)
        else:
            self.history.clear()
            if info.reason == "reset":
                self.note.emit("New model started", 5000)
        self.session.set_model(info)
        self._name_signals()
        self.model_ready.emit(info)

    @Slot(object)
    def _stepped(self, result: StepResult) -> None:
        if result.unseen is not None:
            self.history.add_unseen(*result.unseen)
        self.history.add_all(result.reports)
        self.history.grow_to(result.num_layers)
        self.keyframes.add_all(result.keyframes)
        self.keyframes.set_current(result.open_keyframes)
        self.events.add_all(result.events)
        if result.prediction is not None:
            self.prediction = result.prediction
        now = time.monotonic()
        for report in result.reports:
            if report.boundary:
                self.boundary_wall[report.layer] = now
        if result.stream_end:  # boundaries decided at the end, not an input: no step
            return
        self.input_source_time = result.source_time
        self.learning.observe(result.reports, result.optimizer_steps, result.first_blocks_loss)
        self.session.count_step(result.seconds, result.num_layers, result.optimizer_steps,
                                result.learned)
        self.step_rate.tick(now)
        if result.diverged:
            self.note.emit("The model diverged: its last good weights are back", 10_000)
            self.message.emit("warning", "Model diverged", (
                f"{result.diverged[0].upper()}{result.diverged[1:]}.\n\nNo diverged weights "
                "are kept, saved or autosaved."))

    # --- settings ---------------------------------------------------------------------

    def apply_live(self, settings: StudioSettings, names: list[str]) -> bool:
        """Sends the live settings among `names` to the running model if they are valid
        with it; False (and `live_error` says why) if not."""
        if "optimize_every" in names:
            self.requests.optimize_every.emit(settings.optimize_every)
            self.model_settings = replace(self.model_settings,
                                          optimize_every=settings.optimize_every)
        changes = {n: getattr(settings, n) for n in names if n in LIVE_MODEL_FIELDS}
        if not changes:
            self.live_error.emit("")
            return True
        trial = replace(self.model_settings, **{n: getattr(settings, n) for n in LIVE_FIELDS})
        try:
            trial.model_arguments()
        except ValueError as err:
            hint = (" Set Signal to distance in the Model section and apply it first."
                    if "accum" in str(err) else "")
            self.live_error.emit(f"Not applied: {err}.{hint}")
            return False
        self.live_error.emit("")
        self.model_settings = trial
        self.requests.demarcation.emit(changes)
        self._name_signals()
        return True

    def seconds_per_update(self) -> float | None:
        """Seconds of input between two weight updates where layer 0's losses set the pace
        (the live preset); None where the top layer's do (a pace that slows as it grows)."""
        if self.optimize_clock != "base":
            return None
        return self.model_settings.optimize_every * self.snippet_size

    def _name_signals(self) -> None:
        """Axis labels: what each layer's row plots, and what its loss is, under the running
        model's settings."""
        m = self.model_settings
        base_mode = "distance" if m.force_base_dist else m.distance_mode
        reads_features = m.demarcation_mode == "change" and m.signal_space == "features"
        base = base_mode
        if reads_features:
            base = "feature step"  # the mean step of its pooled features' error
        elif m.demarcation_mode == "change" and m.signal_regions > 1:
            base = "regional step"  # the mean step of its regions' similarities
        escalating = m.upper_demarcation == "escalate"
        upper = higher = m.distance_mode
        if escalating:  # what decided each arriving boundary (see StreamerLayer)
            upper = higher = "surprise"
            if reads_features:  # layer 1: the share; layer 2: the size of layer 0's change
                upper, higher = "picture changed", "change size"
        self.signal_names.emit(base, upper, not escalating, higher)
        self.new_scene_share.emit(m.new_scene_share if escalating and reads_features else None)
        self.loss_modes.emit(base_mode, m.distance_mode)

    def pending_changes(self, settings: StudioSettings) -> list[str]:
        """Settings that differ from the running model's and need a new model."""
        return settings.differences(self.model_settings, STRUCTURAL_FIELDS)

    # --- model actions ----------------------------------------------------------------

    def reset(self, settings: StudioSettings) -> bool:
        try:
            model_args, opt_args = settings.model_arguments()
        except ValueError as err:
            self.message.emit("error", "Model not reset", str(err))
            return False
        self.note.emit("Building a new model…", 0)
        self.requests.reset.emit(model_args, opt_args)
        return True

    def save(self, path: str, why: str = "save") -> None:
        if why == "save":
            self.note.emit(f"Saving {path}…", 0)
        self.requests.save.emit(path, why)

    def load(self, path: str) -> None:
        self.note.emit(f"Loading {path}…", 0)
        self.requests.load.emit(path)

    @Slot(str, str)
    def _saved(self, path: str, why: str) -> None:
        self.last_saved = path
        verb = "Autosaved" if why == "autosave" else "Saved"
        self.note.emit(f"{verb} model to {path} at {time.strftime('%H:%M:%S')}", 8000)
        self.saved.emit(path, why)

    # --- shutdown ---------------------------------------------------------------------

    def shutdown(self) -> None:
        """Asks the worker to stop after the user's queued saves; the caller waits for
        `worker_thread`."""
        if self.worker is not None:
            self.worker.request_stop()
        self.requests.finish.emit()

    def restore_torch_threads(self) -> None:
        torch.set_num_threads(self._torch_threads)
