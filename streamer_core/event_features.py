"""Event representations that do not move with the weights: the `features` choice of
`event_representation`.

The paper's representation of an event is its layer's class-token summary at the moment
it closes (`summary`). Learning online, two events of the same kind summarised by
weights minutes apart are far apart: their nearest neighbours are the events next to them
in time (docs/quality.md, "Retrieval"). Here an event of any layer is instead the median,
over the layer-0 inputs it spans, of what most of each picture shows
(`CNNEncoder.prevailing`: layer 0's first convolution block, which learning moves far
less than the layers after it). The median over the event keeps what was in view for
most of it, not the object that crossed it or the next scene it ran into.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:  # the layer's settings name this module's choices
    from .layer import LayerStep

SUMMARY = "summary"
"""An event is the representation its layer sends up (the spec)"""
FEATURES = "features"
"""An event is the median of its inputs' prevailing features (see module doc)"""
EVENT_REPRESENTATIONS = (SUMMARY, FEATURES)

MOST_INPUTS = 4096
"""Inputs kept per open event (34 min at 2 inputs/s); beyond, every other one is dropped
and only every other one after it kept, and so on"""


class OpenEvent:
    """The inputs of one layer's open event: every `stride`-th one, at most `most`."""

    def __init__(self, most: int) -> None:
        self.most = most
        self.inputs: list[torch.Tensor] = []
        self.stride = 1
        self.seen = 0

    def add(self, features: torch.Tensor) -> None:
        if self.seen % self.stride == 0:
            self.inputs.append(features)
            if len(self.inputs) > self.most:  # evenly thinned: the median stays the whole's
                del self.inputs[1::2]
                self.stride *= 2
        self.seen += 1

    def median(self) -> torch.Tensor | None:
        if not self.inputs:
            return None
        return torch.cat(self.inputs).median(dim=0, keepdim=True).values


class EventFeatures:
    """Per layer, the prevailing features of the layer-0 inputs since its last boundary."""

    def __init__(self, most_inputs: int = MOST_INPUTS) -> None:
        self.most_inputs = most_inputs
        self.open: dict[int, OpenEvent] = {}

    def reset(self) -> None:
        """A new stream: every layer's event starts again."""
        self.open = {}

    def observe(self, features: torch.Tensor, reports: Iterable[LayerStep],
                num_layers: int) -> dict[int, torch.Tensor | None]:
        """One layer-0 input's features [1, C] and the reports of its step -> the events
        this step closed: layer -> representation [1, C] (None: the event had no input).
        The input itself starts the new event of every layer that marked a boundary."""
        closed = {}
        for report in reports:
            if report.boundary:
                closed[report.layer] = self.current(report.layer)  # None: a new layer's
                self.open.pop(report.layer, None)
        for layer in range(num_layers):
            if layer not in self.open:
                self.open[layer] = OpenEvent(self.most_inputs)
            self.open[layer].add(features.detach())
        return closed

    def current(self, layer: int) -> torch.Tensor | None:
        """The representation of `layer`'s open event [1, C], None if it has no input."""
        event = self.open.get(layer)
        return event.median() if event is not None else None
