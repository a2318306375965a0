"""A real still-camera stream annotated by hand: people entering and leaving vtest.avi.

vtest.avi (OpenCV's sample data, `apt-get install opencv-doc`) is one fixed camera over
a path, 795 frames at 10 fps (79.5 s). Every moment a person enters or leaves the view
(crosses the frame edge, or appears from behind the building) was marked by eye on
contact sheets and edge crops of every 0.2-0.5 s (docs/quality.md, "Still camera:
vtest.avi, annotated by hand" says how). An entry is the first frame a person shows at
the edge, an exit the last. Entries and exits closer than 1 s to the next one are one
event boundary (a couple walking in together is one event), at the middle of the group.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .montage import truth_doc

VTEST = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
VTEST_SECONDS = 79.5
VTEST_FPS = 10.0
MERGE_SECONDS = 1.0


@dataclass(frozen=True)
class Crossing:
    """One person entering or leaving the view at `time` seconds."""

    time: float
    enters: bool
    where: str
    who: str


# Hand annotation of vtest.avi (seconds from the first decoded frame).
CROSSINGS = (
    Crossing(1.0, True, "right edge", "man in a red and navy jacket"),
    Crossing(1.6, True, "right edge", "blonde woman in black, with him"),
    Crossing(3.9, True, "right edge", "man in a black jacket and jeans"),
    Crossing(6.4, True, "from behind the left building, back path", "person in black"),
    Crossing(11.3, True, "right edge", "woman in light blue, white hood"),
    Crossing(13.0, True, "right edge", "man in a striped jumper"),
    Crossing(14.8, False, "right edge", "man in black"),
    Crossing(17.3, False, "left edge, back path", "the person who appeared at 6.4 s"),
    Crossing(21.0, False, "right edge", "man in a black jacket"),
    Crossing(21.8, True, "right edge", "man in black"),
    Crossing(22.0, False, "left edge, tarmac", "person in light blue"),
    Crossing(22.5, True, "right edge", "man in black with white papers"),
    Crossing(28.6, False, "left edge", "person in a dark jacket"),
    Crossing(36.5, False, "right edge", "blonde woman in black"),
    Crossing(37.4, False, "right edge", "man in a red and navy jacket"),
    Crossing(39.6, False, "right edge", "man in a black jacket and jeans"),
    Crossing(41.9, True, "right edge", "person in a red top, with papers"),
    Crossing(46.0, True, "right edge", "man in a black jacket and jeans"),
    Crossing(50.0, True, "right edge", "man in black"),
    Crossing(50.4, True, "right edge, over the grass", "the couple in red and black again"),
    Crossing(52.3, False, "right edge", "man in a black jacket and jeans"),
    Crossing(56.8, True, "right edge", "man in black and jeans"),
    Crossing(57.9, False, "left edge, tarmac", "person in red"),
    Crossing(60.5, True, "left edge, tarmac", "person in red"),
    Crossing(61.9, False, "right edge", "man in black with a bag"),
    Crossing(65.5, True, "right edge", "man in a blue jacket"),
    Crossing(66.2, True, "right edge, behind the parked cars", "person going to the car"),
    Crossing(68.9, True, "right edge", "man in black"),
    Crossing(74.6, False, "left edge", "person in blue"),
)


def event_boundaries(crossings: tuple[Crossing, ...] = CROSSINGS,
                     merge: float = MERGE_SECONDS) -> list[float]:
    """One boundary per group of crossings less than `merge` s apart, at its middle."""
    groups: list[list[float]] = []
    for time in sorted(c.time for c in crossings):
        if groups and time - groups[-1][-1] < merge:
            groups[-1].append(time)
        else:
            groups.append([time])
    return [round((group[0] + group[-1]) / 2, 3) for group in groups]


def still_camera_truth(file: str = VTEST.name, start: float = 0.0) -> dict:
    """Ground truth of vtest.avi as a hierarchy doc of one layer: the stretches between
    consecutive entries/exits (the whole video is one fixed-camera scene). With `start`,
    of the video from that second on (a camera switched on while people walk through)."""
    duration = round(VTEST_SECONDS - start, 3)
    later = [round(b - start, 3) for b in event_boundaries() if b > start]
    cuts = [0.0, *later, duration]
    events = [(begin, end, "people in view") for begin, end in zip(cuts, cuts[1:])]
    return truth_doc(file, duration, [("people enter or leave", events)])


def annotation_doc() -> dict:
    """The annotation as plain JSON (docs/vtest_annotation.json is this): the crossings
    as marked, then the hierarchy doc they give, so `streamer-studio evaluate` takes the
    file as ground truth."""
    marked = {
        "video": VTEST.name, "duration": VTEST_SECONDS, "fps": VTEST_FPS,
        "merge_seconds": MERGE_SECONDS,
        "crossings": [{"time": c.time, "event": "enters" if c.enters else "leaves",
                       "where": c.where, "who": c.who} for c in CROSSINGS],
        "boundaries": event_boundaries(),
    }
    return {**marked, **still_camera_truth()}
