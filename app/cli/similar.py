"""`streamer-studio similar`: the events most like one event, by their representations."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

from app.session.recorder import HIERARCHY_NAME, read_recorded_hierarchy
from streamer_core.evaluation import HierarchyFormatError, check_hierarchy
from streamer_core.event_representations import read_representations
from streamer_core.retrieval import similar_rows

from .errors import EXIT_OK, CliError
from .files import read_json
from .segment import positive_int


def event_reference(text: str) -> tuple[int, int]:
    """LAYER:INDEX, both counted from 0."""
    match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", text)
    if match is None:
        raise argparse.ArgumentTypeError(f"{text!r} is not LAYER:INDEX (e.g. 0:3)")
    return int(match[1]), int(match[2])


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "similar", help="list the events most similar to one event",
        description="The k events of the same layer whose representations are most similar "
                    "(cosine) to the given event's, best first; the file must come from "
                    "'segment --representations'. One line per event: layer, index, "
                    "start, end, similarity.")
    parser.add_argument("prediction", metavar="PRED.json",
                        help="a hierarchy JSON, or a session folder the app recorded")
    parser.add_argument("event", type=event_reference, metavar="LAYER:INDEX",
                        help="the event, as its layer and its index in that layer (from 0)")
    parser.add_argument("-k", type=positive_int, default=5, metavar="K",
                        help="how many events to list (default 5)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    folder = Path(args.prediction)
    if folder.is_dir():  # a recorded session: its events and what it recorded of them
        try:
            doc = read_recorded_hierarchy(folder)
        except (OSError, ValueError) as err:
            raise CliError(f"{folder} is not a recorded session ({HIERARCHY_NAME}: "
                           f"{getattr(err, 'strerror', None) or err})") from None
    else:
        doc = read_json(args.prediction, "prediction")
    try:
        check_hierarchy(doc, args.prediction)
    except HierarchyFormatError as err:
        raise CliError(str(err)) from None
    try:
        layers = read_representations(doc)
    except ValueError as err:
        raise CliError(f"{args.prediction}: {err}") from None
    if not any(vector is not None for events in layers.values() for _, _, vector in events):
        raise CliError(f"{args.prediction} has no event representations (write them with "
                       "'segment --representations')")
    layer, index = args.event
    if layer not in layers:
        raise CliError(f"no layer {layer} in {args.prediction} (layers: "
                       f"{', '.join(map(str, sorted(layers)))})")
    events = layers[layer]
    if index >= len(events):
        raise CliError(f"layer {layer} has {len(events)} events (indexes 0 to "
                       f"{len(events) - 1}); there is no event {index}")
    query = events[index][2]
    if query is None:
        raise CliError(f"event {layer}:{index} has no representation")
    rows = [i for i, (_, _, vector) in enumerate(events) if vector is not None]
    if len({len(events[i][2]) for i in rows}) > 1:
        raise CliError(f"the representations of layer {layer} differ in size")
    if len(rows) < 2:
        print(f"layer {layer} has no other event with a representation to compare with",
              file=sys.stderr)
        return EXIT_OK
    vectors = np.stack([events[i][2] for i in rows])
    for row, similarity in similar_rows(vectors, rows.index(index), args.k):
        start, end, _ = events[rows[row]]
        print(f"{layer}\t{rows[row]}\t{start:.2f}\t{end:.2f}\t{similarity:.4f}")
    return EXIT_OK
