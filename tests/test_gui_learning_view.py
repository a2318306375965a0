"""The learning panel: one loss curve per layer and the state of learning in words."""

from dataclasses import replace

from app.gui.controllers.learner_controller import LearnerController
from app.gui.controllers.session import SessionStatus
from app.gui.controllers.session_history import SessionHistory
from app.gui.insight.learning_view import (
    LearningDock,
    LearningView,
    first_blocks_words,
    learning_words,
)
from app.gui.workers.learner_worker import ModelInfo
from streamer_core import LayerStep
from streamer_core.learning_monitor import LearningMonitor
from streamer_core.presets import preset_arguments
from streamer_core.sources.mailbox import LatestMailbox


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
    assert "weights updated 2 times" in view.words.text() and "2 layers" in view.words.text()
    # The key sits over the plot, not in it, where it covered the newest points
    assert view.plot.getPlotItem().legend is None
    assert "layer 0" in view.key.text() and "#ff7f0e" in view.key.text()  # layer 1's colour
    view.clear()
    assert view.curves == {} and "waiting" in view.words.text() and view.key.text() == ""


def test_the_first_blocks_own_loss_is_shown_only_when_they_learn_it(qtbot):
    view = LearningView()
    qtbot.addWidget(view)
    monitor = fed_monitor()
    view.show_monitor(monitor, learning=True, num_layers=2)
    assert view.first_blocks.isHidden() and first_blocks_words(monitor) == ""
    monitor.observe([LayerStep(0, 149, 74.5, None, None, False, 0.4)], optimizer_steps=3,
                    first_blocks_loss=-0.8)
    monitor.observe([LayerStep(0, 199, 99.5, None, None, False, 0.4)], optimizer_steps=4,
                    first_blocks_loss=-2.5)
    view.show_monitor(monitor, learning=True, num_layers=2)
    assert not view.first_blocks.isHidden()
    assert "loss -2.50 (first update -0.80" in view.first_blocks.text()
    assert "down to -1.61" in view.first_blocks.text()  # the margin: 5 times the usual step
    view.clear()
    assert view.first_blocks.isHidden()


def test_the_words_say_paused_and_before_the_first_update():
    monitor = LearningMonitor()
    monitor.observe([LayerStep(0, 36, 18.0, None, None, False, 0.9)], optimizer_steps=0)
    # Before the first update they say so, as the status bar does ("first weight update
    # after 18 s of input" read as if one had happened), and when one comes
    assert learning_words(monitor, True, 1, 25.0) == \
        "Learning: 1 layer, no weight update yet (one every ~25 s of input)"
    assert learning_words(monitor, True, 1, None) == \
        "Learning: 1 layer, no weight update yet (18 s of input so far)"
    monitor.observe([LayerStep(0, 52, 26.0, None, None, False, 0.8)], optimizer_steps=1)
    monitor.observe([LayerStep(0, 60, 30.0, None, None, False, 0.8)], optimizer_steps=1)
    assert learning_words(monitor, True, 1, 25.0) == \
        "Learning: 1 layer, weights updated once, the last 4 s of input ago"
    assert learning_words(monitor, False, 1).startswith("Not learning")


def test_the_learner_knows_the_pace_and_the_kind_of_its_losses(qtbot):
    learner = LearnerController(SessionStatus(), SessionHistory(), LatestMailbox())
    view = LearningView()
    qtbot.addWidget(view)
    learner.loss_modes.connect(view.set_loss_modes)
    for preset, seconds in (("live", 25.0), ("paper", None)):  # layer 0's clock, the top's
        model_args, opt_args = preset_arguments(preset)
        learner._model_ready(ModelInfo("new", "cpu", 1, 0, 0, model_args, opt_args))
        assert learner.seconds_per_update() == seconds
        # Its points go below 0: the axis says why (it said "prediction loss")
        assert view.plot.getAxis("left").labelText == "prediction loss (−cosine similarity)"
    model_args, opt_args = preset_arguments("paper")
    learner._model_ready(ModelInfo("new", "cpu", 1, 0, 0, replace(
        model_args, force_base_dist=True), opt_args))
    assert view.plot.getAxis("left").labelText == \
        "prediction loss (layer 0: MSE, above: −cosine similarity)"
    model_args, opt_args = preset_arguments("live")
    learner._model_ready(ModelInfo("new", "cpu", 1, 0, 0, model_args, opt_args))
    # optimize_every changed live: the pace follows
    assert learner.apply_live(replace(learner.model_settings, optimize_every=20),
                              ["optimize_every"])
    assert learner.seconds_per_update() == 10.0


def test_the_dock_polls_its_state_and_starts_afresh_with_a_new_model(qtbot):
    monitor = fed_monitor()
    state = {"monitor": monitor}
    dock = LearningDock(lambda: (state["monitor"], True, 2, 25.0))
    qtbot.addWidget(dock)
    dock.refresh()
    assert sorted(dock.view.curves) == [0, 1]
    state["monitor"] = LearningMonitor()  # a new model: its monitor is a new one
    dock.refresh()
    assert dock.view.curves == {} and dock.view.words.text().endswith(
        "no weight update yet (one every ~25 s of input)")
