"""What a shake leaves in layer 0's input after `steady_view`, against the still camera.

vtest.avi (opencv-doc) as `live` takes it (a frame every 0.5 s), clean and shaken by up to
SHAKE_PIXELS a frame as benchmarks/still_camera_faults.py draws it. For each way of
holding the view, the median over consecutive inputs of the typical 16 x 16 cell's mean
change (what the side watch compares the picture's edges with), and that as a multiple
of the clean camera's; and how far the shift read is from the shake drawn (pixels of the
128 x 128 input, median).

    .venv/bin/python benchmarks/steady_view_residual.py [--seed 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from still_camera_faults import SHAKE_PIXELS, shaken  # noqa: E402

from app.cli.still_camera import VTEST  # noqa: E402
from streamer_core.sources import SnippetSampler, open_source, preprocess_frame  # noqa: E402
from streamer_core.steady_view import SteadyView, phase_shift  # noqa: E402

INPUT_SECONDS = 0.5
CELL = 16


def vtest_pictures() -> list[np.ndarray]:
    """vtest.avi's frames that become inputs (RGB), sampled as the CLI and the app do."""
    sampler = SnippetSampler(INPUT_SECONDS)
    with open_source(str(VTEST)) as source:
        return [frame.image for frame in source if sampler.offer(frame)]


def typical_cell_step(inputs: list[torch.Tensor]) -> float:
    steps = []
    for before, after in zip(inputs, inputs[1:]):
        change = (after - before).abs().mean(dim=1, keepdim=True)
        steps.append(float(F.avg_pool2d(change, CELL).flatten().median()))
    return statistics.median(steps)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=3, help="the shake's draw")
    args = parser.parse_args()
    if not VTEST.exists():
        print(f"needs {VTEST} (Debian: apt-get install opencv-doc)")
        return 1
    torch.set_num_threads(1)
    pictures = vtest_pictures()
    shifts = np.random.default_rng(args.seed).integers(-SHAKE_PIXELS, SHAKE_PIXELS + 1,
                                                       (len(pictures), 2))
    moved = [shaken(p, int(dx), int(dy)) for p, (dx, dy) in zip(pictures, shifts)]
    clean = [preprocess_frame(p) for p in pictures]
    raw = [preprocess_frame(p) for p in moved]
    on_input, on_picture = SteadyView(), SteadyView()
    rows = [("clean", clean), ("shaken", raw),
            ("steady_view, the input alone", [on_input(x) for x in raw]),
            ("steady_view, given the picture", [on_picture(x, p) for x, p in zip(raw, moved)])]
    still = typical_cell_step(clean)
    print(f"vtest.avi, {len(pictures)} inputs, shaken by up to {SHAKE_PIXELS} px (draw "
          f"{args.seed}); typical {CELL} x {CELL} cell's step from input to input:")
    for name, inputs in rows:
        step = typical_cell_step(inputs)
        print(f"  {name:<32} {step:.4f}  ({step / still:.1f} x clean)")
    height, width = pictures[0].shape[:2]
    off = []
    for picture, (dx, dy) in zip(pictures[:80], shifts[:80]):
        x, moved_x = preprocess_frame(picture), preprocess_frame(shaken(picture, dx, dy))
        found_dy, found_dx, _ = phase_shift(x.mean(dim=1)[0], moved_x.mean(dim=1)[0])
        off.append(max(abs(found_dy - dy * x.shape[2] / height),
                       abs(found_dx - dx * x.shape[3] / width)))
    print(f"a shift read once is off by {statistics.median(off):.3f} px (median of 80; "
          "steady_view reads a shake a second time)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
