"""Disk use of a recorded session per minute: the app's SessionRecorder fed one minute of
inputs (2 per second, the `live` snippet) of real frames (vtest.avi when installed, else
the synthetic scene), each with its trace rows for 3 layers and a keyframe every 8 s.

    python benchmarks/recording_disk.py [--minutes 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.session.keyframes import Keyframe, encode_jpeg, thumbnail  # noqa: E402
from app.session.recorder import SessionRecorder  # noqa: E402
from streamer_core import LayerStep  # noqa: E402
from streamer_core.sources import open_source  # noqa: E402

SAMPLE_CLIP = Path("/usr/share/doc/opencv-doc/examples/data/vtest.avi")
SNIPPET = 0.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=1.0)
    args = parser.parse_args()
    source = open_source(str(SAMPLE_CLIP) if SAMPLE_CLIP.is_file() else "synthetic:0")
    source.open()
    inputs = int(args.minutes * 60 / SNIPPET)
    with tempfile.TemporaryDirectory() as tmp:
        recorder = SessionRecorder(Path(tmp), SNIPPET, source.description)
        started = time.perf_counter()
        size = None
        for step in range(inputs):
            frame = source.read()
            if frame is None:
                source.close()
                source.open()
                frame = source.read()
            size = frame.image.shape
            t = step * SNIPPET
            reports = [LayerStep(layer, step, t, 0.1, 0.2, step % 16 == 15)
                       for layer in range(3)]
            keyframes = ([Keyframe(0, step // 16, t - 8, t, t - 4,
                                   encode_jpeg(thumbnail(frame.image)))]
                         if step % 16 == 15 else [])
            while not recorder.add_input(frame.image, reports, keyframes):
                time.sleep(0.01)  # measuring size: wait rather than drop
        recorder.close()
        seconds = time.perf_counter() - started
        source.close()
        per_minute = recorder.disk_bytes / args.minutes / 1e6
        print(f"{inputs} inputs of {size[1]} x {size[0]} frames in {seconds:.1f} s: "
              f"{recorder.disk_bytes / 1e6:.2f} MB, {per_minute:.2f} MB per minute "
              f"({per_minute * 60 / 1000:.2f} GB per hour)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
