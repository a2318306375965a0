"""The user's settings while the app runs, without widgets: edits from the controls
panel, what they change in the running model (live settings at once, the others after a
reset), and saving them shortly after edits settle."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from ..infrastructure.settings import LIVE_FIELDS, SettingsStore, StudioSettings
from .learner_controller import LearnerController

SAVE_DELAY_MS = 1000


class SettingsController(QObject):
    shown = Signal(object)  # StudioSettings: the panel shows these (a preset, a loaded model)
    pending = Signal(object, str)  # structural settings waiting for a reset; why not (or "")

    def __init__(self, store: SettingsStore, settings: StudioSettings,
                 learner: LearnerController, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.settings = settings
        self.learner = learner
        self.timeline_span = lambda: self.settings.timeline_span
        """The window points this at the timeline's span, saved with the settings"""
        self.save_timer = QTimer(self)
        self.save_timer.setSingleShot(True)
        self.save_timer.timeout.connect(self.save)

    def edited(self, settings: StudioSettings, name: str, live: bool) -> None:
        """The panel changed setting `name`: a live one goes to the model at once."""
        self.settings = settings
        self.schedule_save()
        if live:
            self.learner.apply_live(settings, [name])
        else:
            self.update_pending()

    def remember(self, name: str, value: object) -> None:
        """A choice that is not a model setting (learning on, loop files...)."""
        setattr(self.settings, name, value)
        self.schedule_save()

    def choose_preset(self, name: str, settings: StudioSettings) -> None:
        self.settings = StudioSettings.from_preset(name, settings)
        self.shown.emit(self.settings)
        self.learner.apply_live(self.settings, list(LIVE_FIELDS))
        self.update_pending()
        self.schedule_save()

    def apply_live(self, names: list[str]) -> bool:
        """Sends live changes of `settings` to the running model if they are valid."""
        return self.learner.apply_live(self.settings, names)

    def model_loaded(self, settings: StudioSettings) -> None:
        """The running model was replaced by a saved one: its settings are ours now."""
        self.settings = settings
        self.shown.emit(settings)
        self.schedule_save()

    def pending_changes(self) -> list[str]:
        return self.learner.pending_changes(self.settings)

    def update_pending(self) -> None:
        try:
            self.settings.model_arguments()
        except ValueError as err:
            problem = str(err)
        else:
            problem = ""
        self.pending.emit([n for n in self.pending_changes() if n != "preset"], problem)

    def schedule_save(self) -> None:
        self.save_timer.start(SAVE_DELAY_MS)

    def save(self) -> None:
        self.save_timer.stop()
        self.settings.timeline_span = self.timeline_span()
        self.store.save(self.settings)
