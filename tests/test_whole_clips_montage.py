"""benchmarks/whole_clips_montage.py: whole clips in a seeded order, their cuts as truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.whole_clips_montage import FPS, Clip, build, play_order  # noqa: E402


def _clip(path: Path, seconds: float, fps: float, colour: int, black_tail: int = 0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (64, 48))
    for _ in range(round(seconds * fps)):
        writer.write(np.full((48, 64, 3), colour, np.uint8))
    for _ in range(black_tail):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    return path


def test_every_clip_plays_whole_with_its_cuts_and_its_moving_camera(tmp_path):
    still = Clip(_clip(tmp_path / "still.avi", 2.0, 10.0, 200, black_tail=5))
    moving = Clip(_clip(tmp_path / "moving.avi", 1.6, 20.0, 80), cuts=[0.5], moving=True)
    doc = build([still, moving], tmp_path / "m.avi", rounds=2, seed=0)

    shots, clips = (layer["annots"] for layer in doc["layers"])
    assert doc["duration"] == pytest.approx(7.2)  # the black tail is left out
    assert [c["action"] for c in clips].count("still.avi") == 2
    assert all(a["action"] != b["action"] for a, b in zip(clips, clips[1:]))
    assert len(shots) == 6  # moving.avi's inner cut makes it two shots each time
    starts = [c["start"] for c in clips if c["action"] == "moving.avi"]
    assert doc["moving_camera"] == [[s, pytest.approx(s + 1.6)] for s in starts]
    inner = [s["start"] for s in shots if s["action"] == "moving.avi"]
    assert inner == pytest.approx(sorted([*starts, *(s + 0.5 for s in starts)]))
    assert round(cv2.VideoCapture(str(tmp_path / "m.avi")).get(cv2.CAP_PROP_FRAME_COUNT)) \
        == round(7.2 * FPS)


def test_the_order_is_seeded_and_never_repeats_a_clip_at_a_round_change():
    clips = [Clip(Path(name)) for name in "abcd"]
    for seed in range(20):
        order = [c.path.name for c in play_order(clips, rounds=3, seed=seed)]
        assert sorted(order) == sorted("abcd" * 3)
        assert all(a != b for a, b in zip(order, order[1:]))
        assert order == [c.path.name for c in play_order(clips, rounds=3, seed=seed)]


def test_a_clip_option_it_does_not_know_is_refused():
    assert Clip.parse("x.mov:cut=4.64:moving") == Clip(Path("x.mov"), [4.64], True)
    assert Clip.parse("x.mov:event=1:event=2.5").events == [1.0, 2.5]
    with pytest.raises(argparse.ArgumentTypeError, match="unknown option"):
        Clip.parse("x.mov:fast")


def test_events_inside_a_shot_make_a_finer_layer_of_cuts_and_events(tmp_path):
    desk = Clip(_clip(tmp_path / "desk.avi", 2.0, 10.0, 200), events=[0.5, 1.5])
    street = Clip(_clip(tmp_path / "street.avi", 1.0, 10.0, 80))
    doc = build([desk, street], tmp_path / "m.avi", rounds=1, seed=0)

    assert [layer["name"] for layer in doc["layers"]] == ["cuts and events", "shots", "clips"]
    events, shots, _ = (layer["annots"] for layer in doc["layers"])
    assert len(shots) == 2
    desk_start = next(s["start"] for s in shots if s["action"] == "desk.avi")
    starts = [e["start"] for e in events]
    assert starts == pytest.approx(sorted([0.0, desk_start + 0.5, desk_start + 1.5,
                                           2.0 if desk_start == 0 else 1.0]))
    assert events[-1]["end"] == shots[-1]["end"]


def test_a_cut_or_event_outside_its_clip_is_refused_before_anything_is_written(tmp_path):
    desk = Clip(_clip(tmp_path / "desk.avi", 2.0, 10.0, 200), events=[2.5])
    with pytest.raises(SystemExit, match="outside its 2.00 s"):
        build([desk], tmp_path / "m.avi", rounds=1, seed=0)
    assert not (tmp_path / "m.avi").exists()
