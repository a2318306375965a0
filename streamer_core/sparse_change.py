"""What layer 0's first convolution blocks learn from (`block_objective`).

Layer 0 reading features (`signal_space` "features") marks a boundary where the pooled
output of its first two convolution blocks (networks.descriptor_of) steps far more than
usual. Learned from the prediction (the spec), those blocks drift in ways the reading does
not ask for: the more a session learned, the fewer object visits it marked
(docs/quality.md). Under "sparse_change" the prediction's gradient does not move them;
they learn instead that what is in view changes rarely and then by much: over windows of
consecutive inputs, the largest tenth of the steps is pushed away from the rest, until
they stand MARGIN times above it. Pushed further, whatever still changed became an event:
without a margin a long session lost what it gained (round sixteen), and with 20 an object
moved in a hand was marked (round eighteen). On object visits and a still street camera a
model that has learned then marks more of them (docs/quality.md, rounds fifteen to
eighteen). `live` learns this way since round eighteen.
"""

from __future__ import annotations

import math
from collections import deque

import torch
import torch.nn as nn

from .networks import CNNEncoder, descriptor_of

PREDICTION = "prediction"
SPARSE_CHANGE = "sparse_change"

WINDOW = 40
"""Consecutive inputs per learning step (20 s at 0.5 s an input)"""
EVENT_SHARE = 0.1
"""The share of a window's steps taken as its events"""
STEPS_PER_UPDATE = 10
"""Learning steps at each weight update of the model"""
MEMORY = 120
"""Latest inputs the windows are drawn from (a minute at 0.5 s)"""
LEARNING_RATE = 1e-3
MARGIN = 5.0
"""Event steps this many times the usual ones are sparse enough: the loss goes no lower
(the drawn blocks start near 3)"""


def sparseness_ratio(descriptors: torch.Tensor) -> torch.Tensor:
    """Descriptors of consecutive inputs [N, C] -> log of the usual step over the event
    steps (the largest EVENT_SHARE of them): lower when the steps are rare and large."""
    steps = (descriptors[1:] - descriptors[:-1]).abs().mean(dim=1)
    ranked = steps.sort(descending=True).values
    events = max(1, round(len(ranked) * EVENT_SHARE))
    if events >= len(ranked):
        raise ValueError(f"a window of {len(descriptors)} inputs has no usual step")
    return torch.log(ranked[events:].mean() + 1e-12) - torch.log(ranked[:events].mean() + 1e-12)


def sparseness_loss(descriptors: torch.Tensor, margin: float = MARGIN) -> torch.Tensor:
    """`sparseness_ratio` down to -log(margin), where it stops teaching."""
    return sparseness_ratio(descriptors).clamp(min=-math.log(margin))


class SparseChangeLearner:
    """Remembers layer 0's latest inputs and trains its encoder's first blocks on them,
    with an Adam of its own (the prediction's Adam leaves them alone, see
    `drop_prediction_gradients`)."""

    def __init__(self, encoder: CNNEncoder):
        self.encoder = encoder
        self.memory: deque[torch.Tensor] = deque(maxlen=MEMORY)
        self.optim = torch.optim.Adam(self.parameters(), lr=LEARNING_RATE)
        self.last_loss: float | None = None
        self.windows: torch.Generator | None = None
        """Draws the windows; None: torch's global RNG, which differs from run to run"""

    def seed_windows(self, seed: int) -> None:
        """The same windows for the same seed, so that a seeded session is repeatable."""
        self.windows = torch.Generator().manual_seed(seed)

    def parameters(self) -> list[nn.Parameter]:
        """Those of the blocks `descriptor_of` reads (conv1 and conv2)."""
        return [p for conv in self.encoder.first_convolutions() for p in conv.parameters()]

    def remember(self, x: torch.Tensor) -> None:
        """One input [1, 3, H, W]."""
        self.memory.append(x.detach())

    def drop_prediction_gradients(self) -> None:
        """Before the prediction's Adam steps: it skips parameters without a gradient."""
        for p in self.parameters():
            p.grad = None

    def learn(self) -> bool:
        """STEPS_PER_UPDATE steps on random windows of the memory; False while it holds
        less than a window."""
        if len(self.memory) < WINDOW:
            return False
        inputs = torch.cat(list(self.memory))
        floor = -math.log(MARGIN)
        for _ in range(STEPS_PER_UPDATE):
            start = int(torch.randint(0, len(inputs) - WINDOW + 1, (1,), generator=self.windows))
            window = inputs[start:start + WINDOW]
            ratio = sparseness_ratio(descriptor_of(self.encoder.first_blocks(window)))
            value = ratio.item()
            self.optim.zero_grad()
            if value < floor:
                # Past the margin the loss is flat: the gradient is zero without a backward
                # pass (most windows once learned), and Adam still steps on its momentum.
                for p in self.parameters():
                    p.grad = torch.zeros_like(p)
            else:
                ratio.backward()  # sparseness_loss's gradient above the margin
            self.optim.step()
            self.last_loss = max(value, floor)
        self.drop_prediction_gradients()  # nothing of this reaches the prediction's Adam
        return True
