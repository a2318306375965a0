"""Live pace: how much of a real-time stream the `live` preset learns from on this machine.

A live camera does not wait for the model. Frames arrive every `--snippet` seconds into the
app's mailbox (streamer_core/sources/mailbox.py, SNIPPETS_WAITING of them; past that the oldest
is dropped and counted); the learner takes each in turn and runs one step, learning from
it as streamer_core/learning_pace.py says (until session fifty-five the mailbox held one
frame and the learner took the newest), with as many torch threads as the app gives it
(all cores but one). Each weight
update's sparse-change learning of the first blocks runs either in the stream (as before
session twenty-one) or on its own thread (now); the two learn the same weights.

Prints, for each way: the inputs offered, seen and learned from, the inputs dropped, the longest
stretch of input the model did not see, the slowest step, and the steps at weight updates.

    python benchmarks/live_pace.py [--video PATH] [--seconds 100] [--snippet 0.5] [--seed 0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from learning_speed import SAMPLE_VIDEOS, load_frames  # noqa: E402

from app.gui.workers.learner_worker import learner_threads  # noqa: E402
from streamer_core import StreamerModel, StreamerOptimizer  # noqa: E402
from streamer_core.learning import learning_step  # noqa: E402
from streamer_core.learning_pace import SNIPPETS_WAITING, LearningPace  # noqa: E402
from streamer_core.presets import preset_arguments  # noqa: E402
from streamer_core.sources.mailbox import LatestMailbox  # noqa: E402

WAYS = {"in the stream": False, "on its own thread": True}


def run_live(frames: list[torch.Tensor], snippet: float, seed: int,
             background: bool) -> dict:
    """Feeds `frames` in real time; the learner sees them as the app's does."""
    model_args, optimizer_args = preset_arguments("live")
    model = StreamerModel(replace(model_args, seed=seed, device="cpu"))
    optimizer = StreamerOptimizer(model, optimizer_args)
    model.streamer.block_learner.background = background
    mailbox: LatestMailbox[tuple[int, torch.Tensor]] = LatestMailbox(SNIPPETS_WAITING)
    pace = LearningPace()
    done = threading.Event()

    def camera() -> None:
        start = time.perf_counter()
        for index, x in enumerate(frames):
            time.sleep(max(0.0, start + index * snippet - time.perf_counter()))
            mailbox.put((index, x))
        done.set()

    feeder = threading.Thread(target=camera, name="camera")
    feeder.start()
    seen, durations, update_durations = [], [], []
    learned = 0
    while not (done.is_set() and mailbox.peek() is None):
        item = mailbox.take()
        if item is None:
            time.sleep(0.002)
            continue
        index, x = item
        updates = optimizer.optimizer_steps
        learns = pace.learns(mailbox.left_at_take)  # as the app's learner reads it
        learned += int(learns)
        began = time.perf_counter()
        learning_step(model, optimizer, x, behind=not learns)
        durations.append(time.perf_counter() - began)
        if optimizer.optimizer_steps != updates:
            update_durations.append(durations[-1])
        seen.append(index)
    feeder.join()
    model.streamer.block_learner.wait()
    gaps = [b - a for a, b in zip([-1, *seen], [*seen, len(frames)])]
    return {"offered": len(frames), "seen": len(seen), "learned": learned,
            "skipped": mailbox.skipped,
            "longest_unseen_s": (max(gaps) - 1) * snippet, "slowest_step_s": max(durations),
            "median_step_s": statistics.median(durations), "updates": update_durations}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--video", default=next((str(p) for p in SAMPLE_VIDEOS if p.exists()),
                                                "synthetic:0:600"))
    parser.add_argument("--seconds", type=float, default=100.0, help="seconds of live input")
    parser.add_argument("--snippet", type=float, default=0.5, help="seconds per model input")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(learner_threads())
    frames = load_frames(args.video, round(args.seconds / args.snippet))
    print(f"{args.video}: {len(frames)} inputs, one every {args.snippet} s, `live` preset, "
          f"{torch.get_num_threads()} torch thread(s) for the learner")
    for way, background in WAYS.items():
        r = run_live(frames, args.snippet, args.seed, background)
        updates = ", ".join(f"{d:.2f}" for d in r["updates"])
        print(f"  first blocks learning {way:18s}: saw {r['seen']} of {r['offered']} "
              f"inputs, learned from {r['learned']}, {r['skipped']} dropped, longest unseen "
              f"stretch {r['longest_unseen_s']:.1f} s, slowest step {r['slowest_step_s']:.2f} s "
              f"(median {r['median_step_s']:.3f} s; at the updates: {updates} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
