"""A live learner slower than its source: the still camera's events as it sees them.

A live camera does not wait. When a learning step takes longer than a snippet (a slow
CPU, a busy machine), the app's learner skipped to the newest snippet until session
fifty-five: the inputs it saw were then a second or more apart at places, and layer 0
read the steps across those gaps against its usual half-second steps. Now it sees every
snippet of its small mailbox and learns from those streamer_core/learning_pace.py says
(none waiting behind, or the one after an input learned alone); the others are seen
without gradients (learning.learning_step's `behind`), which costs less, so it catches
up, and their losses still count on the update clock.

This replays OpenCV's still street camera (vtest.avi, scored against its hand annotation
of people entering and leaving) as a learner of a given pace sees it: `--paces` is the
learner's speed against real time when it learns from every input (0.63: a learning step
takes 1/0.63 of a snippet, with +-20 % jitter); a step without gradients takes the share
of that measured here first. Printed per pace, way and seed: the inputs seen and learned
from, the weight updates, layer 0's boundary F1 (P, R) at +-1 s in source time, and
layer 1's boundaries (the still camera has no new scene: each is false).

    .venv/bin/python benchmarks/live_lag.py --paces 1 0.8 0.63 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model  # noqa: E402
from app.cli.pipeline import Segmenter  # noqa: E402
from app.cli.still_camera import VTEST, still_camera_truth  # noqa: E402
from streamer_core.evaluation import boundary_scores, layer_boundaries  # noqa: E402
from streamer_core.learning import learning_step  # noqa: E402
from streamer_core.learning_pace import SNIPPETS_WAITING, LearningPace  # noqa: E402
from streamer_core.sources import Frame, open_source  # noqa: E402
from streamer_core.sources.preprocess import preprocess_frame  # noqa: E402

SNIPPET = 0.5
JITTER = 0.2
POLICIES = ("skip to the newest", "see every input")


def read_frames() -> tuple[list[np.ndarray], float]:
    """vtest.avi's frames (RGB) and its frame rate."""
    with open_source(str(VTEST)) as source:
        return [frame.image for frame in source], source.fps or 10.0


def unlearned_share(frames: list[np.ndarray], per: int, blocks: int = 6,
                    block: int = 25) -> float:
    """The median wall time of a step without gradients over that of a learning step,
    measured here: blocks of each in turn, leaving out each block's first `buffer_size`
    steps (a learned input's backward runs when it leaves the buffer, deferred_backward)
    and the steps that updated the weights."""
    model, optimizer = new_model("live", [], seed=0)
    inputs = [preprocess_frame(frames[i]) for i in range(0, len(frames), per)]
    settle = model.args.buffer_size
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for i in range(blocks * block):
        behind = (i // block) % 2 == 1
        n = i % len(inputs)
        updates = optimizer.optimizer_steps
        started = time.perf_counter()
        learning_step(model, optimizer, inputs[n], True, behind=behind, picture=frames[n * per])
        if optimizer.optimizer_steps == updates and i % block >= settle:
            seconds[behind].append(time.perf_counter() - started)
    return statistics.median(seconds[True]) / statistics.median(seconds[False])


def schedule(snippets: int, pace: float, share: float, every_input: bool,
             rng: random.Random) -> list[tuple[int, bool]]:
    """(snippet, learned from) for each input the learner takes, in order: the newest
    snippet (the mailbox of one), or the oldest of the last SNIPPETS_WAITING (the app's
    mailbox now, which drops older ones), learned from as LearningPace says."""
    capacity = SNIPPETS_WAITING if every_input else 1
    learning = LearningPace()
    taken: list[tuple[int, bool]] = []
    free = 0.0
    k = 0
    while k < snippets:
        start = max(free, k * SNIPPET)
        arrived = min(snippets, int(start / SNIPPET + 1e-9) + 1)
        k = max(k, arrived - capacity)
        learn = learning.learns(arrived - k - 1) if every_input else True
        cost = SNIPPET / pace * rng.uniform(1 - JITTER, 1 + JITTER)
        taken.append((k, learn))
        free = start + (cost if learn else cost * share)
        k += 1
    return taken


class Feed:
    """The source frames of the inputs taken, and the frames between two consecutive
    ones; after a skipped snippet only the input (the index jumps: frames lost)."""

    def __init__(self, frames: list[np.ndarray], fps: float, per: int,
                 taken: list[tuple[int, bool]], segmenter: Segmenter):
        self.frames, self.fps, self.per, self.taken = frames, fps, per, taken
        self.segmenter = segmenter

    def __iter__(self):
        previous = None
        for k, learned in self.taken:
            first = self.per * (k - 1) + 1 if previous == k - 1 else self.per * k
            for i in range(max(first, 0), self.per * k + 1):
                if i == self.per * k:
                    self.segmenter.behind = not learned
                yield Frame(self.frames[i], i / self.fps, i)
            previous = k


def run(frames: list[np.ndarray], fps: float, per: int, pace: float, share: float,
        every_input: bool, seed: int) -> str:
    """One new `live` model over vtest.avi as the learner takes it; its figures."""
    snippets = (len(frames) - 1) // per + 1
    taken = (schedule(snippets, pace, share, every_input, random.Random(seed))
             if pace < 1 else [(k, True) for k in range(snippets)])
    model, optimizer = new_model("live", [], seed=seed)
    segmenter = Segmenter(model, optimizer, learn=True)
    segmenter.start_video(reset_model=True)
    segmenter.run(Feed(frames, fps, per, taken, segmenter))
    segmenter.end_stream()
    hierarchy = segmenter.hierarchy("vtest.avi")

    def source_times(layer: int) -> list[float]:
        try:
            times = layer_boundaries(hierarchy, layer)
        except (KeyError, IndexError, ValueError):
            return []
        return [taken[min(len(taken) - 1, round(t / SNIPPET))][0] * SNIPPET for t in times]

    score = boundary_scores(source_times(0), layer_boundaries(still_camera_truth(), 0), 1.0)
    learned = sum(1 for _, learn in taken if learn)
    return (f"inputs {len(taken)}/{snippets}, learned from {learned}, updates "
            f"{optimizer.optimizer_steps} | layer 0 F1 {score.f1:.3f} (P {score.precision:.2f} "
            f"R {score.recall:.2f}) | layer 1 boundaries {len(source_times(1))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paces", type=float, nargs="+", default=[1.0, 0.8, 0.63])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not VTEST.is_file():
        parser.error(f"{VTEST} is missing (Debian package opencv-doc)")
    torch.set_num_threads(args.threads)
    frames, fps = read_frames()
    per = max(1, round(SNIPPET * fps))
    share = unlearned_share(frames, per)
    print(f"a step without gradients takes {share:.2f} of a learning step here", flush=True)
    for pace in args.paces:
        for every_input in ((True,) if pace >= 1 else (False, True)):
            policy = POLICIES[every_input]
            for seed in args.seeds:
                print(f"pace {pace:g}, {policy}, seed {seed}: "
                      f"{run(frames, fps, per, pace, share, every_input, seed)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
