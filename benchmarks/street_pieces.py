"""Layer 0 inside a montage's street-camera pieces, against vtest.avi's hand annotation.

A moving-camera montage's truth (app/cli/scene_montage.py) has its cuts only, so there a
boundary inside a piece of vtest.avi (someone entering the street camera's view) counts
as a false one. This maps vtest.avi's annotated crossings (app/cli/still_camera.py) into
the montage's time through the plan of pieces the montage was built from, and prints,
per segmentation of that montage, how many of layer 0's boundaries inside those pieces
(more than 1 s from their ends, the cuts) fall within 1 s of a crossing, and how many of
the crossings they find.

    python benchmarks/street_pieces.py --seed 21 [--seconds 300] SEGMENTATION.json ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.scene_montage import (  # noqa: E402
    MONTAGE_FPS,
    Piece,
    montage_frames,
    plan_pieces,
    source_frame,
)
from app.cli.still_camera import (  # noqa: E402
    CROSSINGS,
    VTEST_FPS,
    VTEST_SECONDS,
    Crossing,
    event_boundaries,
)
from streamer_core.evaluation import layer_boundaries  # noqa: E402

STREET_SHOT = 0  # vtest.avi, the whole video (scene_montage.SHOTS)
TOLERANCE = 1.0


def street_pieces(takes: list[list[Piece]]) -> tuple[list[tuple[float, float]], list[float]]:
    """A montage plan's street-camera pieces (spans) and the annotated crossings'
    boundaries in montage time."""
    count = round(VTEST_SECONDS * VTEST_FPS)
    crossing_frames = [(c, c.time * VTEST_FPS) for c in CROSSINGS]
    spans, seen, last = [], [], None
    for frame, (piece, since_piece) in enumerate(montage_frames(takes, MONTAGE_FPS)):
        if piece.shot != STREET_SHOT:
            last = None
            continue
        if since_piece == 0:
            spans.append((piece.start, piece.end))
            last = None
        source = source_frame(piece, since_piece, count, VTEST_FPS, MONTAGE_FPS)
        if last is not None:  # played forward or back (ping-pong): crossed either way
            low, high = sorted((last, source))
            seen += [Crossing(frame / MONTAGE_FPS, c.enters, c.where, c.who)
                     for c, at in crossing_frames if low < at <= high]
        last = source
    return spans, event_boundaries(tuple(seen))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("segmentations", nargs="+", type=Path)
    parser.add_argument("--seed", type=int, required=True, help="the montage's seed")
    parser.add_argument("--seconds", type=float, default=300.0)
    args = parser.parse_args()

    spans, crossings = street_pieces(plan_pieces(args.seconds, args.seed, moving_camera=True))

    def inside(t: float) -> bool:
        return any(start + TOLERANCE < t < end - TOLERANCE for start, end in spans)

    crossings = [t for t in crossings if inside(t)]
    print(f"montage {args.seed}: {len(spans)} street-camera pieces, "
          f"{sum(end - start for start, end in spans):.0f} s, {len(crossings)} crossings inside")
    for path in args.segmentations:
        marked = [t for t in layer_boundaries(json.loads(path.read_text()), 0) if inside(t)]
        on_one = [t for t in marked if any(abs(t - c) <= TOLERANCE for c in crossings)]
        found = [c for c in crossings if any(abs(t - c) <= TOLERANCE for t in marked)]
        precision = len(on_one) / len(marked) if marked else 1.0
        print(f"{path.name}: {len(marked)} boundaries inside, {len(on_one)} on a crossing "
              f"(precision {precision:.2f}), crossings found {len(found)}/{len(crossings)}")


if __name__ == "__main__":
    main()
