"""A montage of whole clips, each played from its start to its end, in a seeded order, with
its cuts as ground truth: for footage too short to re-cut (`streamer-studio bench --clips`
cuts shots of a few seconds from random places, which needs clips of a minute or more).

    .venv/bin/python benchmarks/whole_clips_montage.py OUT.avi --seed 0 \
        --clip motion.mov --clip cityCC0.mpg:cut=4.64:moving ...

Each --clip is a video, optionally with `:cut=S` (a cut inside the clip, S seconds from its
start; repeatable), `:event=S` (an event inside a shot, S seconds from the clip's start,
as a person watching marks it: someone or something enters, leaves, or starts an action;
repeatable) and `:moving` (the camera moves all through it: scored as `moving_camera`,
where layer 0's precision is reported). Times count from the clip's first frame that is
not black. Every clip is played `--rounds` times, shuffled each round, never the same
clip twice in a row. Writes OUT.avi (25 fps) and OUT.json, in the hierarchy format
`streamer-studio evaluate` takes: the shots (every cut), then the clips (a cut to another
clip); with any `event=`, a finer layer first, "cuts and events" (the shots cut also at
every event). Session forty-one of docs/quality.md made its montages this way from clips
in Debian's packages; session forty-two added the events.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from app.cli.montage import open_montage_writer, truth_doc

FPS = 25.0
SIZE = (480, 320)
BLACK = 3.0
"""A frame darker than this on average is a clip's black lead-in or tail: left out"""


@dataclass
class Clip:
    path: Path
    cuts: list[float] = field(default_factory=list)
    moving: bool = False
    events: list[float] = field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> Clip:
        path, *options = spec.split(":")
        clip = cls(Path(path))
        for option in options:
            if option == "moving":
                clip.moving = True
            elif option.startswith("cut="):
                clip.cuts.append(float(option.removeprefix("cut=")))
            elif option.startswith("event="):
                clip.events.append(float(option.removeprefix("event=")))
            else:
                raise argparse.ArgumentTypeError(f"{spec}: unknown option {option!r}")
        return clip


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    """The clip's frames but black ones, at the montage's SIZE, and its frame rate."""
    capture = cv2.VideoCapture(str(path))
    fps = capture.get(cv2.CAP_PROP_FPS) or FPS
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        if frame.mean() >= BLACK:
            frames.append(cv2.resize(frame, SIZE))
    capture.release()
    if not frames:
        raise SystemExit(f"{path}: no frame could be read")
    return frames, fps


def play_order(clips: list[Clip], rounds: int, seed: int) -> list[Clip]:
    rng = np.random.default_rng([seed, 41])
    order: list[Clip] = []
    for _ in range(rounds):
        shuffled = list(clips)
        while True:
            rng.shuffle(shuffled)
            if not order or shuffled[0] is not order[-1] or len(clips) == 1:
                break
        order += shuffled
    return order


def build(clips: list[Clip], out: Path, rounds: int, seed: int) -> dict:
    read = {clip.path: read_frames(clip.path) for clip in clips}  # each clip decoded once
    for clip in clips:
        frames, fps = read[clip.path]
        if any(not 0 < t < len(frames) / fps for t in [*clip.cuts, *clip.events]):
            raise SystemExit(f"{clip.path}: a cut or event outside its {len(frames) / fps:.2f} s")
    writer = open_montage_writer(out, FPS, SIZE)
    events, shots, takes, moving = [], [], [], []
    written = 0
    for clip in play_order(clips, rounds, seed):
        frames, fps = read[clip.path]
        start = written / FPS
        for i in range(round(len(frames) / fps * FPS)):  # resampled to FPS by time
            writer.write(frames[min(int(i / FPS * fps), len(frames) - 1)])
            written += 1
        end = written / FPS
        bounds = [start, *(start + cut for cut in sorted(clip.cuts)), end]
        shots += [(a, b, clip.path.name) for a, b in zip(bounds, bounds[1:])]
        marks = sorted({*bounds, *(start + event for event in clip.events)})
        events += [(a, b, clip.path.name) for a, b in zip(marks, marks[1:])]
        takes.append((start, end, clip.path.name))
        if clip.moving:
            moving.append([round(start, 3), round(end, 3)])
    writer.release()
    layers = [("shots", shots), ("clips", takes)]
    if any(clip.events for clip in clips):
        layers.insert(0, ("cuts and events", events))
    doc = truth_doc(out.name, written / FPS, layers)
    doc["moving_camera"] = moving
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="the montage, OUT.avi (its truth: OUT.json)")
    parser.add_argument("--clip", type=Clip.parse, action="append", required=True,
                        metavar="VIDEO[:cut=S][:event=S][:moving]")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    doc = build(args.clip, args.out, args.rounds, args.seed)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=1))
    counts = ", ".join(f"{len(layer['annots'])} {layer['name']}" for layer in doc["layers"])
    print(f"{args.out}: {doc['duration']:.1f} s, {counts}")


if __name__ == "__main__":
    main()
