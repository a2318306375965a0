"""Escalation: a bigger surprise ends a bigger event.

On real footage an upper layer's own prediction signal says little for many minutes:
it learns from one input per event below (about 40 in 5 minutes), and the event
representations it predicts differ mostly in ways unrelated to the scene (docs/quality.md).
What does separate coarse from fine changes is how surprising they were to the layer
below: on the real montages, the layer-0 boundaries at a change of video are 3 to 30
times more surprising than those between shots of one video.

So in the `escalate` mode a layer's boundary also ends the event of the layer above when
its surprise falls in the upper of two well-separated classes of the layer's recent
boundary surprises (a two-class split of their logarithms, Otsu's criterion). Upper
layers still learn their predictions; only their boundaries come from below. Events are
nested by construction, and each layer up keeps only the more surprising part.

A layer 0 that reads the picture (`change` on features) ends the layer-1 event when most
of the picture changed (`new_scene_share`, see picture_change.PictureChange) and, once its
boundaries fall into two classes of size, the change is in the upper one. The share keeps
its scale as the model learns (a learned model's scene change fell under round three's
absolute floor) and needs no classes (a montage whose boundaries were all cuts escalated
none of them until two small events came); the size keeps a shaking camera, which
changes all of the picture a little, below (docs/quality.md, round five). Such a change
reaches layer 1 1.5 s late and ends its event only if the new picture, or what is in
view, stayed (pending_scene.SCENE_STAYS) and the old view did not come back
(pending_scene.BACK_RATIO). Layer 1 then splits its own boundaries by how far what is in
view moved at each (Arrival.size), not by layer 0's step: a change of place, or of
video, moves it several times more than a cut within one place does, while their steps
overlap (docs/quality.md, session sixty-three).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

OWN = "own"
ESCALATE = "escalate"
UPPER_MODES = (OWN, ESCALATE)
"""How layers above 0 mark boundaries: `own` (the spec: from their own prediction
signal) or `escalate` (from the surprise of the layer below's boundaries)"""
ESCALATION_WINDOW = 40
"""Recent boundaries of a layer that the split looks at"""
MIN_BOUNDARIES = 2
"""Boundaries a layer needs before one of them can escalate: with two, the second escalates
if it is `ratio` times the first (a session's first scene change often comes that early)"""
MIN_SURPRISE = 1e-6
"""Surprises are compared as logarithms: a boundary that surprised nobody counts as this"""


@dataclass(frozen=True)
class Arrival:
    """What a layer's boundary tells the layer above, along with the event's representation."""

    surprise: float
    """How surprising the boundary was to the layer that marked it first (that layer's units)"""
    escalated: bool
    """The boundary ends the event above too"""
    level: float | None
    """What decided, measured against: the least surprise of the upper class (None while
    there are no two classes), or new_scene_share when `share` decided"""
    share: float | None = None
    """The share of the picture that changed, when that decided (layer 0 on features)"""
    sharp: bool = False
    """Escalated as a sudden change below the upper class of size (layer 0 on features: a
    cut between two shots of one film); the steps after it must stand out less too"""
    view_change: float | None = None
    """How far what is in view moved at the change, where layer 0 measured it while it
    watched the new picture stay (PendingArrival.view_change)"""

    @property
    def size(self) -> float:
        """What the layer above records of this boundary, to split its own boundaries by:
        how far what is in view moved, where layer 0 measured it, else the surprise. A
        change of place moves what is in view more than a cut within one place does, by
        more than their surprises differ: on montages 235 and 236 the changes of video
        moved it 0.16 to 0.77 and the other cuts 0.03 to 0.12, where their surprises
        overlapped (0.18 to 0.49 against 0.11 to 0.31; docs/quality.md, session
        sixty-three)."""
        return self.view_change if self.view_change is not None else self.surprise

    @property
    def decided_by(self) -> float:
        """The value that met `level` or not: the timeline shows the two."""
        return self.share if self.share is not None else self.surprise


def split_level(surprises: Iterable[float], ratio: float) -> float | None:
    """The least value of the upper class, if the values fall into two classes whose
    geometric means differ by `ratio` or more; None otherwise."""
    values = np.sort(np.maximum(np.asarray(list(surprises), dtype=np.float64), MIN_SURPRISE))
    logs = np.log(values)
    n = len(logs)
    if n < 2:
        return None
    below = np.cumsum(logs)[:-1]  # sums of the k lowest, k = 1..n-1
    k = np.arange(1, n)
    low_mean = below / k
    high_mean = (logs.sum() - below) / (n - k)
    between = k * (n - k) * (high_mean - low_mean) ** 2  # Otsu: between-class variance
    best = int(np.argmax(between))
    if high_mean[best] - low_mean[best] < math.log(ratio):
        return None
    return float(values[best + 1])  # the value itself: exp(log(v)) may round above v


class Escalation:
    """A layer's recent boundary surprises; decides which boundaries reach the layer above."""

    def __init__(self, ratio: float, window: int = ESCALATION_WINDOW):
        check_escalation_ratio(ratio)
        self.ratio = ratio
        self.surprises: deque[float] = deque(maxlen=window)

    def __call__(self, surprise: float) -> Arrival:
        """Records the surprise of a boundary just marked."""
        surprise = max(float(surprise), MIN_SURPRISE)
        self.surprises.append(surprise)
        level = self._level(self.surprises)
        return Arrival(surprise, level is not None and surprise >= level, level)

    def level_with(self, surprise: float) -> float | None:
        """The split level if a boundary with this surprise came now (nothing recorded)."""
        window = self.surprises.maxlen or 0
        return self._level([*self.surprises, max(float(surprise), MIN_SURPRISE)][-window:])

    def _level(self, recent: Iterable[float]) -> float | None:
        recent = list(recent)
        return split_level(recent, self.ratio) if len(recent) >= MIN_BOUNDARIES else None

    def reset(self) -> None:
        self.surprises.clear()

    def state(self) -> list[float]:
        return list(self.surprises)

    def load_state(self, surprises: list[float]) -> None:
        self.surprises.clear()
        self.surprises.extend(float(s) for s in surprises)


def check_escalation_ratio(ratio: float) -> None:
    if not (math.isfinite(ratio) and ratio >= 1.0):
        raise ValueError("escalation_ratio must be a number, 1 or more")
