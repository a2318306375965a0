"""A recorded session: a folder written while the session runs, so that a crash (even
kill -9) loses at most its last seconds.

    session-20261130-091500/
        video.mjpeg       the frames the model learned on, one per input (Motion JPEG:
                          whole JPEGs appended and flushed; OpenCV, ffplay and VLC play it);
                          where snippets never reached the model (or this writer), the
                          frame before stands in for them, so the video keeps the stream's
                          clock as the hierarchy does
        session.json      snippet size, model time of the first frame, frames, source,
                          the stretches the video repeats a frame over (`unseen`)
        hierarchy.json    the events so far (reference format), rewritten atomically
        trace.jsonl       one row per input and layer (the CLI's --trace), appended
        representations.jsonl  each closed event's representation (layer, start, end,
                          representation), appended: review mode finds similar events
        keyframes/        one JPEG per closed event: L{layer}_{index}_{start}_{end}.jpg
        checkpoint.pt     the model, saved by the app at the autosave interval

`SessionRecorder` takes inputs from the learner thread without waiting (a bounded queue;
inputs that do not fit are dropped and counted) and writes them on its own thread. The
trace is appended, not rewritten: rewriting an hours-long trace every few seconds would
cost more each time, and a torn last line is all a crash can leave.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamer_core import LayerStep
from streamer_core.atomic_file import write_json
from streamer_core.event_representations import add_representations_by_times
from streamer_core.trace import trace_row

from .keyframes import Keyframe

VIDEO_NAME = "video.mjpeg"
SESSION_NAME = "session.json"
HIERARCHY_NAME = "hierarchy.json"
TRACE_NAME = "trace.jsonl"
REPRESENTATIONS_NAME = "representations.jsonl"
KEYFRAMES_DIR = "keyframes"
CHECKPOINT_NAME = "checkpoint.pt"
FLUSH_SECONDS = 2.0
QUEUE_SIZE = 32
MAX_VIDEO_WIDTH = 640
VIDEO_JPEG_QUALITY = 80
_STOP = object()
_NUMBER = r"(\d+(?:\.\d+)?)"
_KEYFRAME_NAME = re.compile(rf"L(\d+)_(\d+)_{_NUMBER}_{_NUMBER}\.jpg$")
"""What `keyframe_file_name` writes; a stray file of another name is not a keyframe"""


def new_session_folder(parent: Path) -> Path:
    """A fresh `session-YYYYmmdd-HHMMSS` folder under `parent` (created)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        folder = parent / (f"session-{stamp}" + (f"-{n}" if n else ""))
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
    raise OSError(f"cannot create a session folder in {parent}")


def keyframe_file_name(keyframe: Keyframe) -> str:
    return f"L{keyframe.layer}_{keyframe.index:06d}_{keyframe.start:.3f}_{keyframe.end:.3f}.jpg"


def read_keyframes(folder: Path) -> list[Keyframe]:
    """The keyframes a recorded session wrote, in time order per layer; a stray file or
    folder of another name, or one that cannot be read, is skipped (the event then has no
    picture)."""
    found = []
    for path in sorted((folder / KEYFRAMES_DIR).glob("L*.jpg")):
        match = _KEYFRAME_NAME.match(path.name)
        if not match:
            continue
        try:
            jpeg = path.read_bytes()
        except OSError:
            continue
        layer, index, start, end = match.groups()
        found.append(Keyframe(int(layer), int(index), float(start), float(end),
                              (float(start) + float(end)) / 2, jpeg))
    return sorted(found, key=lambda k: (k.layer, k.end))


def read_recorded_representations(folder: Path
                                  ) -> dict[int, list[tuple[float, float, np.ndarray]]]:
    """Layer -> the representations a recorded session wrote (start, end, vector), in the
    order written; a line a crash tore (or damaged otherwise: a layer of 1e400, nesting
    too deep to read), or none written, is skipped."""
    found: dict[int, list[tuple[float, float, np.ndarray]]] = {}
    try:
        lines = (folder / REPRESENTATIONS_NAME).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for line in lines:
        try:
            row = json.loads(line)
            vector = np.asarray(row["representation"], dtype=np.float32).reshape(-1)
            event = (float(row["start"]), float(row["end"]), vector)
            layer = int(row["layer"])
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):
            continue
        if len(vector) and np.isfinite(vector).all():
            found.setdefault(layer, []).append(event)
    return found


def read_recorded_hierarchy(folder: Path) -> dict:
    """A recorded session's hierarchy.json, with the representation of each event it
    recorded in the event's slot (`representations.jsonl`, matched by start and end; the
    open events' are there already), as `segment --representations` writes them. Raises
    OSError or ValueError as reading the JSON does, ValueError also for JSON nested too
    deeply for Python to read (so its callers need not know RecursionError)."""
    try:
        doc = json.loads((folder / HIERARCHY_NAME).read_text(encoding="utf-8"))
    except RecursionError:
        raise ValueError("nested too deeply to be a hierarchy") from None
    try:
        add_representations_by_times(doc, read_recorded_representations(folder))
    except (KeyError, TypeError, AttributeError, ValueError, OverflowError):
        pass  # not a hierarchy (or a damaged one): its reader says so
    return doc


RecordedEvent = tuple[int, float, float, np.ndarray]
"""A closed event's layer, start, end and representation"""


@dataclass(frozen=True)
class _Input:
    image: np.ndarray | None
    """None: reports of no input of their own (the stream's end)"""
    reports: Sequence[LayerStep]
    keyframes: Sequence[Keyframe]
    events: Sequence[RecordedEvent] = ()


class SessionRecorder:
    """Writes one session folder on its own thread; `add_input` never blocks."""

    def __init__(self, folder: Path, snippet_size: float, source: str = ""):
        self.folder = Path(folder)
        (self.folder / KEYFRAMES_DIR).mkdir(parents=True, exist_ok=True)
        self.snippet_size = snippet_size
        self.source = source
        self.frames = 0
        self.dropped = 0
        self.filled = 0
        """Frames written again to stand in for snippets the video did not get"""
        self.unseen: list[tuple[float, float]] = []
        """Where they stand in (start, end), on the stream's clock"""
        self._last_jpeg = b""
        self.disk_bytes = 0
        self.error = ""
        """Why writing stopped (a full disk, a removed folder); empty while it works"""
        self._first_time: float | None = None
        self._queue: queue.Queue[_Input | object] = queue.Queue(QUEUE_SIZE)
        self._hierarchy: dict | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._video_size: tuple[int, int] | None = None
        self._video = open(self.folder / VIDEO_NAME, "ab")  # noqa: SIM115 - the thread's
        self._trace = open(self.folder / TRACE_NAME, "a", encoding="utf-8")  # noqa: SIM115
        self._representations = open(self.folder / REPRESENTATIONS_NAME, "a",  # noqa: SIM115
                                     encoding="utf-8")
        self._written = {"video": 0, "trace": 0, "keyframes": 0, "representations": 0}
        self._thread = threading.Thread(target=self._run, name="session-recorder",
                                        daemon=True)
        self._thread.start()

    # --- any thread -------------------------------------------------------------------

    def add_input(self, image: np.ndarray, reports: Sequence[LayerStep],
                  keyframes: Sequence[Keyframe] = (),
                  events: Sequence[RecordedEvent] = ()) -> bool:
        """Queues one model input (its frame, reports, closed events' keyframes and
        representations); False if it was dropped (the writer is behind, or the recorder
        closed)."""
        return self._queue_input(_Input(image, list(reports), list(keyframes), list(events)))

    def _queue_input(self, item: _Input) -> bool:
        if self._closed.is_set() or self.error:
            return False
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.dropped += 1
            return False
        return True

    def add_reports(self, reports: Sequence[LayerStep], keyframes: Sequence[Keyframe] = (),
                    events: Sequence[RecordedEvent] = ()) -> bool:
        """Queues reports that came with no frame (StreamerModel.end_stream): their trace
        rows and the events they closed; False if they were dropped."""
        return self._queue_input(_Input(None, list(reports), list(keyframes), list(events)))

    def set_hierarchy(self, doc: dict) -> None:
        """The hierarchy JSON to write at the next flush (only the newest is kept)."""
        with self._lock:
            self._hierarchy = doc

    def close(self, wait: bool = True, timeout: float = 10.0) -> None:
        """Writes what is queued, then ends the thread; with `wait`, until it has."""
        if not self._closed.is_set():
            self._closed.set()
            try:
                self._queue.put(_STOP, timeout=timeout)
            except queue.Full:
                pass
        if wait:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    # --- the writer thread ------------------------------------------------------------

    def _run(self) -> None:
        flushed = time.monotonic()
        try:
            while True:
                try:
                    item = self._queue.get(timeout=0.5)
                except queue.Empty:
                    item = None
                if item is _STOP:
                    break
                if item is not None:
                    self._write(item)
                if time.monotonic() - flushed >= FLUSH_SECONDS:
                    self._flush()
                    flushed = time.monotonic()
            self._flush()
        except OSError as err:
            self.error = f"{err.filename or self.folder}: {err.strerror or err}"
        except Exception as err:  # noqa: BLE001 - told to the user, never a silent stop
            self.error = f"{type(err).__name__}: {err}"
        finally:
            self._video.close()
            self._trace.close()
            self._representations.close()

    def _write(self, item: _Input) -> None:
        if item.image is not None:
            self._write_frame(item.image, item.reports)
        lines = "".join(json.dumps(trace_row(0, r.step, r.time, r.layer, r.signal,
                                             r.threshold, r.boundary, loss=r.loss)) + "\n"
                        for r in item.reports)
        self._trace.write(lines)
        self._written["trace"] += len(lines)
        for keyframe in item.keyframes:
            (self.folder / KEYFRAMES_DIR / keyframe_file_name(keyframe)).write_bytes(
                keyframe.jpeg)
            self._written["keyframes"] += len(keyframe.jpeg)
        if item.events:
            lines = "".join(json.dumps({"layer": layer, "start": start, "end": end,
                                        "representation": vector.tolist()}) + "\n"
                            for layer, start, end, vector in item.events)
            self._representations.write(lines)
            self._written["representations"] += len(lines)

    def _write_frame(self, image: np.ndarray, reports: Sequence[LayerStep]) -> None:
        if self._video_size is None:
            height, width = image.shape[:2]
            scale = min(1.0, MAX_VIDEO_WIDTH / width)
            self._video_size = (round(width * scale) // 2 * 2, round(height * scale) // 2 * 2)
        if image.shape[1::-1] != self._video_size:
            image = cv2.resize(image, self._video_size, interpolation=cv2.INTER_AREA)
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                                [cv2.IMWRITE_JPEG_QUALITY, VIDEO_JPEG_QUALITY])
        if not ok:
            return
        missing = self._frames_missing(reports)
        for _ in range(missing):
            self._append_frame(self._last_jpeg)
        if missing:
            self.filled += missing
            self.unseen.append((reports[0].time - missing * self.snippet_size,
                                reports[0].time))
        self._append_frame(jpeg.tobytes())
        if self._first_time is None and reports:
            self._first_time = reports[0].time

    def _frames_missing(self, reports: Sequence[LayerStep]) -> int:
        """Frames the video lacks before this input's, by its time on the stream's clock:
        snippets the model never saw (StreamerModel.snippets_lost) or inputs this writer
        dropped."""
        if self._first_time is None or not reports or not self._last_jpeg:
            return 0
        due = round((reports[0].time - self._first_time) / self.snippet_size)
        return max(0, due - self.frames)

    def _append_frame(self, jpeg: bytes) -> None:
        self._video.write(jpeg)
        self._written["video"] += len(jpeg)
        self._last_jpeg = jpeg
        self.frames += 1

    def _flush(self) -> None:
        """Hands the appended files to the OS (they then survive the process) and
        rewrites the small JSON files atomically."""
        self._video.flush()
        self._trace.flush()
        self._representations.flush()
        with self._lock:
            doc, self._hierarchy = self._hierarchy, None
        if doc is not None:
            write_json(self.folder / HIERARCHY_NAME, doc)
        write_json(self.folder / SESSION_NAME, {
            "format": 1, "video": VIDEO_NAME, "snippet_size": self.snippet_size,
            "first_time": self._first_time or 0.0, "frames": self.frames,
            "dropped": self.dropped, "filled": self.filled,
            "unseen": [list(stretch) for stretch in self.unseen], "source": self.source})
        small = sum(_size(self.folder / name)
                    for name in (SESSION_NAME, HIERARCHY_NAME, CHECKPOINT_NAME))
        self.disk_bytes = small + sum(self._written.values())


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
