"""Event representations that do not move with the weights: the `features` choice of
`event_representation`.

The paper's representation of an event is its layer's class-token summary at the moment
it closes (`summary`). Learning online, two events of the same kind summarised by
weights minutes apart are far apart: their nearest neighbours are the events next to them
in time (docs/quality.md, "Retrieval"). Here an event of any layer is instead the median,
over the layer-0 inputs it spans, of what most of each picture shows
(`CNNEncoder.prevailing` of layer 0's first convolution block). The median over the
event keeps what was in view for most of it, not the object that crossed it or the next
scene it ran into. The block is read as it was drawn (DrawnFirstBlock), not as learning
moves it: events of the same shot found each other less the longer a session learned.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
import torch.nn as nn

from .networks import prevailing_of

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


class DrawnFirstBlock:
    """Layer 0's first convolution as the model was drawn (or loaded), frozen: what the
    events' features are read with. Learning moves the encoder's own block (`live`'s
    prediction a little, `sparse_change` much); features read by it drift with the session,
    and on the montages the same shot's events found each other less often (precision@5
    0.80 against 0.86 with the block as drawn, 0.74 against 0.91 under sparse_change;
    docs/quality.md, "Retrieval"). A plain object, not a module: no optimizer, averaging
    or reference checkpoint sees it; a studio checkpoint keeps its `state`."""

    def __init__(self, conv1: nn.Conv2d) -> None:
        self.conv = copy.deepcopy(conv1).requires_grad_(False)

    @torch.no_grad()
    def prevailing(self, images: torch.Tensor) -> torch.Tensor:
        """CNNEncoder.prevailing [N, C], by this frozen block."""
        return prevailing_of(self.conv, images)

    def state(self) -> dict[str, torch.Tensor]:
        return {name: value.detach().cpu().clone()
                for name, value in self.conv.state_dict().items()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """A checkpoint's block; ValueError if it does not fit or is not finite."""
        if not isinstance(state, dict) or set(state) != set(self.conv.state_dict()):
            raise ValueError("the first block as drawn is not a convolution's weights")
        for name, value in self.conv.state_dict().items():
            saved = state[name]
            if not isinstance(saved, torch.Tensor) or saved.shape != value.shape:
                raise ValueError(f"the first block as drawn has another shape ({name})")
            if not bool(torch.isfinite(saved).all()):
                raise ValueError("the first block as drawn holds NaN or infinite values")
        self.conv.load_state_dict(state)


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
