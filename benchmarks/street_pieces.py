"""Layer 0 inside a montage's street-camera pieces, against vtest.avi's hand annotation.

A moving-camera montage's truth (app/cli/scene_montage.py) has its cuts only, so there a
boundary inside a piece of vtest.avi (someone entering the street camera's view) counts
as a false one. This maps vtest.avi's annotated crossings (app/cli/still_camera.py) into
the montage's time through the plan of pieces the montage was built from, and prints,
per segmentation of that montage, how many of layer 0's boundaries inside those pieces
(more than 1 s from their ends, the cuts) match a crossing within 1 s, one to one as in
every other score here (evaluation.precision_within), and so how many crossings they find.

    python benchmarks/street_pieces.py --seed 21 [--seconds 300] SEGMENTATION.json ...
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
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
    event_boundaries,
)
from streamer_core.evaluation import layer_boundaries, precision_within  # noqa: E402

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
            seen += [replace(c, time=frame / MONTAGE_FPS)
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
    inner = [(start + TOLERANCE, end - TOLERANCE) for start, end in spans]  # the cuts left out
    crossings = [t for t in crossings if any(start < t < end for start, end in inner)]
    print(f"montage {args.seed}: {len(spans)} street-camera pieces, "
          f"{sum(end - start for start, end in spans):.0f} s, {len(crossings)} crossings inside")
    for path in args.segmentations:
        marked = layer_boundaries(json.loads(path.read_text()), 0)
        inside = precision_within(marked, crossings, inner, TOLERANCE)
        print(f"{path.name}: {inside.predicted} boundaries inside, {inside.matched} on a "
              f"crossing (precision {inside.precision:.2f}), crossings found "
              f"{inside.matched}/{len(crossings)}")


if __name__ == "__main__":
    main()
