"""benchmarks/retrieval.py's labels: an event is labelled by what its model inputs show
too, not only by the scene its time span overlaps most."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.retrieval import dominant, seen_label  # noqa: E402

ROOMS = [(0.0, 10.1, "lilac"), (10.1, 20.0, "grey")]


def test_an_event_of_one_input_before_a_cut_is_what_that_input_shows():
    # one input at 10.0 (lilac), the next at 10.5 (grey) starts the next event: by time
    # the span [10.0, 10.5) is mostly grey, a room no input of it shows
    assert dominant(ROOMS, 10.0, 10.5) == "grey"
    assert seen_label(ROOMS, [10.0]) == "lilac"


def test_most_inputs_decide_and_a_tie_goes_to_the_earliest():
    assert seen_label(ROOMS, [9.0, 10.5, 11.0]) == "grey"
    assert seen_label(ROOMS, [9.5, 10.0, 10.5]) == "lilac"
    assert seen_label(ROOMS, [10.0, 10.5]) == "lilac"
    assert seen_label(ROOMS, [25.0]) == "grey"  # past the last span: the last one
