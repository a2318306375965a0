"""The synthetic stream: deterministic, webcam-like, and its ground truth matches its pixels."""

from __future__ import annotations

import time

import numpy as np
import pytest

from streamer_core.sources import SourceError, SyntheticSource


def frames(source, n):
    with source:
        return [source.read() for _ in range(n)]


def test_same_seed_same_frames_and_truth():
    a, b = SyntheticSource(5, 30.0), SyntheticSource(5, 30.0)
    for fa, fb in zip(frames(a, 25), frames(b, 25)):
        assert np.array_equal(fa.image, fb.image) and fa.timestamp == fb.timestamp
    assert a.ground_truth() == b.ground_truth()
    other = SyntheticSource(6, 30.0)
    assert not np.array_equal(frames(other, 1)[0].image, frames(a, 1)[0].image)
    assert other.ground_truth() != a.ground_truth()


def test_reopening_starts_over():
    source = SyntheticSource(2, 5.0)
    first = frames(source, 3)
    again = frames(source, 3)
    assert all(np.array_equal(x.image, y.image) for x, y in zip(first, again))


def test_bounded_stream_shape_timing_and_end():
    source = SyntheticSource(1, duration=3.0, size=(160, 120), fps=10.0)
    assert not source.is_live and source.duration == 3.0
    with source:
        got = list(source)
        assert source.read() is None
    assert len(got) == 30
    assert [f.timestamp for f in got] == pytest.approx([i / 10 for i in range(30)])
    assert all(f.image.shape == (120, 160, 3) and f.image.dtype == np.uint8 for f in got)
    assert "end of stream" in source.end_reason


def test_camera_like_noise_and_jitter():
    """Consecutive frames differ even when nothing moves, but only a little."""
    a, b = frames(SyntheticSource(3, 10.0), 2)
    diff = np.abs(a.image.astype(int) - b.image.astype(int))
    assert diff.mean() > 0.5
    assert diff.mean() < 40


def test_ground_truth_is_a_consistent_two_level_hierarchy():
    doc = SyntheticSource(4, 300.0).ground_truth()
    assert doc["duration"] == 300.0 and len(doc["layers"]) == 2
    for layer in doc["layers"]:
        annots = layer["annots"]
        assert annots[0]["start"] == 0.0 and annots[-1]["end"] == 300.0
        assert all(x["end"] == y["start"] for x, y in zip(annots, annots[1:]))
        assert all(a["end"] > a["start"] and a["action"] for a in annots)
    visits, scenes = (layer["annots"] for layer in doc["layers"])
    visit_bounds = {a["start"] for a in visits}
    assert all(s["start"] in visit_bounds for s in scenes)  # scenes cut between visits
    assert all(45 <= s["end"] - s["start"] <= 75 for s in scenes[:-1])
    assert all(3 <= v["end"] - v["start"] <= 11 for v in visits[:-1])
    assert len(scenes) >= 4 and len(visits) >= 30


def test_endless_stream_truth_needs_a_duration():
    endless = SyntheticSource(4)
    with pytest.raises(ValueError):
        endless.ground_truth()
    assert endless.ground_truth(300.0) == SyntheticSource(4, 300.0).ground_truth()


def colour_pixels(image, rgb, tolerance=40):
    return int(np.all(np.abs(image.astype(int) - np.array(rgb)) < tolerance, axis=2).sum())


def test_truth_matches_the_pixels():
    """Mid-visit the visit's object is on screen; scene cuts change the whole picture."""
    source = SyntheticSource(8, 150.0)
    doc = source.ground_truth()
    renderer_source = SyntheticSource(8, 150.0)
    with renderer_source:
        render = renderer_source._renderer.render
        checked = 0
        for visit in doc["layers"][0]["annots"][:16]:
            if visit["action"].split()[0] in ("white", "black"):  # windows and edges are too
                continue
            middle = (visit["start"] + visit["end"]) / 2
            rgb = [int(v) for v in visit["colour"][4:-1].split(",")]
            at_middle = colour_pixels(render(middle, 0), rgb)
            at_start = colour_pixels(render(visit["start"], 0), rgb)  # nothing on screen yet
            assert at_middle > at_start + 300, visit["action"]
            checked += 1
        assert checked >= 8
        for scene in doc["layers"][1]["annots"][1:]:
            cut = scene["start"]
            before, after = render(cut - 0.6, 0), render(cut + 0.6, 0)
            within = render(cut - 1.2, 0)
            change = np.abs(after.astype(int) - before.astype(int)).mean()
            calm = np.abs(within.astype(int) - before.astype(int)).mean()
            assert change > 3 * calm + 5


def test_realtime_stream_keeps_pace_and_drops_when_late():
    source = SyntheticSource(0, fps=40.0)  # endless: paced like a camera
    assert source.is_live and source.realtime
    with source:
        started = time.monotonic()
        got = [source.read() for _ in range(9)]
        assert time.monotonic() - started >= 8 / 40 - 0.02
        time.sleep(0.3)
        late = source.read()
    assert [f.index for f in got] == list(range(9))
    assert source.dropped_frames >= 5
    assert late.timestamp >= 0.45


@pytest.mark.parametrize("kwargs", [dict(duration=0), dict(duration=-1), dict(fps=0),
                                    dict(size=(8, 8))])
def test_bad_settings(kwargs):
    with pytest.raises(SourceError):
        SyntheticSource(0, **kwargs)
