"""The main window: wires the capture and learner workers to the views and the controls.

Threads: a capture worker per source (QThread), one learner worker (QThread), this GUI
thread. Frames reach the GUI through a one-slot mailbox polled by a display timer and
the learner through another, woken by a queued signal; learner results come back as
queued signals and land in SessionHistory, which the timeline redraws on a timer.
Nothing here waits on a worker except `shutdown`, which waits at most `timeout`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from PySide6.QtCore import QStandardPaths, Qt, QThread, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter

from streamer_core.sources import Frame

from .camera_scan import CameraScanner
from .capture_worker import CaptureWorker, SourceInfo
from .controls_panel import SYNTHETIC_SPEC, ControlsPanel, describe_spec
from .dialogs import Dialogs, Notifier
from .exports import BackgroundWriter
from .learner_worker import LearnerRequests, LearnerWorker, ModelInfo, StepResult, learner_threads
from .mailbox import LatestMailbox
from .resources import app_icon
from .session_history import SessionHistory, trace_rows
from .settings import (
    LIVE_FIELDS,
    LIVE_MODEL_FIELDS,
    STRUCTURAL_FIELDS,
    SettingsStore,
    StudioSettings,
    checked_settings,
)
from .status_bar import RateMeter, StatusFigures, StudioStatusBar
from .timeline_view import TimelineView
from .video_view import EventBadge, VideoView

DISPLAY_INTERVAL_MS = 33
REDRAW_INTERVAL_MS = 250
STATUS_INTERVAL_MS = 500
AUTOSAVE_CHOICES = (0, 1, 5, 10, 30)
RECONNECT_DELAYS = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before each new attempt to reopen a lost camera or stream; the last repeats"""


@dataclass
class Reconnect:
    """A live source that died and is being reopened until it answers or the user moves on."""

    spec: str
    description: str
    reason: str
    """Why it was lost, in the source's own words"""
    last_error: str = ""
    """Why the last attempt failed"""
    attempt: int = 0
    """Attempts made so far"""
    due: float = 0.0
    """time.monotonic() of the next attempt; 0 while one is in flight"""


class MainWindow(QMainWindow):
    def __init__(self, store: SettingsStore, settings: StudioSettings | None = None,
                 notes: list[str] | None = None, dialogs: Dialogs | None = None,
                 popups: bool = True, scan_cameras: bool = True,
                 autosave_seconds: float | None = None):
        """`autosave_seconds`: overrides the autosave menu's minutes (tests, demos); the
        menu still says whether autosave is on."""
        super().__init__()
        if settings is None:
            settings, loaded = store.load()
            notes = [*(notes or []), *loaded]
        self.store = store
        # Ours to change (the caller's stays as it was), and valid whoever built it.
        settings, invalid = checked_settings(settings)
        notes = [*(notes or []), *invalid]
        self.settings = settings
        self.autosave_seconds = autosave_seconds
        self.reconnect_delays = RECONNECT_DELAYS
        self.reconnecting: Reconnect | None = None
        self.dialogs = dialogs or Dialogs(self)
        self.notifier = Notifier(self, popups=popups)
        self.history = SessionHistory()
        self.snippets: LatestMailbox[Frame] = LatestMailbox()
        self.display: LatestMailbox[Frame] = LatestMailbox()
        self.requests = LearnerRequests()
        self.writer = BackgroundWriter(self)
        self.cameras = CameraScanner(self)

        self.run_state = "stopped"
        self.source_info: SourceInfo | None = None
        self.model_info: ModelInfo | None = None
        self.model_settings = replace(settings)  # what the running model was built with
        self.model_snippet = settings.snippet_size
        self.device_name = "starting…"
        self.total_steps = 0
        self.step_seconds: list[float] = []
        self.optimizer_steps = 0
        self.num_layers = 0
        self.last_saved = ""
        self.last_opened = ""  # what Start reopens after Stop or the end of a file
        self.fallback_reason = ""  # why we are on the synthetic scene instead of a camera
        self._startup = True
        self._boundary_wall: dict[int, float] = {}
        self._step_rate = RateMeter()
        self._capture: tuple[QThread, CaptureWorker] | None = None  # the one shown
        self._pending: tuple[QThread, CaptureWorker] | None = None  # opening, to replace it
        self._retiring: list[tuple[QThread, CaptureWorker]] = []
        self._token = 0
        self._shut_down = False

        self.setWindowTitle("Streamer Studio")
        self.setAcceptDrops(True)
        self.setWindowIcon(app_icon())
        self._build_views()
        self._build_actions()
        self._build_timers()
        if notes:
            self.notifier.show("warning", "Some settings were reset", "\n".join(notes))

        self._start_learner()
        self.start_source(self.settings.source)
        if scan_cameras:
            QTimer.singleShot(1500, self._scan_cameras_at_startup)

    # --- construction -----------------------------------------------------------------

    def _build_views(self) -> None:
        self.video = VideoView()
        self.timeline = TimelineView(self.history, span=self.settings.timeline_span)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.video)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 6)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)

        self.controls = ControlsPanel()
        self.controls.set_settings(self.settings)
        self.controls.show_source(self.settings.source)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)

        self.status = StudioStatusBar()
        self.setStatusBar(self.status)

        c = self.controls
        c.source_chosen.connect(self.start_source)
        c.open_file_requested.connect(self.open_video_file)
        c.refresh_cameras_requested.connect(self.cameras.scan)
        c.start_requested.connect(self.start)
        c.pause_requested.connect(self.pause)
        c.stop_requested.connect(self.stop)
        c.learning_toggled.connect(self._learning_toggled)
        c.follow_learner_toggled.connect(self._follow_toggled)
        c.loop_toggled.connect(self._loop_toggled)
        c.live_setting_changed.connect(self._live_setting_changed)
        c.model_setting_changed.connect(self._model_setting_changed)
        c.preset_chosen.connect(self._preset_chosen)
        c.apply_reset_requested.connect(self.reset_model_interactive)
        self.cameras.found.connect(self._cameras_found)
        self.writer.finished.connect(self._export_written)
        self.timeline.following_changed.connect(self._following_changed)

    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None,
                tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.action_open_file = self._action("Open &video file…", self.open_video_file,
                                             key.Open, "Watch a video file")
        self.action_open_url = self._action("Open network &stream…", self.open_url, "Ctrl+U",
                                            "Watch an MJPEG/RTSP/HTTP stream")
        self.action_synthetic = self._action("Synthetic &scene", lambda: self.start_source(
            SYNTHETIC_SPEC), None, "The built-in scene with known events")
        self.action_save = self._action("&Save checkpoint", self.save_checkpoint, key.Save,
                                        "Save the model (weights and learning state)")
        self.action_save_as = self._action("Save checkpoint &as…", self.save_checkpoint_as,
                                           "Ctrl+Shift+S")
        self.action_load = self._action("&Load checkpoint…", self.load_checkpoint, "Ctrl+L",
                                        "Replace the model by one saved before")
        self.action_export_json = self._action("Export &hierarchy JSON…",
                                               self.export_hierarchy, "Ctrl+E",
                                               "The session's events per layer")
        self.action_export_trace = self._action("Export &trace…", self.export_trace,
                                                "Ctrl+Shift+E",
                                                "Signal, threshold and boundary per step "
                                                "and layer (JSON lines)")
        self.action_quit = self._action("&Quit", self.close, key.Quit)
        self.action_reset = self._action("&Reset model…", self.reset_model_interactive,
                                         "Ctrl+R", "Start a new model with the settings "
                                                   "in the Model panel")
        self.action_start = self._action("&Start", self.start, "F5")
        self.action_pause = self._action("&Pause", self.pause, "F6")
        self.action_stop = self._action("S&top", self.stop, "F7")
        self.action_follow = self._action("&Follow live", self.timeline.set_following, "L",
                                          "Timeline follows the newest time")
        self.action_follow.setCheckable(True)
        self.action_follow.setChecked(True)
        self.action_whole = self._action("Show &whole session", self.timeline.show_whole_session,
                                         "W")

        menu = self.menuBar().addMenu("&File")
        for action in (self.action_open_file, self.action_open_url, self.action_synthetic):
            menu.addAction(action)
        menu.addSeparator()
        for action in (self.action_save, self.action_save_as, self.action_load):
            menu.addAction(action)
        autosave = menu.addMenu("A&utosave")
        self.autosave_group = QActionGroup(self)
        self.autosave_actions: dict[int, QAction] = {}
        for minutes in AUTOSAVE_CHOICES:
            text = "Off" if minutes == 0 else f"Every {minutes} min"
            action = QAction(text, self, checkable=True)
            action.triggered.connect(lambda _=False, m=minutes: self.set_autosave(m))
            self.autosave_group.addAction(action)
            autosave.addAction(action)
            self.autosave_actions[minutes] = action
        menu.addSeparator()
        menu.addAction(self.action_export_json)
        menu.addAction(self.action_export_trace)
        menu.addSeparator()
        menu.addAction(self.action_quit)

        menu = self.menuBar().addMenu("&Run")
        for action in (self.action_start, self.action_pause, self.action_stop):
            menu.addAction(action)
        menu = self.menuBar().addMenu("&Model")
        menu.addAction(self.action_reset)
        menu = self.menuBar().addMenu("&View")
        menu.addAction(self.action_follow)
        menu.addAction(self.action_whole)
        menu.addAction(self.controls_dock.toggleViewAction())
        menu = self.menuBar().addMenu("&Help")
        menu.addAction(self._action("&About", self._about))

    def _build_timers(self) -> None:
        self.display_timer = QTimer(self)
        self.display_timer.timeout.connect(self._show_newest_frame)
        self.display_timer.start(DISPLAY_INTERVAL_MS)
        self.redraw_timer = QTimer(self)
        self.redraw_timer.timeout.connect(self._redraw)
        self.redraw_timer.start(REDRAW_INTERVAL_MS)
        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self._update_status)
        self.status_timer.start(STATUS_INTERVAL_MS)
        self.autosave_timer = QTimer(self)
        self.autosave_timer.timeout.connect(self.autosave)
        self.reconnect_timer = QTimer(self)
        self.reconnect_timer.setSingleShot(True)
        self.reconnect_timer.timeout.connect(self._reconnect_now)
        self.settings_timer = QTimer(self)  # settings written shortly after edits settle
        self.settings_timer.setSingleShot(True)
        self.settings_timer.timeout.connect(self.save_settings)
        self.set_autosave(self.settings.autosave_minutes)

    # --- learner ----------------------------------------------------------------------

    def _start_learner(self) -> None:
        try:
            model_args, opt_args = self.settings.model_arguments()
        except ValueError as err:
            self.notifier.show("warning", "Model settings reset",
                               f"{err}; using the live preset instead.")
            self.settings = StudioSettings.from_preset("live", self.settings)
            model_args, opt_args = self.settings.model_arguments()
        if model_args.device == "cuda" and not _cuda_available():
            self.notifier.show("warning", "No GPU", "CUDA was chosen but no CUDA GPU is "
                               "available; the model runs on the CPU.")
            self.settings = replace(self.settings, device="auto")
            model_args = replace(model_args, device="auto")
        self.model_settings = replace(self.settings)
        self.model_snippet = model_args.snippet_size
        self._torch_threads = torch.get_num_threads()  # process-wide: restored on shutdown
        torch.set_num_threads(learner_threads())
        self.learner = LearnerWorker(self.snippets, model_args, opt_args,
                                     learning=self.settings.learning)
        self.learner_thread = QThread(self)
        self.learner_thread.setObjectName("learner")
        self.learner.moveToThread(self.learner_thread)
        self.learner_thread.started.connect(self.learner.start)
        self.requests.connect_to(self.learner)
        self.learner.model_ready.connect(self._model_ready)
        self.learner.stepped.connect(self._stepped)
        self.learner.saved.connect(self._saved)
        self.learner.exported.connect(self._exported)
        self.learner.failed.connect(self._learner_failed)
        self.learner.warned.connect(self._learner_warned)
        self.learner_thread.start()

    @Slot(object)
    def _model_ready(self, info: ModelInfo) -> None:
        self.model_info = info
        self.device_name = info.device
        self.num_layers = info.num_layers
        self.optimizer_steps = info.optimizer_steps
        self.model_settings = self.settings.with_model_arguments(info.model_args,
                                                                 info.opt_args)
        self.model_settings = replace(self.model_settings, device=self.settings.device)
        self.model_snippet = info.model_args.snippet_size
        if self._capture is not None:
            self._capture[1].set_snippet_size(self.model_snippet)
        self._boundary_wall.clear()
        self._step_rate.clear()
        self.timeline.clear()
        self._name_signals()
        if info.reason == "loaded":
            self.settings = replace(self.model_settings, checkpoint_path=info.path)
            self.controls.set_settings(self.settings)
            self.history.seed_boundaries(info.boundaries,
                                         now=info.base_counter * self.model_snippet,
                                         step=info.base_counter)
            self.statusBar().showMessage(f"Loaded {info.path}: {info.num_layers} layer(s), "
                                         f"{info.optimizer_steps} optimizer steps", 8000)
            self._schedule_settings_save()
        else:
            self.history.clear()
            if info.reason == "reset":
                self.statusBar().showMessage("New model started", 5000)
        self._update_pending()
        self.timeline.refresh()

    @Slot(object)
    def _stepped(self, result: StepResult) -> None:
        self.step_seconds.append(result.seconds)
        del self.step_seconds[:-100]
        self.history.add_all(result.reports)
        now = time.monotonic()
        for report in result.reports:
            if report.boundary:
                self._boundary_wall[report.layer] = now
        self.total_steps += 1
        self.num_layers = result.num_layers
        self.optimizer_steps = result.optimizer_steps
        self._step_rate.tick(now)

    @Slot(str, str)
    def _learner_failed(self, title: str, message: str) -> None:
        self.notifier.show("error", title, message)

    @Slot(str, str)
    def _learner_warned(self, title: str, message: str) -> None:
        self.notifier.show("warning", title, message)

    # --- sources ----------------------------------------------------------------------

    @Slot(str)
    def start_source(self, spec: str, retry: bool = False) -> None:
        """Opens `spec` on a new thread; the current source keeps playing until the new one
        has opened, so a bad choice (a missing file, a wrong URL) costs nothing.

        `retry`: an attempt to get back a lost source; any other call is the user choosing
        a source, which ends the waiting for the lost one."""
        spec = spec.strip()
        if not spec:
            return
        if not retry:
            self._end_reconnect()
        self._retire(self._pending)
        self._token += 1
        worker = CaptureWorker(spec, self.model_snippet, LatestMailbox(), self.snippets,
                               follow_learner=self.settings.follow_learner, token=self._token,
                               loop=self.settings.loop_files)
        thread = QThread(self)
        thread.setObjectName(f"capture {self._token}")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: QThread.quit is thread-safe, and a queued call would wait for the GUI
        # thread, which may itself be waiting for this thread (shutdown).
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.opened.connect(self._source_opened)
        worker.failed.connect(self._source_failed)
        worker.ended.connect(self._source_ended)
        worker.snippet_ready.connect(self.learner.on_snippet_ready)
        self._pending = (thread, worker)
        if not retry:  # a retry's status is the reconnect countdown
            self.controls.set_source_status(f"Opening {describe_spec(spec)}…")
        if self._capture is None and not retry:
            self._set_run_state("opening")
            self.video.clear_frame(f"Opening {describe_spec(spec)}…")
        thread.start()

    def _retire(self, capture: tuple[QThread, CaptureWorker] | None) -> None:
        """Asks a reader to stop without waiting for it; it is dropped once it has."""
        if capture is None:
            return
        thread, worker = capture
        if capture is self._capture:
            self._capture = None
        if capture is self._pending:
            self._pending = None
        worker.stop()
        self._retiring.append(capture)
        thread.finished.connect(self._reap_captures)
        self._reap_captures()

    @Slot()
    def _reap_captures(self) -> None:
        self._retiring = [(t, w) for t, w in self._retiring if not t.isFinished()]

    def _is_current(self, token: int) -> bool:
        return self._capture is not None and self._capture[1].token == token

    def _is_pending(self, token: int) -> bool:
        return self._pending is not None and self._pending[1].token == token

    @Slot(object)
    def _source_opened(self, info: SourceInfo) -> None:
        if not self._is_pending(info.token):
            return
        self._retire(self._capture)
        self._capture, self._pending = self._pending, None
        worker = self._capture[1]
        self.display = worker.display
        worker.go()
        back = self.reconnecting
        if back is not None and back.spec == info.spec:
            self.statusBar().showMessage(
                f"{info.description} is back after {back.attempt} attempt"
                f"{'s' if back.attempt != 1 else ''}: learning goes on with the same model",
                10_000)
        self._end_reconnect()
        self.history.new_source()
        self.source_info = info
        self._startup = False
        self.last_opened = info.spec
        fallback = bool(self.fallback_reason) and info.spec == SYNTHETIC_SPEC
        if not fallback:  # next launch tries the camera again, not the stand-in
            self.settings.source = info.spec
            self._schedule_settings_save()
        self.controls.show_source(info.spec)
        details = []
        if info.fps:
            details.append(f"{info.fps:g} fps")
        if info.duration:
            details.append(f"{info.duration:.0f} s")
        details.append("live" if info.is_live else "file")
        self.controls.set_source_status(f"Playing: {info.description} ({', '.join(details)})")
        self.setWindowTitle(f"Streamer Studio: {info.description}")
        if fallback:
            self.video.set_banner(self.fallback_reason, "warning")
        else:
            self.fallback_reason = ""
            self.video.set_banner("")
        self._set_run_state("running")

    @Slot(int, str, str)
    def _source_failed(self, token: int, spec: str, message: str) -> None:
        if not self._is_pending(token):
            return
        self._pending = None
        if self.reconnecting is not None and self.reconnecting.spec == spec:
            self.reconnecting.last_error = message
            self._schedule_reconnect()
            return
        if self._startup and spec != SYNTHETIC_SPEC:
            # First launch without a camera (or a stored file that is gone): keep working.
            self._startup = False
            what = "No camera found" if spec.startswith("camera:") else "Source unavailable"
            self.fallback_reason = (
                f"{what} ({message}). Showing the built-in synthetic scene instead: choose "
                "a camera, video file or stream URL in the Source panel on the right.")
            self.start_source(SYNTHETIC_SPEC)
            return
        self.controls.show_source(self._current_spec())
        if self._capture is not None and self.source_info is not None:
            still = f"Still playing {self.source_info.description}."
            self.controls.set_source_status(f"Could not open: {message}. {still}")
            self.notifier.show("error", "Cannot open source", f"{message}\n\n{still}")
            return
        self._set_run_state("stopped")
        self.controls.set_source_status(f"Could not open: {message}")
        self.video.clear_frame("No source. Choose one in the Source panel.")
        self.video.set_banner(message, "error")
        self.notifier.show("error", "Cannot open source", message)

    @Slot(int, str)
    def _source_ended(self, token: int, reason: str) -> None:
        if not self._is_current(token):
            return
        spec = self._capture[1].spec
        info = self.source_info
        self._retire(self._capture)
        if info is not None and info.is_live and not spec.startswith("synthetic"):
            self._begin_reconnect(spec, info.description, reason)
            return
        self._set_run_state("stopped")
        text = (f"{reason}. The model is kept; press Start to open the source again, or "
                "choose another one.")
        self.controls.set_source_status(f"Ended: {reason}")
        self.video.set_banner(text, "warning")
        self.video.set_caption("")
        self.notifier.show("warning", "Source ended", text)

    # --- getting a lost camera or stream back ----------------------------------------

    def _begin_reconnect(self, spec: str, description: str, reason: str) -> None:
        """The model, the timeline and the session stay; the source is tried again and
        again, ever less often, until it answers or the user picks another or stops."""
        self.reconnecting = Reconnect(spec, description, reason)
        self._set_run_state("reconnecting")
        self.video.set_caption("")
        self.video.clear_frame(f"No picture from {description}")
        self.notifier.show("warning", "Source lost",
                           f"{reason}.\n\nThe model and the timeline are kept. Streamer "
                           "Studio keeps trying to reconnect and goes on learning when "
                           "frames return; choose another source or press Stop to give up.")
        self._schedule_reconnect()

    def _schedule_reconnect(self) -> None:
        back = self.reconnecting
        if back is None:
            return
        delays = self.reconnect_delays
        delay = delays[min(back.attempt, len(delays) - 1)]
        back.due = time.monotonic() + delay
        self.reconnect_timer.start(max(1, int(delay * 1000)))
        self._show_reconnect()

    def _show_reconnect(self) -> None:
        back = self.reconnecting
        if back is None:
            return
        if back.due:
            wait = max(0.0, back.due - time.monotonic())
            when = f"Next try in {wait:.0f} s" if wait >= 0.5 else "Trying again now"
        else:
            when = "Trying to reconnect…"
        tries = f" ({back.attempt} attempt{'s' if back.attempt != 1 else ''} so far)" \
            if back.attempt else ""
        text = (f"{back.reason}. Reconnecting: {when.lower()}{tries}. The model and "
                "timeline are kept; learning resumes when frames return. Choose another "
                "source, or Stop to give up.")
        self.video.set_banner(text, "warning")
        self.controls.set_source_status(f"Lost: {back.description}. {when}{tries}.")
        self.controls.source_status.setToolTip(
            f"Last attempt: {back.last_error}" if back.last_error else "")

    @Slot()
    def _reconnect_now(self) -> None:
        back = self.reconnecting
        if back is None or self._shut_down:
            return
        self.reconnect_timer.stop()
        back.attempt += 1
        back.due = 0.0
        self._show_reconnect()
        self.start_source(back.spec, retry=True)

    def _end_reconnect(self) -> None:
        if self.reconnecting is None:
            return
        self.reconnecting = None
        self.reconnect_timer.stop()
        self.video.set_banner("")
        self.controls.source_status.setToolTip("")

    @Slot()
    def _scan_cameras_at_startup(self) -> None:
        """Not while a camera is opening or in use: probing it again could disturb it on
        some platforms. The refresh button scans on request."""
        if not self._current_spec().startswith("camera:") and not (
                self._pending and self._pending[1].spec.startswith("camera:")):
            self.cameras.scan()

    @Slot(object)
    def _cameras_found(self, cameras: list[int]) -> None:
        self.controls.set_cameras(cameras)
        self.controls.show_source(self._current_spec())

    def _current_spec(self) -> str:
        return self._capture[1].spec if self._capture is not None else self.settings.source

    # --- run control ------------------------------------------------------------------

    def _set_run_state(self, state: str) -> None:
        self.run_state = state
        self.controls.set_run_state(state)
        self.action_start.setEnabled(state in ("paused", "stopped", "reconnecting"))
        self.action_pause.setEnabled(state == "running")
        self.action_stop.setEnabled(state != "stopped")

    @Slot()
    def start(self) -> None:
        if self.run_state == "reconnecting":
            self._reconnect_now()  # the user does not want to wait for the next try
        elif self.run_state == "paused" and self._capture is not None:
            self._capture[1].set_paused(False)
            self._set_run_state("running")
        elif self.run_state == "stopped":
            self.start_source(self.last_opened or self.settings.source)

    @Slot()
    def pause(self) -> None:
        if self.run_state == "running" and self._capture is not None:
            self._capture[1].set_paused(True)
            self._set_run_state("paused")

    @Slot()
    def stop(self) -> None:
        if self.run_state == "stopped":
            return
        self._end_reconnect()
        self._retire(self._pending)
        self._retire(self._capture)
        self._set_run_state("stopped")
        self.video.set_caption("")
        self.video.clear_frame("Stopped. Press Start to continue, or choose a source.")
        self.controls.set_source_status("Stopped")

    @Slot()
    def open_video_file(self) -> None:
        path = self.dialogs.open_video(self.settings.last_folder)
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.start_source(path)

    @Slot()
    def open_url(self) -> None:
        url = self.dialogs.ask_url()
        if url:
            self.start_source(url)

    @Slot(bool)
    def _learning_toggled(self, learning: bool) -> None:
        self.settings.learning = learning
        self.requests.learning.emit(learning)
        self._schedule_settings_save()

    @Slot(bool)
    def _follow_toggled(self, follow: bool) -> None:
        self.settings.follow_learner = follow
        if self._capture is not None:
            self._capture[1].set_follow_learner(follow)
        self._schedule_settings_save()

    @Slot(bool)
    def _loop_toggled(self, loop: bool) -> None:
        self.settings.loop_files = loop
        if self._capture is not None:
            self._capture[1].set_loop(loop)
        self._schedule_settings_save()

    @Slot(bool)
    def _following_changed(self, following: bool) -> None:
        self.action_follow.setChecked(following)

    # --- settings ---------------------------------------------------------------------

    @Slot(str)
    def _live_setting_changed(self, name: str) -> None:
        self.settings = self.controls.read(self.settings)
        self._schedule_settings_save()
        if name == "optimize_every":
            self.requests.optimize_every.emit(self.settings.optimize_every)
            self.controls.set_live_error("")
            return
        self.apply_live_settings([name])

    def apply_live_settings(self, names: list[str]) -> bool:
        """Sends demarcation changes to the running model if they are valid with it."""
        changes = {n: getattr(self.settings, n) for n in names if n in LIVE_MODEL_FIELDS}
        if not changes:
            return True
        trial = replace(self.model_settings,
                        **{n: getattr(self.settings, n) for n in LIVE_FIELDS})
        try:
            trial.model_arguments()
        except ValueError as err:
            hint = (" Set Signal to distance in the Model section and apply it first."
                    if "accum" in str(err) else "")
            self.controls.set_live_error(f"Not applied: {err}.{hint}")
            return False
        self.controls.set_live_error("")
        self.model_settings = replace(self.model_settings,
                                      **{n: getattr(self.settings, n) for n in LIVE_FIELDS})
        self.requests.demarcation.emit(changes)
        self._name_signals()
        return True

    def _name_signals(self) -> None:
        """Axis labels: what each layer's row plots under the running model's settings."""
        m = self.model_settings
        base = "distance" if m.force_base_dist else m.distance_mode
        if m.demarcation_mode == "change" and m.signal_regions > 1:
            base = "regional step"  # the mean step of its regions' similarities
        upper = "surprise" if m.upper_demarcation == "escalate" else m.distance_mode
        self.timeline.set_signal_names(base, upper)

    @Slot(str)
    def _model_setting_changed(self, name: str) -> None:
        self.settings = self.controls.read(self.settings)
        self._update_pending()
        self._schedule_settings_save()

    @Slot(str)
    def _preset_chosen(self, name: str) -> None:
        self.settings = StudioSettings.from_preset(name, self.controls.read(self.settings))
        self.controls.set_settings(self.settings)
        self.apply_live_settings(list(LIVE_MODEL_FIELDS))
        self.requests.optimize_every.emit(self.settings.optimize_every)
        self._update_pending()
        self._schedule_settings_save()

    def pending_changes(self) -> list[str]:
        return self.settings.differences(self.model_settings, STRUCTURAL_FIELDS)

    def _update_pending(self) -> None:
        pending = [n for n in self.pending_changes() if n != "preset"]
        self.controls.set_pending(pending)
        try:
            self.settings.model_arguments()
        except ValueError as err:
            self.controls.pending_label.setText(f"<span style='color:#e05050'>{err}</span>")
            self.controls.apply_button.setEnabled(False)
        else:
            self.controls.apply_button.setEnabled(True)

    def _schedule_settings_save(self) -> None:
        self.settings_timer.start(1000)

    @Slot()
    def save_settings(self) -> None:
        self.settings.timeline_span = self.timeline.span
        self.store.save(self.settings)

    # --- model actions ----------------------------------------------------------------

    @Slot()
    def reset_model_interactive(self) -> None:
        if self.optimizer_steps > 0 or self.total_steps > 0:
            if not self.dialogs.confirm(
                    "Reset model",
                    "Start a new model? What the current model learned is discarded "
                    "(save it first to keep it)."):
                return
        self.reset_model()

    def reset_model(self) -> bool:
        try:
            model_args, opt_args = self.settings.model_arguments()
        except ValueError as err:
            self.notifier.show("error", "Model not reset", str(err))
            return False
        self.statusBar().showMessage("Building a new model…")
        self.requests.reset.emit(model_args, opt_args)
        return True

    @Slot()
    def save_checkpoint(self) -> None:
        if not self.settings.checkpoint_path:
            self.save_checkpoint_as()
            return
        self.statusBar().showMessage(f"Saving {self.settings.checkpoint_path}…")
        self.requests.save.emit(self.settings.checkpoint_path, "save")

    @Slot()
    def save_checkpoint_as(self) -> None:
        suggestion = self.settings.checkpoint_path or str(
            Path(self.settings.last_folder or Path.home()) / "streamer-model.pt")
        path = self.dialogs.save_checkpoint(suggestion)
        if not path:
            return
        self.settings.checkpoint_path = path
        self.settings.last_folder = str(Path(path).parent)
        self._schedule_settings_save()
        self.statusBar().showMessage(f"Saving {path}…")
        self.requests.save.emit(path, "save")

    @Slot()
    def load_checkpoint(self) -> None:
        folder = self.settings.last_folder or str(Path(self.settings.checkpoint_path).parent)
        path = self.dialogs.open_checkpoint(folder)
        if not path:
            return
        self.settings.last_folder = str(Path(path).parent)
        self.statusBar().showMessage(f"Loading {path}…")
        self.requests.load.emit(path)

    def set_autosave(self, minutes: int) -> None:
        minutes = minutes if minutes in AUTOSAVE_CHOICES else 0
        self.settings.autosave_minutes = minutes
        self.autosave_actions[minutes].setChecked(True)
        if minutes:
            seconds = self.autosave_seconds or minutes * 60
            self.autosave_timer.start(max(1, int(seconds * 1000)))
        else:
            self.autosave_timer.stop()
        self._schedule_settings_save()

    def autosave_path(self) -> Path:
        """Beside the user's checkpoint, never over it: a drifting model must not replace
        a model the user chose to keep."""
        if self.settings.checkpoint_path:
            chosen = Path(self.settings.checkpoint_path)
            return chosen.with_name(f"{chosen.stem}.autosave{chosen.suffix or '.pt'}")
        folder = Path(QStandardPaths.writableLocation(
            QStandardPaths.StandardLocation.AppDataLocation))
        folder.mkdir(parents=True, exist_ok=True)
        return folder / "autosave.pt"

    @Slot()
    def autosave(self) -> None:
        try:
            path = self.autosave_path()
        except OSError as err:
            self.notifier.show("error", "Autosave failed", str(err))
            return
        self.requests.save.emit(str(path), "autosave")

    @Slot(str, str)
    def _saved(self, path: str, why: str) -> None:
        self.last_saved = path
        verb = "Autosaved" if why == "autosave" else "Saved"
        self.statusBar().showMessage(f"{verb} model to {path} at {time.strftime('%H:%M:%S')}",
                                     8000)

    @Slot()
    def export_hierarchy(self) -> None:
        name = self.source_info.description if self.source_info else "session"
        suggestion = str(Path(self.settings.last_folder or Path.home()) / "hierarchy.json")
        path = self.dialogs.save_export("Export hierarchy JSON", suggestion,
                                        "JSON (*.json);;All files (*)")
        if path:
            self.requests.export_hierarchy.emit(path, name)

    @Slot()
    def export_trace(self) -> None:
        suggestion = str(Path(self.settings.last_folder or Path.home()) / "trace.jsonl")
        path = self.dialogs.save_export("Export trace", suggestion,
                                        "JSON lines (*.jsonl);;All files (*)")
        if path:
            snapshot = self.history.trace_snapshot()
            self.writer.write_jsonl(path, lambda: trace_rows(snapshot))

    @Slot(str)
    def _exported(self, path: str) -> None:
        self.statusBar().showMessage(f"Exported {path}", 8000)

    @Slot(str, str)
    def _export_written(self, path: str, error: str) -> None:
        if error:
            self.notifier.show("error", "Export failed", f"{path}: {error}")
        else:
            self._exported(path)

    def _about(self) -> None:
        self.notifier.show(
            "info", "About Streamer Studio",
            "Learns, live and without labels, to cut what the camera sees into a hierarchy "
            "of events (STREAMER, NeurIPS 2023). Each timeline row is a layer; a colour is "
            "an event; a red marker is where the prediction signal crossed its threshold.")

    # --- periodic updates -------------------------------------------------------------

    @Slot()
    def _show_newest_frame(self) -> None:
        frame = self.display.take()
        if frame is not None:
            self.video.set_frame(frame.image)

    @Slot()
    def _redraw(self) -> None:
        self.timeline.refresh()
        badges = []
        now = self.history.latest_time
        for layer in self.history.layers:
            starts, first = layer.event_starts()
            badges.append(EventBadge(layer.layer, first + len(starts) - 1, float(starts[-1]),
                                     now, self._boundary_wall.get(layer.layer, 0.0)))
        self.video.set_badges(badges)
        if self.source_info is not None and self.run_state in ("running", "paused"):
            state = "paused" if self.run_state == "paused" else (
                "live" if self.source_info.is_live else "playing")
            self.video.set_caption(f"{self.source_info.description}  ·  {state}  ·  "
                                   f"model time {now:6.1f} s")

    @Slot()
    def _update_status(self) -> None:
        if self.reconnecting is not None:
            self._show_reconnect()  # the countdown
        stats = self._capture[1].stats() if self._capture is not None else None
        steps = self._step_rate.rate()
        self.status.show_figures(StatusFigures(
            device=self.device_name, capture_fps=stats.fps if stats else 0.0,
            steps_per_second=steps, realtime_factor=steps * self.model_snippet,
            skipped=self.snippets.skipped, layers=self.num_layers,
            optimizer_steps=self.optimizer_steps, learning=self.settings.learning))

    # --- shutdown ---------------------------------------------------------------------

    def threads(self) -> list[QThread]:
        threads = [self.learner_thread] + [t for t, _ in self._retiring]
        for capture in (self._capture, self._pending):
            if capture is not None:
                threads.append(capture[0])
        return threads

    def threads_running(self) -> bool:
        return any(t.isRunning() for t in self.threads())

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stops both workers; True if every thread ended within `timeout` seconds."""
        if self._shut_down:
            return not self.threads_running()
        self._shut_down = True
        for timer in (self.display_timer, self.redraw_timer, self.status_timer,
                      self.autosave_timer, self.reconnect_timer):
            timer.stop()
        if self.settings_timer.isActive():
            self.settings_timer.stop()
        self.save_settings()
        self.store.save_window_state(self.saveGeometry(), self.saveState())
        threads = self.threads()
        for capture in [*self._retiring, self._capture, self._pending]:
            if capture is not None:
                capture[1].stop()
        self.learner.request_stop()
        self.requests.finish.emit()  # after a save the user asked for, if one is queued
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.wait(max(0, int((deadline - time.monotonic()) * 1000)))
        stopped = not any(t.isRunning() for t in threads)
        if not stopped:
            # A source still opening or a step still running: wait for it rather than
            # destroy a running thread (which aborts the process).
            for thread in threads:
                thread.wait(15_000)
        self.writer.wait(5_000)
        self.cameras.wait(5_000)
        torch.set_num_threads(self._torch_threads)
        return stopped

    # --- drag and drop: a video file dropped on the window becomes the source ------------

    @staticmethod
    def _dropped_file(event: QDragEnterEvent | QDropEvent) -> str | None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        files = [u.toLocalFile() for u in urls if u.isLocalFile()]
        return files[0] if len(files) == 1 else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt name)
        if self._dropped_file(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt name)
        path = self._dropped_file(event)
        if path:
            event.acceptProposedAction()
            self.start_source(path)  # an unreadable file is refused with a message

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        if self.notifier.box is not None:
            self.notifier.box.close()
        event.accept()

    def restore_window_state(self) -> None:
        """The last size and layout, or most of the screen on a first launch."""
        geometry, state = self.store.window_state()
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            width = min(1600, int(screen.width() * 0.9))
            height = min(1000, int(screen.height() * 0.9))
            self.resize(width, height)
            self.move(screen.x() + (screen.width() - width) // 2,
                      screen.y() + (screen.height() - height) // 2)
        if state is not None:
            self.restoreState(state)


def _cuda_available() -> bool:
    return torch.cuda.is_available()

