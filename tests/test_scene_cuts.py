"""PySceneDetect as the bench's cut-detector baseline, and how bench reports baselines."""

from __future__ import annotations

import argparse

import cv2
import numpy as np
import pytest

from app.cli import bench
from app.cli.montage import open_montage_writer, truth_doc
from app.cli.scene_cuts import DETECTORS, scenedetect_hierarchy, write_video
from streamer_core.evaluation import evaluate
from streamer_core.sources import SourceError, SyntheticSource


def three_scenes(path, seconds_each=3.0, fps=10.0):
    """Three scenes of different colours with a moving dot: hard cuts at 3 s and 6 s."""
    writer = open_montage_writer(path, fps, (64, 48))
    for colour in ((200, 40, 40), (40, 200, 40), (40, 40, 200)):
        for i in range(int(seconds_each * fps)):
            image = np.full((48, 64, 3), colour, np.uint8)
            cv2.circle(image, (10 + i, 24), 6, (255, 255, 255), -1)
            writer.write(image)
    writer.release()
    return path


@pytest.mark.parametrize("detector", DETECTORS)
def test_each_default_detector_finds_the_two_hard_cuts(tmp_path, detector):
    pytest.importorskip("scenedetect", reason="the optional 'bench' extra is not installed")
    video = three_scenes(tmp_path / "cuts.avi")
    predicted = scenedetect_hierarchy(video, detector)
    events = predicted["layers"][0]["annots"]
    assert [(a["start"], a["end"]) for a in events] == \
        [(0.0, pytest.approx(3.0)), (pytest.approx(3.0), pytest.approx(6.0)),
         (pytest.approx(6.0), 9.0)]
    truth = truth_doc("cuts.avi", 9.0, [("cuts", [(0, 3, "a"), (3, 6, "b"), (6, 9, "c")])])
    assert evaluate(predicted, truth)["boundaries"][0]["f1"] == 1.0


def test_a_video_it_cannot_open_is_a_clear_error(tmp_path):
    pytest.importorskip("scenedetect", reason="the optional 'bench' extra is not installed")
    with pytest.raises(SourceError, match="cannot open"):
        scenedetect_hierarchy(tmp_path / "missing.avi", "content")


def test_a_synthetic_stream_is_written_frame_for_frame(tmp_path):
    out = write_video(SyntheticSource(0, 2.0, size=(32, 24)), tmp_path / "synthetic.avi")
    capture = cv2.VideoCapture(str(out))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 20
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(10.0)
    capture.release()


def test_bench_says_when_the_baseline_is_not_installed(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(bench, "scenedetect_available", lambda: False)
    streams = [bench.BenchStream("x", SyntheticSource(0, 1.0), {}, None)]
    assert bench.scenedetect_runs(streams, argparse.Namespace(), tmp_path) == []
    assert "'bench' extra is not installed" in capsys.readouterr().err


def test_bench_prints_baseline_rows_and_moving_camera_precision():
    truth = {**truth_doc("m.avi", 30.0, [("cuts", [(0, 10, "a"), (10, 20, "b"),
                                                   (20, 30, "c")])]),
             "moving_camera": [[10.0, 20.0]]}
    predicted = truth_doc("p", 30.0, [("sd", [(0, 10, ""), (10, 15, ""), (15, 30, "")])])
    result = bench.baseline_result("real moving 0.5 min", "sd-adaptive", predicted, truth,
                                   1.5, 1.0)
    summary = bench.format_summary([result])
    rows = [line.split()[4:] for line in summary.splitlines()
            if line.startswith("real moving")]
    assert rows[0][:7] == ["sd-adaptive", "0", "0", "3/3", "0.500", "0.500", "0.500"]
    # uniform's grid from 0 s falls on both cuts; over any phase: 1 grid of 50 on both,
    # 10 on both and one more (F1 0.8): 0.18
    assert rows[0][7:9] == ["(1.000)", "(0.180)"]
    assert rows[-1] == ["sd-adaptive", "0", "2", "0.500"]  # 10 s is a cut, 15 s is not
    assert "sd-adaptive on real moving 0.5 min: 1.5 s" in bench.format_run(result)
