"""Scoring a predicted event hierarchy against ground truth, both as hierarchy JSON docs.

Two measures:
- boundary precision / recall / F1: a predicted boundary counts when it lies within
  `tolerance` seconds of a ground-truth boundary not already taken (one-to-one matching).
  The start (0) and the end (the doc's duration) are not boundaries: nobody detects them.
- Hierarchical Level Reduction (HLR), the paper's protocol (reference:
  streamer/experiments/hlr.py): the predicted layers form a tree (an event's children
  are the events of the layer below that overlap it); each ground-truth event goes to the
  predicted event it overlaps best (IoU), top-down; a predicted event is replaced by its
  children when their mean IoU beats its own best. Reported: mean IoU over the top-level
  matches, and MoF, the agreement of the "covered by a matched prediction" and "covered by
  ground truth" masks over the ground truth's duration. The reference samples the masks at
  the video's frame rate; here they are measured exactly in continuous time.
- precision within spans: of the boundaries predicted inside given time spans (say the
  shots where the camera moves), the fraction within `tolerance` of a true boundary
  (one-to-one). When the truth doc lists "moving_camera" spans, `evaluate` reports it.

Pure functions over plain dicts: no torch, no I/O.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import asdict, dataclass, field

import numpy as np

Interval = tuple[float, float]
_EPSILON = 1e-6


class HierarchyFormatError(ValueError):
    """The document is not a hierarchy JSON doc; the message says what is wrong."""


# --- reading documents --------------------------------------------------------------------

def check_hierarchy(doc: object, name: str = "document") -> None:
    """Raises HierarchyFormatError unless doc has layers of annots with numeric start/end."""
    if not isinstance(doc, dict):
        raise HierarchyFormatError(f"{name}: expected a JSON object, got {type(doc).__name__}")
    layers = doc.get("layers")
    if not isinstance(layers, list):
        raise HierarchyFormatError(f"{name}: no 'layers' list")
    duration = doc.get("duration")
    if duration is not None and not _is_number(duration):
        raise HierarchyFormatError(f"{name}: 'duration' is not a number")
    for i, layer in enumerate(layers):
        annots = layer.get("annots") if isinstance(layer, dict) else None
        if not isinstance(annots, list):
            raise HierarchyFormatError(f"{name}: layer {i} has no 'annots' list")
        for j, annot in enumerate(annots):
            if not (isinstance(annot, dict) and _is_number(annot.get("start"))
                    and _is_number(annot.get("end"))):
                raise HierarchyFormatError(f"{name}: layer {i} event {j} needs numeric "
                                           "'start' and 'end'")
            if annot["end"] < annot["start"]:
                raise HierarchyFormatError(f"{name}: layer {i} event {j} ends before it starts")
    spans = doc.get("moving_camera", [])
    if not (isinstance(spans, list) and all(
            isinstance(span, list) and len(span) == 2 and all(map(_is_number, span))
            and span[0] <= span[1] for span in spans)):
        raise HierarchyFormatError(f"{name}: 'moving_camera' must be a list of [start, end] "
                                   "pairs of seconds")


def _is_number(value: object) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def doc_duration(doc: dict) -> float:
    """The doc's duration, or the latest event end when it has none."""
    if _is_number(doc.get("duration")) and doc["duration"] > 0:
        return float(doc["duration"])
    ends = [a["end"] for layer in doc["layers"] for a in layer["annots"]]
    return float(max(ends, default=0.0))


def layer_events(doc: dict) -> list[list[Interval]]:
    """Events of each layer, sorted by start."""
    return [sorted((float(a["start"]), float(a["end"])) for a in layer["annots"])
            for layer in doc["layers"]]


def layer_boundaries(doc: dict, layer: int) -> list[float]:
    """Inner boundaries of one layer: every event start and end except 0 and the duration."""
    end = doc_duration(doc)
    times = {round(t, 6) for interval in layer_events(doc)[layer] for t in interval}
    return sorted(t for t in times if _EPSILON < t < end - _EPSILON)


# --- boundaries ---------------------------------------------------------------------------

@dataclass(frozen=True)
class BoundaryScore:
    precision: float
    recall: float
    f1: float
    matched: int
    predicted: int
    ground_truth: int


def match_boundaries(predicted: list[float], truth: list[float], tolerance: float) -> int:
    """Size of the largest one-to-one matching with |p - g| <= tolerance.

    Sweeping both sorted lists and pairing each truth with the earliest free prediction in
    its window is optimal for points on a line (an exchange argument), so no Hungarian step.
    """
    if tolerance < 0:
        raise ValueError("tolerance must be 0 or more")
    preds, truths = sorted(predicted), sorted(truth)
    i = matched = 0
    for g in truths:
        while i < len(preds) and preds[i] < g - tolerance - _EPSILON:
            i += 1
        if i < len(preds) and preds[i] <= g + tolerance + _EPSILON:
            matched += 1
            i += 1
    return matched


def boundary_scores(predicted: list[float], truth: list[float],
                    tolerance: float = 1.0) -> BoundaryScore:
    """Precision, recall, F1; with nothing to find and nothing found, all are 1."""
    matched = match_boundaries(predicted, truth, tolerance)
    n_pred, n_true = len(predicted), len(truth)
    precision = matched / n_pred if n_pred else float(n_true == 0)
    recall = matched / n_true if n_true else float(n_pred == 0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return BoundaryScore(precision, recall, f1, matched, n_pred, n_true)


@dataclass(frozen=True)
class SpanPrecision:
    precision: float
    matched: int
    predicted: int


def precision_within(predicted: list[float], truth: list[float], spans: list[Interval],
                     tolerance: float = 1.0) -> SpanPrecision:
    """Precision of the predicted boundaries that lie inside `spans` (ends included).

    Nothing predicted there is no false alarm: precision 1.
    """
    inside = [t for t in predicted
              if any(start - _EPSILON <= t <= end + _EPSILON for start, end in spans)]
    matched = match_boundaries(inside, truth, tolerance)
    return SpanPrecision(matched / len(inside) if inside else 1.0, matched, len(inside))


# --- hierarchical level reduction ---------------------------------------------------------

@dataclass
class _Node:
    start: float
    end: float
    children: list[_Node] = field(default_factory=list)
    contenders: list[Interval] = field(default_factory=list)
    contender_ious: list[float] = field(default_factory=list)


def interval_iou(a: Interval, b: Interval) -> float:
    intersection = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return intersection / union if union > 0 else 0.0


class _LayerIndex:
    """Finds the events of a layer (sorted by start) that overlap an interval, by bisection."""

    def __init__(self, events: list[Interval]):
        self.events = events
        self.starts = [start for start, _ in events]
        self.reach = list(itertools.accumulate((end for _, end in events), max))

    def overlapping(self, within: Interval) -> list[Interval]:
        lo = bisect.bisect_right(self.reach, within[0])  # before lo everything ends too early
        hi = bisect.bisect_left(self.starts, within[1])  # from hi on everything starts too late
        return [e for e in self.events[lo:hi] if e[1] > within[0]]


def _build_tree(indexes: list[_LayerIndex], level: int, events: list[Interval]) -> list[_Node]:
    """Nodes for `events` of `level`; a node's children are the overlapping events below."""
    nodes = []
    for start, end in events:
        node = _Node(start, end)
        if level > 0:
            below = indexes[level - 1].overlapping((start, end))
            node.children = _build_tree(indexes, level - 1, below)
        nodes.append(node)
    return nodes


def _assign(nodes: list[_Node], contenders: list[Interval]) -> None:
    """Each ground-truth event goes to its best-overlapping node, then down the tree."""
    if not nodes:
        return
    starts = np.array([n.start for n in nodes])
    ends = np.array([n.end for n in nodes])
    for truth in contenders:  # interval_iou against every node at once
        overlap = np.clip(np.minimum(ends, truth[1]) - np.maximum(starts, truth[0]), 0.0, None)
        union = np.maximum(ends, truth[1]) - np.minimum(starts, truth[0])
        ious = np.divide(overlap, union, out=np.zeros_like(overlap), where=union > 0)
        best = int(np.argmax(ious))  # the first of equals, as the reference
        if ious[best] == 0.0:
            continue
        nodes[best].contenders.append(truth)
        nodes[best].contender_ious.append(float(ious[best]))
    for node in nodes:
        _assign(node.children, node.contenders)


def _reduce(node: _Node) -> tuple[float, list[tuple[Interval, Interval]]]:
    """(score, [(truth, prediction)]): the node itself, or its children if they score more."""
    best = int(np.argmax(node.contender_ious))
    own = (node.contender_ious[best], [(node.contenders[best], (node.start, node.end))])
    if len(node.contenders) == 1:
        return own
    kids = [_reduce(child) for child in node.children if child.contenders]
    if not kids:  # the reference would average an empty list here (nan); keep the node
        return own
    mean = float(np.mean([score for score, _ in kids]))
    if own[0] > mean:
        return own
    return mean, [pair for _, pairs in kids for pair in pairs]


@dataclass(frozen=True)
class HLRScore:
    iou: float
    mof: float
    matched: int
    """Predicted events kept after the reduction (each paired with one ground-truth event)"""
    ground_truth: int


def _merged(intervals: list[Interval], lo: float, hi: float) -> list[Interval]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        start, end = max(start, lo), min(end, hi)
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _covered_length(intervals: list[Interval]) -> float:
    return sum(b - a for a, b in intervals)


def mask_agreement(predicted: list[Interval], truth: list[Interval], duration: float) -> float:
    """Fraction of [0, duration] where 'in a predicted interval' == 'in a true interval'."""
    if duration <= 0:
        return 0.0
    a, b = _merged(predicted, 0.0, duration), _merged(truth, 0.0, duration)
    both, i, j = 0.0, 0, 0
    while i < len(a) and j < len(b):  # both lists are sorted and disjoint
        both += max(0.0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    differ = _covered_length(a) + _covered_length(b) - 2 * both
    return 1.0 - differ / duration


def hlr_scores(predicted_layers: list[list[Interval]], truth: list[Interval],
               duration: float) -> HLRScore:
    """HLR of a predicted hierarchy (layer 0 finest) against one ground-truth layer."""
    layers = [layer for layer in predicted_layers if layer]
    if not layers or not truth:
        return HLRScore(0.0, mask_agreement([], truth, duration), 0, len(truth))
    indexes = [_LayerIndex(layer) for layer in layers]
    top = _build_tree(indexes, len(layers) - 1, layers[-1])
    _assign(top, list(truth))
    results = [_reduce(node) for node in top if node.contenders]
    if not results:
        return HLRScore(0.0, mask_agreement([], truth, duration), 0, len(truth))
    pairs = [pair for _, found in results for pair in found]
    iou = float(np.mean([score for score, _ in results]))
    mof = mask_agreement([p for _, p in pairs], truth, duration)
    return HLRScore(iou, mof, len(pairs), len(truth))


# --- baselines and the whole report -------------------------------------------------------

def uniform_baseline(doc: dict, duration: float | None = None, phase: float = 0.0) -> dict:
    """The same number of events per layer as `doc`, cut evenly over the duration.

    `phase` in [0, 1) shifts every cut by that share of the spacing (one more cut then fits
    in): where the grid falls decides much of its score on a stream whose true boundaries
    are nearly evenly spaced, so an honest chance level is the mean over phases."""
    if not 0.0 <= phase < 1.0:
        raise ValueError(f"phase must be in [0, 1), got {phase}")
    duration = doc_duration(doc) if duration is None else duration
    layers = []
    for i, layer in enumerate(doc["layers"]):
        n = len(layer["annots"])
        inner = [(k + phase) * duration / n for k in range(n)] if n else []
        cuts = [0.0, *[t for t in inner if 0.0 < t < duration], duration] if n else []
        layers.append({"name": layer.get("name", f"layer {i}"), "order": i,
                       "annots": [{"start": float(a), "end": float(b), "action": "uniform",
                                   "colour": "rgb(128, 128, 128)"}
                                  for a, b in zip(cuts[:-1], cuts[1:])]})
    return {**{k: v for k, v in doc.items() if k != "layers"}, "duration": duration,
            "file": f"uniform baseline of {doc.get('file', 'prediction')}", "layers": layers}


UNIFORM_PHASES = 50  # grids averaged over for the chance level


def uniform_chance(predicted: dict, truth: dict, tolerance: float = 1.0,
                   phases: int = UNIFORM_PHASES) -> list[dict]:
    """The uniform baseline's boundary F1 averaged over `phases` evenly spaced phases of
    its grid: the chance level with as many events per layer as `predicted`. One row per
    (predicted layer, true layer), in evaluate's order; "f1_min" and "f1_max" show how
    much a single grid's score is luck (0.26 to 0.63 on vtest.avi over the runs of
    docs/quality.md's round thirteen)."""
    if phases < 1:
        raise ValueError(f"phases must be 1 or more, got {phases}")
    grids = [uniform_baseline(predicted, phase=k / phases) for k in range(phases)]
    grid_bounds = [[layer_boundaries(grid, p) for grid in grids]
                   for p in range(len(predicted["layers"]))]
    rows = []
    for t in range(len(truth["layers"])):
        truth_bounds = layer_boundaries(truth, t)
        for p, bounds in enumerate(grid_bounds):
            scores = [boundary_scores(b, truth_bounds, tolerance).f1 for b in bounds]
            rows.append({"pred_layer": p, "gt_layer": t, "f1": sum(scores) / phases,
                         "f1_min": min(scores), "f1_max": max(scores)})
    return rows


def evaluate(predicted: dict, truth: dict, tolerance: float = 1.0) -> dict:
    """Every measure for every layer pairing, JSON-ready.

    boundaries: one row per (predicted layer, true layer); hlr: per true layer, with the
    whole predicted hierarchy ("all") and with each predicted layer alone; moving_camera
    (only when the truth lists such spans): per predicted layer, the precision of its
    boundaries inside them against true layer 0.
    """
    check_hierarchy(predicted, "prediction")
    check_hierarchy(truth, "ground truth")
    if not (tolerance >= 0 and math.isfinite(tolerance)):
        raise ValueError("tolerance must be a number of seconds, 0 or more")
    pred_events, true_events = layer_events(predicted), layer_events(truth)
    duration = doc_duration(truth)
    rows = []
    for t in range(len(true_events)):
        truth_bounds = layer_boundaries(truth, t)
        for p in range(len(pred_events)):
            score = boundary_scores(layer_boundaries(predicted, p), truth_bounds, tolerance)
            rows.append({"pred_layer": p, "gt_layer": t, **asdict(score)})
    spans = [(float(a), float(b)) for a, b in truth.get("moving_camera", [])]
    moving = []
    if spans and true_events:
        truth_bounds = layer_boundaries(truth, 0)
        for p in range(len(pred_events)):
            score = precision_within(layer_boundaries(predicted, p), truth_bounds, spans,
                                     tolerance)
            moving.append({"pred_layer": p, "gt_layer": 0, **asdict(score)})
    hlr = []
    for t, truth_layer in enumerate(true_events):
        hlr.append({"gt_layer": t, "pred_layers": "all",
                    **asdict(hlr_scores(pred_events, truth_layer, duration))})
        for p, layer in enumerate(pred_events):
            hlr.append({"gt_layer": t, "pred_layers": str(p),
                        **asdict(hlr_scores([layer], truth_layer, duration))})
    return {
        "prediction": predicted.get("file"), "ground_truth": truth.get("file"),
        "tolerance": tolerance, "duration": {"prediction": doc_duration(predicted),
                                             "ground_truth": duration},
        "events": {"prediction": [len(e) for e in pred_events],
                   "ground_truth": [len(e) for e in true_events]},
        "boundaries": rows, "hlr": hlr,
        **({"moving_camera": moving} if spans else {}),
    }
