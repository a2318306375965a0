"""Event representations that do not move with the weights: the `features` choice of
`event_representation`.

The paper's representation of an event is its layer's class-token summary at the moment
it closes (`summary`). Learning online, two events of the same kind summarised by
weights minutes apart are far apart: their nearest neighbours are the events next to them
in time (docs/quality.md, "Retrieval"). Here an event of any layer is instead the median,
over the layer-0 inputs it spans, of what most of each picture shows
(`CNNEncoder.prevailing` of layer 0's first convolution block). The median over the
event keeps what was in view for most of it, not the object that crossed it or the next
scene it ran into. The block is read as the model started, frozen (FrozenFirstBlock), not
as the session's learning moves it: events of the same shot found each other less the
longer a session learned. A `live` model starts from the shipped learned block, which
finds an event's object better than a drawn one (docs/quality.md, "Retrieval").

Under `motion` a layer-0 event is instead what moved in it (`moving_in`): on a still
camera every event shows the same street, and what tells one from another is who or what
went through it; the layers above, whose events are scenes, keep what was in view.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING

import torch
import torch.nn as nn

from .networks import first_block_of, prevailing_in, prevailing_of
from .pending_scene import SCENE_LOOKAHEAD

if TYPE_CHECKING:  # the layer's settings name this module's choices
    from .layer import LayerStep

SUMMARY = "summary"
"""An event is the representation its layer sends up (the spec)"""
FEATURES = "features"
"""An event is the median of its inputs' prevailing features (see module doc)"""
MOTION = "motion"
"""A layer-0 event is the median of its inputs' moving features (`moving_in`), an event
above it as under FEATURES"""
EVENT_REPRESENTATIONS = (SUMMARY, FEATURES, MOTION)

MOVING_SHARE = 0.02
"""The share of a picture's positions `moving_in` reads, less than an object passing covers;
at 5 % and 10 % the synthetic scene's objects were found by their colour less often
(docs/quality.md, "Retrieval")"""

MOST_INPUTS = 4096
"""Inputs kept per open event (34 min at 2 inputs/s); beyond, every other one is dropped
and only every other one after it kept, and so on"""

LATE_INPUTS = SCENE_LOOKAHEAD + 1
"""The newest inputs an open event holds apart: a new scene reaches layer 1 this many
inputs late at most (pending_scene.SCENE_LOOKAHEAD, or at the stream's end)"""


class FrozenFirstBlock:
    """Layer 0's first convolution as the model started (or was loaded), frozen: what the
    events' features are read with. Learning moves the encoder's own block (`live`'s
    prediction a little, `sparse_change` much); features read by it drift with the session,
    and on the montages the same shot's events found each other less often (precision@5
    0.80 against 0.86 with the block frozen, 0.74 against 0.91 under sparse_change;
    docs/quality.md, "Retrieval"). A plain object, not a module: no optimizer, averaging
    or reference checkpoint sees it; a studio checkpoint keeps its `state`."""

    def __init__(self, conv1: nn.Conv2d) -> None:
        self.conv = copy.deepcopy(conv1).requires_grad_(False)

    @torch.no_grad()
    def prevailing(self, images: torch.Tensor) -> torch.Tensor:
        """CNNEncoder.prevailing [N, C], by this frozen block."""
        return prevailing_of(self.conv, images)

    @torch.no_grad()
    def read(self, images: torch.Tensor, before: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """One picture [1, 3, H, W] and the first block of the one before it (None at a
        stream's start) -> its prevailing features [1, C], its moving features [1, C]
        (`moving_in`) and its first block, for the next."""
        block = first_block_of(self.conv, images)
        in_view = prevailing_in(block)
        return in_view, moving_in(block, before, in_view), block

    def state(self) -> dict[str, torch.Tensor]:
        return {name: value.detach().cpu().clone()
                for name, value in self.conv.state_dict().items()}

    def load_state(self, state: dict[str, torch.Tensor]) -> None:
        """A checkpoint's block; ValueError if it does not fit or is not finite."""
        if not isinstance(state, dict) or set(state) != set(self.conv.state_dict()):
            raise ValueError("the frozen first block is not a convolution's weights")
        for name, value in self.conv.state_dict().items():
            saved = state[name]
            if not isinstance(saved, torch.Tensor) or saved.shape != value.shape:
                raise ValueError(f"the frozen first block has another shape ({name})")
            if not bool(torch.isfinite(saved).all()):
                raise ValueError("the frozen first block holds NaN or infinite values")
        self.conv.load_state_dict(state)


def moving_in(block: torch.Tensor, before: torch.Tensor | None, in_view: torch.Tensor,
              share: float = MOVING_SHARE) -> torch.Tensor:
    """What moved in a picture, by a first block's output [N, C, H, W]: the mean of its
    features [N, C] at the `share` of its positions that both changed most since the block
    `before` and differ most from what most of the picture shows (`in_view`, the prevailing
    features). Changed alone, half of them are where a moving object was, now the floor;
    different alone, they are the window and the furniture, the same in every event of a
    room. Without a picture before (or of another size), by the difference alone."""
    flat = block.flatten(2)
    differs = (flat - in_view[:, :, None]).norm(dim=1)  # [N, positions]
    changed = (differs if before is None or before.shape != block.shape
               else (flat - before.flatten(2)).norm(dim=1))
    count = max(1, round(share * flat.shape[2]))
    where = (differs * changed).topk(count, dim=1).indices
    return flat.gather(2, where[:, None, :].expand(-1, flat.shape[1], -1)).mean(dim=2)


class OpenEvent:
    """The inputs of one layer's open event: every `stride`-th one, at most `most`. The
    newest `late` of them are held apart until older: a boundary that reaches its layer
    late (a new scene, pending_scene) hands them to the event it starts (`split_off`)."""

    def __init__(self, most: int, late: int = LATE_INPUTS) -> None:
        self.most = most
        self.late = late
        self.inputs: list[torch.Tensor] = []
        self.newest: deque[torch.Tensor] = deque()
        self.stride = 1
        self.seen = 0

    def add(self, features: torch.Tensor) -> None:
        self.newest.append(features)
        if len(self.newest) > self.late:
            self._keep(self.newest.popleft())

    def _keep(self, features: torch.Tensor) -> None:
        if self.seen % self.stride == 0:
            self.inputs.append(features)
            if len(self.inputs) > self.most:  # evenly thinned: the median stays the whole's
                del self.inputs[1::2]
                self.stride *= 2
        self.seen += 1

    def split_off(self, count: int) -> OpenEvent:
        """Takes the newest `count` inputs (as many as are held apart; none for 0 or
        fewer) into a new event."""
        after = OpenEvent(self.most, self.late)
        for _ in range(min(count, len(self.newest))):
            after.newest.appendleft(self.newest.pop())
        return after

    def median(self) -> torch.Tensor | None:
        inputs = [*self.inputs, *(features for i, features in enumerate(self.newest)
                                  if (self.seen + i) % self.stride == 0)]  # as `_keep` will
        if not inputs:
            return None
        return torch.cat(inputs).median(dim=0, keepdim=True).values


class EventFeatures:
    """Per layer, the prevailing features of the layer-0 inputs since its last boundary."""

    def __init__(self, most_inputs: int = MOST_INPUTS) -> None:
        self.most_inputs = most_inputs
        self.open: dict[int, OpenEvent] = {}

    def reset(self) -> None:
        """A new stream: every layer's event starts again."""
        self.open = {}

    def observe(self, features: torch.Tensor, reports: Iterable[LayerStep],
                num_layers: int, layer_0_features: torch.Tensor | None = None
                ) -> dict[int, torch.Tensor | None]:
        """One layer-0 input's features [1, C] and the reports of its step -> the events
        this step closed: layer -> representation [1, C] (None: the event had no input).
        The input itself starts the new event of every layer that marked a boundary.
        `layer_0_features`: what layer 0's events keep instead (`motion`'s moving ones)."""
        reports = list(reports)
        step = next((r.step for r in reports if r.layer == 0), None)
        closed = self.close(reports, step)
        for layer in range(num_layers):
            if layer not in self.open:
                self.open[layer] = OpenEvent(self.most_inputs)
            kept = features if layer > 0 or layer_0_features is None else layer_0_features
            self.open[layer].add(kept.detach())
        return closed

    def close(self, reports: Iterable[LayerStep], step: int | None = None
              ) -> dict[int, torch.Tensor | None]:
        """Ends the open event of every layer that marked a boundary in `reports` -> layer ->
        its representation (None: the event had no input). `step`: the input that comes
        next (None: the boundaries' own). The inputs since a boundary that arrived late
        start the new event; with none, the next input starts it."""
        closed = {}
        for report in reports:
            if not report.boundary:
                continue
            event = self.open.pop(report.layer, None)
            if event is not None and step is not None:
                after = event.split_off(step - report.step)
                if after.newest:
                    self.open[report.layer] = after
            closed[report.layer] = event.median() if event is not None else None
        return closed

    def current(self, layer: int) -> torch.Tensor | None:
        """The representation of `layer`'s open event [1, C], None if it has no input."""
        event = self.open.get(layer)
        return event.median() if event is not None else None
