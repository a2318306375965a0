"""How the synthetic stream looks: a room per scene, one moving object per visit, and a
hand-held webcam's faults (sway, jitter, sensor noise, auto-exposure drift).

Everything drawn is a function of (plan, time, frame number), so frames can be rendered
out of order or skipped and still match; only the current room is cached.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from .scene_plan import ObjectVisit, Scene, ScenePlan

FLOORS = ((130, 95, 60), (100, 100, 104), (175, 170, 160), (110, 62, 60), (80, 98, 70))
APPEAR_SECONDS = 0.4  # objects grow in and shrink out over this long
NOISE_SIGMA = 3.0
NOISE_BANK = 8
SHIFT = 4  # sub-pixel drawing: coordinates in 1/16 pixel
SCALE = 1 << SHIFT


def _mix(colour: tuple[int, ...], factor: float) -> tuple[int, int, int]:
    return tuple(int(min(255, max(0, c * factor))) for c in colour)  # type: ignore[return-value]


def _triangle_wave(x: float) -> float:
    """0 -> 1 -> 0 over each unit of x."""
    x = x % 2.0
    return x if x < 1.0 else 2.0 - x


class SceneRenderer:
    def __init__(self, plan: ScenePlan, size: tuple[int, int] = (320, 240), seed: int = 0):
        width, height = size
        if width < 16 or height < 16:
            raise ValueError(f"synthetic frames must be at least 16 x 16, not {width} x {height}")
        self.plan = plan
        self.width, self.height = width, height
        self.margin = max(3, min(width, height) // 40)
        self.seed = seed
        self._room_number = -1
        self._room: np.ndarray | None = None
        rng = np.random.default_rng([seed % 2**64, 0xC0FFEE])
        bank = max(2, min(NOISE_BANK, 48_000_000 // (height * width * 3 * 8)))
        noise = rng.normal(0.0, NOISE_SIGMA, (bank, height, width, 3)).astype(np.float32)
        self._noise_up = np.clip(noise, 0, 255).astype(np.uint8)
        self._noise_down = np.clip(-noise, 0, 255).astype(np.uint8)

    # --- the room -------------------------------------------------------------------

    def _build_room(self, scene: Scene) -> np.ndarray:
        rng = np.random.default_rng(scene.layout_seed)
        m = self.margin
        w, h = self.width + 2 * m, self.height + 2 * m
        wall = np.array(scene.colour, np.float32)
        floor = np.array(FLOORS[int(rng.integers(len(FLOORS)))], np.float32)
        horizon = int(h * rng.uniform(0.55, 0.75))
        rows = np.linspace(1.12, 0.88, horizon, dtype=np.float32)[:, None, None]
        room = np.empty((h, w, 3), np.float32)
        room[:horizon] = wall * rows
        room[horizon:] = floor * np.linspace(0.85, 1.1, h - horizon, dtype=np.float32)[:, None,
                                                                                       None]
        canvas = np.clip(room, 0, 255).astype(np.uint8)
        for i in range(1, 6):  # floor boards converging to a vanishing point
            x_far = int(w * (0.3 + 0.4 * i / 6))
            x_near = int(w * (-0.4 + 1.8 * i / 6))
            cv2.line(canvas, (x_far, horizon), (x_near, h), _mix(floor, 0.75), 1, cv2.LINE_AA)
        if rng.random() < 0.7:  # a window
            x0, y0 = int(w * rng.uniform(0.05, 0.6)), int(horizon * rng.uniform(0.1, 0.3))
            x1, y1 = x0 + int(w * rng.uniform(0.15, 0.3)), y0 + int(horizon * rng.uniform(0.3, 0.5))
            cv2.rectangle(canvas, (x0, y0), (x1, y1), (200, 225, 240), -1)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), (235, 235, 230), max(1, w // 120))
            cv2.line(canvas, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), (235, 235, 230), 1)
        for _ in range(int(rng.integers(1, 4))):  # pictures, shelves, a door
            x0, y0 = int(w * rng.uniform(0.0, 0.85)), int(horizon * rng.uniform(0.05, 0.7))
            x1 = x0 + int(w * rng.uniform(0.06, 0.2))
            y1 = min(horizon, y0 + int(horizon * rng.uniform(0.08, 0.4)))
            colour = _mix(tuple(rng.integers(40, 220, 3)), 1.0)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), colour, -1)
            cv2.rectangle(canvas, (x0, y0), (x1, y1), _mix(colour, 0.6), 1)
        if rng.random() < 0.6:  # a table standing on the floor
            x0 = int(w * rng.uniform(0.05, 0.55))
            x1 = x0 + int(w * rng.uniform(0.2, 0.4))
            top = horizon + int((h - horizon) * rng.uniform(0.1, 0.4))
            wood = _mix(FLOORS[0], rng.uniform(0.6, 1.2))
            cv2.rectangle(canvas, (x0, top), (x1, top + max(2, h // 40)), wood, -1)
            for x in (x0 + 2, x1 - 4):
                cv2.rectangle(canvas, (x, top), (x + max(2, w // 100), min(h - 1, top + h // 5)),
                              _mix(wood, 0.7), -1)
        # uneven lighting: a smooth random shade field and a vignette
        shade = cv2.resize(rng.uniform(0.9, 1.1, (4, 5)).astype(np.float32), (w, h),
                           interpolation=cv2.INTER_CUBIC)
        ys, xs = np.ogrid[-1:1:complex(0, h), -1:1:complex(0, w)]
        vignette = (1.0 - 0.18 * (xs ** 2 + ys ** 2)).astype(np.float32)
        lit = canvas.astype(np.float32) * (shade * vignette)[:, :, None]
        self._clock = (int(w * rng.uniform(0.1, 0.9)), int(horizon * rng.uniform(0.15, 0.4)),
                       rng.random() < 0.5, float(rng.uniform(1.2, 2.5)))
        return np.clip(lit, 0, 255).astype(np.uint8)

    def _room_for(self, scene: Scene) -> np.ndarray:
        if scene.number != self._room_number:
            self._room = self._build_room(scene)
            self._room_number = scene.number
        assert self._room is not None
        return self._room

    def _draw_background_motion(self, image: np.ndarray, t: float, ox: int, oy: int) -> None:
        """A pendulum clock: motion that belongs to the scene, not to any event."""
        x, y, has_clock, period = self._clock
        if not has_clock:
            return
        x, y = x - ox, y - oy
        r = max(3, self.height // 24)
        cv2.circle(image, (x, y), r, (235, 230, 215), -1, cv2.LINE_AA)
        cv2.circle(image, (x, y), r, (60, 50, 40), 1, cv2.LINE_AA)
        angle = 0.5 * math.sin(2 * math.pi * t / period)
        length = 3 * r
        bob = (x + int(length * math.sin(angle)), y + r + int(length * math.cos(angle)))
        cv2.line(image, (x, y + r), bob, (80, 60, 40), 1, cv2.LINE_AA)
        cv2.circle(image, bob, max(2, r // 2), (190, 150, 60), -1, cv2.LINE_AA)

    # --- the object -----------------------------------------------------------------

    def _object_pose(self, visit: ObjectVisit, t: float) -> tuple[float, float, float, float]:
        """Centre x, y (pixels), rotation (radians), scale (0..1) at time t."""
        w, h = self.width, self.height
        cx, cy, phase, direction, speed, spin = visit.params
        tau = t - visit.start
        length = visit.end - visit.start
        scale = min(1.0, tau / APPEAR_SECONDS, max(0.0, visit.end - t) / APPEAR_SECONDS)
        sign = 1.0 if direction < 0.5 else -1.0
        rotation = 2 * math.pi * (phase + sign * (0.1 + 0.2 * spin) * tau)
        lo_x, hi_x, lo_y, hi_y = 0.18 * w, 0.82 * w, 0.2 * h, 0.8 * h
        if visit.motion == "orbits":
            radius = 0.22 * h
            angle = 2 * math.pi * (phase + sign * (0.25 + 0.35 * speed) * tau)
            ox, oy = 0.35 + 0.3 * cx, 0.4 + 0.2 * cy
            x, y = w * ox + radius * math.cos(angle), h * oy + radius * math.sin(angle)
        elif visit.motion == "bounces":
            v = (0.3 + 0.5 * speed) * h
            heading = 2 * math.pi * direction
            x = lo_x + (hi_x - lo_x) * _triangle_wave(cx + v * math.cos(heading) * tau
                                                      / (hi_x - lo_x))
            y = lo_y + (hi_y - lo_y) * _triangle_wave(cy + v * math.sin(heading) * tau
                                                      / (hi_y - lo_y))
        elif visit.motion == "sways":
            period = 1.2 + 1.5 * speed
            x = w * (0.5 + 0.3 * math.sin(2 * math.pi * (phase + tau / period)))
            y = h * (0.35 + 0.3 * cy) + 0.05 * h * math.sin(4 * math.pi * tau / period)
        elif visit.motion == "zigzags":
            x = lo_x + (hi_x - lo_x) * _triangle_wave(cx + (0.6 + speed) * tau)
            y = lo_y + (hi_y - lo_y) * (tau / length if sign > 0 else 1 - tau / length)
        elif visit.motion == "spins":
            x, y = lo_x + (hi_x - lo_x) * cx, lo_y + (hi_y - lo_y) * cy
            rotation = 2 * math.pi * (phase + sign * (0.6 + 0.8 * spin) * tau)
        else:  # drifts: a slow straight crossing
            u = tau / length
            x0, x1 = (lo_x, hi_x) if sign > 0 else (hi_x, lo_x)
            x = x0 + (x1 - x0) * u
            y = lo_y + (hi_y - lo_y) * (cy + (phase - cy) * u)
        return x, y, rotation, scale

    def _draw_object(self, image: np.ndarray, visit: ObjectVisit, t: float) -> None:
        x, y, rotation, scale = self._object_pose(visit, t)
        r = visit.size * self.height * scale
        if r < 1.0:
            return
        colour = visit.colour
        outline = _mix(colour, 0.45)
        shadow = (40, 40, 40)
        if visit.shape in ("disc", "ring"):
            thickness = -1 if visit.shape == "disc" else max(2, int(r / 2.5))
            radius = int((r if visit.shape == "disc" else r - thickness / 2) * SCALE)
            for (px, py), paint in (((x + 0.25 * r, y + 0.35 * r), shadow), ((x, y), colour)):
                cv2.circle(image, (int(px * SCALE), int(py * SCALE)), radius, paint, thickness,
                           cv2.LINE_AA, SHIFT)
        else:
            shade = self._polygons(visit.shape, x + 0.25 * r, y + 0.35 * r, r, rotation)
            cv2.fillPoly(image, shade, shadow, cv2.LINE_AA, SHIFT)
            for polygon in self._polygons(visit.shape, x, y, r, rotation):
                cv2.fillPoly(image, [polygon], colour, cv2.LINE_AA, SHIFT)
                cv2.polylines(image, [polygon], True, outline, 1, cv2.LINE_AA, SHIFT)
        marker = (int((x + 0.55 * r * math.cos(rotation)) * SCALE),
                  int((y + 0.55 * r * math.sin(rotation)) * SCALE))
        cv2.circle(image, marker, int(max(1.0, 0.18 * r) * SCALE), outline, -1, cv2.LINE_AA,
                   SHIFT)

    @staticmethod
    def _polygons(shape: str, x: float, y: float, r: float,
                  rotation: float) -> list[np.ndarray]:
        def rotated(points: list[tuple[float, float]], angle: float) -> np.ndarray:
            c, s = math.cos(angle), math.sin(angle)
            return np.array([[int((x + px * c - py * s) * SCALE),
                              int((y + px * s + py * c) * SCALE)] for px, py in points], np.int32)

        if shape == "square":
            k = r * 0.85
            return [rotated([(-k, -k), (k, -k), (k, k), (-k, k)], rotation)]
        if shape == "triangle":
            return [rotated([(r * math.cos(a), r * math.sin(a))
                             for a in (0.0, 2 * math.pi / 3, 4 * math.pi / 3)], rotation)]
        if shape == "bar":
            return [rotated([(-r * 1.3, -r * 0.35), (r * 1.3, -r * 0.35),
                             (r * 1.3, r * 0.35), (-r * 1.3, r * 0.35)], rotation)]
        arm = [(-r, -r * 0.3), (r, -r * 0.3), (r, r * 0.3), (-r, r * 0.3)]  # cross
        return [rotated(arm, rotation), rotated(arm, rotation + math.pi / 2)]

    # --- the camera -----------------------------------------------------------------

    def _frame_hash(self, frame_number: int) -> int:
        return ((frame_number + 1) * 2654435761 + (self.seed % 2**32) * 40503) & 0xFFFFFFFF

    def render(self, t: float, frame_number: int) -> np.ndarray:
        """The RGB frame H x W x 3 uint8 at source time t."""
        scene = self.plan.scene_at(t)
        room = self._room_for(scene)
        m = self.margin
        h32 = self._frame_hash(frame_number)
        sway = 0.5 * m * math.sin(2 * math.pi * t / 7.3) + 0.3 * m * math.sin(2 * math.pi * t / 3.1)
        dx = int(round(sway + (h32 & 3) - 1.5))
        dy = int(round(0.6 * sway * math.cos(t) + ((h32 >> 2) & 3) - 1.5))
        ox, oy = m + max(-m, min(m, dx)), m + max(-m, min(m, dy))
        image = room[oy:oy + self.height, ox:ox + self.width].copy()
        self._draw_background_motion(image, t, ox, oy)
        self._draw_object(image, scene.visit_at(t), t)
        gain = 1.0 + 0.05 * math.sin(2 * math.pi * t / 17.0 + scene.number)
        lut = np.clip(np.arange(256, dtype=np.float32) * gain, 0, 255).astype(np.uint8)
        image = cv2.LUT(image, lut)
        k = (h32 >> 4) % len(self._noise_up)
        cv2.add(image, self._noise_up[k], dst=image)
        cv2.subtract(image, self._noise_down[k], dst=image)
        return image
