"""benchmarks/still_camera_faults.py: a webcam's faults drawn over a still camera."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.still_camera_faults import FIRST_SECONDS, fault_plan, layer0_row  # noqa: E402
from streamer_core.hierarchy import hierarchy_json  # noqa: E402

FRAMES = 800  # 80 s at vtest.avi's 10 fps


def test_flicker_is_brief_and_the_light_comes_back():
    gain, moments = fault_plan("flicker", FRAMES, np.random.default_rng(0))
    assert len(moments) >= 10  # every 2 to 6 s
    for moment in moments:
        frame = round(moment * 10)
        assert abs(gain[frame] - 1.0) >= 0.2
        assert gain[frame + 3] == 1.0  # at most three frames
    assert np.mean(gain == 1.0) > 0.9


def test_an_exposure_step_stays_at_its_new_level():
    gain, moments = fault_plan("exposure", FRAMES, np.random.default_rng(0))
    assert len(moments) >= 5  # every 6 to 12 s
    first, second = (round(m * 10) for m in moments[:2])
    assert gain[first - 1] == 1.0
    assert np.all(gain[first + 3:second] == gain[first + 3])
    assert 0.7 <= gain[first + 3] <= 1.3


@pytest.mark.parametrize("fault", ["clean", "noise", "shake"])
def test_faults_that_keep_the_light_have_no_moments(fault):
    gain, moments = fault_plan(fault, FRAMES, np.random.default_rng(0))
    assert moments == [] and np.all(gain == 1.0)


def test_a_boundary_at_a_fault_is_counted_as_the_faults():
    truth = hierarchy_json({"boundaries": {0: [0.0, 10.0]}}, "t", 80.0)
    predicted = hierarchy_json({"boundaries": {0: [0.0, 10.0, 30.2]}}, "p", 80.0)
    row = layer0_row("flicker", predicted, truth, moments=[30.0, 50.0])
    assert "boundaries   2" in row
    assert "at the fault  1 of  2" in row
    assert "F1 0.67 (P 0.50 R 1.00)" in row


def test_the_row_counts_the_first_seconds_boundaries_found():
    """A session's first FIRST_SECONDS: of the truth's two boundaries there one was found."""
    truth = hierarchy_json({"boundaries": {0: [0.0, 3.0, 8.0, 40.0]}}, "t", 80.0)
    predicted = hierarchy_json({"boundaries": {0: [0.0, 3.5, 40.0]}}, "p", 80.0)
    assert FIRST_SECONDS == 10.0
    assert "first 10 s: found 1 of 2" in layer0_row("clean", predicted, truth, moments=[])
