"""A model's inputs on the stream's clock when a live reader dropped snippets."""

from __future__ import annotations

import pytest

from core_helpers import scene_frames, small_model
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.input_clock import InputClock
from streamer_core.layer import LayerStep


def test_a_counted_time_moves_later_by_the_snippets_lost_before_it():
    clock = InputClock(0.5)
    assert clock.stream_time(1.0) == 1.0  # nothing lost: the count itself
    clock.lose(2, 4)  # four snippets lost between inputs 1 and 2
    clock.lose(3, 0)  # nothing: no change point
    clock.lose(5, 1)
    assert [clock.stream_time(t) for t in (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 10.0)] == [
        0.0, 0.5, 3.0, 3.5, 4.0, 5.0, 12.5]
    assert clock.lost == 5 and clock.state() == [[2, 4], [5, 5]]
    assert clock.gaps() == [(1.0, 3.0), (4.5, 5.0)]  # what was never seen, stream times
    clock.lose(5, 2)  # more before the same input
    assert clock.state() == [[2, 4], [5, 7]]
    clock.reset()
    assert clock.stream_time(10.0) == 10.0 and clock.lost == 0


def test_reports_are_moved_and_keep_their_step():
    clock = InputClock(0.5)
    reports = [LayerStep(0, 4, 2.0, 0.1, 0.2, True), LayerStep(1, 3, 1.5, None, None, True)]
    assert clock.reports(reports) is reports  # nothing lost: the same objects
    clock.lose(4, 2)
    moved = clock.reports(reports)
    assert [(r.step, r.time) for r in moved] == [(4, 3.0), (3, 1.5)]  # layer 1's was earlier
    assert reports[0].time == 2.0  # the model's own are untouched


def test_the_model_keeps_its_lost_snippets_through_a_checkpoint_and_forgets_them_at_reset(
        tmp_path):
    model, optimizer = small_model(seed=3)
    frames = scene_frames(12)
    for number, x in enumerate(frames):
        if number == 6:
            model.snippets_lost(10)  # 5 s the model never saw
        model(x)
    counted = model.event_boundaries()
    on_stream = model.stream_boundaries()
    assert any(t >= 3.0 for times in counted.values() for t in times)  # events after the gap
    for layer, times in counted.items():
        assert on_stream[layer] == [t + (5.0 if t >= 3.0 - 1e-9 else 0.0) for t in times]
    save_checkpoint(tmp_path / "m.pt", model, optimizer)
    loaded, _ = load_checkpoint(tmp_path / "m.pt", device="cpu")
    assert loaded.stream_boundaries() == on_stream
    assert loaded.input_clock.stream_time(loaded.base_counter * 0.5) == pytest.approx(11.0)
    loaded.reset_model()
    assert loaded.input_clock.lost == 0
