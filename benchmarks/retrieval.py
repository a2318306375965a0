"""Retrieval benchmark: do the learned event representations find events of the same kind?

    python benchmarks/retrieval.py                       # 3 seeds x 90 s, the live preset
    python benchmarks/retrieval.py --seconds 300 --seeds 0 1 2 3 4

For each seed, a model learns from scratch (the `live` preset, online, as in the app) on a
synthetic stream whose scenes are short, so that rooms recur within the run. Every event
it closes keeps its representation; each event is labelled by the ground-truth event it
overlaps most: at layer 0 the object in view (its shape, its colour) and the room, at
layer 1 the room. Precision@5: for each event whose label recurs, the share of its 5 most
similar other events of the same layer (cosine) with the same label. Two learned
embeddings:
  - learned: the representation the layer sent up when the event closed (online, as the
    app and `segment --representations` keep it: early events by early weights),
  - final weights (layer 0): the event's inputs (at most buffer_size, evenly spaced)
    encoded again by layer 0's temporal encoder at the end of the run,
compared with
  - random: a random vector per event (what chance gives with these labels),
  - histogram: a colour histogram (8 x 8 x 8 RGB bins) of the event's keyframe, the frame
    the model saw nearest the event's middle.
Prints one table, mean and spread over the seeds (docs/quality.md has the figures).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model, torch_threads  # noqa: E402
from app.cli.pipeline import Segmenter  # noqa: E402
from streamer_core.event_representations import read_representations  # noqa: E402
from streamer_core.retrieval import precision_at_k  # noqa: E402
from streamer_core.sources import SyntheticSource, preprocess_frame  # noqa: E402
from streamer_core.sources.scene_plan import PlanSettings  # noqa: E402

SHORT_SCENES = PlanSettings(scene_seconds=(10.0, 16.0), visit_seconds=(3.0, 6.0))
"""Rooms recur within minutes (9 rooms, a new one every 10-16 s)"""
EMBEDDINGS = ("learned", "final weights", "random", "histogram")
K = 5


@dataclass
class Event:
    layer: int
    start: float
    end: float
    learned: np.ndarray
    keyframe: np.ndarray
    final: np.ndarray | None  # layer 0: re-encoded with the final weights


class RecordingSource:
    """Passes a source's frames on and keeps a small copy of each, by time."""

    def __init__(self, source: SyntheticSource):
        self.source = source
        self.fps = source.fps
        self.times: list[float] = []
        self.thumbnails: list[np.ndarray] = []
        self.inputs: dict[float, np.ndarray] = {}  # on the 0.5 s grid, as the model saw them

    def __iter__(self):
        for frame in self.source:
            self.times.append(frame.timestamp)
            self.thumbnails.append(cv2.resize(frame.image, (80, 60),
                                              interpolation=cv2.INTER_AREA))
            if abs(frame.timestamp * 2 - round(frame.timestamp * 2)) < 1e-6:
                self.inputs[round(frame.timestamp, 3)] = frame.image
            yield frame

    def inputs_between(self, start: float, end: float, most: int) -> list[np.ndarray]:
        times = sorted(t for t in self.inputs if start <= t < end)
        if len(times) > most:
            times = [times[round(i)] for i in np.linspace(0, len(times) - 1, most)]
        return [self.inputs[t] for t in times]

    def frame_at(self, t: float) -> np.ndarray:
        return self.thumbnails[int(np.argmin(np.abs(np.asarray(self.times) - t)))]


def colour_histogram(image: np.ndarray) -> np.ndarray:
    """8 x 8 x 8 bins over the three channels, as a share of the pixels."""
    hist = cv2.calcHist([image], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).reshape(-1)
    return hist / max(hist.sum(), 1.0)


def learn_and_collect(seed: int, seconds: float) -> tuple[list[Event], SyntheticSource]:
    """One learning run; the events that have a representation, with their keyframes."""
    source = SyntheticSource(seed, seconds, settings=SHORT_SCENES)
    model, optimizer = new_model("live", [], device="cpu", seed=seed)
    segmenter = Segmenter(model, optimizer, representations=True)
    segmenter.start_video(reset_model=True)
    recorder = RecordingSource(source)
    with source:
        segmenter.run(recorder)
    events = []
    for layer, rows in read_representations(segmenter.hierarchy("synthetic")).items():
        for start, end, vector in rows:
            if vector is not None:
                keyframe = recorder.frame_at(min((start + end) / 2, seconds))
                final = (encode_again(model, recorder.inputs_between(start, end, model.args
                                                                     .buffer_size))
                         if layer == 0 else None)
                events.append(Event(layer, start, end, vector, keyframe, final))
    return events, source


def encode_again(model, images: list[np.ndarray]) -> np.ndarray | None:
    """Layer 0's representation of these inputs with the model's current weights."""
    if not images:
        return None
    with torch.no_grad():
        x = torch.cat([preprocess_frame(image, device=model.device) for image in images])
        representation, _ = model.streamer.f(x)
    return representation.float().cpu().numpy().reshape(-1)


def dominant(spans: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The label of the span that overlaps [start, end] most."""
    overlaps = [min(end, b) - max(start, a) for a, b, _ in spans]
    return spans[int(np.argmax(overlaps))][2]


def label_kinds(source: SyntheticSource, seconds: float) -> dict[str, list]:
    """Ground-truth spans per kind of label."""
    scenes = source.plan.scenes_until(seconds)
    visits = [v for s in scenes for v in s.visits]
    return {
        "object shape": [(v.start, v.end, v.shape) for v in visits],
        "object colour": [(v.start, v.end, v.colour_name) for v in visits],
        "room": [(s.start, s.end, s.room_name) for s in scenes],
    }


TASKS = ((0, "object shape"), (0, "object colour"), (0, "room"), (1, "room"))


def score_seed(seed: int, seconds: float, threads: int = 1
               ) -> dict[tuple[int, str], dict[str, float]]:
    began = time.perf_counter()
    with torch_threads(threads):
        events, source = learn_and_collect(seed, seconds)
    print(f"seed {seed}: learned in {time.perf_counter() - began:.0f} s", file=sys.stderr)
    kinds = label_kinds(source, seconds)
    rng = np.random.default_rng(seed)
    scores = {}
    for layer, kind in TASKS:
        chosen = [e for e in events if e.layer == layer]
        if len(chosen) < 2:
            scores[(layer, kind)] = {name: float("nan") for name in EMBEDDINGS} | {"events": 0}
            continue
        labels = [dominant(kinds[kind], e.start, e.end) for e in chosen]
        width = len(chosen[0].learned)
        vectors = {
            "learned": np.stack([e.learned for e in chosen]),
            "final weights": np.stack([e.final if e.final is not None else np.zeros(width)
                                       for e in chosen]),
            "random": rng.standard_normal((len(chosen), len(chosen[0].learned))),
            "histogram": np.stack([colour_histogram(e.keyframe) for e in chosen]),
        }
        row = {name: precision_at_k(vectors[name], labels, K) for name in EMBEDDINGS}
        if layer != 0:
            row["final weights"] = float("nan")
        row["events"] = len(chosen)
        row["recurring"] = sum(labels.count(label) > 1 for label in labels)
        scores[(layer, kind)] = row
    return scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0,
                        help="length of each stream (default 90)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads per seed")
    parser.add_argument("--jobs", type=int, default=1, help="seeds learning at once")
    args = parser.parse_args()
    with ProcessPoolExecutor(args.jobs) as pool:
        per_seed = list(pool.map(score_seed, args.seeds, [args.seconds] * len(args.seeds),
                                 [args.threads] * len(args.seeds)))
    print(f"precision@{K}, same label; {len(args.seeds)} seeds x {args.seconds:g} s, live "
          f"preset; mean (min-max) over seeds")
    print(f"{'layer':<6}{'label':<15}{'events':<12}{'recurring':<12}"
          + "".join(f"{name:<20}" for name in EMBEDDINGS))
    for task in TASKS:
        rows = [scores[task] for scores in per_seed]
        cells = []
        for name in EMBEDDINGS:
            values = np.array([r[name] for r in rows], dtype=float)
            values = values[np.isfinite(values)]
            cells.append(f"{values.mean():.2f} ({values.min():.2f}-{values.max():.2f})"
                         if len(values) else "n/a")
        events = "/".join(str(r["events"]) for r in rows)
        recurring = "/".join(str(r.get("recurring", 0)) for r in rows)
        print(f"{task[0]:<6}{task[1]:<15}{events:<12}{recurring:<12}"
              + "".join(f"{cell:<20}" for cell in cells))
    return 0


if __name__ == "__main__":
    sys.exit(main())
