"""A real-footage clip with known cuts, for scoring on real pixels.

Real videos come without event labels, so the benchmark cuts its own: shots of a few
seconds from random places in the given clips (layer 0), grouped into takes that stay
with one clip for half a minute or so (layer 1). Cuts inside the source clips themselves
are not in this ground truth.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamer_core.sources import SourceError, VideoFileSource

SAMPLE_CLIPS = tuple(Path("/usr/share/doc/opencv-doc/examples/data") / name
                     for name in ("vtest.avi", "Megamind.avi"))


@dataclass(frozen=True)
class Shot:
    clip: Path
    clip_start: float
    start: float
    end: float


def available_clips(paths: list[Path]) -> list[tuple[Path, float]]:
    """(path, seconds) of the clips that open, are decodable and last at least 4 s."""
    found = []
    for path in paths:
        source = VideoFileSource(path)
        try:
            source.open()
        except SourceError:
            continue
        finally:
            source.close()
        if source.duration and source.duration >= 4.0:
            found.append((Path(path), float(source.duration)))
    return found


def plan_shots(clips: list[tuple[Path, float]], seconds: float, seed: int) -> list[list[Shot]]:
    """Takes (lists of shots); consecutive takes use different clips when there are two."""
    rng = np.random.default_rng([seed % 2**64, 0x5107])
    takes: list[list[Shot]] = []
    t, previous = 0.0, -1
    while t < seconds - 1e-9:
        choices = [i for i in range(len(clips)) if i != previous] or [0]
        previous = choices[int(rng.integers(len(choices)))]
        path, length = clips[previous]
        take_end = min(seconds, t + float(rng.uniform(20.0, 40.0)))
        if seconds - take_end < 10.0:
            take_end = seconds
        shots = []
        while t < take_end - 1e-9:
            shot = min(float(rng.uniform(3.0, 8.0)), length - 0.5)
            if take_end - (t + shot) < 2.0:
                shot = take_end - t
            shot = min(shot, length - 0.5)  # longer than the clip: split into more shots
            clip_start = float(rng.uniform(0.0, max(0.0, length - shot - 0.2)))
            shots.append(Shot(path, clip_start, t, t + shot))
            t += shot
        takes.append(shots)
    return takes


def build_montage(clip_paths: list[Path], out: Path, seconds: float, seed: int = 0,
                  size: tuple[int, int] = (320, 240), fps: float = 10.0) -> dict:
    """Writes the montage (MJPG .avi) and returns its ground truth as a hierarchy doc."""
    clips = available_clips(clip_paths)
    if not clips:
        raise SourceError("no usable clip for the montage (need decodable videos of 4 s+)")
    takes = plan_shots(clips, seconds, seed)
    writer = open_montage_writer(out, fps, size)
    frame_number = 0
    try:
        for shots in takes:
            for shot in shots:
                frame_number = _write_shot(writer, shot, frame_number, size, fps)
    finally:
        writer.release()

    layer0 = [(s.start, s.end, f"{s.clip.name} from {s.clip_start:.1f} s")
              for shots in takes for s in shots]
    layer1 = [(shots[0].start, shots[-1].end, shots[0].clip.name) for shots in takes]
    return two_level_truth(out.name, frame_number / fps, layer0, layer1)


def open_montage_writer(out: Path, fps: float, size: tuple[int, int]) -> cv2.VideoWriter:
    """An MJPG .avi writer, or SourceError saying the file cannot be written."""
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    if not writer.isOpened():
        raise SourceError(f"cannot write the montage {out}")
    return writer


def two_level_truth(file: str, duration: float, layer0: list[tuple[float, float, str]],
                    layer1: list[tuple[float, float, str]],
                    names: tuple[str, str] = ("layer 0", "layer 1")) -> dict:
    """Ground truth in the hierarchy JSON format from (start, end, label) events."""
    return truth_doc(file, duration, [(names[0], layer0), (names[1], layer1)])


LAYER_COLOURS = ("rgb(90, 160, 220)", "rgb(220, 140, 60)", "rgb(120, 200, 120)")


def truth_doc(file: str, duration: float,
              layers: list[tuple[str, list[tuple[float, float, str]]]]) -> dict:
    """A hierarchy JSON doc from named layers of (start, end, label) events, finest first."""
    docs = []
    for order, (name, events) in enumerate(layers):
        colour = LAYER_COLOURS[order % len(LAYER_COLOURS)]
        annots = [{"start": round(start, 3), "end": round(end, 3), "action": label,
                   "colour": colour} for start, end, label in events]
        docs.append({"name": name, "order": order, "annots": annots})
    return {"file": file, "fileType": "video/mp4", "cursor": 0, "duration": duration,
            "zoom": 1, "layers": docs}


def _write_shot(writer: cv2.VideoWriter, shot: Shot, frame_number: int,
                size: tuple[int, int], fps: float) -> int:
    """Frames for montage times in [shot.start, shot.end); returns the next frame number."""
    capture = cv2.VideoCapture(str(shot.clip))
    clip_fps = capture.get(cv2.CAP_PROP_FPS) or fps
    capture.set(cv2.CAP_PROP_POS_MSEC, shot.clip_start * 1000.0)
    position = int(round(shot.clip_start * clip_fps)) - 1
    image = None
    try:
        while frame_number / fps < shot.end - 1e-9:
            wanted = int((shot.clip_start + frame_number / fps - shot.start) * clip_fps)
            while position < wanted or image is None:
                ok, grabbed = capture.read()
                if not ok:
                    break
                image, position = grabbed, position + 1
            if image is None:
                image = np.zeros((size[1], size[0], 3), np.uint8)
            writer.write(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
            frame_number += 1
    finally:
        capture.release()
    return frame_number
