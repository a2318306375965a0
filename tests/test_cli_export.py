"""`streamer-studio export` end to end, and `evaluate` with CSV and ELAN ground truth."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from source_helpers import write_video

from app.__main__ import main
from app.session.keyframes import Keyframe
from app.session.recorder import HIERARCHY_NAME, KEYFRAMES_DIR, keyframe_file_name
from streamer_core.evaluation import evaluate
from streamer_core.exports import export_events
from streamer_core.hierarchy import hierarchy_json
from streamer_core.sources import SyntheticSource

PREDICTION = hierarchy_json({"boundaries": {0: [0, 1.5, 3.0, 4.5], 1: [0, 3.0]}},
                            file="clip.avi", duration=6.0)


@pytest.fixture
def prediction(tmp_path):
    path = tmp_path / "pred.json"
    path.write_text(json.dumps(PREDICTION))
    return path


@pytest.mark.parametrize("suffix", [".csv", ".vtt", ".otio", ".eaf", ".html"])
def test_export_writes_the_format_of_the_extension(tmp_path, prediction, suffix, capsys):
    video = write_video(tmp_path / "clip.avi", frames=60, fps=10.0)
    out = tmp_path / f"events{suffix}"
    assert main(["export", str(prediction), str(out), "--video", str(video)]) == 0
    assert capsys.readouterr().err == ""
    expected = {".csv": "layer,index,start,end,duration", ".vtt": "WEBVTT",
                ".otio": '"OTIO_SCHEMA": "Timeline', ".eaf": "<ANNOTATION_DOCUMENT",
                ".html": "data:image/jpeg;base64,"}[suffix]
    assert expected in out.read_text()


def test_a_recorded_session_folder_exports_with_its_own_keyframes(tmp_path, capsys):
    session = tmp_path / "session-20261130-091500"
    (session / KEYFRAMES_DIR).mkdir(parents=True)
    (session / HIERARCHY_NAME).write_text(json.dumps(PREDICTION))
    ok, jpeg = cv2.imencode(".jpg", np.full((30, 40, 3), 90, np.uint8))
    for layer, index, start, end in ((0, 0, 0.0, 1.5), (0, 2, 3.0, 4.5), (1, 0, 0.0, 3.0)):
        keyframe = Keyframe(layer, index, start, end, (start + end) / 2, jpeg.tobytes())
        (session / KEYFRAMES_DIR / keyframe_file_name(keyframe)).write_bytes(keyframe.jpeg)
    out = tmp_path / "report.html"
    assert main(["export", str(session), str(out)]) == 0, capsys.readouterr().err
    page = out.read_text()
    assert page.count("data:image/jpeg;base64,") == 3 and page.count("no picture") == 3
    assert main(["export", str(session), str(tmp_path / "events.csv")]) == 0
    assert (tmp_path / "events.csv").read_text().count("\n") == 1 + 4 + 2


def bad_exports(tmp_path, prediction):
    not_json = tmp_path / "notes.json"
    not_json.write_text("{ this is not json")
    not_a_hierarchy = tmp_path / "wrong.json"
    not_a_hierarchy.write_text(json.dumps({"layers": [{"annots": [{"start": 3}]}]}))
    out = str(tmp_path / "out.csv")
    return [
        ["export", str(tmp_path / "missing.json"), out],
        ["export", str(not_json), out],
        ["export", str(not_a_hierarchy), out],
        ["export", str(prediction), str(tmp_path / "out.docx")],
        ["export", str(prediction), str(tmp_path / "out.vtt"), "--layer", "2"],
        ["export", str(prediction), str(tmp_path / "out.vtt"), "--layer", "-1"],
        ["export", str(prediction), str(tmp_path / "out.html")],
        ["export", str(prediction), str(tmp_path / "out.html"), "--video",
         str(tmp_path / "missing.avi")],
        ["export", str(prediction), str(tmp_path / "no" / "folder" / "out.csv")],
        ["export", str(prediction), str(prediction.with_suffix(".csv")), "--video",
         str(prediction.with_suffix(".csv"))],
        ["export", str(prediction)],
        ["export", str(tmp_path / "empty-folder"), str(tmp_path / "out.csv")],
        ["export", str(tmp_path / "empty-folder"), str(tmp_path / "out.html")],
    ]


def test_bad_export_input_is_one_line_and_exit_code_2(tmp_path, prediction, capsys):
    prediction.with_suffix(".csv").write_text("a video that is not\n")
    (tmp_path / "empty-folder").mkdir()
    for argv in bad_exports(tmp_path, prediction):
        rc = main(argv)
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert rc == 2, argv
        assert len(lines) == 1 and "export: error:" in lines[0], (argv, captured.err)
        assert "Traceback" not in captured.err and captured.out == "", argv
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "empty-folder", "notes.json", "pred.csv", "pred.json", "wrong.json"]


@pytest.mark.parametrize("suffix", [".csv", ".eaf"])
def test_evaluate_scores_csv_and_elan_truth_as_the_json(tmp_path, prediction, suffix, capsys):
    truth = SyntheticSource(1, 20.0).ground_truth()
    truth_json = tmp_path / "truth.json"
    truth_json.write_text(json.dumps(truth))
    truth_file = tmp_path / f"truth{suffix}"
    export_events(truth, truth_file)
    reports = []
    for path in (truth_json, truth_file):
        out = tmp_path / f"report-{path.suffix}.json"
        assert main(["evaluate", str(prediction), str(path), "--out", str(out)]) == 0
        reports.append(json.loads(out.read_text()))
    capsys.readouterr()
    for report in reports:
        del report["ground_truth"]
    assert reports[0] == reports[1]
    assert reports[0]["boundaries"] == evaluate(PREDICTION, truth)["boundaries"]
    assert len(reports[0]["events"]["ground_truth"]) == len(truth["layers"]) > 1


def test_evaluate_refuses_a_malformed_csv_truth_in_one_line(tmp_path, prediction, capsys):
    truth = tmp_path / "truth.csv"
    truth.write_text("layer,start,end\n0,1,zero\n")
    assert main(["evaluate", str(prediction), str(truth)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "truth.csv line 2" in err
