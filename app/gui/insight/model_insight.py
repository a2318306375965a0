"""What the model sees and remembers, wired into the main window: live annotation (marks,
agreement, their timeline row), the prediction view, and the event memory panel.

The models live elsewhere (AnnotationMarks here, EventMemory and the newest
PredictionFrame in LearnerController); this object builds their docks, actions and
connections, so the main window adds it with one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPointF, Qt, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMenu, QWidget

from app.session.marks_file import marks_path
from streamer_core.evaluation import HierarchyFormatError
from streamer_core.learning_pace import SNIPPETS_WAITING

from ..workers.learner_worker import ModelInfo
from .annotation_view import AnnotationPanel, MarksRow
from .annotations import AnnotationMarks, picture_ahead
from .event_memory_view import LIVE_HINT, EventMemoryPanel
from .prediction_view import PredictionView

if TYPE_CHECKING:
    from ..live.main_window import MainWindow

SIMILAR_EVENTS = 8


class ModelInsight(QObject):
    def __init__(self, window: MainWindow):
        super().__init__(window)
        self.window = window
        learner = window.learner
        self.marks = AnnotationMarks(window.history, parent=self)
        self.annotation = AnnotationPanel(self.marks)
        self.marks_row = MarksRow(window.timeline, self.marks)
        self.prediction = PredictionView()
        self.memory = EventMemoryPanel(learner.keyframes)
        self._shown_prediction = None

        area = Qt.DockWidgetArea
        self.prediction_dock = self._dock("Prediction", self.prediction, area.LeftDockWidgetArea)
        self.memory_dock = self._dock("Event memory", self.memory, area.LeftDockWidgetArea)
        # Left, under the event memory: the right column keeps the Controls' plain part in
        # sight on a 1280x720 screen.
        self.annotation_dock = self._dock("Your marks", self.annotation,
                                          area.LeftDockWidgetArea)
        self._build_actions()

        self.annotation.mark_requested.connect(self.mark)
        self.annotation.undo_requested.connect(self.marks.undo)
        self.memory.jump_requested.connect(self.show_event)
        self.memory.play_requested.connect(self.play_event)
        learner.model_ready.connect(self._model_ready)
        learner.saved.connect(self._save_marks_beside)
        window.redraw_timer.timeout.connect(self.refresh)
        window.timeline.graphics.scene().sigMouseClicked.connect(self._timeline_clicked)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self.window)
        dock.setObjectName(title.lower().replace(" ", "_"))
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.window.addDockWidget(area, dock)
        return dock

    def _build_actions(self) -> None:
        window = self.window
        self.action_mark = self._action("&Mark event start", self.mark, "M",
                                        "An event starts here, as you see it")
        self.action_undo_mark = self._action("&Undo last mark", self.marks.undo, "Shift+M")
        self.action_clear_marks = self._action("&Clear marks", self.marks.clear)
        self.action_export_marks = self._action(
            "Export &marks as ground truth…", self.export_marks, None,
            "Your marks as a hierarchy JSON that 'streamer-studio evaluate' scores against")
        menus = {action.text(): action for action in window.menuBar().actions()}
        annotate = QMenu("&Annotate", window)
        for action in (self.action_mark, self.action_undo_mark, self.action_clear_marks,
                       None, self.action_export_marks):
            annotate.addSeparator() if action is None else annotate.addAction(action)
        window.menuBar().insertMenu(menus.get("&Help"), annotate)
        file_menu = menus["&File"].menu()
        file_menu.insertAction(window.action_quit, self.action_export_marks)
        file_menu.insertSeparator(window.action_quit)
        view_menu = menus["&View"].menu()
        for dock in (self.prediction_dock, self.memory_dock, self.annotation_dock):
            view_menu.addAction(dock.toggleViewAction())
        # M also works with the menu bar hidden (presentation mode)
        window.addActions([self.action_mark, self.action_undo_mark])

    def _action(self, text: str, slot, shortcut: str | None = None, tip: str = "") -> QAction:
        action = QAction(text, self.window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.setToolTip(tip or text.replace("&", ""))
        action.triggered.connect(slot)
        return action

    # --- live annotation --------------------------------------------------------------

    @Slot()
    def mark(self) -> None:
        window = self.window
        ahead = picture_ahead(window.picture_time, window.learner.input_source_time,
                              limit=(SNIPPETS_WAITING + 1) * window.learner.snippet_size)
        if self.marks.mark(ahead) is None and window.history.latest_step < 0:
            window.statusBar().showMessage("No mark: the model has not seen a frame yet",
                                           4000)

    @Slot()
    def export_marks(self) -> None:
        if not self.marks.marks:
            self.window.notifier.show("info", "No marks", "Press M when an event starts, "
                                      "then export the marks.")
            return
        files = self.window.files
        path = files.dialogs.save_export("Export marks as ground truth",
                                         str(Path(files.settings.last_folder or Path.home())
                                             / "marks.json"),
                                         "JSON (*.json);;All files (*)")
        if path:
            files.writer.write_json(path, self.marks.hierarchy_doc(self._source_name()))

    def _source_name(self) -> str:
        info = self.window.session.source_info
        return info.description if info else "live annotation"

    @Slot(str, str)
    def _save_marks_beside(self, checkpoint: str, why: str) -> None:
        """The marks go with the model they annotate: NAME.marks.json beside it."""
        if self.marks.marks:
            self.window.files.writer.write_json(str(marks_path(checkpoint)),
                                                self.marks.hierarchy_doc(self._source_name()))

    @Slot(object)
    def _model_ready(self, info: ModelInfo) -> None:
        """A new model's clock starts at 0: its marks start afresh; a loaded one gets the
        marks saved beside it, if any."""
        self.marks.clear()
        self.prediction.clear()
        self.memory.event_representation = info.model_args.event_representation
        self.memory.show_message(LIVE_HINT)
        if info.reason == "loaded":
            self._load_marks(marks_path(info.path))

    def _load_marks(self, path: Path) -> None:
        if not path.is_file():
            return
        try:
            self.marks.load_doc(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, HierarchyFormatError) as err:
            self.window.notifier.show("warning", "Marks not loaded", f"{path}: {err}")

    # --- prediction view and event memory ---------------------------------------------

    @Slot()
    def refresh(self) -> None:
        self.annotation.refresh()
        self.marks_row.refresh()
        frame = self.window.learner.prediction
        if frame is not None and frame is not self._shown_prediction:
            self._shown_prediction = frame
            self.prediction.show_frame(frame)

    def _timeline_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        found = self.window.timeline.layer_at(QPointF(event.scenePos()))
        if found is not None:
            self.show_similar(*found)

    def show_similar(self, layer: int, time: float) -> None:
        """Lists the remembered events of `layer` most like the one at `time`."""
        memory = self.window.learner.events
        query = memory.event_at(layer, time)
        if query is None:
            remembered = memory.events(layer)
            if remembered and time > remembered[-1].end:
                text = (f"That event of layer {layer} is still going on: it is remembered "
                        "when it ends.")
            else:
                text = (f"No representation is remembered for that event of layer {layer} "
                        "(it ended before the memory's oldest, or before a new model).")
            self.memory.show_message(text)
        else:
            self.memory.show_similar(query, memory.similar(query, SIMILAR_EVENTS))
        self.memory_dock.show()
        self.memory_dock.raise_()

    @Slot(float, float)
    def show_event(self, start: float, end: float) -> None:
        """The timeline pauses on the chosen event, with some of its surroundings."""
        margin = max(end - start, 2.0)
        self.window.timeline.show_range(start - margin, end + margin)

    @Slot(float, float)
    def play_event(self, start: float, end: float) -> None:
        """A past event played from the session's recording, in review mode's window (a
        live session keeps no frames of its own); without a recording, says how to get
        one."""
        recorder = self.window.recording.recorder
        status = self.window.statusBar()
        if recorder is None:
            status.showMessage("To play past events, record the session (File > Record "
                               "session): its video is what review mode plays.", 8000)
            return
        review = self.window.open_review()
        if not review.controller.open_recording(recorder.folder):
            return  # it said why (e.g. nothing written yet: the first 2 s)
        if end <= review.controller.session.first_time:
            status.showMessage("That event came before the recording began.", 8000)
            return
        review.controller.play_event(start, end)
