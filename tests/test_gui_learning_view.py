"""The learning panel: one loss curve per layer and the state of learning in words."""

from app.gui.insight.learning_view import LearningDock, LearningView, learning_words
from streamer_core import LayerStep
from streamer_core.learning_monitor import LearningMonitor


def fed_monitor() -> LearningMonitor:
    monitor = LearningMonitor()
    for t in range(120):
        reports = [LayerStep(0, t, t * 0.5, None, None, False, 1.0 - t / 200)]
        if t >= 40:
            reports.append(LayerStep(1, t, t * 0.5, None, None, False, 0.5))
        monitor.observe(reports, optimizer_steps=(t + 1) // 50)  # an update at 49, 99
    return monitor


def test_the_view_draws_a_falling_curve_per_layer(qtbot):
    view = LearningView()
    qtbot.addWidget(view)
    view.show_monitor(fed_monitor(), learning=True, num_layers=2)
    assert sorted(view.curves) == [0, 1]
    times, losses = view.curves[0].getData()
    assert list(times) == [24.5, 49.5] and losses[1] < losses[0]
    assert "2 weight updates" in view.words.text() and "2 layers" in view.words.text()
    view.clear()
    assert view.curves == {} and "waiting" in view.words.text()


def test_the_words_say_paused_and_before_the_first_update():
    monitor = LearningMonitor()
    monitor.observe([LayerStep(0, 3, 1.5, None, None, False, 0.9)], optimizer_steps=0)
    assert "first weight update" in learning_words(monitor, True, 1)
    assert learning_words(monitor, False, 1).startswith("Not learning")


def test_the_dock_polls_its_state_and_starts_afresh_with_a_new_model(qtbot):
    monitor = fed_monitor()
    state = {"monitor": monitor}
    dock = LearningDock(lambda: (state["monitor"], True, 2))
    qtbot.addWidget(dock)
    dock.refresh()
    assert sorted(dock.view.curves) == [0, 1]
    state["monitor"] = LearningMonitor()  # a new model: its monitor is a new one
    dock.refresh()
    assert dock.view.curves == {} and "first weight update" in dock.view.words.text()
