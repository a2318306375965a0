"""Retrieval benchmark: do the learned event representations find events of the same kind?

    python benchmarks/retrieval.py --seeds 0 1 2 --cache runs/   # 3 x 600 s: 3 x 12 min
    python benchmarks/retrieval.py --seeds 0 1 2 --cache runs/ --markdown   # again: seconds
    python benchmarks/retrieval.py --montage --seconds 300 --seeds 1 2 3 --cache runs/

For each seed, a model learns from scratch (the `live` preset, online, as in the app) on a
synthetic stream whose scenes are short, so that rooms recur within the run. Every event
it closes keeps its representation; each event is labelled by the ground-truth event it
overlaps most: at layer 0 the object in view (its shape, its colour) and the room, at
layer 1 the room. Precision@5: for each event whose label recurs, the share of its 5 most
similar other events of the same layer with the same label, ranked as the app and
`similar` rank (cosine of the vectors standardised over the layer's events). Embeddings:
  - summary: the representation the layer sent up when the event closed (the spec's,
    event_representation "summary"; online: early events by early weights),
  - summary, final weights: the event's inputs encoded again by its layer's temporal
    encoder at the end of the run (layer 0: at most buffer_size of its inputs, evenly
    spaced; layer 1: its layer-0 events' final-weights summaries, normalised, the last
    buffer_size of them),
  - features, drawn block: event_representation "features", online: the median over the
    event's layer-0 inputs of CNNEncoder.prevailing by the first block as the seed drew it
    (frozen: event_features.FrozenFirstBlock; the cache's `initial`; what the model read
    with from the seventeenth session to the thirty-sixth),
  - features, learned block: the same by the encoder's first block as it learns (what
    the model kept until the seventeenth session; the cache's `features`),
  - features, pixel median: the features as the fifth session took them (the median over
    all the pixels, not over 3 x 3 regions),
  - motion, drawn block: event_representation "motion" (the `live` preset's): layer 0's
    events by what moved in them (event_features.moving_in), the layers above as under
    "features",
  - features / motion, shipped block: the same by the first block a new `live` model
    starts from (first_blocks "learned", learned over the synthetic scene), frozen: what
    a `live` model reads with since the thirty-seventh session,
compared with
  - random: a random vector per event (what chance gives with these labels),
  - histogram: a colour histogram (8 x 8 x 8 RGB bins) of the event's keyframe, the middle
    one of the model inputs it spans, by the plain cosine (its best for the room) and
    standardised,
  - histogram, any frame: the same of the source frame nearest the event's middle, which
    the model may not have seen (earlier sessions' "histogram"),
  - the labels: one-hot labels, the best any embedding can do (an event whose label
    occurs 3 times has only 2 to find among its 5).
With --montage the stream is real footage instead: a montage of OpenCV's sample videos
(app/cli/scene_montage.py with the hand-held shots: 8 shots of 5 videos, each video taken
up again every minute or so), events labelled by the shot and the video they show most.
A second table says how far apart in time an event and its 5 nearest neighbours are
(median seconds): an embedding that encodes *when* more than *what* finds its neighbours
in time. With --cache each seed's run (events, vectors, keyframes, labels) is kept in an
.npz and scored from there next time. docs/quality.md has the figures.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.cli.model_setup import new_model, torch_threads  # noqa: E402
from app.cli.pipeline import Segmenter  # noqa: E402
from app.cli.scene_montage import build_scene_montage  # noqa: E402
from streamer_core.event_features import EventFeatures, FrozenFirstBlock  # noqa: E402
from streamer_core.event_representations import (  # noqa: E402
    add_representations,
    as_vector,  # noqa: E402
    read_representations,
)
from streamer_core.networks import grid_regions, through_blocks  # noqa: E402
from streamer_core.retrieval import most_similar, precision_at_k, standardised  # noqa: E402
from streamer_core.sources import (  # noqa: E402
    FrameSource,
    SnippetSampler,
    SyntheticSource,
    VideoFileSource,
    preprocess_frame,
)
from streamer_core.sources.scene_plan import PlanSettings  # noqa: E402

SHORT_SCENES = PlanSettings(scene_seconds=(10.0, 16.0), visit_seconds=(3.0, 6.0))
"""Rooms recur within minutes (9 rooms, a new one every 10-16 s)"""
K = 5


@dataclass
class Run:
    """One seed's learning run: every event that has a representation, as the cache keeps it."""

    layer: np.ndarray      # [N] int
    start: np.ndarray      # [N] seconds
    end: np.ndarray        # [N]
    learned: np.ndarray    # [N, D] the representation sent up when the event closed
    final: np.ndarray      # [N, D] re-encoded with the final weights (NaN where none)
    features: np.ndarray   # [N, C] features by the first block as it learns (NaN where none)
    initial: np.ndarray    # [N, C] by the block as drawn: the model's own since session 17
    pixel_median: np.ndarray  # [N, C] features by the fifth session's median over the pixels
    motion: np.ndarray     # [N, C] event_representation "motion" (NaN: cached before it)
    shipped: np.ndarray    # [N, C] features by the shipped first block (first_blocks "learned")
    motion_shipped: np.ndarray  # [N, C] motion by the shipped first block
    keyframes: np.ndarray  # [N, 60, 80, 3] uint8, the source frame nearest the event's middle
    input_keyframes: np.ndarray  # [N, 60, 80, 3] uint8, the event's middle model input
    labels: dict[str, np.ndarray]  # kind of label -> [N] str

    def save(self, path: Path) -> None:
        arrays = {name: getattr(self, name) for name in RUN_ARRAYS}
        arrays |= {f"label {kind}": values for kind, values in self.labels.items()}
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, **arrays)

    @classmethod
    def load(cls, path: Path) -> Run:
        with np.load(path, allow_pickle=False) as data:
            labels = {key.removeprefix("label "): data[key] for key in data.files
                      if key.startswith("label ")}
            arrays = {name: data[name] for name in RUN_ARRAYS if name in data.files}
        for name in set(RUN_ARRAYS) - set(arrays):  # cached before it was measured
            arrays[name] = (np.zeros((0, 60, 80, 3), np.uint8) if name == "input_keyframes"
                            else np.full((len(arrays["layer"]), 1), np.nan, np.float32))
        return cls(**arrays, labels=labels)


RUN_ARRAYS = ("layer", "start", "end", "learned", "final", "features", "initial",
              "pixel_median", "motion", "shipped", "motion_shipped", "keyframes",
              "input_keyframes")


class FeatureRecorder:
    """Each event's `features` representation, online, beside the summaries the model
    reports: the EventFeatures a model with event_representation "features" keeps, fed by a
    forward hook (same boundaries: the features take no part in learning), once with layer
    0's encoder as it learns, once with its first block as drawn (as the model read them
    until the thirty-sixth session), once as the fifth session took them (the median over
    the whole picture), and as event_representation "motion" keeps them (layer 0 by what
    moved); and both again by the first block a new `live` model starts from (first_blocks
    "learned": the shipped one, learned over the synthetic scene), frozen too."""

    def __init__(self, model, drawn_conv1: torch.nn.Conv2d):
        self.model = model
        self.drawn_block = FrozenFirstBlock(drawn_conv1)
        self.shipped_block = FrozenFirstBlock(model.layers()[0].f.encoder.conv1)
        self.trackers = {name: EventFeatures() for name in ("features", "initial",
                                                             "pixel_median", "motion",
                                                             "shipped", "motion_shipped")}
        self.block_before: torch.Tensor | None = None
        self.shipped_before: torch.Tensor | None = None
        self.closed: dict[str, dict[int, list]] = {name: {} for name in self.trackers}
        self.inputs: list[dict[str, np.ndarray]] = []  # per model input, with --keep-inputs
        self.keeps_inputs = False
        model.register_forward_hook(self.observe)

    def observe(self, model, inputs, reports) -> None:
        x = inputs[0].to(model.device)
        encoder = model.layers()[0].f.encoder
        if self.keeps_inputs:
            self.inputs.append(input_descriptors(encoder, x))
        in_view, moving, self.block_before = self.drawn_block.read(x, self.block_before)
        shipped_view, shipped_moving, self.shipped_before = self.shipped_block.read(
            x, self.shipped_before)
        seen = {"features": encoder.prevailing(x),
                "initial": in_view,
                "pixel_median": encoder.prevailing(x, grid=1),
                "motion": in_view,
                "shipped": shipped_view,
                "motion_shipped": shipped_view}
        moved = {"motion": moving, "motion_shipped": shipped_moving}
        for name, tracker in self.trackers.items():
            closed = tracker.observe(seen[name], reports, model.get_num_layers(),
                                     moved.get(name))
            for layer, vector in closed.items():
                self.closed[name].setdefault(layer, []).append(vector)

    def per_layer(self, name: str) -> dict[int, list]:
        """As EventRepresentations.per_layer: closed events, then the open one."""
        return {layer.layer_num: [*self.closed[name].get(layer.layer_num, []),
                                  self.trackers[name].current(layer.layer_num)]
                for layer in self.model.layers()}


INPUT_QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


@torch.no_grad()
def input_descriptors(encoder, x: torch.Tensor) -> dict[str, np.ndarray]:
    """Candidate statistics of one model input's first two convolution blocks (the
    encoder as it is now), kept with --keep-inputs to choose `features` offline: per
    block, each channel's INPUT_QUANTILES over each of 3 x 3 regions [C, 9, 5] and over
    the picture [C, 5], and its mean [C]; and the encoder's output [D]."""
    block1 = encoder.blocks(x, depth=1)
    block2 = through_blocks((encoder.conv2,), block1)
    q = torch.tensor(INPUT_QUANTILES, dtype=block1.dtype, device=block1.device)
    kept = {}
    for name, block in (("block1", block1), ("block2", block2)):
        regions = [region[0] for region in grid_regions(block, 3)]  # [C, pixels] each
        kept[f"{name} regions"] = torch.stack(
            [torch.quantile(r, q, dim=1).T for r in regions], dim=1)  # [C, 9, 5]
        kept[f"{name} picture"] = torch.quantile(block[0].flatten(1), q, dim=1).T  # [C, 5]
        kept[f"{name} mean"] = block[0].mean(dim=(1, 2))
    kept["output"] = encoder(x)[0][0]
    return {name: value.float().cpu().numpy().astype(np.float16) for name, value in kept.items()}


class RecordingSource:
    """Passes a source's frames on and keeps a small copy of each, by time, and the frames
    that become model inputs (picked as the Segmenter picks them)."""

    def __init__(self, source: FrameSource, snippet_size: float):
        self.source = source
        self.fps = source.fps
        self.sampler = SnippetSampler(snippet_size)
        self.times: list[float] = []
        self.thumbnails: list[np.ndarray] = []
        self.inputs: dict[float, np.ndarray] = {}  # as the model saw them, by time

    def __iter__(self):
        for frame in self.source:
            self.times.append(frame.timestamp)
            self.thumbnails.append(cv2.resize(frame.image, (80, 60),
                                              interpolation=cv2.INTER_AREA))
            if self.sampler.offer(frame):
                self.inputs[round(frame.timestamp, 3)] = frame.image
            yield frame

    def input_times(self, start: float, end: float) -> list[float]:
        return sorted(t for t in self.inputs if start - 1e-6 <= t < end - 1e-6)

    def inputs_between(self, start: float, end: float, most: int) -> list[np.ndarray]:
        times = self.input_times(start, end)
        if len(times) > most:
            times = [times[round(i)] for i in np.linspace(0, len(times) - 1, most)]
        return [self.inputs[t] for t in times]

    def frame_at(self, t: float) -> np.ndarray:
        return self.thumbnails[int(np.argmin(np.abs(np.asarray(self.times) - t)))]

    def input_keyframe(self, start: float, end: float) -> np.ndarray:
        """The middle one of the model inputs the event spans (the frame the histogram
        baseline may fairly look at: frame_at's may be one the model never saw, after a
        cut that the event's only input precedes)."""
        times = self.input_times(start, end) or [min(self.inputs, key=lambda t: abs(t - start))]
        image = self.inputs[times[(len(times) - 1) // 2]]
        return cv2.resize(image, (80, 60), interpolation=cv2.INTER_AREA)


def colour_histogram(image: np.ndarray) -> np.ndarray:
    """8 x 8 x 8 bins over the three channels, as a share of the pixels."""
    hist = cv2.calcHist([image], [0, 1, 2], None, [8, 8, 8], [0, 256] * 3).reshape(-1)
    return hist / max(hist.sum(), 1.0)


@dataclass
class Stream:
    """What a run learns from and how its events are labelled."""

    source: FrameSource
    name: str
    spans: dict[str, list[tuple[float, float, str]]]  # kind of label -> ground-truth spans
    tasks: tuple[tuple[int, str], ...]  # (layer, kind of label) scored


def synthetic_stream(seed: int, seconds: float) -> Stream:
    """The synthetic scene with short scenes: layer 0 by the object and the room, layer 1
    by the room."""
    source = SyntheticSource(seed, seconds, settings=SHORT_SCENES)
    scenes = source.plan.scenes_until(seconds)
    visits = [v for s in scenes for v in s.visits]
    return Stream(source, "synthetic", {
        "object shape": [(v.start, v.end, v.shape) for v in visits],
        "object colour": [(v.start, v.end, v.colour_name) for v in visits],
        "room": [(s.start, s.end, s.room_name) for s in scenes],
    }, TASKS)


MONTAGE_TASKS = ((0, "shot"), (0, "video"), (1, "video"), (0, "shot, as seen"),
                 (1, "video, as seen"))


def montage_stream(seed: int, seconds: float, folder: Path) -> Stream:
    """OpenCV's sample videos re-cut (app/cli/scene_montage.py, with the hand-held shots):
    takes of 8 shots of 5 videos, each video coming back every minute or so; an event is
    labelled by the shot and by the video it shows most."""
    path = folder / f"montage{seed}_{seconds:g}s.avi"
    folder.mkdir(parents=True, exist_ok=True)
    truth = build_scene_montage(path, seconds, seed, moving_camera=True)
    spans = [[(a["start"], a["end"], a["action"]) for a in layer["annots"]]
             for layer in truth["layers"]]
    return Stream(VideoFileSource(str(path)), path.name,
                  {"shot": spans[0], "video": spans[1]}, MONTAGE_TASKS)


def learn_and_collect(seed: int, stream: Stream, keep_inputs: Path | None = None,
                      settings: tuple[str, ...] = ()) -> Run:
    """One learning run from scratch (`live`, with `settings` as KEY=VALUE on top); the
    events that have a representation. With `keep_inputs`, each model input's candidate
    descriptors (input_descriptors) and time go into that .npz too."""
    # The summaries in the reports; the features beside them (FeatureRecorder).
    model, optimizer = new_model("live", [*settings, "event_representation=summary"],
                                 device="cpu", seed=seed)
    # The first block as the seed draws it, beside the shipped one the model starts from
    drawn, _ = new_model("live", [*settings, "first_blocks=drawn"], device="cpu", seed=seed)
    features = FeatureRecorder(model, drawn.layers()[0].f.encoder.conv1)
    features.keeps_inputs = keep_inputs is not None
    segmenter = Segmenter(model, optimizer, representations=True)
    segmenter.start_video(reset_model=True)
    recorder = RecordingSource(stream.source, model.args.snippet_size)
    with stream.source:
        segmenter.run(recorder)
    seconds = segmenter.seconds
    if keep_inputs is not None:
        times = sorted(recorder.inputs)
        if len(times) != len(features.inputs):
            raise RuntimeError(f"{len(times)} inputs, {len(features.inputs)} descriptors")
        keep_inputs.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(keep_inputs, times=np.array(times), **{
            name: np.stack([d[name] for d in features.inputs]) for name in features.inputs[0]})
    doc = segmenter.hierarchy(stream.name)
    rows = [(layer, start, end, vector)
            for layer, events in read_representations(doc).items()
            for start, end, vector in events if vector is not None]
    layer = np.array([r[0] for r in rows])
    start = np.array([r[1] for r in rows])
    end = np.array([r[2] for r in rows])
    by_features = {name: vectors_of(add_representations(copy.deepcopy(doc), {
        number: [as_vector(v) if v is not None else None for v in vectors]
        for number, vectors in features.per_layer(name).items()}), rows)
        for name in features.trackers}
    final = np.full((len(rows), len(rows[0][3])), np.nan, dtype=np.float32)
    for i in np.flatnonzero(layer == 0):
        encoded = encode_again(model, 0, [preprocess_frame(image, device=model.device) for image
                                          in recorder.inputs_between(start[i], end[i],
                                                                     model.args.buffer_size)])
        if encoded is not None:
            final[i] = encoded
    for i in np.flatnonzero(layer == 1):
        # its inputs as layer 0 would now send them up: its layer-0 events, re-encoded
        inside = [j for j in np.flatnonzero(layer == 0) if start[i] - 1e-6 <= start[j]
                  and end[j] <= end[i] + 1e-6 and np.isfinite(final[j]).all()]
        inputs = [torch.nn.functional.normalize(torch.from_numpy(final[j])[None], dim=-1)
                  for j in inside[-model.args.buffer_size:]]
        encoded = encode_again(model, 1, inputs)
        if encoded is not None:
            final[i] = encoded
    labelled = {kind: {number for number, task_kind in stream.tasks if task_kind == kind}
                for kind in stream.spans}
    return Run(layer, start, end, np.stack([r[3] for r in rows]), final,
               by_features["features"], by_features["initial"], by_features["pixel_median"],
               by_features["motion"], by_features["shipped"], by_features["motion_shipped"],
               np.stack([recorder.frame_at(min((a + b) / 2, seconds))
                         for a, b in zip(start, end, strict=True)]),
               np.stack([recorder.input_keyframe(a, b) for a, b in zip(start, end, strict=True)]),
               {kind: np.array([dominant(spans, a, b) if level in labelled[kind] else ""
                                for level, a, b in zip(layer, start, end, strict=True)])
                for kind, spans in stream.spans.items()}
               | {f"{kind}{AS_SEEN}": np.array([
                   seen_label(spans, recorder.input_times(a, b) or [a])
                   if level in labelled[kind] else ""
                   for level, a, b in zip(layer, start, end, strict=True)])
                  for kind, spans in stream.spans.items() if kind in SEEN_KINDS})


def vectors_of(doc: dict, rows: list) -> np.ndarray:
    """The doc's representations of the events in `rows` (layer, start, end, ...) [N, C],
    NaN where an event has none."""
    events = {(layer, start, end): vector for layer, layer_events
              in read_representations(doc).items() for start, end, vector in layer_events}
    size = max(len(v) for v in events.values() if v is not None)
    return np.stack([events.get(r[:3]) if events.get(r[:3]) is not None
                     else np.full(size, np.nan, np.float32) for r in rows])


def encode_again(model, layer: int, inputs: list[torch.Tensor]) -> np.ndarray | None:
    """What `layer`'s temporal encoder makes of these inputs with the model's final weights."""
    layers = model.layers()
    if not inputs or layer >= len(layers):
        return None
    with torch.no_grad():
        representation, _ = layers[layer].f(torch.cat(inputs).to(model.device))
    return representation.float().cpu().numpy().reshape(-1)


AS_SEEN = ", as seen"
"""A label by the model inputs an event spans: the one most of them show. The label by
time overlap gives an event of one input just before a cut the next scene, which only a
frame the model never saw shows (the "any frame" histogram's)"""
SEEN_KINDS = ("room", "shot", "video")


def seen_label(spans: list[tuple[float, float, str]], times: list[float]) -> str:
    """The label most of these input times fall in (the earliest on a tie)."""
    seen = [next((label for a, b, label in spans if a <= t < b), spans[-1][2]) for t in times]
    return max(dict.fromkeys(seen), key=seen.count)


def dominant(spans: list[tuple[float, float, str]], start: float, end: float) -> str:
    """The label of the span that overlaps [start, end] most."""
    overlaps = [min(end, b) - max(start, a) for a, b, _ in spans]
    return spans[int(np.argmax(overlaps))][2]


TASKS = ((0, "object shape"), (0, "object colour"), (0, "room"), (1, "room"),
         (0, "room, as seen"), (1, "room, as seen"))


def tasks_of(run: Run) -> list[tuple[int, str]]:
    """What a run is scored on: its stream's (layer, kind of label)."""
    return [task for task in (*TASKS, *MONTAGE_TASKS) if task[1] in run.labels]


def cached_run(seed: int, seconds: float, cache: Path | None, threads: int,
               montage: bool = False, keep_inputs: bool = False,
               settings: tuple[str, ...] = ()) -> Run:
    """The seed's run from the cache, or learned now (and cached)."""
    name = f"montage{seed}_{seconds:g}s" if montage else f"seed{seed}_{seconds:g}s"
    name = "_".join([name, *settings]).replace("/", "-") + ".npz"  # own cache per --set
    path = cache / name if cache is not None else None
    if path is not None and path.exists():
        return Run.load(path)
    began = time.perf_counter()
    stream = (montage_stream(seed, seconds, cache or Path("runs")) if montage
              else synthetic_stream(seed, seconds))
    with torch_threads(threads):
        run = learn_and_collect(seed, stream, path.with_suffix(".inputs.npz")
                                if keep_inputs and path is not None else None, settings)
    print(f"seed {seed}: learned {seconds:g} s in {time.perf_counter() - began:.0f} s",
          file=sys.stderr)
    if path is not None:
        run.save(path)
    return run


def embeddings(run: Run, chosen: np.ndarray, seed: int, labels: list[str]
               ) -> dict[str, np.ndarray]:
    """Each embedding's vectors of the chosen events [n, D]."""
    rng = np.random.default_rng(seed)
    any_frame = np.stack([colour_histogram(image) for image in run.keyframes[chosen]])
    histogram = (np.stack([colour_histogram(image) for image in run.input_keyframes[chosen]])
                 if len(run.input_keyframes) == len(run.layer)
                 else np.full_like(any_frame, np.nan))  # cached before it was kept
    kinds = sorted(set(labels))
    return {
        "summary": run.learned[chosen],
        "summary, final weights": run.final[chosen],
        "features, drawn block": run.initial[chosen],
        "features, learned block": run.features[chosen],
        "features, pixel median": run.pixel_median[chosen],
        "motion, drawn block": run.motion[chosen],
        "features, shipped block": run.shipped[chosen],
        "motion, shipped block": run.motion_shipped[chosen],
        "random": rng.standard_normal(run.learned[chosen].shape),
        "histogram": histogram,
        "histogram, standardised": histogram,
        "histogram, any frame": any_frame,
        "the labels": np.eye(len(kinds))[[kinds.index(label) for label in labels]],
    }


EMBEDDINGS = ("summary", "summary, final weights", "features, drawn block",
              "features, learned block", "features, pixel median", "motion, drawn block",
              "features, shipped block",
              "motion, shipped block", "random", "histogram", "histogram, standardised",
              "histogram, any frame", "the labels")
PLAIN_COSINE = frozenset({"histogram", "histogram, any frame"})
"""Ranked by the plain cosine; the others as the app and `similar` rank (similar_rows:
each dimension standardised over the layer's events). The histogram is best plain for
the room (standardised, its rare bins weigh as much as the wall's)."""


def score_run(run: Run, seed: int) -> dict[tuple[int, str], dict[str, float]]:
    scores = {}
    for layer, kind in tasks_of(run):
        chosen = np.flatnonzero(run.layer == layer)
        labels = run.labels[kind][chosen].tolist()
        row: dict[str, float] = {"events": len(chosen),
                                 "recurring": sum(labels.count(label) > 1 for label in labels)}
        if len(chosen) < 2:
            scores[(layer, kind)] = row | {f"{prefix}{name}": float("nan")
                                           for name in EMBEDDINGS for prefix in ("", "gap ")}
            continue
        vectors = embeddings(run, chosen, seed, labels)
        middles = (run.start[chosen] + run.end[chosen]) / 2
        for name in EMBEDDINGS:
            usable = np.isfinite(vectors[name]).all(axis=1).all()
            standardise = name not in PLAIN_COSINE
            row[name] = (precision_at_k(vectors[name], labels, K, standardise) if usable
                         else float("nan"))
            row[f"gap {name}"] = (neighbour_gap(vectors[name], middles, standardise)
                                  if usable else float("nan"))
        scores[(layer, kind)] = row
    return scores


def neighbour_gap(vectors: np.ndarray, middles: np.ndarray, standardise: bool) -> float:
    """Median seconds between an event and each of its K most similar other events."""
    if standardise:
        vectors = standardised(vectors)
    return float(np.median([abs(middles[i] - middles[row]) for i in range(len(vectors))
                            for row, _ in most_similar(vectors[i], vectors, K, exclude=i)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600.0,
                        help="length of each stream (default 600: each room comes back 4 "
                             "to 6 times, 30-40 layer-1 events)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="torch threads per seed")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="keep each seed's run here (seedS_SECONDSs.npz) and score it "
                             "from there next time, without learning again")
    parser.add_argument("--montage", action="store_true",
                        help="real footage instead: a montage of OpenCV's sample videos per "
                             "seed (app/cli/scene_montage.py, hand-held shots too) that "
                             "returns to the same shots; events labelled by shot and video")
    parser.add_argument("--keep-inputs", action="store_true",
                        help="with --cache: also keep each model input's candidate "
                             "descriptors (SEED.inputs.npz), to choose `features` offline")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        dest="settings", help="a setting on top of `live`, as `segment "
                        "--set` takes it (e.g. block_objective=sparse_change); repeatable")
    parser.add_argument("--per-seed", action="store_true", help="a table per seed too")
    parser.add_argument("--markdown", action="store_true", help="tables in Markdown")
    args = parser.parse_args()
    per_seed = {}
    for seed in args.seeds:  # one at a time: a learning run is CPU-bound
        per_seed[seed] = score_run(cached_run(seed, args.seconds, args.cache, args.threads,
                                              args.montage, args.keep_inputs,
                                              tuple(args.settings)), seed)
        if args.per_seed:
            print_table(f"precision@{K}, seed {seed}", [per_seed[seed]],
                        markdown=args.markdown)
    title = (f"{len(args.seeds)} seeds ({' '.join(map(str, args.seeds))}) x {args.seconds:g} s; "
             "mean (min-max) over seeds")
    preset = " ".join(["live", *args.settings])
    print_table(f"precision@{K}, same label, {preset}; {title}", list(per_seed.values()),
                markdown=args.markdown)
    print_table(f"median seconds between an event and its {K} nearest; {title}",
                list(per_seed.values()), prefix="gap ", markdown=args.markdown)
    return 0


def print_table(title: str, per_seed: list[dict], prefix: str = "",
                markdown: bool = False) -> None:
    """One row per task, one column per embedding (the figures `prefix + name`)."""
    header = ["layer", "label", "events", "recurring", *EMBEDDINGS]
    lines = [header]
    tasks = list(per_seed[0])
    if prefix:  # one row a layer
        tasks = [task for number, task in enumerate(tasks)
                 if task[0] not in {t[0] for t in tasks[:number]}]
    for task in tasks:
        rows = [scores[task] for scores in per_seed]
        cells = []
        for name in EMBEDDINGS:
            values = np.array([r[prefix + name] for r in rows], dtype=float)
            values = values[np.isfinite(values)]
            digits = 0 if prefix else 2
            cells.append("n/a" if not len(values) else f"{values.mean():.{digits}f}"
                         if len(values) == 1 else f"{values.mean():.{digits}f} "
                         f"({values.min():.{digits}f}-{values.max():.{digits}f})")
        lines.append([str(task[0]), task[1], "/".join(str(r["events"]) for r in rows),
                      "/".join(str(r["recurring"]) for r in rows), *cells])
    if prefix:  # the neighbours' distance in time does not depend on the labels
        lines = [line[:1] + line[2:3] + line[4:] for line in lines]
    print(title)
    for number, line in enumerate(lines):
        if markdown:
            print("| " + " | ".join(line) + " |")
            if number == 0:
                print("|" + "---|" * len(line))
        else:
            widths = [6, 13] if prefix else [6, 15, 13, 13]
            print("".join(f"{cell:<{widths[i] if i < len(widths) else 20}}"
                          for i, cell in enumerate(line)))
    print()


if __name__ == "__main__":
    sys.exit(main())
