"""What happens when in the synthetic stream: scenes of about a minute, each a run of
object visits of a few seconds. This is the ground truth; scene_render draws it.

Every scene and its events come from a random generator seeded by (seed, scene number),
so any stretch of an endless stream can be planned without planning what came before
beyond the scene lengths.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

SHAPES = ("disc", "square", "triangle", "ring", "cross", "bar")
MOTIONS = ("orbits", "bounces", "sways", "zigzags", "spins", "drifts")
OBJECT_COLOURS = {  # RGB, saturated so they stand out from the muted rooms
    "red": (220, 40, 40), "green": (40, 190, 60), "blue": (40, 80, 230),
    "yellow": (240, 210, 40), "magenta": (210, 50, 200), "cyan": (40, 200, 220),
    "orange": (245, 130, 30), "white": (245, 245, 245), "black": (20, 20, 25),
}
ROOM_COLOURS = {  # wall colour of a scene, RGB
    "beige": (196, 180, 150), "grey": (140, 144, 150), "sage": (140, 165, 130),
    "slate": (90, 105, 130), "terracotta": (170, 110, 85), "lilac": (160, 140, 175),
    "sand": (210, 195, 160), "teal": (80, 130, 130), "brown": (120, 95, 75),
}


@dataclass(frozen=True)
class ObjectVisit:
    """A fine event: one object appears, moves in one pattern and leaves."""

    start: float
    end: float
    shape: str
    colour_name: str
    motion: str
    size: float
    """Radius as a fraction of the frame height"""
    params: tuple[float, ...]
    """Motion constants in [0, 1): centre x, centre y, phase, direction, speed, spin"""

    @property
    def colour(self) -> tuple[int, int, int]:
        return OBJECT_COLOURS[self.colour_name]

    @property
    def label(self) -> str:
        return f"{self.colour_name} {self.shape} {self.motion}"


@dataclass(frozen=True)
class Scene:
    """A coarse event: one room, with its own layout and slow background motion."""

    number: int
    start: float
    end: float
    room_name: str
    layout_seed: int
    visits: tuple[ObjectVisit, ...]

    @property
    def colour(self) -> tuple[int, int, int]:
        return ROOM_COLOURS[self.room_name]

    @property
    def label(self) -> str:
        return f"scene {self.number}: {self.room_name} room"

    def visit_at(self, t: float) -> ObjectVisit:
        starts = [v.start for v in self.visits]
        return self.visits[max(bisect.bisect_right(starts, t) - 1, 0)]


@dataclass(frozen=True)
class PlanSettings:
    scene_seconds: tuple[float, float] = (45.0, 75.0)
    visit_seconds: tuple[float, float] = (3.0, 8.0)


class ScenePlan:
    """The endless, seeded schedule of scenes and visits; planned lazily, kept in memory.

    An hour of stream is about 60 scenes and 700 visits: small enough to keep.
    """

    def __init__(self, seed: int, settings: PlanSettings | None = None):
        self.seed = int(seed)
        self.settings = settings or PlanSettings()
        self._scenes: list[Scene] = []
        self._starts: list[float] = []

    def _rng(self, *keys: int) -> np.random.Generator:
        return np.random.default_rng([self.seed % 2**64, *keys])

    def _plan_scene(self, number: int, start: float,
                    previous: Scene | None) -> Scene:
        rng = self._rng(number)
        low, high = self.settings.scene_seconds
        end = start + float(rng.uniform(low, high))
        rooms = [r for r in ROOM_COLOURS if previous is None or r != previous.room_name]
        room = rooms[int(rng.integers(len(rooms)))]
        visits: list[ObjectVisit] = []
        t = start
        last = previous.visits[-1] if previous else None
        v_low, v_high = self.settings.visit_seconds
        while t < end:
            length = float(rng.uniform(v_low, v_high))
            if end - (t + length) < v_low:  # no sliver at the end: stretch the last visit
                length = end - t
            visit = self._plan_visit(rng, t, t + length, last)
            visits.append(visit)
            last = visit
            t += length
        return Scene(number, start, end, room, int(rng.integers(2**31)), tuple(visits))

    @staticmethod
    def _plan_visit(rng: np.random.Generator, start: float, end: float,
                    last: ObjectVisit | None) -> ObjectVisit:
        """Consecutive visits differ in shape, colour and motion, so each change is visible."""
        def pick(options: tuple[str, ...] | list[str], avoid: str | None) -> str:
            choices = [o for o in options if o != avoid]
            return choices[int(rng.integers(len(choices)))]

        shape = pick(SHAPES, last.shape if last else None)
        colour = pick(list(OBJECT_COLOURS), last.colour_name if last else None)
        motion = pick(MOTIONS, last.motion if last else None)
        size = float(rng.uniform(0.08, 0.16))
        params = tuple(float(p) for p in rng.random(6))
        return ObjectVisit(start, end, shape, colour, motion, size, params)

    def _extend_to(self, t: float) -> None:
        while not self._scenes or self._scenes[-1].end <= t:
            previous = self._scenes[-1] if self._scenes else None
            start = previous.end if previous else 0.0
            scene = self._plan_scene(len(self._scenes), start, previous)
            self._scenes.append(scene)
            self._starts.append(scene.start)

    def scene_at(self, t: float) -> Scene:
        self._extend_to(t)
        return self._scenes[max(bisect.bisect_right(self._starts, t) - 1, 0)]

    def scenes_until(self, t: float) -> list[Scene]:
        """The scenes that start before t (the last one may run past t)."""
        self._extend_to(t)
        return [s for s in self._scenes if s.start < t]
