"""Keyframes: one small picture per closed event of every layer, bounded in memory.

`EventKeyframes` runs where the frames are (the learner thread): it keeps, for each
layer's open event, a few thumbnails spread evenly over the event (every k-th input,
k doubling as the event grows), and when a boundary closes the event it JPEG-encodes the
middle one. `KeyframeStore` holds the closed events' keyframes (JPEG bytes, decoded on
demand into a small cache) up to a byte budget, forgetting the oldest beyond it, and the
open events' provisional pictures. Neither touches Qt: both are tested headless.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from streamer_core import LayerStep

THUMBNAIL_SIZE = (160, 120)
"""Width, height of the box every thumbnail fits in (aspect kept)"""
JPEG_QUALITY = 85
CANDIDATES_PER_EVENT = 16
DEFAULT_BUDGET_BYTES = 64 * 2**20
DECODED_CACHE = 256


def thumbnail(image: np.ndarray, size: tuple[int, int] = THUMBNAIL_SIZE) -> np.ndarray:
    """An RGB uint8 picture shrunk to fit `size` (width, height), aspect kept; a new array."""
    height, width = image.shape[:2]
    scale = min(size[0] / width, size[1] / height, 1.0)
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, target, interpolation=cv2.INTER_AREA)


def encode_jpeg(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),
                            [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"cannot encode a picture of shape {rgb.shape}")
    return data.tobytes()


def decode_jpeg(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not a JPEG picture")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


@dataclass(frozen=True)
class Keyframe:
    """The picture of event `index` of `layer`, which ran from `start` to `end` (stream
    seconds); `time` is when its picture was seen."""

    layer: int
    index: int
    start: float
    end: float
    time: float
    jpeg: bytes


@dataclass(frozen=True)
class OpenKeyframe:
    """The provisional picture of a layer's open event: its middle input so far."""

    layer: int
    index: int
    start: float
    time: float
    rgb: np.ndarray


class _EventSampler:
    """Thumbnails spread evenly over one open event, at most `capacity` of them."""

    def __init__(self, index: int, start: float, capacity: int):
        self.index, self.start, self.capacity = index, start, capacity
        self.items: list[tuple[float, np.ndarray]] = []
        self.stride = 1
        self.offered = 0

    def offer(self, time: float, picture: np.ndarray) -> None:
        if self.offered % self.stride == 0:
            self.items.append((time, picture))
            if len(self.items) > self.capacity:
                self.items = self.items[::2]
                self.stride *= 2
        self.offered += 1

    def middle(self) -> tuple[float, np.ndarray] | None:
        return self.items[len(self.items) // 2] if self.items else None


class EventKeyframes:
    """Chooses each event's keyframe as the learner's reports arrive (one thread only)."""

    def __init__(self, capacity: int = CANDIDATES_PER_EVENT):
        self.capacity = capacity
        self._open: dict[int, _EventSampler] = {}
        self._last_step = -1

    def restart(self, open_events: dict[int, tuple[int, float]] | None = None) -> None:
        """A new or loaded model: `open_events` gives each layer's open event (number,
        start), as the checkpoint's boundaries say; other layers start at event 0."""
        self._open = {layer: _EventSampler(index, start, self.capacity)
                      for layer, (index, start) in (open_events or {}).items()}
        self._last_step = -1

    def observe(self, reports: Sequence[LayerStep], picture: np.ndarray
                ) -> tuple[list[Keyframe], list[OpenKeyframe]]:
        """`picture`: the thumbnail of the input the reports are about. Returns the
        events closed by this input and every layer's open event afterwards."""
        closed: list[Keyframe] = []
        for report in reports:
            if report.layer == 0:  # every input, in order (a new scene reaches layer 1 late)
                if report.step < self._last_step:  # the clock went back: a new stream
                    self.restart()
                self._last_step = report.step
            sampler = self._open.get(report.layer)
            if sampler is None:
                sampler = self._open[report.layer] = _EventSampler(0, report.time,
                                                                   self.capacity)
            elif report.boundary:
                chosen = sampler.middle()
                if chosen is not None:
                    closed.append(Keyframe(report.layer, sampler.index, sampler.start,
                                           report.time, chosen[0], encode_jpeg(chosen[1])))
                sampler = self._open[report.layer] = _EventSampler(
                    sampler.index + 1, report.time, self.capacity)
            sampler.offer(report.time, picture)
        current = []
        for layer, sampler in sorted(self._open.items()):
            chosen = sampler.middle()
            if chosen is not None:
                current.append(OpenKeyframe(layer, sampler.index, sampler.start, *chosen))
        return closed, current


class KeyframeStore:
    """Closed events' keyframes per layer in time order, within `budget_bytes` of JPEG
    data (the oldest, of any layer, forgotten first and counted in `dropped`)."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET_BYTES):
        self.budget_bytes = budget_bytes
        self.bytes = 0
        self.dropped = 0
        self.version = 0  # bumped on every change: views redraw only when it moved
        self._layers: dict[int, list[Keyframe]] = {}
        self._ends: dict[int, list[float]] = {}
        self._current: dict[int, OpenKeyframe] = {}
        self._decoded: OrderedDict[tuple[int, float], np.ndarray] = OrderedDict()

    def clear(self) -> None:
        self._layers, self._ends, self._current = {}, {}, {}
        self._decoded.clear()
        self.bytes = 0
        self.version += 1

    def __len__(self) -> int:
        return sum(len(frames) for frames in self._layers.values())

    def add(self, keyframe: Keyframe) -> None:
        ends = self._ends.get(keyframe.layer)
        if ends and keyframe.end <= ends[-1]:
            self.clear()  # the clock went back: a new stream (as SessionHistory does)
        self._layers.setdefault(keyframe.layer, []).append(keyframe)
        self._ends.setdefault(keyframe.layer, []).append(keyframe.end)
        self.bytes += len(keyframe.jpeg)
        while self.bytes > self.budget_bytes and len(self) > 1:
            self._forget_oldest()
        self.version += 1

    def add_all(self, keyframes: Iterable[Keyframe]) -> None:
        for keyframe in keyframes:
            self.add(keyframe)

    def set_current(self, current: Iterable[OpenKeyframe]) -> None:
        self._current = {k.layer: k for k in current}
        self.version += 1

    def _forget_oldest(self) -> None:
        layer = min((frames[0].time, layer) for layer, frames in self._layers.items()
                    if frames)[1]
        gone = self._layers[layer].pop(0)
        self._ends[layer].pop(0)
        self.bytes -= len(gone.jpeg)
        self.dropped += 1

    # --- reading ----------------------------------------------------------------------

    def layers(self) -> list[int]:
        return sorted(self._layers)

    def keyframes(self, layer: int) -> list[Keyframe]:
        """The remembered keyframes of `layer`, oldest first (do not modify)."""
        return self._layers.get(layer, [])

    def at(self, layer: int, time: float) -> Keyframe | None:
        """The closed event of `layer` that contains `time`, if its keyframe is kept."""
        ends = self._ends.get(layer, [])
        i = bisect.bisect_right(ends, time)
        if i < len(ends):
            keyframe = self._layers[layer][i]
            if keyframe.start <= time:
                return keyframe
        return None

    def between(self, layer: int, t0: float, t1: float) -> list[Keyframe]:
        """Keyframes of `layer` whose events overlap (t0, t1)."""
        ends = self._ends.get(layer, [])
        i = bisect.bisect_right(ends, t0)
        frames = self._layers.get(layer, [])
        out = []
        while i < len(frames) and frames[i].start < t1:
            out.append(frames[i])
            i += 1
        return out

    def current(self, layer: int) -> OpenKeyframe | None:
        """The open event's provisional picture (its middle input so far)."""
        return self._current.get(layer)

    def picture(self, keyframe: Keyframe) -> np.ndarray:
        """RGB uint8, H x W x 3 (within THUMBNAIL_SIZE); decoded once, then cached."""
        key = (keyframe.layer, keyframe.end)
        rgb = self._decoded.get(key)
        if rgb is None:
            rgb = self._decoded[key] = decode_jpeg(keyframe.jpeg)
            if len(self._decoded) > DECODED_CACHE:
                self._decoded.popitem(last=False)
        else:
            self._decoded.move_to_end(key)
        return rgb
