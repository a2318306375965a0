"""Someone entering or leaving a still view: layer 0's prediction error at the picture's sides.

Layer 0 on features (`change`, signal_space "features") reads what is in view pooled over
the whole picture. A person walking into a street camera's view is a few pixels of its
128 x 128 input there, and on vtest.avi the pooled step hardly told an entry from the rest
(docs/quality.md, round eight). Where someone enters or leaves a still view, though, is
its left or right edge. So layer 0 also watches the sides: the prediction error of the
second convolution block's features per cell of a SIDE_GRID x SIDE_GRID map, its step since
the last input (mean over the channels), and the mean step of the two outermost columns
less the step of the rest's typical cell (their median). A shaking or panning camera and a
flicker move the whole picture, so the difference stays small; someone crossing an edge
moves mostly the side. People walking inside a busy view move a few cells of the rest,
which pulled its mean up and hid who entered meanwhile; its median stays the still
background's (docs/quality.md, round twelve). A difference `side_z_threshold` robust
deviations above its usual one (the last `window_size` inputs) ends the event if the view
is still: the sides changed SIDE_RATIO times as much as the typical cell (round thirteen).
Until that usual level is known (the first SIDE_HISTORY steps), the sides alone end it,
once they changed SIDE_ALONE times as much as the typical cell: a session started on a
busy street hears who enters in its first seconds (session thirty-three).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .buffer import DISTANCE
from .demarcation import ROBUST, EventDemarcation

SIDE_GRID = 16
"""Cells a side of the map (2 x 2 pixels of the second block's 32 x 32): a side column is
8 of the 128 input pixels wide, about a person's width on vtest.avi"""
SIDE_RATIO = 4.0
"""The sides speak for a still view only: their step must be this many times the typical
cell's. Where the watch fired in vtest.avi's view it was 6 to 13 times; in hand-held
shots (a cup, a box) and a tree moved by hand, where the whole view moves, 1.3 to 3.8
times (docs/quality.md, round thirteen)"""
SIDE_HISTORY = 20
"""Steps the side reading needs before its usual level judges it (10 s of `live`): of
the first 5 to 11 steps the median and the deviation said little (docs/quality.md, round
nine); a shorter history does not help: where people stand at the edges from the start,
the level learned from them hides the next entry (docs/quality.md, session thirty-three)"""
SIDE_ALONE = 6.0
"""Until then the sides speak alone, for a still view only: their step must be this many
times the typical cell's. At vtest.avi's entries it was 6 to 30 times, in hand-held
shots at most 3.8 (SIDE_RATIO); without it a session switched on in a street marked 1
of the 20 boundaries of its first 10 s (docs/quality.md, session thirty-three)"""


def side_error_map(seen: torch.Tensor, predicted: torch.Tensor) -> torch.Tensor:
    """Two blocks' outputs [C, H, W] -> the prediction error per cell [C, SIDE_GRID, SIDE_GRID]."""
    return F.adaptive_avg_pool2d(seen - predicted, SIDE_GRID)


def side_steps(previous: torch.Tensor, current: torch.Tensor) -> tuple[float, float]:
    """How much the error changed at the left and right edges (their mean) and at the
    typical cell inside (the median of the others)."""
    step = (current - previous).abs().mean(dim=0)  # [rows, columns]
    sides, typical = torch.stack([step[:, [0, -1]].mean(), step[:, 1:-1].median()]).tolist()
    return sides, typical


class SideWatch:
    """Layer 0's second reading: a boundary when someone enters or leaves at the sides."""

    def __init__(self, args: object) -> None:
        """`args`: the layer's arguments (side_z_threshold, window_size, min_event_length,
        min_window; at least SIDE_HISTORY)."""
        self.previous: torch.Tensor | None = None
        self.demarcation = self._make_demarcation(args)

    @staticmethod
    def _make_demarcation(args: object) -> EventDemarcation:
        return EventDemarcation(ROBUST, DISTANCE, window_size=args.window_size,
                                z_threshold=args.side_z_threshold,
                                min_event_length=args.min_event_length,
                                min_window=max(args.min_window, SIDE_HISTORY))

    def __call__(self, error_map: torch.Tensor) -> bool:
        """Takes this input's side_error_map; True if it ends the event."""
        previous, self.previous = self.previous, error_map
        if previous is None or previous.shape != error_map.shape:
            return False
        sides, typical = side_steps(previous, error_map)
        learning_usual_level = len(self.demarcation.window) < self.demarcation.min_window
        beyond_usual = self.demarcation(sides - typical)
        if learning_usual_level:
            return self._stands_out_alone(sides, typical)
        return beyond_usual and sides >= SIDE_RATIO * typical

    def _stands_out_alone(self, sides: float, typical: float) -> bool:
        """Before the usual level: the sides changed SIDE_ALONE times as much as the
        typical cell, outside the shortest event."""
        demarcation = self.demarcation
        if sides > SIDE_ALONE * typical and (demarcation.since_boundary
                                             >= demarcation.min_event_length):
            demarcation.note_boundary()
            return True
        return False

    def rebase(self, error_map: torch.Tensor) -> None:
        """The last input judged again (after a boundary or an update): the next step
        compares with this map."""
        self.previous = error_map

    def boundary_elsewhere(self) -> None:
        """Layer 0's other reading marked a boundary: the shortest event counts from it."""
        self.demarcation.note_boundary()

    def weights_changed(self) -> None:
        self.previous = None

    def forget_nonfinite(self) -> None:
        self.demarcation.forget_nonfinite()

    def retune(self, args: object) -> None:
        """New live settings; the usual level is kept while the window's length stays."""
        new = self._make_demarcation(args)
        if new.window_size == self.demarcation.window_size:
            new.load_state(self.demarcation.state())
        self.demarcation = new

    def reset(self) -> None:
        self.previous = None
        self.demarcation.reset()

    def state(self) -> dict:
        return self.demarcation.state()

    def load_state(self, state: dict) -> None:
        self.demarcation.load_state(state)
