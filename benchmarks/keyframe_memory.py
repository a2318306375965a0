"""Keyframe memory over a simulated hours-long session.

Feeds the app's EventKeyframes and KeyframeStore the reports of a session of `--hours` at
2 inputs/s (layer 0 closes an event every ~8 s, layer 1 every ~1 min, layer 2 every ~8 min,
with random lengths), each input's thumbnail taken from real frames (vtest.avi when
installed, else the synthetic scene), with no model: only the keyframe path is measured.
Prints, every simulated hour, the keyframes kept, their bytes, those forgotten, the
Python heap the store and the chooser hold (tracemalloc) and the time per input.

    python benchmarks/keyframe_memory.py [--hours 8] [--budget-mb 64]
"""

from __future__ import annotations

import argparse
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.session.keyframes import EventKeyframes, KeyframeStore, thumbnail  # noqa: E402
from streamer_core import LayerStep  # noqa: E402
from streamer_core.sources import open_source  # noqa: E402

SAMPLE_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SNIPPET = 0.5
MEAN_EVENT_INPUTS = (16, 120, 960)  # layers 0, 1, 2


def real_thumbnails(count: int) -> list[np.ndarray]:
    source = open_source(str(SAMPLE_CLIP) if SAMPLE_CLIP.is_file() else "synthetic:0")
    source.open()
    pictures = []
    try:
        while len(pictures) < count:
            frame = source.read()
            if frame is None:
                break
            pictures.append(thumbnail(frame.image))
    finally:
        source.close()
    return pictures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=8.0)
    parser.add_argument("--budget-mb", type=float, default=64.0)
    args = parser.parse_args()
    pictures = real_thumbnails(600)
    rng = np.random.default_rng(0)
    tracemalloc.start()
    chooser = EventKeyframes()
    store = KeyframeStore(budget_bytes=int(args.budget_mb * 2**20))
    next_boundary = [int(rng.exponential(m)) + 2 for m in MEAN_EVENT_INPUTS]
    steps_per_hour = int(3600 / SNIPPET)
    started = time.perf_counter()
    print("hour  keyframes  MiB kept  forgotten  heap MiB  ms/input")
    for step in range(int(args.hours * steps_per_hour)):
        reports = []
        for layer, mean in enumerate(MEAN_EVENT_INPUTS):
            if layer and not reports[-1].boundary:
                break  # a layer has an input only when the layer below closed an event
            boundary = step >= next_boundary[layer]
            if boundary:
                next_boundary[layer] = step + int(rng.exponential(mean)) + 2
            reports.append(LayerStep(layer, step, step * SNIPPET, 0.1, 0.2, boundary))
        closed, current = chooser.observe(reports, pictures[step % len(pictures)])
        store.add_all(closed)
        store.set_current(current)
        if (step + 1) % steps_per_hour == 0:
            heap = tracemalloc.get_traced_memory()[0] / 2**20
            per_input = (time.perf_counter() - started) / (step + 1) * 1000
            print(f"{(step + 1) // steps_per_hour:4d}  {len(store):9d}  "
                  f"{store.bytes / 2**20:8.1f}  {store.dropped:9d}  {heap:8.1f}  "
                  f"{per_input:8.2f}")
    print(f"mean keyframe: {store.bytes / max(len(store), 1) / 1024:.1f} KiB "
          f"(JPEG of a {pictures[0].shape[1]} x {pictures[0].shape[0]} thumbnail)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
