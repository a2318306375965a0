"""CSV: one row per event (layer, index, start, end, duration in seconds), as scene lists
of video tools; spreadsheets and pandas read it."""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

from streamer_core.atomic_file import atomic_file

from .events import Event, EventFileError, hierarchy_doc, layer_name, seconds_text

COLUMNS = ("layer", "index", "start", "end", "duration")


def write_csv(layers: list[list[Event]], path: str | os.PathLike) -> None:
    with atomic_file(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for events in layers:
            for e in events:
                writer.writerow([e.layer, e.index, seconds_text(e.start), seconds_text(e.end),
                                 seconds_text(e.duration)])


def read_csv(path: str | os.PathLike) -> dict:
    """A hierarchy doc from a CSV with at least the columns layer, start and end (seconds);
    layers are numbered in ascending order of their `layer` values."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        try:
            return _read_rows(csv.DictReader(handle), path)
        except csv.Error as err:
            raise EventFileError(f"{path}: not a CSV file ({err})") from None


def _read_rows(reader: csv.DictReader, path: str | os.PathLike) -> dict:
    spans: dict[int, list[tuple[float, float]]] = {}
    missing = [c for c in ("layer", "start", "end") if c not in (reader.fieldnames or [])]
    if missing:
        raise EventFileError(f"{path}: no column {', '.join(missing)} (a header row "
                             f"names the columns {', '.join(COLUMNS)})")
    for row in reader:
        line = reader.line_num
        try:
            layer, start, end = int(row["layer"]), float(row["start"]), float(row["end"])
        except (TypeError, ValueError):
            raise EventFileError(f"{path} line {line}: layer must be a whole number and "
                                 "start and end numbers of seconds") from None
        if not (math.isfinite(start) and math.isfinite(end) and 0 <= start <= end):
            raise EventFileError(f"{path} line {line}: an event needs 0 <= start <= end")
        spans.setdefault(layer, []).append((start, end))
    if not spans:
        raise EventFileError(f"{path}: no events")
    order = sorted(spans)
    return hierarchy_doc([spans[layer] for layer in order], file=Path(path).name,
                        names=[layer_name(layer) for layer in order])
