"""The app's learner loses snippets: where its events land, by count and by the stream.

A learner behind a live source drops the oldest snippets of its mailbox. The layers count
inputs, so counted times close up every gap and each later event comes early; the
model's `InputClock` puts them back on the stream's clock (session sixty-one). This plays
OpenCV's still street camera (vtest.avi, scored against its hand annotation of people
entering and leaving) through the app's own `LearnerWorker`, `live` preset, losing
`--lose` snippets every `--every` seconds of the stream, as a learner stalled by a
weight update does. Printed per seed: the snippets lost, layer 0's F1 (P, R) at +-1 s
with the times counted in inputs (the app before) and on the stream's clock (now),
and the exported hierarchy's length against the stream's.

    .venv/bin/python benchmarks/lost_snippets.py --lose 4 --every 20 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.still_camera import VTEST, VTEST_SECONDS, still_camera_truth  # noqa: E402
from app.gui.infrastructure.settings import StudioSettings  # noqa: E402
from app.gui.workers.learner_worker import LearnerWorker  # noqa: E402
from streamer_core.evaluation import boundary_scores, layer_boundaries  # noqa: E402
from streamer_core.frames_between import MAX_FRAMES  # noqa: E402
from streamer_core.learning_pace import SNIPPETS_WAITING  # noqa: E402
from streamer_core.sources import open_source  # noqa: E402
from streamer_core.sources.mailbox import LatestMailbox  # noqa: E402
from streamer_core.sources.sampling import SnippetTaker  # noqa: E402


def score(times: list[float], truth: list[float]) -> str:
    s = boundary_scores([t for t in times if 0 < t < VTEST_SECONDS], truth)
    return f"{s.f1:.3f} (P {s.precision:.2f} R {s.recall:.2f})"


def run(seed: int, lose: int, every: float) -> str:
    settings = StudioSettings.from_preset("live", StudioSettings(device="cpu"))
    model_args, opt_args = settings.model_arguments()
    model_args = replace(model_args, seed=seed)
    worker = LearnerWorker(LatestMailbox(SNIPPETS_WAITING), model_args, opt_args)
    worker.start()
    taker = SnippetTaker(model_args.snippet_size, keep_between=MAX_FRAMES)  # as the app's
    source = open_source(str(VTEST))
    source.open()
    next_stall, stalled = every, 0
    while (frame := source.read()) is not None:
        snippet = taker.offer(frame)
        if snippet is None:
            continue
        worker.snippets.put(snippet)
        if snippet.timestamp >= next_stall:  # the learner stalls: the mailbox fills, and
            stalled = SNIPPETS_WAITING + lose - 1  # the oldest `lose` are dropped
            next_stall += every
        if stalled:
            stalled -= 1
            continue
        while worker.snippets.waiting:
            worker.on_snippet_ready()
    while worker.snippets.waiting:
        worker.on_snippet_ready()
    source.close()
    worker.end_stream()
    truth = layer_boundaries(still_camera_truth(), 0)
    model = worker.model
    counted, on_stream = model.event_boundaries()[0], model.stream_boundaries()[0]
    doc = worker._hierarchy(VTEST.name)
    return (f"seed {seed}: {model.input_clock.lost} snippets lost, {model.base_counter} "
            f"inputs | layer 0 counted {score(counted, truth)}, on the stream's clock "
            f"{score(on_stream, truth)} | hierarchy {doc['duration']:.1f} s "
            f"(counted {model.base_counter * model_args.snippet_size:.1f} s), "
            f"stream {VTEST_SECONDS} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lose", type=int, default=4, help="snippets lost at each stall")
    parser.add_argument("--every", type=float, default=20.0, help="seconds between stalls")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    for seed in args.seeds:
        print(run(seed, args.lose, args.every), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
