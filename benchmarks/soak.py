"""Soak test: a long session through the app's own learner and history must stay flat.

Runs N learning steps on the endless synthetic scene (small model) through the window's
LearnerWorker, SessionHistory and TimelineView, headless, without threads or real time:
each frame goes through the learner's mailbox and its `stepped` signal into the history,
as in the app. Every `--every` steps it prints the process's memory (RSS), the number of
live Python objects and torch tensors, the rows the history holds, and how long one
timeline update takes (refresh plus a full repaint, live view and whole session).

Memory must level off once the model has all its layers and the history is full (its
capacity bounds it; `--capacity` makes it fill within the run), and the update time at the
end must stay far below the window's redraw interval (250 ms).

    python benchmarks/soak.py [--steps 10000] [--every 1000] [--feature-dim 32]
                              [--buffer 4] [--capacity 4000] [--threads 1]
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gc
import os
import resource
import statistics
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from app.gui.application import make_application  # noqa: E402
from app.gui.controllers.session_history import SessionHistory  # noqa: E402
from app.gui.live.main_window import REDRAW_INTERVAL_MS  # noqa: E402
from app.gui.live.timeline_view import TimelineView  # noqa: E402
from app.gui.self_test import small_settings  # noqa: E402
from app.gui.workers.learner_worker import LearnerWorker, StepResult  # noqa: E402
from streamer_core.sources import Frame, SyntheticSource  # noqa: E402
from streamer_core.sources.mailbox import LatestMailbox  # noqa: E402


def rss_mib() -> float:
    """Resident memory now (Linux /proc), or the peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def release_free_heap() -> bool:
    """glibc keeps freed memory in its arenas, which RSS counts: malloc_trim hands it back,
    so what remains is memory still in use (growth then is a leak, not allocator slack)."""
    name = ctypes.util.find_library("c")
    try:
        return bool(ctypes.CDLL(name).malloc_trim(0)) if name else False
    except (OSError, AttributeError):
        return False


def live_tensors() -> int:
    with warnings.catch_warnings():  # isinstance() on torch's deprecated module aliases
        warnings.simplefilter("ignore")
        return sum(1 for obj in gc.get_objects() if isinstance(obj, torch.Tensor))


def timeline_update_ms(timeline: TimelineView, history: SessionHistory,
                       repeats: int = 5) -> tuple[float, float]:
    """(live view, whole session): median ms of one refresh with a full repaint."""
    results = []
    for whole in (False, True):
        times = []
        for _ in range(repeats):
            history.version += 1  # as after a learning step: the view must redraw
            started = time.perf_counter()
            if whole:
                timeline.show_whole_session()
            else:
                timeline.set_following(True)
            timeline.refresh()
            timeline.graphics.grab()  # paints every item, as the screen would
            times.append((time.perf_counter() - started) * 1000)
        results.append(statistics.median(times))
    timeline.set_following(True)
    return results[0], results[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=1_000)
    parser.add_argument("--feature-dim", type=int, default=32)
    parser.add_argument("--buffer", type=int, default=4)
    parser.add_argument("--evolve-every", type=int, default=50,
                        help="inputs before a layer grows one above it (small: all layers "
                             "early, so growth of the model is not mistaken for a leak)")
    parser.add_argument("--capacity", type=int, default=4_000,
                        help="rows the history keeps per layer (the app keeps 200000; "
                             "smaller so the bound is reached within the run)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trim", action="store_true",
                        help="hand freed heap back to the OS (glibc malloc_trim) before each "
                             "memory reading, so RSS shows memory in use")
    args = parser.parse_args(argv)

    torch.set_num_threads(args.threads)
    app = make_application()
    settings = replace(small_settings("synthetic"), feature_dim=args.feature_dim,
                       buffer_size=args.buffer, evolve_every=args.evolve_every,
                       device="cpu")
    model_args, opt_args = settings.model_arguments()
    model_args = replace(model_args, seed=args.seed)

    mailbox: LatestMailbox[Frame] = LatestMailbox()
    worker = LearnerWorker(mailbox, model_args, opt_args, learning=True)
    history = SessionHistory(capacity=args.capacity)
    timeline = TimelineView(history, span=settings.timeline_span)
    timeline.resize(1200, 500)
    failures: list[str] = []
    steps = 0

    def on_step(result: StepResult) -> None:
        nonlocal steps
        history.add_all(result.reports)
        steps += 1

    worker.stepped.connect(on_step)  # same thread: a direct call, as queued in the app
    worker.failed.connect(lambda title, text: failures.append(f"{title}: {text}"))
    worker.start()

    # One frame per model input: the scene rendered at 1 / snippet frames per second.
    source = SyntheticSource(args.seed, fps=1.0 / model_args.snippet_size, realtime=False)
    source.open()
    print(f"soak: {args.steps} steps, feature_dim {args.feature_dim}, buffer {args.buffer}, "
          f"evolve_every {args.evolve_every}, history capacity {args.capacity}/layer, "
          f"{args.threads} torch thread(s), torch {torch.__version__}"
          f"{', RSS after malloc_trim' if args.trim else ''}")
    header = (f"{'steps':>7} {'RSS MiB':>8} {'objects':>8} {'tensors':>8} {'layers':>6} "
              f"{'rows':>7} {'steps/s':>8} {'live ms':>8} {'whole ms':>9}")
    print(header)
    started = time.perf_counter()
    last = (started, 0)
    table = []
    while steps < args.steps:
        frame = source.read()
        if frame is None:
            failures.append(f"the synthetic source ended: {source.end_reason}")
            break
        mailbox.put(frame)
        before = steps
        worker.on_snippet_ready()
        if failures:
            break
        if steps == before:
            failures.append("the learner did not step")
            break
        if steps % args.every == 0 or steps in (1, args.steps):
            app.processEvents()
            gc.collect()
            if args.trim:
                release_free_heap()
            now = time.perf_counter()
            rate = (steps - last[1]) / max(now - last[0], 1e-9)
            live_ms, whole_ms = timeline_update_ms(timeline, history)
            rows = sum(len(layer.steps) for layer in history.layers)
            row = (steps, rss_mib(), len(gc.get_objects()), live_tensors(),
                   history.num_layers(), rows, rate, live_ms, whole_ms)
            table.append(row)
            print(f"{row[0]:>7} {row[1]:>8.1f} {row[2]:>8} {row[3]:>8} {row[4]:>6} "
                  f"{row[5]:>7} {row[6]:>8.1f} {row[7]:>8.1f} {row[8]:>9.1f}", flush=True)
            last = (time.perf_counter(), steps)
    source.close()
    elapsed = time.perf_counter() - started
    if failures:
        print(f"soak FAILED after {steps} steps: {failures[0]}", file=sys.stderr)
        return 1
    settled = [r for r in table if r[0] >= args.steps // 5] or table
    growth = settled[-1][1] - settled[0][1] if len(settled) > 1 else 0.0
    print(f"done: {steps} steps in {elapsed:.0f} s; RSS {table[0][1]:.1f} MiB at step 1, "
          f"{settled[0][1]:.1f} MiB at step {settled[0][0]}, {table[-1][1]:.1f} MiB at the "
          f"end ({growth:+.1f} MiB over the last {settled[-1][0] - settled[0][0]} steps); "
          f"timeline update {table[0][7]:.1f} -> {table[-1][7]:.1f} ms live, "
          f"{table[0][8]:.1f} -> {table[-1][8]:.1f} ms whole session "
          f"(redraw interval {REDRAW_INTERVAL_MS} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
