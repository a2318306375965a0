"""Boundary P/R/F1 and HLR on hand-made hierarchies with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from streamer_core.evaluation import (
    HierarchyFormatError,
    boundary_scores,
    check_hierarchy,
    evaluate,
    hlr_scores,
    layer_boundaries,
    mask_agreement,
    match_boundaries,
    precision_within,
    uniform_baseline,
    uniform_chance,
)


def doc(*layers, duration=None):
    """doc([0, 5, 10], [0, 10]): each layer given by its boundary list."""
    return {"file": "x", "duration": duration if duration is not None else layers[0][-1],
            "layers": [{"name": f"layer {i}", "order": i,
                        "annots": [{"start": a, "end": b, "action": "N/A", "colour": "c"}
                                   for a, b in zip(bounds, bounds[1:])]}
                       for i, bounds in enumerate(layers)]}


# --- boundaries ------------------------------------------------------------------------

def test_matching_is_one_to_one():
    assert match_boundaries([1.0, 1.2], [1.1], tolerance=0.5) == 1
    assert match_boundaries([1.1], [1.0, 1.2], tolerance=0.5) == 1
    assert match_boundaries([1.0, 1.2, 5.0], [1.1, 1.3, 9.0], tolerance=0.5) == 2


def test_matching_is_maximal_where_nearest_first_is_not():
    # nearest-first pairs 1.8 with 1.45 and leaves 1.0 and 2.25 apart: 1 match; best is 2
    assert match_boundaries([1.0, 1.8], [1.45, 2.25], tolerance=0.5) == 2


def test_tolerance_edges():
    assert match_boundaries([2.0], [3.0], tolerance=1.0) == 1
    assert match_boundaries([2.0], [3.01], tolerance=1.0) == 0
    assert match_boundaries([2.0], [2.0], tolerance=0.0) == 1


def test_precision_recall_f1():
    score = boundary_scores([1.0, 4.0, 8.0, 9.0], [1.2, 4.5, 6.0], tolerance=1.0)
    assert (score.matched, score.predicted, score.ground_truth) == (2, 4, 3)
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert boundary_scores([], [], 1.0).f1 == 1.0
    assert boundary_scores([], [3.0], 1.0).f1 == 0.0
    assert boundary_scores([3.0], [], 1.0).precision == 0.0


def test_start_and_end_are_not_boundaries():
    d = doc([0, 2.5, 7, 10], [0, 7, 10])
    assert layer_boundaries(d, 0) == [2.5, 7.0]
    assert layer_boundaries(d, 1) == [7.0]


# --- HLR -------------------------------------------------------------------------------

def test_hlr_descends_when_the_children_fit_better():
    truth = [(0.0, 10.0), (10.0, 20.0)]
    predicted = [[(0.0, 5.0), (5.0, 10.0), (10.0, 20.0)], [(0.0, 20.0)]]
    score = hlr_scores(predicted, truth, duration=20.0)
    # top event: IoU 0.5 with either; children [0,5] (0.5) and [10,20] (1.0): mean 0.75
    assert score.iou == pytest.approx(0.75)
    assert score.matched == 2
    # matched predictions cover [0, 5] and [10, 20]; the truth covers everything
    assert score.mof == pytest.approx(15 / 20)


def test_hlr_keeps_the_parent_when_it_fits_better():
    truth = [(0.0, 10.0), (10.0, 12.0)]
    predicted = [[(0.0, 2.0), (2.0, 12.0)], [(0.0, 12.0)]]
    score = hlr_scores(predicted, truth, duration=12.0)
    # top: best IoU 10/12; both truths fall to child [2, 12], whose best is 8/12: keep top
    assert score.iou == pytest.approx(10 / 12)
    assert score.matched == 1
    assert score.mof == pytest.approx(1.0)


def test_hlr_single_layer_and_perfect_prediction():
    truth = [(0.0, 4.0), (4.0, 10.0)]
    assert hlr_scores([truth], truth, 10.0).iou == pytest.approx(1.0)
    shifted = hlr_scores([[(0.0, 5.0), (5.0, 10.0)]], truth, 10.0)
    assert shifted.iou == pytest.approx((4 / 5 + 5 / 6) / 2)
    assert hlr_scores([[]], truth, 10.0).iou == 0.0


def covered(intervals, frames):
    return np.any([(frames >= a) & (frames < b) for a, b in intervals], axis=0)


def test_mask_agreement_matches_frame_sampling():
    """The reference samples masks at the frame rate; exact measure = the fine-sampled one."""
    rng = np.random.default_rng(1)
    frames = (np.arange(300_000) + 0.5) * 30 / 300_000
    for _ in range(20):
        cuts = np.sort(rng.uniform(0, 30, 8))
        predicted = [(cuts[0], cuts[1]), (cuts[2], cuts[5])]
        truth = [(cuts[1] - 1, cuts[3]), (cuts[4], cuts[7]), (cuts[6], 31.0)]
        sampled = np.mean(covered(predicted, frames) == covered(truth, frames))
        assert mask_agreement(predicted, truth, 30.0) == pytest.approx(sampled, abs=1e-4)


# --- documents -------------------------------------------------------------------------

def test_evaluate_reports_every_layer_pair():
    truth = doc([0, 5, 10, 15, 20], [0, 10, 20])
    predicted = doc([0, 5, 10, 14.6, 20], [0, 10, 20])
    report = evaluate(predicted, truth, tolerance=0.5)
    rows = {(r["pred_layer"], r["gt_layer"]): r for r in report["boundaries"]}
    assert len(rows) == 4
    assert rows[(0, 0)]["f1"] == pytest.approx(1.0)
    assert rows[(1, 1)]["f1"] == pytest.approx(1.0)
    assert rows[(0, 1)]["precision"] == pytest.approx(1 / 3)
    assert rows[(0, 1)]["recall"] == pytest.approx(1.0)
    whole = [h for h in report["hlr"] if h["pred_layers"] == "all"]
    assert [h["gt_layer"] for h in whole] == [0, 1]
    assert whole[1]["iou"] == pytest.approx(1.0)
    assert report["events"] == {"prediction": [4, 2], "ground_truth": [4, 2]}


def test_uniform_baseline_has_the_same_counts():
    predicted = doc([0, 1, 2, 9, 12], [0, 9, 12])
    base = uniform_baseline(predicted)
    assert [len(layer["annots"]) for layer in base["layers"]] == [4, 2]
    assert layer_boundaries(base, 0) == pytest.approx([3.0, 6.0, 9.0])
    assert layer_boundaries(base, 1) == pytest.approx([6.0])


def test_a_uniform_baseline_at_another_phase_shifts_every_cut():
    predicted = doc([0, 1, 2, 9, 12], [0, 9, 12])
    shifted = uniform_baseline(predicted, phase=0.5)
    assert layer_boundaries(shifted, 0) == pytest.approx([1.5, 4.5, 7.5, 10.5])
    assert layer_boundaries(shifted, 1) == pytest.approx([3.0, 9.0])
    with pytest.raises(ValueError, match="phase"):
        uniform_baseline(predicted, phase=1.0)


def test_the_chance_level_is_the_uniform_grid_at_any_phase():
    truth = doc([0, 10, 20, 30], [0, 30])
    predicted = doc([0, 4, 5, 30], [0, 12, 30])  # 3 and 2 events
    at_zero = evaluate(uniform_baseline(predicted), truth)["boundaries"]
    assert at_zero[0]["f1"] == pytest.approx(1.0)  # the grid falls on 10 and 20 by luck
    rows = uniform_chance(predicted, truth, tolerance=1.0, phases=4)
    assert [(r["pred_layer"], r["gt_layer"]) for r in rows] == [(0, 0), (1, 0), (0, 1), (1, 1)]
    # phases 0.25, 0.5, 0.75 put the cuts 2.5 or 5 s from 10 and 20: no match
    assert rows[0]["f1"] == pytest.approx(0.25)
    assert (rows[0]["f1_min"], rows[0]["f1_max"]) == (pytest.approx(0.0), pytest.approx(1.0))
    with pytest.raises(ValueError, match="phases"):
        uniform_chance(predicted, truth, phases=0)


@pytest.mark.parametrize("bad", [
    [], {"no": "layers"}, {"layers": [{"annots": "x"}]},
    {"layers": [{"annots": [{"start": 0}]}]},
    {"layers": [{"annots": [{"start": 5, "end": 1}]}]},
    {"layers": [{"annots": [{"start": "0", "end": 1}]}]},
    {"duration": "long", "layers": []},
])
def test_malformed_documents(bad):
    with pytest.raises(HierarchyFormatError):
        check_hierarchy(bad)
    with pytest.raises(HierarchyFormatError):
        evaluate(bad, doc([0, 1]))


def test_negative_tolerance_is_refused():
    with pytest.raises(ValueError):
        evaluate(doc([0, 1]), doc([0, 1]), tolerance=-1)


# --- precision inside moving-camera spans -------------------------------------------------

def test_precision_within_spans_counts_only_the_boundaries_predicted_inside():
    truth = [10.0, 20.0]
    predicted = [5.0, 10.4, 12.0, 14.0, 19.5, 30.0]  # 5 and 30 lie outside the span
    score = precision_within(predicted, truth, [(10.0, 20.0)], tolerance=1.0)
    assert (score.matched, score.predicted) == (2, 4) and score.precision == 0.5
    assert precision_within([5.0], truth, [(10.0, 20.0)]).precision == 1.0  # none inside


def test_evaluate_reports_moving_camera_precision_when_the_truth_has_spans():
    truth = {**doc([0, 10, 20, 40]), "moving_camera": [[10.0, 20.0]]}
    predicted = doc([0, 10.2, 13, 16, 40], [0, 10, 40])
    rows = evaluate(predicted, truth)["moving_camera"]
    assert [(r["pred_layer"], r["precision"], r["predicted"]) for r in rows] == \
        [(0, pytest.approx(1 / 3), 3), (1, 1.0, 1)]
    assert "moving_camera" not in evaluate(predicted, doc([0, 10, 20, 40]))


def test_malformed_moving_camera_spans_are_a_format_error():
    with pytest.raises(HierarchyFormatError, match="moving_camera"):
        check_hierarchy({**doc([0, 10]), "moving_camera": [[5.0, 1.0]]})
