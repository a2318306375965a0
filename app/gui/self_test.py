"""`streamer-studio --self-test`: the whole app, end to end, without a screen or a camera.

Opens the real window offscreen on the synthetic scene with a small model, waits for 40
learning steps, saves and reloads a checkpoint through the window's own actions, checks
that learning goes on with the loaded model, optionally saves a screenshot, closes the
window and checks that both worker threads stopped. Exit 0 on success; 1 with the reason.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

SELF_TEST_STEPS = 40
SELF_TEST_SOURCE = "synthetic:1:3600"  # bounded: played at the learner's pace, no skips


class SelfTestFailure(Exception):
    pass


def small_settings(source: str = SELF_TEST_SOURCE):
    """The live preset shrunk to test size (about 0.3 s per step on a laptop CPU).

    With the paper's `average` rule: it marks boundaries every few inputs, so a check of
    40 steps sees events. The live default (`change`) cuts at scene changes only: 0 to 2
    boundaries in the first 40 steps of the synthetic scene, too few to test on."""
    from .infrastructure.settings import StudioSettings

    return replace(StudioSettings.from_preset("live"), source=source, feature_dim=32,
                   buffer_size=4, evolve_every=8, demarcation_mode="average", window_size=5,
                   optimize_every=10,
                   follow_learner=True, learning=True, autosave_minutes=0,
                   timeline_span=30.0)


def scripted_dialogs(window_parent, checkpoint: Path, export_folder: Path | None = None):
    """Dialogs that answer without a human: the same code path as the menus."""
    from .infrastructure.dialogs import Dialogs

    class ScriptedDialogs(Dialogs):
        def open_checkpoint(self, folder: str) -> str | None:
            return str(checkpoint)

        def save_checkpoint(self, suggestion: str) -> str | None:
            return str(checkpoint)

        def save_export(self, title: str, suggestion: str, file_filter: str) -> str | None:
            folder = export_folder or checkpoint.parent
            return str(folder / Path(suggestion).name)

        def confirm(self, title: str, text: str) -> bool:
            return True

        def offer_restore(self, path: str, when: str) -> bool:
            return False  # a scripted session starts from its own model

    return ScriptedDialogs(window_parent)


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             check: Callable[[], None] | None = None) -> None:
    """Runs the event loop until `condition` holds; SelfTestFailure(what) on timeout."""
    from PySide6.QtCore import QCoreApplication, QEventLoop

    deadline = time.monotonic() + timeout
    while not condition():
        if check is not None:
            check()
        if time.monotonic() > deadline:
            raise SelfTestFailure(what)
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)


def pump_events(seconds: float) -> None:
    """Lets queued signals and repaints run for a moment."""
    end = time.monotonic() + seconds
    wait_for(lambda: time.monotonic() >= end, seconds + 1.0, "")


def run_self_test(screenshot: str | None = None, steps: int = SELF_TEST_STEPS,
                  timeout: float = 300.0) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .application import make_application

    make_application()
    started = time.monotonic()
    try:
        summary = _run(screenshot, steps, timeout)
    except SelfTestFailure as failure:
        print(f"self-test FAILED: {failure}", file=sys.stderr)
        return 1
    print(f"self-test passed in {time.monotonic() - started:.1f} s: {summary}")
    return 0


def _run(screenshot: str | None, steps: int, timeout: float) -> str:
    from .infrastructure.settings import SettingsStore
    from .live.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="streamer-self-test-") as tmp:
        folder = Path(tmp)
        checkpoint = folder / "self-test.pt"
        store = SettingsStore.at(folder / "settings.ini")
        window = MainWindow(store, small_settings(), popups=False, scan_cameras=False)
        window.dialogs = scripted_dialogs(window, checkpoint)
        window.resize(1280, 820)
        window.show()

        def no_errors() -> None:
            errors = [m for m in window.notifier.messages if m.level == "error"]
            if errors:
                raise SelfTestFailure(f"{errors[0].title}: {errors[0].text}")

        closed = False
        try:
            wait_for(lambda: window.session.source_info is not None, 30, "the synthetic source did "
                     "not open", no_errors)
            wait_for(lambda: window.session.total_steps >= steps, timeout,
                     f"only {window.session.total_steps} of {steps} learning steps", no_errors)
            session = window.session
            if session.learned_steps < session.total_steps:  # a file waits for the learner
                raise SelfTestFailure(f"learned from {session.learned_steps} of "
                                      f"{session.total_steps} inputs played at its pace")
            boundaries = sum(len(layer.boundaries) for layer in window.history.layers)
            if boundaries == 0:
                raise SelfTestFailure(f"no event boundary in {window.session.total_steps} steps")
            if window.video.frames_shown == 0:
                raise SelfTestFailure("no frame reached the video view")

            if screenshot:
                window.timeline.refresh()
                pump_events(0.3)
                if not window.grab().save(screenshot):
                    raise SelfTestFailure(f"could not write the screenshot {screenshot}")
            window.action_save.trigger()
            wait_for(lambda: window.learner.last_saved == str(checkpoint), 60,
                     "saving the checkpoint did not finish", no_errors)
            if not checkpoint.is_file():
                raise SelfTestFailure(f"{checkpoint} was not written")
            before = window.session.model_info
            window.action_load.trigger()
            wait_for(lambda: window.session.model_info is not before, 60,
                     "loading the checkpoint did not finish", no_errors)
            info = window.session.model_info
            if info.reason != "loaded" or info.base_counter < steps:
                raise SelfTestFailure(f"the reloaded model is not the saved one ({info.reason}, "
                                      f"{info.base_counter} inputs seen)")
            resumed_from = window.session.total_steps
            wait_for(lambda: window.session.total_steps >= resumed_from + 3, 60,
                     "learning did not go on after loading", no_errors)

            mean_step = sum(session.step_seconds) / max(1, len(session.step_seconds))
            summary = (f"{session.total_steps} steps ({mean_step:.2f} s each), "
                       f"{session.num_layers} layer(s), "
                       f"{boundaries} boundaries, {session.optimizer_steps} optimizer steps, "
                       f"checkpoint saved and reloaded")
            closing = time.monotonic()
            window.close()
            closed = True
            took = time.monotonic() - closing
            if window.threads_running():
                raise SelfTestFailure("worker threads still running after closing")
            if took > 2.5:
                raise SelfTestFailure(f"closing the window took {took:.1f} s")
            return summary + f", closed in {took:.2f} s"
        finally:
            if not closed:
                window.close()
