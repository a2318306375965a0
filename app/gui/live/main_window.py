"""The main window: menus, docks and the wiring of views to the session's controllers.

Who owns what: SourceController the capture workers (a QThread per source),
LearnerController the learner worker (a QThread owning the model), SessionStatus what
the session is doing, SessionHistory what the model reported. Frames reach the picture
through a one-slot mailbox polled by a display timer; the timeline redraws from the
history on a timer. Nothing here waits on a worker except `shutdown`.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QThread, QTimer, Slot
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMenu, QSplitter

from streamer_core.learning_pace import SNIPPETS_WAITING
from streamer_core.sources import Frame
from streamer_core.sources.mailbox import LatestMailbox

from ..controllers.learner_controller import LearnerController
from ..controllers.model_files import AUTOSAVE_CHOICES, ModelFiles
from ..controllers.session import RunState, SessionStatus
from ..controllers.session_history import SessionHistory
from ..controllers.session_recording import RecordingIndicator, SessionRecording
from ..controllers.settings_controller import SettingsController
from ..controllers.source_controller import SYNTHETIC_SPEC, SourceController
from ..infrastructure.autosaves import chosen_checkpoint
from ..infrastructure.diagnostics import log_folder, open_folder
from ..infrastructure.dialogs import Dialogs, Notifier
from ..infrastructure.resources import app_icon
from ..infrastructure.settings import SettingsStore, StudioSettings, checked_settings
from ..insight.learning_view import LEAST_READABLE_HEIGHT, LearningDock
from ..insight.model_insight import ModelInsight
from ..presentation.guide import LEGEND_TITLE, LegendOverlay, shortcuts_html
from ..presentation.presentation import PresentationMode
from ..presentation.status_line import Counters, StatusLine
from ..review.review_window import ReviewWindow
from ..workers.learner_worker import ModelInfo
from ..workers.threads import join_threads
from .controls_panel import ControlsPanel
from .dock_layout import Column, arrange_docks
from .status_bar import StatusFigures, StudioStatusBar
from .timeline_view import TimelineView, room_for_rows
from .video_view import VideoView, event_badges

DISPLAY_INTERVAL_MS = 33
REDRAW_INTERVAL_MS = 250
STATUS_INTERVAL_MS = 500


class MainWindow(QMainWindow):
    def __init__(self, store: SettingsStore, settings: StudioSettings | None = None,
                 notes: list[str] | None = None, dialogs: Dialogs | None = None,
                 popups: bool = True, scan_cameras: bool = True,
                 autosave_seconds: float | None = None):
        """`autosave_seconds` overrides the autosave menu's minutes (tests, demos)."""
        super().__init__()
        if settings is None:
            settings, loaded = store.load()
            notes = [*(notes or []), *loaded]
        self.store = store
        # Ours to change (the caller's stays as it was), and valid whoever built it.
        settings, invalid = checked_settings(settings)
        notes = [*(notes or []), *invalid]
        self.notifier = Notifier(self, popups=popups)
        self.history = SessionHistory()
        self.snippets: LatestMailbox[Frame] = LatestMailbox(SNIPPETS_WAITING)
        self.picture_time: float | None = None
        """The source-clock time of the frame on screen (a mark is put there)"""
        self.session = SessionStatus(self)
        self.learner = LearnerController(self.session, self.history, self.snippets, self)
        self.prefs = SettingsController(store, settings, self.learner, self)
        self.files = ModelFiles(self.prefs, self.learner, self.session, self.history,
                                dialogs or Dialogs(self), self,
                                autosave_seconds=autosave_seconds)
        self.recording = SessionRecording(self.prefs, self.learner, self.session, self,
                                          checkpoint_seconds=autosave_seconds)
        self._shut_down = False
        last_session = store.begin_session()  # after a crash: its autosave is offered

        self.setWindowTitle("Streamer Studio")
        self.setAcceptDrops(True)
        self.setWindowIcon(app_icon())
        self._build_views()
        self._build_actions()
        self._build_timers()
        if notes:
            self.notifier.show("warning", "Some settings were reset", "\n".join(notes))
        self.learner.message.connect(self.notifier.show)  # before it starts: its warnings
        self.settings = self.learner.start(self.settings)
        self.sources = SourceController(
            self.session, self.snippets, self.learner.worker.on_snippet_ready, self,
            snippet_size=self.learner.snippet_size, loop=self.settings.loop_files,
            follow_learner=self.settings.follow_learner)
        self._wire()
        self.insight = ModelInsight(self)  # prediction view, event memory, live annotation
        self._run_state_changed(self.session.run_state)
        self.sources.open(self.settings.source)
        self.recording.set_recording(self.settings.record_session)
        QTimer.singleShot(0, lambda: self.files.offer_restore(last_session))
        if scan_cameras:
            QTimer.singleShot(1500, lambda: self.sources.scan_cameras(unless_busy=True))

    # --- construction -----------------------------------------------------------------

    def _build_views(self) -> None:
        self.video = VideoView()
        self.timeline = TimelineView(self.history, span=self.settings.timeline_span,
                                     keyframes=self.learner.keyframes)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.video)
        splitter.addWidget(self.timeline)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 6)
        splitter.setChildrenCollapsible(False)
        self.setCentralWidget(splitter)
        self.timeline.rows_added.connect(lambda: room_for_rows(splitter, self.timeline))

        self.controls = ControlsPanel()
        self.controls.set_settings(self.settings)
        self.controls.show_source(self.settings.source)
        self.controls_dock = QDockWidget("Controls", self)
        self.controls_dock.setObjectName("controls")
        self.controls_dock.setWidget(self.controls)
        self.controls_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                                       | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.controls_dock)
        self.learning_dock = LearningDock(lambda: (
            self.learner.learning, self.settings.learning, self.session.num_layers,
            self.learner.seconds_per_update()), self)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.learning_dock)
        self._layout_restored = self._shown_once = False

        self.status = StudioStatusBar()
        self.setStatusBar(self.status)
        self.status_line = StatusLine()
        self.presentation = PresentationMode(self, self.centralWidget(), self.timeline,
                                             self.video, self.status)
        self.legend = LegendOverlay(self.timeline.graphics, f"Help > {LEGEND_TITLE} (F1)")
        if self.settings.show_legend:
            self.legend.show_over_host()
        self.recording_indicator = RecordingIndicator()
        self.status.addPermanentWidget(self.recording_indicator)

    def _wire(self) -> None:
        c, sources, learner, prefs = self.controls, self.sources, self.learner, self.prefs
        c.source_chosen.connect(sources.open)
        c.open_file_requested.connect(self.open_video_file)
        c.refresh_cameras_requested.connect(sources.scan_cameras)
        c.start_requested.connect(self.start)
        c.pause_requested.connect(sources.pause)
        c.stop_requested.connect(sources.stop)
        c.learning_toggled.connect(lambda on: prefs.remember("learning", on))
        c.learning_toggled.connect(learner.requests.learning)
        c.follow_learner_toggled.connect(lambda on: prefs.remember("follow_learner", on))
        c.follow_learner_toggled.connect(sources.set_follow_learner)
        c.loop_toggled.connect(lambda on: prefs.remember("loop_files", on))
        c.loop_toggled.connect(sources.set_loop)
        c.live_setting_changed.connect(lambda n: prefs.edited(c.read(self.settings), n, True))
        c.model_setting_changed.connect(lambda n: prefs.edited(c.read(self.settings), n, False))
        c.preset_chosen.connect(lambda n: prefs.choose_preset(n, c.read(self.settings)))
        c.apply_reset_requested.connect(self.files.reset_model)
        c.save_requested.connect(self.files.save)
        prefs.timeline_span = lambda: self.timeline.span
        prefs.shown.connect(c.set_settings)
        prefs.pending.connect(c.set_pending)
        sources.cameras_found.connect(c.set_cameras)
        self.timeline.following_changed.connect(self.action_follow.setChecked)
        self.session.run_state_changed.connect(self._run_state_changed)
        for controller in (sources, learner, self.files, self.recording):
            controller.note.connect(self.statusBar().showMessage)
        for controller in (sources, self.files, self.recording):
            controller.message.connect(self.notifier.show)
        sources.resolved.connect(self.notifier.dismiss)
        self.legend.dismissed.connect(lambda: prefs.remember("show_legend", False))
        self.presentation.changed.connect(self.action_presentation.setChecked)
        self.presentation.changed.connect(self.action_leave_presentation.setEnabled)
        self.presentation.curves_changed.connect(self.action_curves.setChecked)
        self.recording.recording_changed.connect(self.action_record.setChecked)
        self.recording.disk_use.connect(self.recording_indicator.show_disk_use)
        self.files.autosave_changed.connect(lambda m: self.autosave_actions[m].setChecked(True))
        self.files.set_autosave(self.settings.autosave_minutes)
        learner.model_ready.connect(self._model_ready)
        learner.live_error.connect(c.set_live_error)
        learner.signal_names.connect(self.timeline.set_signal_names)
        learner.new_scene_share.connect(self.timeline.set_new_scene_share)
        learner.loss_modes.connect(self.learning_dock.view.set_loss_modes)
        sources.opened.connect(self._source_opened)
        sources.stream_ended.connect(learner.requests.end_stream)
        sources.status.connect(c.set_source_status)
        sources.banner.connect(self.video.set_banner)
        sources.picture_cleared.connect(self.video.clear_frame)
        sources.choice_refused.connect(
            lambda: c.show_source(sources.current_spec(self.settings.source)))

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
        self.action_synthetic = self._action("Synthetic &scene", lambda: self.sources.open(
            SYNTHETIC_SPEC), None, "The built-in scene with known events")
        self.action_save = self._action("&Save checkpoint", self.files.save, key.Save,
                                        "Save the model (weights and learning state)")
        self.action_save_as = self._action("Save checkpoint &as…", self.files.save_as,
                                           "Ctrl+Shift+S")
        self.action_load = self._action("&Load checkpoint…", self.files.load, "Ctrl+L",
                                        "Replace the model by one saved before")
        self.action_export_json = self._action("Export &hierarchy JSON…",
                                               self.files.export_hierarchy, "Ctrl+E",
                                               "The session's events per layer")
        self.action_export_trace = self._action("Export &trace…", self.files.export_trace,
                                                "Ctrl+Shift+E",
                                                "Signal, threshold and boundary per step "
                                                "and layer (JSON lines)")
        self.action_export_events = self._action(
            "Export e&vents…", self.files.export_events, None,
            "The events as CSV, WebVTT chapters, OpenTimelineIO, ELAN, or an HTML report "
            "with keyframes (when watching a video file)")
        self.action_segment_files = self._action(
            "Segment video &files…", self.files.segment_files, None,
            "Every snippet of whole files, one hierarchy JSON each (new models of the Model "
            "panel's settings), in the background")
        self.action_record = self._action(
            "&Record session", self.recording.set_recording, "Ctrl+Shift+R",
            "Write the video the model sees, its events, keyframes and checkpoints into a "
            "session folder as it runs")
        self.action_record.setCheckable(True)
        self.action_recordings_folder = self._action(
            "Recordings &folder…", lambda: self.recording.choose_folder(self.dialogs))
        self.action_review = self._action(
            "Re&view a session or video…", self.open_review, "Ctrl+Shift+V",
            "Play a recorded session (or a video with its hierarchy JSON) over its events")
        self.action_quit = self._action("&Quit", self.close, key.Quit)
        self.action_reset = self._action("&Reset model…", self.files.reset_model,
                                         "Ctrl+R", "Start a new model with the settings "
                                                   "in the Model panel")
        self.action_start = self._action("&Start", self.start, "F5")
        self.action_pause = self._action("&Pause", lambda: self.sources.pause(), "F6")
        self.action_stop = self._action("S&top", lambda: self.sources.stop(), "F7")
        self.action_follow = self._action("&Follow live", self.timeline.set_following, "L",
                                          "Timeline follows the newest time")
        self.action_follow.setCheckable(True)
        self.action_follow.setChecked(True)
        self.action_whole = self._action("Show &whole session",
                                         self.timeline.show_whole_session, "W")
        self.action_presentation = self._action(
            "&Presentation mode", self.presentation.toggle, "F11",
            "Full screen, large type, for an audience; F11 or Esc leaves")
        self.action_presentation.setCheckable(True)
        self.action_leave_presentation = self._action("Leave presentation mode",
                                                      self.presentation.leave, "Esc")
        self.action_leave_presentation.setEnabled(False)
        self.action_curves = self._action("Signal &curves", self.presentation.set_curves, "C",
                                          "The prediction signal, its threshold and the "
                                          "boundaries under each layer's events")
        self.action_curves.setCheckable(True)
        self.action_curves.setChecked(True)
        self.action_legend = self._action(LEGEND_TITLE, self.legend.show_over_host,
                                          "F1", "What the picture, rows and bands mean")
        self.action_shortcuts = self._action("&Keyboard shortcuts", self._show_shortcuts,
                                             "Ctrl+/")

        file_menu = self._menu("&File", self.action_open_file, self.action_open_url,
                               self.action_synthetic, None, self.action_save,
                               self.action_save_as, self.action_load)
        autosave = file_menu.addMenu("A&utosave")
        self.autosave_group = QActionGroup(self)
        self.autosave_actions: dict[int, QAction] = {}
        for minutes in AUTOSAVE_CHOICES:
            action = QAction("Off" if minutes == 0 else f"Every {minutes} min", self,
                             checkable=True)
            action.triggered.connect(lambda _=False, m=minutes: self.files.set_autosave(m))
            self.autosave_group.addAction(action)
            autosave.addAction(action)
            self.autosave_actions[minutes] = action
        for item in (None, self.action_record, self.action_recordings_folder,
                     self.action_review, None, self.action_export_json,
                     self.action_export_trace, self.action_export_events,
                     self.action_segment_files, None,
                     self.action_quit):
            file_menu.addSeparator() if item is None else file_menu.addAction(item)
        self._menu("&Run", self.action_start, self.action_pause, self.action_stop)
        self._menu("&Model", self.action_reset)
        self._menu("&View", self.action_presentation, self.action_curves, None,
                   self.action_follow, self.action_whole, None,
                   self.controls_dock.toggleViewAction(), self.learning_dock.toggleViewAction())
        self._menu("&Help", self.action_legend, self.action_shortcuts, None,
                   self._action("&About", self._about), self._action(
            "Open &log folder", lambda: open_folder(log_folder()), None,
            "The app's log and fault traces: what to attach to a bug report"))
        # The window holds every keyed action too: keys work with the menu bar hidden.
        for menu in self.menuBar().findChildren(QMenu):
            self.addActions([a for a in menu.actions() if not a.shortcut().isEmpty()])
        self.addAction(self.action_leave_presentation)

    def _menu(self, title: str, *items: QAction | None) -> QMenu:
        """A menu bar menu of `items` (None: a separator)."""
        menu = self.menuBar().addMenu(title)
        for item in items:
            menu.addSeparator() if item is None else menu.addAction(item)
        return menu

    def _show_shortcuts(self) -> None:
        self.notifier.show("info", "Keyboard shortcuts", shortcuts_html(self.actions()))

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

    # --- what the controllers report --------------------------------------------------

    @Slot(object)
    def _model_ready(self, info: ModelInfo) -> None:
        self.sources.set_snippet_size(self.learner.snippet_size)
        self.timeline.clear()
        if info.reason == "loaded":
            self.prefs.model_loaded(replace(self.settings.with_model_arguments(
                info.model_args, info.opt_args), checkpoint_path=chosen_checkpoint(info.path)))
        self.prefs.update_pending()
        self.timeline.refresh()

    @Slot(object)
    def _source_opened(self, info) -> None:
        self.history.new_source()
        if not self.sources.is_fallback(info.spec):  # next launch tries the camera again
            self.settings.source = info.spec
            self.prefs.schedule_save()
        self.controls.show_source(info.spec)
        self.setWindowTitle(f"Streamer Studio: {info.description}")

    @Slot(object)
    def _run_state_changed(self, state: RunState) -> None:
        self.controls.set_run_state(state)
        self.action_start.setEnabled(state.can_start)
        self.action_pause.setEnabled(state.can_pause)
        self.action_stop.setEnabled(state.can_stop)
        self.video.set_caption(self.session.caption(self.history.latest_time))

    # --- sources ----------------------------------------------------------------------

    @Slot()
    def start(self) -> None:
        self.sources.start(self.settings.source)

    @Slot()
    def open_video_file(self) -> None:
        path = self.dialogs.open_video(self.settings.last_folder)
        if path:
            self.settings.last_folder = str(Path(path).parent)
            self.sources.open(path)

    @Slot()
    def open_url(self) -> None:
        url = self.dialogs.ask_url()
        if url:
            self.sources.open(url)

    # --- settings ---------------------------------------------------------------------

    @property
    def settings(self) -> StudioSettings:
        return self.prefs.settings

    @settings.setter
    def settings(self, settings: StudioSettings) -> None:
        self.prefs.settings = settings

    @property
    def dialogs(self) -> Dialogs:
        """Asked for paths and confirmations (tests script them)."""
        return self.files.dialogs

    @dialogs.setter
    def dialogs(self, dialogs: Dialogs) -> None:
        self.files.dialogs = dialogs

    @Slot()
    def open_review(self) -> ReviewWindow:
        """Review mode, in a window of its own (the live session goes on)."""
        if getattr(self, "review", None) is None:
            self.review = ReviewWindow(self, folder=str(self.recording.folder))
        self.review.show()
        self.review.raise_()
        return self.review

    def _about(self) -> None:
        self.notifier.show(
            "info", "About Streamer Studio",
            "Learns, live and without labels, to cut what the camera sees into a hierarchy "
            "of events (STREAMER, NeurIPS 2023). Each timeline row is a layer; a colour is "
            "an event; a red marker is where the prediction signal crossed its threshold.")

    # --- periodic updates -------------------------------------------------------------

    @Slot()
    def _show_newest_frame(self) -> None:
        frame = self.sources.display.take()
        if frame is not None:
            self.video.set_frame(frame.image)
            self.picture_time = frame.timestamp

    @Slot()
    def _redraw(self) -> None:
        self.timeline.refresh()
        self.video.set_badges(event_badges(self.history, self.learner.boundary_wall,
                                           self.learner.keyframes))
        self.video.set_caption(self.session.caption(self.history.latest_time))

    @Slot()
    def _update_status(self) -> None:
        self.sources.show_reconnect()  # the countdown, while reconnecting
        stats = self.sources.stats()
        steps = self.learner.step_rate.rate()
        self.status.show_figures(StatusFigures(
            device=self.session.device_name, capture_fps=stats.fps if stats else 0.0,
            steps_per_second=steps, realtime_factor=steps * self.learner.snippet_size,
            skipped=self.snippets.skipped, layers=self.session.num_layers,
            optimizer_steps=self.session.optimizer_steps, learning=self.settings.learning))
        self.status.show_sentence(self.status_line.sentence(Counters(
            time.monotonic(), self.session.run_state, self.settings.learning,
            self.session.num_layers, self.session.total_steps, self.snippets.skipped,
            self.session.optimizer_steps, info.spec if (info := self.session.source_info)
            else self.settings.source, self.session.learned_steps,
            file_could_wait=info is not None and not info.is_live
            and not self.settings.follow_learner)))

    # --- shutdown ---------------------------------------------------------------------

    def threads(self) -> list[QThread]:
        return [self.learner.worker_thread, *self.sources.threads()]

    def threads_running(self) -> bool:
        return any(t.isRunning() for t in self.threads())

    def closed_cleanly(self) -> bool:
        """Shut down with every worker ended: nothing is left to write."""
        return self._shut_down and not self.threads_running()

    def shutdown(self, timeout: float = 2.0) -> bool:
        """Stops both workers; True if every thread ended within `timeout` seconds."""
        if self._shut_down:
            return not self.threads_running()
        self._shut_down = True
        for timer in (self.display_timer, self.redraw_timer, self.status_timer):
            timer.stop()
        self.files.autosave_timer.stop()
        self.prefs.save()
        self.store.save_window_state(*self.presentation.window_to_remember())
        threads = self.threads()
        self.sources.shutdown()
        self.learner.shutdown()  # after a save the user asked for, if one is queued
        stopped = join_threads(threads, timeout)
        self.recording.shutdown()
        self.files.shutdown()
        if stopped:  # every save the user asked for is written
            self.store.end_session()
        self.sources.wait(5_000)
        self.learner.restore_torch_threads()
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
            self.sources.open(path)  # an unreadable file is refused with a message

    # --- the docks' layout: the stored one, else sizes for this screen -------------------

    def restoreState(self, state: QByteArray, version: int = 0) -> bool:  # noqa: N802
        """Notes a stored layout restored: the first show keeps it."""
        restored = super().restoreState(state, version)
        self._layout_restored |= restored
        return restored

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._layout_restored:  # a first launch
                arrange_docks(self, self.dock_columns())

    def dock_columns(self) -> list[Column]:
        insight = self.insight
        return [Column((insight.prediction_dock, insight.memory_dock,
                        insight.annotation_dock), insight.memory_dock),
                Column((self.controls_dock, self.learning_dock), self.learning_dock,
                       LEAST_READABLE_HEIGHT)]

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.shutdown()
        if self.notifier.box is not None:
            self.notifier.box.close()
        event.accept()
