"""The session's controllers without a window: run state, reconnect timing (with a clock
the test controls), live settings and pending changes."""

from __future__ import annotations

from dataclasses import replace

from gui_helpers import SLOW

from app.gui.controllers.learner_controller import LearnerController
from app.gui.controllers.session import RunState, SessionStatus
from app.gui.controllers.session_history import SessionHistory
from app.gui.controllers.source_controller import SourceController
from app.gui.self_test import small_settings
from streamer_core import LayerStep
from streamer_core.sources.mailbox import LatestMailbox


class Clock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def _sources(clock: Clock | None = None):
    """A source controller, its session, the learner wake-ups it sent, and a clean-up."""
    session = SessionStatus()
    woken: list[int] = []
    sources = SourceController(session, LatestMailbox(), lambda: woken.append(1),
                               clock=clock or Clock())

    def stop_threads() -> None:
        sources.shutdown()
        for thread in sources.threads():
            thread.wait(10_000)

    return sources, session, woken, stop_threads


def test_run_state_follows_open_pause_start_and_stop(qtbot):
    sources, session, woken, stop_threads = _sources()
    try:
        states: list[RunState] = []
        session.run_state_changed.connect(states.append)
        with qtbot.waitSignal(sources.opened, timeout=SLOW):
            sources.open("synthetic:2:600")
        assert session.run_state is RunState.RUNNING
        assert session.source_info.spec == "synthetic:2:600"
        qtbot.waitUntil(lambda: bool(woken), timeout=SLOW)  # snippets reach the learner
        sources.pause()
        assert session.run_state is RunState.PAUSED and session.run_state.can_start
        sources.start()
        sources.stop()
        assert states == [RunState.OPENING, RunState.RUNNING, RunState.PAUSED,
                          RunState.RUNNING, RunState.STOPPED]
        assert not session.run_state.can_stop
    finally:
        stop_threads()


def test_reconnect_backs_off_by_the_injected_clock(qtbot, tmp_path):
    clock = Clock(100.0)
    sources, session, _, stop_threads = _sources(clock)
    sources.delays = (10.0, 20.0, 40.0)  # the real timer never fires during the test
    lines: list[str] = []
    sources.status.connect(lambda text, tip: lines.append(text))
    gone = str(tmp_path / "camera-that-went-away.mp4")
    try:
        sources._begin_reconnect(gone, "Camera X", "stream stopped")
        assert session.run_state is RunState.RECONNECTING
        assert sources.reconnecting.due == 110.0 and "Next try in 10 s" in lines[-1]
        clock.now = 109.8
        sources.show_reconnect()
        assert "Trying again now" in lines[-1]
        sources.reconnect_now()  # the attempt fails: the file is not there
        qtbot.waitUntil(lambda: sources.reconnecting.due > 0, timeout=SLOW)
        back = sources.reconnecting
        assert (back.attempt, back.due) == (1, 129.8)  # the second delay, from "now"
        assert "1 attempt so far" in lines[-1] and back.last_error
        sources.stop()
        assert sources.reconnecting is None and session.run_state is RunState.STOPPED
    finally:
        stop_threads()


def test_learner_controller_applies_valid_live_settings_only(qtbot):
    session, history = SessionStatus(), SessionHistory()
    learner = LearnerController(session, history, LatestMailbox())
    settings = replace(small_settings("synthetic:2:600"), device="cpu")
    try:
        with qtbot.waitSignal(learner.model_ready, timeout=SLOW):
            learner.start(settings)
        assert session.model_info.reason == "new" and session.device_name.startswith("CPU")
        errors: list[str] = []
        learner.live_error.connect(errors.append)
        with qtbot.waitSignal(learner.requests.demarcation, timeout=SLOW) as sent:
            assert learner.apply_live(replace(settings, window_size=9), ["window_size"])
        assert sent.args == [{"window_size": 9}] and errors == [""]
        assert learner.model_settings.window_size == 9
        bad = replace(settings, demarcation_mode="accum")  # needs distance, not similarity
        assert not learner.apply_live(bad, ["demarcation_mode"])
        assert "accum" in errors[-1] and learner.model_settings.demarcation_mode == "average"
        assert learner.pending_changes(replace(settings, feature_dim=64)) == ["feature_dim"]
        assert learner.pending_changes(replace(settings, window_size=3)) == []  # live
    finally:
        learner.shutdown()
        learner.worker_thread.wait(10_000)
        learner.restore_torch_threads()


def test_a_new_scene_heard_late_by_layer_1_keeps_the_history():
    """Layer 1 hears of a new scene two inputs late, at the scene's own step: no new
    stream; layer 0's clock going back is one."""
    history = SessionHistory()
    for step in range(23):
        history.add(LayerStep(0, step, step * 0.5, 0.5, 0.4, step == 20))
    history.add(LayerStep(1, 20, 10.0, 0.9, 0.5, True))
    assert list(history.layers[0].boundaries["time"]) == [10.0]
    assert list(history.layers[1].boundaries["time"]) == [10.0]
    history.add(LayerStep(0, 0, 0.0, None, None, False))  # a new stream
    assert len(history.layers) == 1 and len(history.layers[0].boundaries) == 0


def test_a_layer_grown_before_its_first_input_has_one_event_over_the_stream():
    """An escalating layer hears nothing until the layer below ends an event; the model
    has it all the same, and so does the history (its row, badge and agreement)."""
    history = SessionHistory()
    history.grow_to(3)  # nothing seen yet: no layer to start from
    assert history.layers == []
    for step in range(10):
        history.add(LayerStep(0, step, 2.0 + step * 0.5, 0.5, 0.4, step == 6))
    version = history.version
    history.grow_to(3)
    assert [h.layer for h in history.layers] == [0, 1, 2] and history.version > version
    starts, first = history.layers[2].event_starts()
    assert list(starts) == [2.0] and first == 0  # one open event from the stream's start
    history.grow_to(2)  # never shrinks
    assert len(history.layers) == 3
    history.add(LayerStep(2, 9, 6.5, 0.9, 0.5, True))  # its first input, later
    assert list(history.layers[2].boundaries["time"]) == [6.5]
