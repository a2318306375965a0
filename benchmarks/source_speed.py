"""Frames per second of the sources and of preprocessing (the input side of the pipeline).

    python benchmarks/source_speed.py [--seconds 120]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streamer_core.sources import (  # noqa: E402
    SnippetSampler,
    SyntheticSource,
    VideoFileSource,
    preprocess_frame,
)


def rate(count: int, started: float) -> float:
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0,
                        help="seconds of synthetic stream to render per size")
    args = parser.parse_args()
    for size in ((320, 240), (640, 480)):
        source = SyntheticSource(0, args.seconds, size=size, fps=10.0)
        with source:
            started, count = time.perf_counter(), 0
            for _ in source:
                count += 1
        print(f"synthetic {size[0]}x{size[1]}: {rate(count, started):7.0f} frames/s "
              f"({count} frames)")

    with SyntheticSource(0, 20.0) as source:
        frames = [f.image for f in source]
    started = time.perf_counter()
    for image in frames:
        preprocess_frame(image)
    print(f"preprocess 320x240 -> 128x128: {rate(len(frames), started):7.0f} frames/s")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clip.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (640, 480))
        with SyntheticSource(1, 30.0, size=(640, 480), fps=30.0) as source:
            for frame in source:
                writer.write(cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR))
        writer.release()
        with VideoFileSource(path) as clip:
            sampler, taken = SnippetSampler(0.5), 0
            started, count = time.perf_counter(), 0
            for frame in clip:
                count += 1
                if sampler.offer(frame):
                    preprocess_frame(frame.image)
                    taken += 1
        print(f"MJPG file 640x480 decode + sample + preprocess: {rate(count, started):7.0f} "
              f"frames/s ({count} frames, {taken} model inputs)")


if __name__ == "__main__":
    main()
