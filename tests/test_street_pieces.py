"""benchmarks/street_pieces.py: vtest.avi's annotated crossings, found again in montage time."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.scene_montage import Piece  # noqa: E402
from benchmarks.street_pieces import street_pieces  # noqa: E402

MEGAMIND_SHOT = 1


def test_a_crossing_is_where_the_piece_shows_its_frame():
    # 5 s of Megamind, then 10 s of the street camera from its frame 100 (10.0 s) on:
    # the crossings at 11.3, 13.0, 14.8 and 17.3 s of vtest.avi show 5 s later than
    # 10.0 s into the montage's second piece
    takes = [[Piece(MEGAMIND_SHOT, 0.0, 5.0, 0)], [Piece(0, 5.0, 15.0, 100)]]
    spans, crossings = street_pieces(takes)
    assert spans == [(5.0, 15.0)]
    assert crossings == pytest.approx([6.3, 8.0, 9.8, 12.3])


def test_no_street_piece_no_crossing():
    assert street_pieces([[Piece(MEGAMIND_SHOT, 0.0, 5.0, 0)]]) == ([], [])
