"""Hand-made ground truth of real footage: the still camera (vtest.avi) and the montages."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest

from app.cli.still_camera import (
    CROSSINGS,
    VTEST,
    VTEST_SECONDS,
    Crossing,
    annotation_doc,
    event_boundaries,
    still_camera_truth,
)
from streamer_core.evaluation import evaluate, layer_boundaries

ROOT = Path(__file__).resolve().parent.parent
needs_vtest = pytest.mark.skipif(not VTEST.is_file(),
                                 reason="opencv-doc's sample videos are not installed")


def test_crossings_closer_than_a_second_are_one_boundary_at_their_middle():
    crossings = tuple(Crossing(t, True, "edge", "x") for t in (1.0, 1.6, 2.4, 5.0, 6.0))
    assert event_boundaries(crossings) == [1.7, 5.0, 6.0]


def test_the_still_camera_truth_covers_the_video_with_one_event_per_gap():
    truth = still_camera_truth()
    events = truth["layers"][0]["annots"]
    assert len(truth["layers"]) == 1
    assert events[0]["start"] == 0.0 and events[-1]["end"] == VTEST_SECONDS
    assert all(a["end"] == b["start"] for a, b in zip(events, events[1:]))
    assert layer_boundaries(truth, 0) == event_boundaries()
    assert len(event_boundaries()) < len(CROSSINGS)  # some crossings were merged


def test_the_truth_scores_itself_perfectly_and_half_of_it_half():
    truth = still_camera_truth()
    assert evaluate(truth, truth)["boundaries"][0]["f1"] == 1.0
    cuts = [0.0, *event_boundaries()[::2], VTEST_SECONDS]
    half = {**truth, "layers": [{"name": "half", "order": 0, "annots": [
        {"start": a, "end": b} for a, b in zip(cuts, cuts[1:])]}]}
    row = evaluate(half, truth)["boundaries"][0]
    assert row["precision"] == 1.0 and row["recall"] == 0.5


def test_the_readable_annotation_file_is_the_one_in_the_code():
    stored = json.loads((ROOT / "docs" / "vtest_annotation.json").read_text())
    assert stored == json.loads(json.dumps(annotation_doc()))


@needs_vtest
def test_the_annotation_fits_the_video_as_opencv_decodes_it():
    capture = cv2.VideoCapture(str(VTEST))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert frames / fps == pytest.approx(VTEST_SECONDS)
    assert all(0 < c.time < VTEST_SECONDS for c in CROSSINGS)
