"""How much of the picture changed from one input to the next, region by region."""

from __future__ import annotations

from collections import deque

import numpy as np

PICTURE_WINDOW = 80
"""Recent inputs whose region steps say what each region's usual step is (40 s)"""
PICTURE_HISTORY = 5
"""Steps a region needs before a share of the picture can be told"""
REGION_CHANGE_FACTOR = 3.0
"""A region changed when its step is this many times its usual (median) step"""
CUT_STANDS_OUT = 3.0
"""settle_ratio: a change as big as a new scene's is a cut without waiting when its size is
this many times the step before's; one that grew out of a picture already moving (a box
swung by hand fills the view: 1.6 to 2.6 times on the tuning montages, where cuts were
2.5 times and more, most of them 4 and more) waits for the picture to settle too. A cut
out of a panning shot stands out from the step after it instead (layer.StreamerLayer._quiet_cut)"""


class PictureChange:
    """How much of the picture's prediction error changed since the last input.

    `share`: the share of the regions whose step is well beyond that region's usual step.
    A step compares this input and the last one against one prediction, the current one:
    the prediction itself moves after a boundary while its new event's first inputs fill
    the buffer, and measured against two predictions half the picture "changed" at the
    second to fifth input of every event on a still street camera (a layer-1 new scene
    at a pooled boundary 2.5 s after someone entered at a side; docs/quality.md, round
    nine). On the tuning streams a new scene changed most of the picture, something
    entering the view little of it. Being relative to each region's own history, it keeps
    its scale when learning makes every error smaller. A shaking camera changes all of
    the picture a little: `size`, the mean absolute step, tells how big the change was
    (docs/quality.md, round five); `focus`, the share of the step that the eighth of the
    regions that changed most carry, whether it was in one place or all over the picture
    (round eleven)."""

    def __init__(self, window: int = PICTURE_WINDOW) -> None:
        self.steps: deque[np.ndarray] = deque(maxlen=window)
        self.share: float | None = None
        self.size: float | None = None
        self.focus: float | None = None
        self.size_before: float | None = None  # the last input's `size`

    def step(self, regions: list[float], last_regions: list[float] | None) -> None:
        """Takes this input's regions and the last input's against the same prediction
        (None for the first input); sets `share`, `size` and `focus` (None while unknown)."""
        self.size_before = self.size
        self.share = self.size = self.focus = None
        if last_regions is None:
            return
        step = np.abs(np.asarray(regions, dtype=np.float64)
                      - np.asarray(last_regions, dtype=np.float64))
        self.size = float(step.mean())
        total = step.sum()
        if total > 0:  # the eighth of the regions that changed most, sorted last
            self.focus = float(np.sort(step)[-max(1, step.size // 8):].sum() / total)
        if len(self.steps) >= PICTURE_HISTORY:
            usual = np.median(np.stack(self.steps), axis=0)
            self.share = float(np.mean(step > REGION_CHANGE_FACTOR * usual))
        self.steps.append(step)

    def stands_out(self, ratio: float) -> bool:
        """Whether this change is `ratio` times the last input's or more (or nothing came
        before it to tell)."""
        if self.size is None or self.size_before is None:
            return True
        return self.size >= ratio * self.size_before

    def reset(self) -> None:
        self.steps.clear()
        self.share = self.size = self.focus = self.size_before = None
