"""Odd files given to `similar`, `export` and `evaluate`: a damaged session folder, a report
aimed at its own input, a folder where a file belongs. Each is one clear line and exit
code 2 (or is skipped as damage), never a traceback, and no input is overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.__main__ import main
from app.session.keyframes import Keyframe
from app.session.recorder import (
    HIERARCHY_NAME,
    KEYFRAMES_DIR,
    REPRESENTATIONS_NAME,
    keyframe_file_name,
    read_keyframes,
)
from streamer_core.hierarchy import hierarchy_json

PREDICTION = hierarchy_json({"boundaries": {0: [0, 1.5, 3.0, 4.5], 1: [0, 3.0]}},
                            file="clip.avi", duration=6.0)


def session_folder(tmp_path: Path, hierarchy: str | None = None) -> Path:
    """A recorded session as the app leaves it, reduced to its hierarchy.json."""
    folder = tmp_path / "session-20261130-091500"
    (folder / KEYFRAMES_DIR).mkdir(parents=True)
    (folder / HIERARCHY_NAME).write_text(hierarchy or json.dumps(PREDICTION))
    return folder


def one_error_line(capsys: pytest.CaptureFixture[str], command: str) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"streamer-studio {command}: error: "), \
        captured.err
    assert captured.out == ""
    return lines[0]


def test_similar_refuses_a_session_hierarchy_nested_too_deeply(tmp_path, capsys):
    folder = session_folder(tmp_path, "[" * 100_000 + "]" * 100_000)
    assert main(["similar", str(folder), "0:0"]) == 2
    assert "nested too deeply" in one_error_line(capsys, "similar")


def test_similar_skips_a_recorded_representation_whose_layer_overflows(tmp_path, capsys):
    folder = session_folder(tmp_path)
    rows = [{"layer": 0, "start": 0.0, "end": 1.5, "representation": [1.0, 0.0]},
            {"layer": 1e400, "start": 1.5, "end": 3.0, "representation": [1.0, 0.0]},
            {"layer": 0, "start": 3.0, "end": 4.5, "representation": [1.0, 0.1]}]
    (folder / REPRESENTATIONS_NAME).write_text(
        "".join(json.dumps(row).replace("Infinity", "1e400") + "\n" for row in rows))
    assert "1e400" in (folder / REPRESENTATIONS_NAME).read_text()
    assert main(["similar", str(folder), "0:0"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert [line.split("\t")[:4] for line in captured.out.splitlines()] == [
        ["0", "2", "3.00", "4.50"]]


def test_similar_names_a_layer_order_out_of_range(tmp_path, capsys):
    doc = json.loads(json.dumps(PREDICTION))
    doc["layers"][0]["order"] = "ORDER"
    folder = session_folder(tmp_path, json.dumps(doc).replace('"ORDER"', "1e400"))
    for prediction in (folder, folder / HIERARCHY_NAME):
        assert main(["similar", str(prediction), "0:0"]) == 2
        assert 'a layer\'s "order" is not a whole number' in one_error_line(capsys, "similar")


def test_similar_on_a_session_tells_what_is_wrong_in_its_hierarchy(tmp_path, capsys):
    """The representations are matched to the events before the hierarchy is checked: a
    damaged event is left for the check to name, not reported as a reading failure."""
    doc = json.loads(json.dumps(PREDICTION))
    doc["layers"][0]["annots"][0]["start"] = "soon"
    folder = session_folder(tmp_path, json.dumps(doc))
    assert main(["similar", str(folder), "0:0"]) == 2
    assert "needs numeric 'start' and 'end'" in one_error_line(capsys, "similar")


def test_export_ignores_a_stray_file_in_the_keyframes_folder(tmp_path, capsys):
    folder = session_folder(tmp_path)
    keyframe = Keyframe(0, 0, 0.0, 1.5, 0.75, b"\xff\xd8 a jpeg \xff\xd9")
    (folder / KEYFRAMES_DIR / keyframe_file_name(keyframe)).write_bytes(keyframe.jpeg)
    (folder / KEYFRAMES_DIR / "L0_0_1.2.3_4.jpg").write_bytes(b"not a keyframe")
    (folder / KEYFRAMES_DIR / "L0_1_1..5_3.jpg").write_bytes(b"not a keyframe")
    (folder / KEYFRAMES_DIR / "L0_1_1.500_3.000.jpg").mkdir()  # a folder, not a picture
    assert [(k.layer, k.index, k.start, k.end) for k in read_keyframes(folder)] == [
        (0, 0, 0.0, 1.5)]
    out = tmp_path / "report.html"
    assert main(["export", str(folder), str(out)]) == 0, capsys.readouterr().err
    assert out.read_text().count("data:image/jpeg;base64,") == 1


@pytest.mark.parametrize("overwritten", ["prediction", "truth"])
def test_evaluate_refuses_a_report_over_its_own_input(tmp_path, capsys, overwritten):
    paths = {name: tmp_path / f"{name}.json" for name in ("prediction", "truth")}
    for path in paths.values():
        path.write_text(json.dumps(PREDICTION))
    before = paths[overwritten].read_bytes()
    argv = ["evaluate", str(paths["prediction"]), str(paths["truth"]),
            "-o", str(paths[overwritten])]
    assert main(argv) == 2
    assert "is also an input" in one_error_line(capsys, "evaluate")
    assert paths[overwritten].read_bytes() == before


def test_a_folder_given_for_a_file_is_called_a_folder(tmp_path, capsys):
    good = tmp_path / "pred.json"
    good.write_text(json.dumps(PREDICTION))
    for name in ("dir.json", "dir.csv", "dir.mp4"):
        (tmp_path / name).mkdir()
    folder = {name: str(tmp_path / name) for name in ("dir.json", "dir.csv", "dir.mp4")}
    cases = [
        (["evaluate", folder["dir.json"], str(good)], f"prediction {folder['dir.json']}"),
        (["evaluate", str(good), folder["dir.json"]], f"ground truth {folder['dir.json']}"),
        (["evaluate", str(good), folder["dir.csv"]], f"ground truth {folder['dir.csv']}"),
        (["export", str(good), str(tmp_path / "out.html"), "--video", folder["dir.mp4"]],
         f"video {folder['dir.mp4']}"),
    ]
    for argv, named in cases:
        assert main(argv) == 2, argv
        line = one_error_line(capsys, argv[0])
        assert line.endswith(f": {named} is a folder, not a file"), line


def test_an_output_under_a_file_names_the_file_not_a_missing_folder(tmp_path, capsys):
    good = tmp_path / "pred.json"
    good.write_text(json.dumps(PREDICTION))
    afile = tmp_path / "afile"
    afile.write_text("a file, not a folder")
    for argv in (["evaluate", str(good), str(good), "--out", str(afile / "x.json")],
                 ["evaluate", str(good), str(good), "--out", str(afile / "sub" / "x.json")],
                 ["export", str(good), str(afile / "events.csv")]):
        assert main(argv) == 2, argv
        line = one_error_line(capsys, argv[0])
        assert line.endswith(f"{afile} is a file, not a folder"), line
    assert afile.read_text() == "a file, not a folder"
