"""The session keeps learning: weight updates, their gaps and the loss between them."""

import math

from core_helpers import scene_frames, small_model
from streamer_core.layer import LayerStep
from streamer_core.learning_monitor import LearningMonitor
from streamer_core.optimizer import StreamerOptimizer
from streamer_core.presets import preset_arguments


def step(layer: int, t: int, loss: float | None) -> LayerStep:
    return LayerStep(layer, t, t * 0.5, None, None, False, loss)


def test_interval_means_and_gaps():
    monitor = LearningMonitor()
    for t, loss in enumerate([None, 1.0, 3.0, None]):
        monitor.observe([step(0, t, loss)], optimizer_steps=int(t >= 2))
    assert monitor.updates == 1
    assert monitor.loss_curve(0) == ([1.0], [2.0])  # mean of the losses up to the update
    assert monitor.longest_gap == 1.0  # from the first input at 0 s to the update at 1 s
    assert monitor.seconds_since_update() == 0.5
    for t in range(4, 200):
        monitor.observe([step(0, t, 0.5), step(1, t, math.nan)], 1 + (t >= 150))
    assert monitor.longest_gap == 74.0  # 1 s .. 75 s
    assert monitor.loss_curve(0)[1] == [2.0, 0.5]
    assert monitor.loss_curve(1) == ([], [])  # non-finite losses are not averaged
    assert "2 times" in monitor.summary()


def test_no_update_is_said():
    monitor = LearningMonitor()
    for t in range(10):
        monitor.observe([step(0, t, 1.0)], optimizer_steps=0)
    assert monitor.updates == 0 and monitor.seconds_since_update() is None
    assert "never" in monitor.summary()


def test_updates_count_from_the_optimizers_count_at_the_start():
    monitor = LearningMonitor(optimizer_steps=7)  # a loaded checkpoint's
    monitor.observe([step(0, 0, 1.0)], optimizer_steps=7)
    assert monitor.updates == 0
    monitor.observe([step(0, 1, 1.0)], optimizer_steps=8)
    monitor.observe([step(0, 2, 1.0)], optimizer_steps=8)
    assert monitor.updates == 1 and monitor.last_update_time == 0.5


def test_the_first_blocks_loss_is_kept_at_updates_only():
    monitor = LearningMonitor()
    monitor.observe([step(0, 0, 1.0)], optimizer_steps=0, first_blocks_loss=-9.0)  # no update
    monitor.observe([step(0, 1, 1.0)], optimizer_steps=1, first_blocks_loss=-0.5)
    monitor.observe([step(0, 2, 1.0)], optimizer_steps=2, first_blocks_loss=None)
    monitor.observe([step(0, 3, 1.0)], optimizer_steps=3, first_blocks_loss=math.nan)
    assert "first blocks" not in monitor.summary()  # one point is no trend
    monitor.observe([step(0, 4, 1.0)], optimizer_steps=4, first_blocks_loss=-2.25)
    assert list(monitor.first_blocks) == [(0.5, -0.5), (2.0, -2.25)]
    assert "layer 0's first blocks -0.50 -> -2.25" in monitor.summary()


def learning_gaps(optimize_clock: str, optimize_every: int, frames: int) -> LearningMonitor:
    model_args, optimizer_args = preset_arguments("live")
    optimizer_args.optimize_clock = optimize_clock
    optimizer_args.optimize_every = optimize_every
    model, _ = small_model(upper_demarcation="escalate", evolve_every=5,
                           demarcation_mode=model_args.demarcation_mode,
                           keep_events=model_args.keep_events)
    optimizer = StreamerOptimizer(model, optimizer_args)
    monitor = LearningMonitor()
    for x in scene_frames(frames):
        reports = model(x)
        optimizer.step()
        monitor.observe(reports, optimizer.optimizer_steps)
    assert model.get_num_layers() >= 2  # the top layer gets an input only at a boundary
    return monitor


def test_the_live_preset_updates_at_least_every_30_seconds_with_upper_layers():
    """The clock is layer 0's losses: upper layers (few inputs) cannot stall learning.

    Run at a fifth of the preset's interval (10 losses, not 50; 60 inputs, not 260) with
    the bound scaled alike: 30 s is 1.2 times the preset's 25 s between updates."""
    model_args, optimizer_args = preset_arguments("live")
    interval = optimizer_args.optimize_every * model_args.snippet_size
    assert 1.2 * interval <= 30.0
    every = 10
    bound = 1.2 * every * model_args.snippet_size
    live = learning_gaps(optimizer_args.optimize_clock, every, frames=60)
    assert live.updates >= 4
    assert max(live.longest_gap, live.current_gap()) <= bound
    spec = learning_gaps("top", every, frames=60)  # the spec's clock: the top layer's losses
    assert max(spec.longest_gap, spec.current_gap()) > bound
