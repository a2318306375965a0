"""Review mode's model, without Qt: a video (or a recorded session), the hierarchies whose
events are shown over it, and a playback position.

The first hierarchy's events may carry representations (`segment --representations`, or
those a recorded session wrote beside its events): its `memory` finds the events most like
one.

Times are the hierarchy's seconds. For a video file they are its own seconds (the CLI's
`segment` samples a snippet every so many seconds of the video); a recorded session's
video holds one frame per model input, so its frame i is at `first_time + i * snippet`.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.gui.insight.event_memory import EventMemory, RememberedEvent
from app.session.keyframes import KeyframeStore
from app.session.marks_file import marks_path
from app.session.recorder import (
    CHECKPOINT_NAME,
    HIERARCHY_NAME,
    SESSION_NAME,
    VIDEO_NAME,
    read_keyframes,
    read_recorded_hierarchy,
)
from streamer_core.event_representations import read_representations
from streamer_core.sources import to_rgb

_JPEG_START = b"\xff\xd8\xff"


class ReviewError(Exception):
    """A file review mode cannot use; the message says which and why."""


class MjpegVideo:
    """A recorded session's video.mjpeg: whole JPEGs one after another. Indexed once by
    their start markers (inside a JPEG's data 0xFF is always escaped), so any frame is
    one seek away; a frame torn by a crash is skipped."""

    def __init__(self, path: Path, fps: float):
        self.path, self.fps = Path(path), fps
        try:
            with open(self.path, "rb") as file:
                empty = self.path.stat().st_size == 0
                data = b"" if empty else mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        except OSError as err:
            raise ReviewError(f"{path}: cannot be read ({err.strerror or err})") from err
        self._data = data
        self._offsets: list[int] = []
        at = data.find(_JPEG_START) if data else -1
        while at >= 0:
            self._offsets.append(at)
            at = data.find(_JPEG_START, at + 3)
        self._offsets.append(len(data))

    @property
    def frame_count(self) -> int:
        return len(self._offsets) - 1

    def frame(self, index: int) -> np.ndarray | None:
        if not 0 <= index < self.frame_count:
            return None
        chunk = np.frombuffer(self._data[self._offsets[index]:self._offsets[index + 1]],
                              np.uint8)
        bgr = cv2.imdecode(chunk, cv2.IMREAD_COLOR)
        return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


class OpenCvVideo:
    """A video file through OpenCV: reads on when the next frame is asked for, seeks
    otherwise."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._capture = cv2.VideoCapture(str(path))
        if not self._capture.isOpened():
            raise ReviewError(f"{path}: not a video OpenCV can open")
        self.fps = self._capture.get(cv2.CAP_PROP_FPS) or 25.0
        self.frame_count = max(0, int(self._capture.get(cv2.CAP_PROP_FRAME_COUNT)))
        self._next = 0

    def frame(self, index: int) -> np.ndarray | None:
        if not 0 <= index < max(self.frame_count, 1):
            return None
        if index != self._next:
            self._capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, bgr = self._capture.read()
        self._next = index + 1
        return to_rgb(bgr, "bgr") if ok else None


@dataclass(frozen=True)
class ReviewLayer:
    name: str
    starts: np.ndarray
    ends: np.ndarray

    def event_at(self, time: float) -> int | None:
        """The index of the event containing `time`, if any."""
        i = int(np.searchsorted(self.starts, time, side="right")) - 1
        return i if i >= 0 and time < self.ends[i] else None


@dataclass(frozen=True)
class Hierarchy:
    label: str
    """What the rows are called (the file's name)"""
    layers: list[ReviewLayer]
    duration: float
    memory: EventMemory = field(default_factory=EventMemory)
    """Its events' representations (empty when it has none)"""


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def event_memory(events: dict[int, list[tuple[float, float, np.ndarray | None]]]
                 ) -> EventMemory:
    """Layer -> its events (start, end, representation or None) as a memory that finds
    similar ones; in each layer the events of its first representation's size."""
    memory = EventMemory()
    for layer, listed in sorted(events.items()):
        kept = sorted((e for e in listed if e[2] is not None), key=lambda e: e[1])
        for start, end, vector in kept:
            if vector.shape == kept[0][2].shape:
                memory.add(RememberedEvent(layer, start, end, vector))
    return memory


def load_hierarchy(path: Path, label: str | None = None,
                   read: Callable[[Path], dict] | None = None) -> Hierarchy:
    """A hierarchy JSON (reference format: layers of annots with start and end), read by
    `read` (default: as it is on disk)."""
    path = Path(path)
    try:
        doc = (read or read_json)(path)
        layers = []
        for order, layer in enumerate(sorted(doc["layers"], key=lambda x: x.get("order", 0))):
            annots = sorted(layer.get("annots", []), key=lambda a: float(a["start"]))
            layers.append(ReviewLayer(
                str(layer.get("name", f"layer {order}")),
                np.array([float(a["start"]) for a in annots], dtype=float),
                np.array([float(a["end"]) for a in annots], dtype=float)))
    except (OSError, UnicodeDecodeError) as err:
        raise ReviewError(f"{path}: cannot be read ({err})") from err
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise ReviewError(f"{path}: not a hierarchy JSON (expected layers of events with "
                          f"start and end; {err})") from err
    ends = [float(layer.ends[-1]) for layer in layers if len(layer.ends)]
    duration = float(doc.get("duration") or 0.0) if isinstance(doc, dict) else 0.0
    try:
        events = read_representations(doc)
    except ValueError:  # unreadable representations: the events are still shown
        events = {}
    return Hierarchy(label or path.name, layers, max([duration, *ends]),
                     event_memory(events))


def recorded_marks(folder: Path) -> list[Hierarchy]:
    """The marks a person made live, saved with a recorded session's checkpoint (none, or
    an unreadable file: no row)."""
    path = marks_path(folder / CHECKPOINT_NAME)
    if not path.is_file():
        return []
    try:
        return [load_hierarchy(path, "your marks")]
    except ReviewError:
        return []


def unseen_stretches(meta: dict) -> list[tuple[float, float]]:
    """A recording's `unseen` stretches (start, end); none where they do not read (they
    only draw holes in the rows)."""
    try:
        return [(float(start), float(end)) for start, end in meta.get("unseen", [])]
    except (ValueError, TypeError):
        return []


@dataclass
class ReviewSession:
    """What review mode shows: a video, hierarchies over it, the playback position."""

    video: MjpegVideo | OpenCvVideo
    hierarchies: list[Hierarchy]
    first_time: float = 0.0
    """Hierarchy time of the video's first frame"""
    keyframes: KeyframeStore = field(default_factory=KeyframeStore)
    position: float = 0.0
    title: str = ""
    own: int = 1
    """The hierarchies that came with what was opened (a recorded session's events and the
    marks saved with it); a comparison goes after them"""
    unseen: list[tuple[float, float]] = field(default_factory=list)
    """Stretches of a recorded stream the model never saw (its video repeats a frame)"""

    @classmethod
    def open_video(cls, video: Path, hierarchy: Path) -> ReviewSession:
        return cls(OpenCvVideo(video), [load_hierarchy(hierarchy)], title=Path(video).name)

    @classmethod
    def open_recording(cls, folder: Path) -> ReviewSession:
        """A folder that File > Record session wrote (even one cut short by a crash)."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / SESSION_NAME).read_text(encoding="utf-8"))
            snippet = float(meta["snippet_size"])
            first_time = float(meta.get("first_time", 0.0))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ReviewError(f"{folder}: not a recorded session ({SESSION_NAME}: "
                              f"{err})") from err
        recorded = load_hierarchy(folder / HIERARCHY_NAME, "recorded",
                                  read=lambda _: read_recorded_hierarchy(folder))
        hierarchies = [recorded, *recorded_marks(folder)]
        session = cls(MjpegVideo(folder / meta.get("video", VIDEO_NAME), 1.0 / snippet),
                      hierarchies, first_time=first_time, title=folder.name,
                      own=len(hierarchies), unseen=unseen_stretches(meta))
        session.keyframes.add_all(read_keyframes(folder))
        return session

    def compare_with(self, path: Path) -> None:
        """Adds (or replaces) the hierarchy shown beside the session's own, e.g. ground
        truth."""
        self.hierarchies[self.own:] = [load_hierarchy(path)]

    # --- time ---------------------------------------------------------------------------

    @property
    def duration(self) -> float:
        video_end = self.first_time + self.video.frame_count / self.video.fps
        return max(video_end, *(h.duration for h in self.hierarchies))

    def seek(self, time: float) -> float:
        self.position = min(max(float(time), 0.0), self.duration)
        return self.position

    def frame_index(self, time: float | None = None) -> int:
        t = self.position if time is None else time
        return max(0, int((t - self.first_time) * self.video.fps + 1e-6))

    def picture(self) -> np.ndarray | None:
        """The video's frame at the position."""
        return self.picture_at(self.position)

    def similar(self, layer: int, time: float, k: int
                ) -> tuple[RememberedEvent, list[tuple[RememberedEvent, float]]] | None:
        """The first hierarchy's event of `layer` at `time`, and the k events of that layer
        most like it, best first; None where that event has no representation."""
        memory = self.hierarchies[0].memory
        query = memory.event_at(layer, time)
        return None if query is None else (query, memory.similar(query, k))

    def picture_at(self, time: float) -> np.ndarray | None:
        """The video's frame at `time` (None before the video starts or after it)."""
        if time < self.first_time:
            return None
        return self.video.frame(self.frame_index(time))

    def unseen_at(self, time: float) -> bool:
        """Whether the model never saw the stream at `time` (the video repeats a frame)."""
        return any(start <= time < end for start, end in self.unseen)

    def event_at(self, hierarchy: int, layer: int, time: float | None = None
                 ) -> tuple[float, float, int] | None:
        """(start, end, index) of the event of that row at `time` (default: the position)."""
        rows = self.hierarchies[hierarchy].layers
        if not 0 <= layer < len(rows):
            return None
        row = rows[layer]
        i = row.event_at(self.position if time is None else time)
        return None if i is None else (float(row.starts[i]), float(row.ends[i]), i)
