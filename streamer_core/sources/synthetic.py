"""The built-in stream: a webcam-like scene whose event hierarchy is known exactly.

Layer 0 of its ground truth is the object visits (a few seconds each), layer 1 the scenes
(about a minute each). Used as the app's source when there is no camera, and by tests
and benchmarks, which can score a model against `ground_truth()`.
"""

from __future__ import annotations

import math
import time

from .base import Frame, FrameSource, SourceError
from .scene_plan import PlanSettings, ScenePlan
from .scene_render import SceneRenderer

FILE_TYPE = "video/mp4"  # what the reference's JSON writer puts for every file


def _rgb_css(colour: tuple[int, int, int]) -> str:
    return f"rgb({colour[0]}, {colour[1]}, {colour[2]})"


class SyntheticSource(FrameSource):
    """Deterministic from the seed: the same seed gives the same frames and ground truth.

    Bounded (a duration) it is a file-like source read as fast as it renders. Endless it
    stands in for a camera: `is_live` is True and, with `realtime` (the default when
    endless), read() delivers frames at `fps` against the wall clock, skipping frames
    (counted in `dropped_frames`) when the reader falls behind, as a camera would.
    """

    def __init__(self, seed: int = 0, duration: float | None = None,
                 size: tuple[int, int] = (320, 240), fps: float = 10.0, *,
                 realtime: bool | None = None, settings: PlanSettings | None = None):
        if duration is not None and not (duration > 0 and math.isfinite(duration)):
            raise SourceError(f"Synthetic duration must be a positive number of seconds, "
                              f"not {duration}")
        if not (fps > 0 and math.isfinite(fps)):
            raise SourceError(f"Synthetic fps must be positive, not {fps}")
        if len(size) != 2 or min(size) < 16:
            raise SourceError(f"Synthetic frame size must be at least 16 x 16, not {size}")
        self.seed = int(seed)
        self.duration = float(duration) if duration is not None else None
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        self.is_live = self.duration is None
        self.realtime = self.is_live if realtime is None else bool(realtime)
        self.plan = ScenePlan(self.seed, settings)
        self.description = (f"Synthetic (seed {self.seed})" if self.duration is None else
                            f"Synthetic (seed {self.seed}, {self.duration:g} s)")
        self.frame_count = (math.ceil(self.duration * self.fps - 1e-9)
                            if self.duration is not None else None)
        self.dropped_frames = 0
        self._renderer: SceneRenderer | None = None
        self._index = 0
        self._delivered = 0
        self._opened_at = 0.0
        self._ever_opened = False

    @property
    def is_open(self) -> bool:
        return self._renderer is not None

    def open(self) -> None:
        self._renderer = SceneRenderer(self.plan, self.size, self.seed)
        self._ever_opened = True
        self._index = 0
        self._delivered = 0
        self.dropped_frames = 0
        self.end_reason = None
        self._opened_at = time.monotonic()

    def close(self) -> None:
        self._renderer = None

    def read(self) -> Frame | None:
        renderer = self._renderer
        if renderer is None:
            if not self._ever_opened:
                raise self._never_opened()
            return None
        if self.realtime:
            self._keep_pace()
        if self.frame_count is not None and self._index >= self.frame_count:
            self.end_reason = f"{self.description}: end of stream"
            self._renderer = None
            return None
        t = self._index / self.fps
        frame = Frame(renderer.render(t, self._index), t, self._delivered)
        self._index += 1
        self._delivered += 1
        return frame

    def _keep_pace(self) -> None:
        """Waits for the next frame's moment, or jumps to now if we are late."""
        due = self._opened_at + self._index / self.fps
        now = time.monotonic()
        if now < due:
            time.sleep(due - now)
            return
        behind = int((now - self._opened_at) * self.fps) - self._index
        if behind > 0:
            self._index += behind
            self.dropped_frames += behind

    # --- ground truth ---------------------------------------------------------------

    def ground_truth(self, duration: float | None = None) -> dict:
        """The event hierarchy of the first `duration` seconds as a hierarchy JSON doc.

        Layer 0: object visits; layer 1: scenes. Every layer starts at 0 and ends at the
        duration; each scene boundary is also a visit boundary.
        """
        duration = self.duration if duration is None else float(duration)
        if duration is None:
            raise ValueError("an endless synthetic stream needs a duration for its ground truth")
        if not duration > 0:
            raise ValueError(f"duration must be positive, not {duration}")
        visits, scenes = [], []
        for scene in self.plan.scenes_until(duration):
            scenes.append(_annotation(scene.start, min(scene.end, duration), scene.label,
                                      scene.colour))
            for visit in scene.visits:
                if visit.start < duration:
                    visits.append(_annotation(visit.start, min(visit.end, duration),
                                              visit.label, visit.colour))
        return {
            "file": f"synthetic:{self.seed}:{duration:g}",
            "fileType": FILE_TYPE,
            "cursor": 0,
            "duration": duration,
            "zoom": 1,
            "layers": [
                {"name": "layer 0", "order": 0, "annots": visits},
                {"name": "layer 1", "order": 1, "annots": scenes},
            ],
        }


def _annotation(start: float, end: float, action: str, colour: tuple[int, int, int]) -> dict:
    return {"start": round(start, 3), "end": round(end, 3), "action": action,
            "colour": _rgb_css(colour)}
