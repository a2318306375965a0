"""The app's window with a small model, private settings and scripted dialogs, for GUI tests."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer

from app.gui.controllers.session_history import SessionHistory
from app.gui.infrastructure.settings import SettingsStore
from app.gui.live.main_window import MainWindow
from app.gui.live.timeline_view import TimelineView
from app.gui.self_test import scripted_dialogs, small_settings

# Generous: the machine is shared, a learning step can take a second under load.
SLOW = 90_000


def open_window(qtbot, tmp_path: Path, source: str, **changes) -> MainWindow:
    """The real window on `source`; closed (threads stopped) at teardown by pytest-qt."""
    settings = replace(small_settings(source), **{"device": "cpu", **changes})
    store = SettingsStore.at(tmp_path / "settings.ini")
    window = MainWindow(store, settings, popups=False, scan_cameras=False)
    window.dialogs = scripted_dialogs(window, tmp_path / "model.pt", tmp_path)
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    return window


def shown_timeline(qtbot, history: SessionHistory, span: float) -> TimelineView:
    """A timeline of `history` on its own, shown at 900 x 500."""
    view = TimelineView(history, span=span)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    return view


def wait_steps(qtbot, window: MainWindow, count: int, timeout: int = SLOW) -> None:
    target = window.session.total_steps + count
    qtbot.waitUntil(lambda: window.session.total_steps >= target, timeout=timeout)


def assert_responsive(qtbot, within: float = 0.5) -> None:
    """The GUI thread's event loop runs: a timer fires almost on time."""
    fired: list[float] = []
    start = time.monotonic()
    QTimer.singleShot(10, lambda: fired.append(time.monotonic()))
    qtbot.waitUntil(lambda: bool(fired), timeout=5000)
    assert fired[0] - start < within, f"timer fired after {fired[0] - start:.2f} s"


def layer_rows(window: MainWindow, layer: int = 0) -> dict:
    cols = window.history.layers[layer].steps
    return {name: cols[name].copy() for name in ("step", "signal", "threshold", "boundary")}


def choose(controls, name: str, value: str) -> None:
    """Picks `value` in the controls panel's list for setting `name`, as a user would."""
    box = controls.editors[name]
    box.setCurrentIndex(box.findData(value))


def quiesce(qtbot, window: MainWindow) -> None:
    """No input reaches the learner after this, whatever the machine's load: the source is
    stopped, its reader threads have ended (no snippet can be handed over any more), and a
    request queued behind the last wake-up they sent has come back (every step they asked
    for has landed in the history). Start plays the source again."""
    readers = window.sources.threads()
    window.sources.stop()
    qtbot.waitUntil(lambda: not any(t.isRunning() for t in readers), timeout=SLOW)
    with qtbot.waitSignal(window.learner.hierarchy_ready, timeout=SLOW):
        window.learner.requests.hierarchy.emit("quiesce", "")
    assert window.snippets.peek() is None


class _WatchedFlag(threading.Event):
    """A capture worker's pause flag that notes when the reader's loop saw it set."""

    def __init__(self, was_set: bool):
        super().__init__()
        self.seen_set = threading.Event()
        if was_set:
            self.set()

    def is_set(self) -> bool:
        value = super().is_set()
        if value:
            self.seen_set.set()
        return value


def pause_and_wait_for_the_reader(qtbot, window: MainWindow) -> None:
    """Pause, then wait until the reader's loop has seen it and the frame it was handling
    when Pause came has been shown: from here on a frame shown is a frame read while
    paused (a fixed wait raced a reader slowed down by a loaded machine)."""
    worker = window.sources.capture[1]
    flag = _WatchedFlag(worker._paused.is_set())
    worker._paused = flag
    window.action_pause.trigger()
    qtbot.waitUntil(flag.seen_set.is_set, timeout=SLOW)
    qtbot.waitUntil(lambda: window.sources.display.peek() is None, timeout=SLOW)
