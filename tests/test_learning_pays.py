"""benchmarks/learning_pays.py: a stream replayed with learning on, against the model frozen."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import benchmarks.learning_pays as learning_pays  # noqa: E402
from app.cli.montage import truth_doc  # noqa: E402
from benchmarks.learning_pays import Run, hierarchies, main, report, truth_of  # noqa: E402
from streamer_core.evaluation import BoundaryScore  # noqa: E402


def scored(f1: float) -> BoundaryScore:
    return BoundaryScore(precision=f1, recall=f1, f1=f1, matched=0, predicted=0, ground_truth=0)


@pytest.mark.parametrize(("last", "verdict"), [
    (0.80, "the last pass at least the first and below the frozen run"),
    (0.70, "the last pass below the first and below the frozen run"),
    (0.90, "the last pass at least the first and at least the frozen run"),
])
def test_the_verdict_compares_the_last_pass_with_the_first_and_the_frozen_run(
        capsys, last, verdict):
    runs = {0: Run([scored(0.75), scored(0.6), scored(last)], scored(0.85), 0.4),
            1: Run([scored(0.85), scored(0.9), scored(last)], scored(0.85), 0.5)}
    report("stream", runs)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2].split(" | ")[1:] == ["0.800", "0.750", f"{last:.3f}", "0.850", "0.450"]
    assert lines[-1] == verdict


def test_each_pass_is_a_stream_of_its_own_and_the_frozen_model_repeats_itself(capsys):
    spec = "synthetic:5:6"
    learned = hierarchies(spec, seed=0, passes=2, learn=True)
    assert [len(h["layers"]) >= 1 for h in learned] == [True, True]
    assert learned[0]["duration"] == pytest.approx(learned[1]["duration"])  # not 12 s
    assert hierarchies(spec, 0, 1, learn=False) == hierarchies(spec, 0, 1, learn=False)
    assert main(["--streams", spec, "--seeds", "0", "--passes", "2"]) == 0
    out = capsys.readouterr().out
    assert "pass 2 | frozen | uniform" in out and out.count("\n0 | ") == 1


@pytest.mark.parametrize(("arguments", "message"), [
    (["--streams", "synthetic:5:6", "--passes", "0"], "at least 1"),
    (["--streams", "CLIP"], "clip.json is missing"),  # a video without a truth
    (["--streams", "CLIP", "TRUTH"], "no 'layers' list"),  # a truth that is no hierarchy
    (["--streams", "missing.avi"], "not found"),
    (["--streams", "synthetic:x"], "synthetic:x"),
    (["--streams", "synthetic:5:6", "--set", "block_lr=0"], "block_lr must be between"),
    (["--streams", "synthetic:5:6", "--set", "no_such=1"], "unknown setting 'no_such'"),
])
def test_what_it_cannot_score_is_refused_with_the_reason(capsys, tmp_path, arguments,
                                                         message):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"not decoded before the check")
    if "TRUTH" in arguments:
        (tmp_path / "clip.json").write_text('{"events": []}')
        arguments = arguments[:-1]
    with pytest.raises(SystemExit) as exit_:
        main([str(clip) if a == "CLIP" else a for a in arguments])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_a_video_is_scored_against_the_first_layer_of_the_truth_beside_it(capsys, tmp_path):
    video = tmp_path / "desk.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for colour in [40] * 30 + [220] * 30:  # a cut 3 s in
        writer.write(np.full((48, 64, 3), colour, np.uint8))
    writer.release()
    truth = truth_doc("desk.avi", 6.0, [("cuts and events", [(0.0, 3.0, "a"), (3.0, 6.0, "b")])])
    (tmp_path / "desk.json").write_text(json.dumps(truth))

    assert main(["--streams", str(video), "--seeds", "0", "--passes", "1"]) == 0
    out = capsys.readouterr().out
    assert f"{video}: layer 0" in out and out.count("\n0 | ") == 1
    assert truth_of(str(video)) == truth


def test_set_changes_the_learning_models_and_the_frozen_one_alike(capsys, monkeypatch):
    made, new_model = [], learning_pays.new_model

    def recording(preset, assignments, **kwargs):
        made.append((preset, list(assignments)))
        return new_model(preset, assignments, **kwargs)

    monkeypatch.setattr(learning_pays, "new_model", recording)
    assert main(["--streams", "synthetic:5:4", "--seeds", "0", "--passes", "2",
                 "--set", "block_lr=1e-12", "--set", "z_threshold=2.5"]) == 0
    assert made == [("live", ["block_lr=1e-12", "z_threshold=2.5"])] * 2  # learning, frozen
    out = capsys.readouterr().out
    assert "live with block_lr=1e-12 z_threshold=2.5" in out and "pass 2 | frozen" in out
