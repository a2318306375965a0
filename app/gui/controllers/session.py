"""What the session is doing, in one place the views follow: the run state, the source
and the model, each change announced by a signal (the controllers write, views read)."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, Signal

from ..workers.capture_worker import SourceInfo
from ..workers.learner_worker import ModelInfo


class RunState(str, Enum):
    """A str, so that it prints, compares and logs as its name."""

    STOPPED = "stopped"
    OPENING = "opening"
    """A source is being opened and none is playing"""
    RUNNING = "running"
    PAUSED = "paused"
    RECONNECTING = "reconnecting"
    """A live source was lost and is tried again (Start: try now)"""

    @property
    def can_start(self) -> bool:
        return self in (RunState.PAUSED, RunState.STOPPED, RunState.RECONNECTING)

    @property
    def can_pause(self) -> bool:
        return self is RunState.RUNNING

    @property
    def can_stop(self) -> bool:
        return self is not RunState.STOPPED


class SessionStatus(QObject):
    """Written by the source and learner controllers on the GUI thread."""

    run_state_changed = Signal(object)  # RunState
    source_changed = Signal(object)  # SourceInfo | None: what is playing
    model_changed = Signal(object)  # ModelInfo: a new, reset or loaded model

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.run_state = RunState.STOPPED
        self.source_info: SourceInfo | None = None
        self.model_info: ModelInfo | None = None
        self.device_name = "starting…"
        self.total_steps = 0
        """Model inputs since the app started"""
        self.learned_steps = 0
        """Those of them the model learned from"""
        self.num_layers = 0
        self.optimizer_steps = 0
        self.step_seconds: list[float] = []
        """Wall time of the last 100 steps"""

    def set_run_state(self, state: RunState) -> None:
        if state is not self.run_state:
            self.run_state = state
            self.run_state_changed.emit(state)

    def set_source(self, info: SourceInfo | None) -> None:
        self.source_info = info
        self.source_changed.emit(info)

    def set_model(self, info: ModelInfo) -> None:
        self.model_info = info
        self.device_name = info.device
        self.num_layers = info.num_layers
        self.optimizer_steps = info.optimizer_steps
        self.model_changed.emit(info)

    def caption(self, model_time: float) -> str:
        """The line under the picture: what plays, how, and the model's time ("" if
        nothing plays)."""
        info, state = self.source_info, self.run_state
        if info is None or state not in (RunState.RUNNING, RunState.PAUSED):
            return ""
        shown = "paused" if state is RunState.PAUSED else "live" if info.is_live else "playing"
        return f"{info.description}  ·  {shown}  ·  model time {model_time:6.1f} s"

    def count_step(self, seconds: float, num_layers: int, optimizer_steps: int,
                   learned: bool = True) -> None:
        self.step_seconds.append(seconds)
        del self.step_seconds[:-100]
        self.total_steps += 1
        self.learned_steps += int(learned)
        self.num_layers = num_layers
        self.optimizer_steps = optimizer_steps
