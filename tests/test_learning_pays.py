"""benchmarks/learning_pays.py: a stream replayed with learning on, against the model frozen."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.learning_pays import Run, hierarchies, main, report  # noqa: E402
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
    (["--streams", "CLIP"], "vtest or synthetic"),  # a video without a truth
    (["--streams", "missing.avi"], "not found"),
    (["--streams", "synthetic:x"], "synthetic:x"),
])
def test_what_it_cannot_score_is_refused_with_the_reason(capsys, tmp_path, arguments,
                                                         message):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"not decoded before the check")
    with pytest.raises(SystemExit) as exit_:
        main([str(clip) if a == "CLIP" else a for a in arguments])
    assert exit_.value.code == 2 and message in capsys.readouterr().err
