"""Choose `features` offline: candidate event representations scored from the per-input
descriptors a retrieval run kept (benchmarks/retrieval.py --keep-inputs).

    python benchmarks/retrieval_candidates.py runs/seed50_600s.npz runs/seed51_600s.npz ...

Each candidate maps one model input's descriptors (the first two convolution blocks'
quantiles over 3 x 3 regions and over the picture, by the encoder as it was learning) to
a vector; an event is the median of its inputs' vectors; precision@5 as the benchmark
scores (standardised cosine), per task, mean over the runs given. "within-whitened": the
same vectors centred and whitened by the spread of the inputs around their event's
median (what varies inside an event is noise for telling events apart; measured in the
seventh session, not adopted: the app would need that spread beside the vectors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.retrieval import Run, tasks_of  # noqa: E402
from streamer_core.retrieval import precision_at_k  # noqa: E402

MEDIAN = 2  # INPUT_QUANTILES' index of 0.5

Candidate = Callable[[dict[str, np.ndarray]], np.ndarray]


def over_regions(name: str, quantiles: tuple[int, ...], of: str = "median") -> Candidate:
    """Each channel's region quantiles `quantiles`, then `of` over the 9 regions."""
    def vector(d):
        regions = d[f"{name} regions"][:, :, :, list(quantiles)]  # [N, C, 9, q]
        pooled = (np.median(regions, axis=2) if of == "median" else
                  np.sort(regions, axis=2))  # sorted: every region's value, layout-free
        return pooled.reshape(len(regions), -1)
    return vector


def picture(name: str, quantiles: tuple[int, ...]) -> Candidate:
    return lambda d: d[f"{name} picture"][:, :, list(quantiles)].reshape(len(d["times"]), -1)


def spread_of_region_medians(name: str) -> Candidate:
    """Each channel's 9 region medians: their 10/50/90 % over the regions."""
    def vector(d):
        medians = d[f"{name} regions"][:, :, :, MEDIAN]
        return np.quantile(medians, [0.1, 0.5, 0.9], axis=2).transpose(1, 2, 0).reshape(
            len(medians), -1)
    return vector


def joined(*parts: Candidate) -> Candidate:
    return lambda d: np.concatenate([p(d) for p in parts], axis=1)


def logged(part: Candidate) -> Candidate:
    return lambda d: np.log1p(np.maximum(part(d), 0) * 10)


CANDIDATES: dict[str, Candidate] = {
    "b1 median of region medians (now)": over_regions("block1", (MEDIAN,)),
    "b1 median over regions of region q25,50,75": over_regions("block1", (1, 2, 3)),
    "b1 median over regions of region q10..90": over_regions("block1", (0, 1, 2, 3, 4)),
    "b1 region medians sorted": over_regions("block1", (MEDIAN,), of="sorted"),
    "b1 region medians q10/50/90": spread_of_region_medians("block1"),
    "b1 picture q10..90": picture("block1", (0, 1, 2, 3, 4)),
    "b1 picture median": picture("block1", (MEDIAN,)),
    "b1 mean": lambda d: d["block1 mean"],
    "b2 median of region medians": over_regions("block2", (MEDIAN,)),
    "b2 median over regions of region q25,50,75": over_regions("block2", (1, 2, 3)),
    "b2 median over regions of region q10..90": over_regions("block2", (0, 1, 2, 3, 4)),
    "b1+b2 median of region medians": joined(over_regions("block1", (MEDIAN,)),
                                             over_regions("block2", (MEDIAN,))),
    "b1+b2 median over regions of q25,50,75": joined(over_regions("block1", (1, 2, 3)),
                                                     over_regions("block2", (1, 2, 3))),
    "b1+b2 median over regions of q10..90": joined(
        over_regions("block1", (0, 1, 2, 3, 4)), over_regions("block2", (0, 1, 2, 3, 4))),
    "b1 log, median over regions of q10..90": logged(over_regions("block1", (0, 1, 2, 3, 4))),
    "b1+b2 log, median over regions of q10..90": logged(joined(
        over_regions("block1", (0, 1, 2, 3, 4)), over_regions("block2", (0, 1, 2, 3, 4)))),
    "encoder output": lambda d: d["output"],
}


WHITENING_FLOOR = 0.01
"""The within-event covariance gets this share of its mean variance on its diagonal"""


def event_vectors(run: Run, inputs: dict[str, np.ndarray], per_input: np.ndarray,
                  events: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Median over each event's inputs (as EventFeatures groups them) [n, D], and the
    inputs' deviations from their event's median [inputs, D]."""
    times = inputs["times"]
    rows, deviations = [], []
    for i in events:
        inside = (times >= run.start[i] - 1e-6) & (times < run.end[i] - 1e-6)
        if not inside.any():  # as the benchmark's keyframe: the input nearest its start
            inside = np.abs(times - run.start[i]) == np.abs(times - run.start[i]).min()
        rows.append(np.median(per_input[inside], axis=0))
        deviations.append(per_input[inside] - rows[-1])
    return np.stack(rows), np.concatenate(deviations)


def within_whitened(vectors: np.ndarray, deviations: np.ndarray) -> np.ndarray:
    """`vectors` less their mean, whitened by the covariance of `deviations`."""
    within = deviations.T.astype(np.float64) @ deviations / len(deviations)
    within += WHITENING_FLOOR * np.trace(within) / len(within) * np.eye(len(within))
    values, axes = np.linalg.eigh(within)
    return (vectors - vectors.mean(axis=0)) @ axes / np.sqrt(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, nargs="+", help="cached runs (.npz) kept with "
                        "--keep-inputs (their .inputs.npz beside)")
    parser.add_argument("--only", nargs="*", default=None, help="candidate names to score")
    args = parser.parse_args()
    names = args.only or list(CANDIDATES)
    table: dict[tuple[int, str], dict[str, list[float]]] = {}
    for path in args.runs:
        run = Run.load(path)
        with np.load(path.with_suffix(".inputs.npz")) as data:
            inputs = {key: data[key].astype(np.float32) for key in data.files}
        for layer, kind in tasks_of(run):
            chosen = np.flatnonzero(run.layer == layer)
            labels = run.labels[kind][chosen].tolist()
            row = table.setdefault((layer, kind), {})
            row.setdefault("online features", []).append(
                precision_at_k(run.features[chosen], labels))
            for name in names:
                vectors, deviations = event_vectors(run, inputs, CANDIDATES[name](inputs),
                                                    chosen)
                row.setdefault(name, []).append(precision_at_k(vectors, labels))
                row.setdefault(f"{name}, within-whitened", []).append(precision_at_k(
                    within_whitened(vectors, deviations), labels, standardise=False))
    for (layer, kind), row in table.items():
        print(f"layer {layer}, {kind}")
        for name, values in row.items():
            print(f"  {np.mean(values):.3f} ({' '.join(f'{v:.2f}' for v in values)})  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
