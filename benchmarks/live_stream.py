"""`streamer-studio segment` on a live stream, with a model slower than the stream.

A camera does not wait for the model. This serves a video (OpenCV's still street camera
vtest.avi unless `--video`) as MJPEG over HTTP on 127.0.0.1, in real time, from a child
process, and runs the CLI's pipeline (segment_video, as `segment URL` does) on it with
a new `live` model. `--slower` makes each model step that many times as long as it took
(a sleep after it, the step's own time, learning or not), as on a slower CPU.

The boundaries are scored against the truth's layer 0 (vtest.avi: the hand annotation of
people entering and leaving; `--truth`, a hierarchy such as a montage's, its shots), F1
at +-1 s, at the times the hierarchy gives them: a live source's clock, on which a
dropped snippet leaves its gap (InputClock). Printed per run: the
model's pace against real time when it learns (a snippet's 0.5 s over a learning step's
median time), the inputs, those learned from, the snippets never seen, the steps between
two inputs that are not a whole number of snippets of frames, the weight updates,
layer 0's F1 (P, R) and the best layer's, and the hierarchy's length against the stream's
(to its last input's snippet).

    .venv/bin/python benchmarks/live_stream.py --slower 1 3 4 --seeds 0 1 2
    .venv/bin/python benchmarks/live_stream.py --video montage.avi --truth montage.json
"""

from __future__ import annotations

import argparse
import http.server
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import cv2
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model  # noqa: E402
from app.cli.pipeline import Segmenter, segment_video  # noqa: E402
from app.cli.still_camera import VTEST, still_camera_truth  # noqa: E402
from streamer_core.evaluation import boundary_scores, layer_boundaries  # noqa: E402
from streamer_core.sources import StreamSource  # noqa: E402

SNIPPET = 0.5


def serve(port: int, video: str) -> None:
    """Child process: the video's frames as MJPEG to one client, in real time, then ends."""
    capture = cv2.VideoCapture(video)
    fps = capture.get(cv2.CAP_PROP_FPS)
    jpegs = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        jpegs.append(cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
            self.end_headers()
            start = time.monotonic()
            for i, data in enumerate(jpegs):
                time.sleep(max(0.0, start + i / fps - time.monotonic()))
                self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(data) + data + b"\r\n")
            self.server.served = True

    with http.server.HTTPServer(("127.0.0.1", port), Handler) as server:
        server.served = False
        print("ready", flush=True)
        while not server.served:
            server.handle_request()


class SlowSegmenter(Segmenter):
    """Each step takes `slower` times its own time; notes each input's video time."""

    def __init__(self, *args, slower: float, fps: float, **kwargs):
        super().__init__(*args, **kwargs)
        self.slower, self.fps = slower, fps
        self.input_seconds: list[float] = []
        self.learning_step_seconds: list[float] = []

    def step(self, image, video: int = 0):
        started = time.perf_counter()
        reports = super().step(image, video)
        time.sleep((self.slower - 1) * (time.perf_counter() - started))
        self.input_seconds.append(self._last_index / self.fps)
        if not self.behind:
            self.learning_step_seconds.append(time.perf_counter() - started)
        return reports


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(video: str, truth: dict, slower: float, seed: int) -> str:
    """One new `live` model over the served stream; its figures."""
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--video", video],
                              stdout=subprocess.PIPE, text=True)
    try:
        model, optimizer = new_model("live", [], seed=seed)
        fps = cv2.VideoCapture(video).get(cv2.CAP_PROP_FPS)
        segmenter = SlowSegmenter(model, optimizer, slower=slower, fps=fps)
        server.stdout.readline()  # "ready": the video is read and encoded
        result = segment_video(segmenter, StreamSource(f"http://127.0.0.1:{port}/"))
    finally:
        server.kill()
        server.wait()
    times = segmenter.input_seconds

    def marked(layer: int) -> list[float]:
        try:
            return layer_boundaries(result.hierarchy, layer)
        except (KeyError, IndexError, ValueError):
            return []

    truth_times = layer_boundaries(truth, 0)
    scores = [boundary_scores(marked(layer), truth_times, 1.0)
              for layer in range(len(result.hierarchy["layers"]))]
    score, best = scores[0], max(s.f1 for s in scores)
    learned = len(times) - getattr(segmenter, "steps_behind", 0)
    dropped = round(times[-1] / SNIPPET) + 1 - len(times)
    per_snippet = round(SNIPPET * fps)
    off_grid = sum(round((later - earlier) * fps) % per_snippet != 0
                   for earlier, later in zip(times, times[1:]))
    pace = SNIPPET / statistics.median(segmenter.learning_step_seconds)
    return (f"learning x{pace:.2f} of real time: inputs {len(times)}, learned from "
            f"{learned}, snippets not seen {dropped}, steps off the frame grid {off_grid}, "
            f"updates {optimizer.optimizer_steps} | layer 0 F1 "
            f"{score.f1:.3f} (P {score.precision:.2f} R {score.recall:.2f}), best layer "
            f"{best:.3f} | layer 1 boundaries {len(marked(1))} | hierarchy "
            f"{result.hierarchy['duration']:.1f} s, stream {times[-1] + SNIPPET:.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slower", type=float, nargs="+", default=[1.0, 3.0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--video", default=str(VTEST))
    parser.add_argument("--truth", type=Path, help="its hierarchy (default: vtest.avi's)")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not Path(args.video).is_file():
        parser.error(f"{args.video} is missing (vtest.avi: Debian package opencv-doc)")
    if args.serve:
        serve(args.serve, args.video)
        return 0
    truth = json.loads(args.truth.read_text()) if args.truth else still_camera_truth()
    torch.set_num_threads(args.threads)
    for slower in args.slower:
        for seed in args.seeds:
            print(f"slower x{slower:g}, seed {seed}: {run(args.video, truth, slower, seed)}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
