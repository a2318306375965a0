"""Keyframes: each closed event's middle picture, chosen on the learner's side, kept bounded."""

from __future__ import annotations

import numpy as np
import pytest

from app.session.keyframes import (
    EventKeyframes,
    Keyframe,
    KeyframeStore,
    decode_jpeg,
    encode_jpeg,
    thumbnail,
)
from streamer_core import LayerStep


def shade(step: int) -> np.ndarray:
    """A flat 40 x 30 picture whose grey level names the input it was."""
    return np.full((30, 40, 3), 4 * step, np.uint8)


def level(rgb: np.ndarray) -> float:
    return float(rgb.mean()) / 4


def report(layer: int, step: int, boundary: bool = False) -> LayerStep:
    return LayerStep(layer, step, step * 0.5, 0.1, 0.2, boundary)


def test_a_closed_event_keeps_its_middle_input():
    chooser = EventKeyframes()
    closed_all = []
    for step in range(50):
        reports = [report(0, step, boundary=step in (10, 30))]
        if step >= 20:  # layer 1 appears later and closes one event at step 40
            reports.append(report(1, step, boundary=step == 40))
        closed, current = chooser.observe(reports, shade(step))
        closed_all += closed
    assert [(k.layer, k.index, k.start, k.end) for k in closed_all] == [
        (0, 0, 0.0, 5.0), (0, 1, 5.0, 15.0), (1, 0, 10.0, 20.0)]
    middles = [level(decode_jpeg(k.jpeg)) for k in closed_all]
    assert middles == pytest.approx([5, 20, 30], abs=1.0)
    assert [k.time for k in closed_all] == pytest.approx([2.5, 10.0, 15.0], abs=0.5)
    # The open events: layer 0's from step 30, layer 1's from step 40, middles so far.
    assert [(k.layer, k.index, k.start) for k in current] == [(0, 2, 15.0), (1, 1, 20.0)]
    assert level(current[0].rgb) == pytest.approx(40, abs=1)


def test_a_new_scene_heard_late_by_layer_1_is_no_new_stream():
    """Layer 1 hears of a new scene two inputs late, at the scene's own step."""
    chooser = EventKeyframes()
    closed_all = []
    for step in range(30):
        reports = [report(0, step, boundary=step == 20), report(1, step)]
        if step == 22:
            reports.append(report(1, 20, boundary=True))
        closed_all += chooser.observe(reports, shade(step))[0]
    assert [(k.layer, k.start, k.end) for k in closed_all] == [(0, 0.0, 10.0), (1, 0.0, 10.0)]
    closed, _ = chooser.observe([report(0, 0, boundary=True)], shade(0))  # a new stream
    assert closed == []


def test_a_long_event_keeps_few_candidates_spread_over_it():
    chooser = EventKeyframes(capacity=16)
    for step in range(10_000):
        chooser.observe([report(0, step)], shade(step % 64))
    candidates = chooser._open[0].items
    assert len(candidates) <= 16
    times = [t for t, _ in candidates]
    assert times[0] == 0.0 and times[-1] > 0.8 * 5000  # spread over the whole event
    closed, _ = chooser.observe([report(0, 10_000, boundary=True)], shade(0))
    assert closed[0].time == pytest.approx(2500, rel=0.1)


def test_a_loaded_model_continues_its_event_numbers():
    chooser = EventKeyframes()
    chooser.restart({0: (7, 100.0)})
    chooser.observe([report(0, 201)], shade(1))
    closed, _ = chooser.observe([report(0, 210, boundary=True)], shade(2))
    assert (closed[0].index, closed[0].start, closed[0].end) == (7, 100.0, 105.0)


def test_thumbnails_fit_the_box_and_keep_the_aspect():
    wide = thumbnail(np.zeros((720, 1280, 3), np.uint8))
    assert wide.shape == (90, 160, 3)
    small = thumbnail(np.zeros((20, 30, 3), np.uint8))
    assert small.shape == (20, 30, 3)  # never enlarged


def keyframe(layer: int, start: float, end: float, size: int = 1000) -> Keyframe:
    return Keyframe(layer, int(start), start, end, (start + end) / 2, b"x" * size)


def test_the_store_finds_events_by_time_and_range():
    store = KeyframeStore()
    for i in range(10):
        store.add(keyframe(0, 10.0 * i, 10.0 * (i + 1)))
    store.add(keyframe(1, 0.0, 50.0))
    assert store.at(0, 25.0).start == 20.0
    assert store.at(0, 20.0).start == 20.0  # an event owns its start, not its end
    assert store.at(1, 49.9).end == 50.0
    assert store.at(1, 50.0) is None and store.at(2, 1.0) is None
    assert [k.start for k in store.between(0, 15.0, 35.0)] == [10.0, 20.0, 30.0]
    assert store.layers() == [0, 1]


def test_the_store_stays_within_its_budget_and_forgets_the_oldest_first():
    store = KeyframeStore(budget_bytes=50_000)
    for i in range(200):
        store.add(keyframe(i % 2, float(i), i + 1.0))
    assert store.bytes <= 50_000 and len(store) == 50
    assert store.dropped == 150
    assert min(k.start for layer in (0, 1) for k in store.keyframes(layer)) == 150.0
    assert store.at(0, 10.0) is None and store.at(0, 198.5) is not None


def test_the_store_starts_over_when_the_clock_goes_back():
    store = KeyframeStore()
    store.add(keyframe(0, 0.0, 10.0))
    store.add(keyframe(0, 10.0, 20.0))
    store.add(keyframe(0, 0.0, 5.0))  # a new model or stream
    assert [k.end for k in store.keyframes(0)] == [5.0]


def test_pictures_decode_once_and_come_back_as_rgb():
    rgb = np.zeros((30, 40, 3), np.uint8)
    rgb[:, :, 0] = 200  # red
    store = KeyframeStore()
    store.add(Keyframe(0, 0, 0.0, 1.0, 0.5, encode_jpeg(rgb)))
    picture = store.picture(store.at(0, 0.5))
    assert picture.shape == (30, 40, 3) and picture.dtype == np.uint8
    assert picture[..., 0].mean() > 180 and picture[..., 2].mean() < 20
    assert store.picture(store.at(0, 0.5)) is picture
