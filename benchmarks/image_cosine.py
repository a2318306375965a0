"""The fast path's cosine of images against torch's, inside a `live` learning run.

Layer 0 compares its predicted picture with the real one about three times a step (the
objective, and region by region for the signal). torch's `cosine_similarity` along the
channels of a [1, 3, 128, 128] picture takes about 5 ms on a CPU; `loss.image_cosine`
gives the same values from sums. One model learns on vtest.avi, and each step draws
which of the two it uses, so both are timed on the same run, machine load and weights.
Prints the median seconds of a learning step and of a step without gradients (a live
learner behind its source) with each; steps with a weight update are left out.

    .venv/bin/python benchmarks/image_cosine.py [--steps 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.learning_speed import SAMPLE_VIDEOS, load_frames  # noqa: E402
from streamer_core import StreamerModel, StreamerOptimizer  # noqa: E402
from streamer_core.buffer import SIMILARITY  # noqa: E402
from streamer_core.learning import learning_step  # noqa: E402
from streamer_core.loss import StreamerLoss  # noqa: E402
from streamer_core.presets import preset_arguments  # noqa: E402

WARM_UP = 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the app's "
                        "learner has all cores but one)")
    parser.add_argument("--video", default=str(SAMPLE_VIDEOS[0]))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    frames = load_frames(args.video, args.steps)
    model_args, opt_args = preset_arguments("live")
    model = StreamerModel(replace(model_args, device="cpu", seed=0))
    optimizer = StreamerOptimizer(model, opt_args)
    seconds: dict[tuple[bool, bool], list[float]] = {}
    draw = random.Random(0)
    for i, x in enumerate(frames):
        behind = (i // 10) % 2 == 1  # ten steps learned from, ten seen without gradients
        fast = draw.random() < 0.5
        for loss in model.modules():  # the layers' losses, those grown since too
            if isinstance(loss, StreamerLoss):
                loss.fast_images = fast and loss.dist_mode == SIMILARITY
        updates = optimizer.optimizer_steps
        started = time.perf_counter()
        learning_step(model, optimizer, x, behind=behind)
        took = time.perf_counter() - started
        if i >= WARM_UP and optimizer.optimizer_steps == updates:
            seconds.setdefault((behind, fast), []).append(took)
    print(f"live preset, CPU, {args.threads} thread(s), {len(frames)} steps of {args.video}")
    for behind, name in ((False, "learning step"), (True, "step without gradients")):
        torch_s = statistics.median(seconds[(behind, False)])
        fast_s = statistics.median(seconds[(behind, True)])
        print(f"  {name:24s} torch {torch_s:.4f} s, image_cosine {fast_s:.4f} s "
              f"({1 - fast_s / torch_s:.0%} less; n {len(seconds[(behind, False)])} / "
              f"{len(seconds[(behind, True)])})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
