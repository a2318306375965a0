"""Similar events: cosine similarity between event representations, and how well it
retrieves events of the same kind (precision@k). Plain numpy, no torch, no I/O.

Events are compared among the events of their layer (`similar_rows`): each dimension is
first standardised over them, so that what every event shares (the direction all the
summaries have in common, the features every picture has) does not drown what tells
them apart."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def cosine_similarities(query: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """Cosine similarity of `query` [D] with each row of `candidates` [N, D]; a zero
    vector is similar to nothing (0)."""
    candidates = np.asarray(candidates, dtype=np.float64).reshape(len(candidates), -1)
    query = np.asarray(query, dtype=np.float64).reshape(-1)
    norms = np.linalg.norm(candidates, axis=1) * np.linalg.norm(query)
    dots = candidates @ query
    return np.divide(dots, norms, out=np.zeros_like(dots), where=norms > 0)


def most_similar(query: np.ndarray, candidates: np.ndarray, k: int,
                 exclude: int | None = None) -> list[tuple[int, float]]:
    """The k rows of `candidates` most similar to `query`, best first, as (row, cosine);
    `exclude` (the query's own row) is left out. Ties keep the earlier row first."""
    if k < 1:
        raise ValueError("k must be 1 or more")
    similarities = cosine_similarities(query, candidates)
    order = np.argsort(-similarities, kind="stable")
    rows = [int(i) for i in order if i != exclude][:k]
    return [(row, float(similarities[row])) for row in rows]


LEAST_TO_STANDARDISE = 3
"""Fewer events than this are compared as they are: two standardised vectors are opposites"""


def standardised(vectors: np.ndarray) -> np.ndarray:
    """Each column of `vectors` [N, D] less its mean, over its spread (a column that does
    not vary is 0); fewer than LEAST_TO_STANDARDISE rows come back as they are."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(vectors) < LEAST_TO_STANDARDISE:
        return vectors
    spread = vectors.std(axis=0)
    centred = vectors - vectors.mean(axis=0)
    return np.divide(centred, spread, out=np.zeros_like(centred), where=spread > 1e-12)


def similar_rows(vectors: np.ndarray, row: int, k: int) -> list[tuple[int, float]]:
    """The k rows of `vectors` [N, D] (one layer's events) most like row `row`, best
    first, as (row, cosine of the standardised vectors)."""
    vectors = standardised(vectors)
    return most_similar(vectors[row], vectors, k, exclude=row)


def precision_at_k(vectors: np.ndarray, labels: Sequence[object], k: int = 5,
                   standardise: bool = True) -> float:
    """Mean, over every event whose label recurs, of the fraction of its k most similar
    other events (`similar_rows`; plain cosine without `standardise`) that share its
    label. Events whose label occurs once have nothing to find and are skipped; NaN when
    no label recurs."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if standardise:
        vectors = standardised(vectors)
    labels = list(labels)
    if len(vectors) != len(labels):
        raise ValueError("one label per vector")
    scores = []
    for i, label in enumerate(labels):
        if labels.count(label) < 2:
            continue
        found = most_similar(vectors[i], vectors, k, exclude=i)
        scores.append(sum(labels[row] == label for row, _ in found) / len(found))
    return float(np.mean(scores)) if scores else float("nan")
