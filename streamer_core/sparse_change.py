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
eighteen). `live` learns this way since round eighteen, and since session forty-four a
window already past the margin no longer moves the blocks on Adam's momentum
(`block_hold_at_margin`): that carried them on over a stream seen again, costing its later
passes boundaries.
"""

from __future__ import annotations

import copy
import math
import threading
from collections import deque
from dataclasses import dataclass

import torch
import torch.nn as nn

from .networks import CNNEncoder, descriptor_of, descriptor_steps, through_blocks

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
"""The setting block_lr's default: blocks drawn at random reach the margin within a minute"""
MARGIN = 5.0
"""Event steps this many times the usual ones are sparse enough: the loss goes no lower
(the drawn blocks start near 3)"""


def sparseness_ratio(descriptors: torch.Tensor) -> torch.Tensor:
    """Descriptors of consecutive inputs [N, C] -> log of the usual step over the event
    steps (the largest EVENT_SHARE of them): lower when the steps are rare and large."""
    steps = descriptor_steps(descriptors)
    ranked = steps.sort(descending=True).values
    events = max(1, round(len(ranked) * EVENT_SHARE))
    if events >= len(ranked):
        raise ValueError(f"a window of {len(descriptors)} inputs has no usual step")
    return torch.log(ranked[events:].mean() + 1e-12) - torch.log(ranked[:events].mean() + 1e-12)


def sparseness_loss(descriptors: torch.Tensor, margin: float = MARGIN) -> torch.Tensor:
    """`sparseness_ratio` down to -log(margin), where it stops teaching."""
    return sparseness_ratio(descriptors).clamp(min=-math.log(margin))


@dataclass(frozen=True)
class LearnedChange:
    """What one weight update's learning found: a change of each first-block parameter (in
    `SparseChangeLearner.parameters()`'s order) and the loss it ended on."""

    change: list[torch.Tensor]
    loss: float


class SparseChangeLearner:
    """Remembers layer 0's latest inputs and trains a copy of its encoder's first blocks on
    them, with an Adam of its own (the prediction's Adam leaves the blocks alone, see
    `drop_prediction_gradients`).

    The training runs on a thread of its own while the stream goes on, from the memory as
    it is at a weight update (the first as soon as it holds a window), and what it learned
    reaches the blocks at the next update: done in place it stalled the stream about
    5 s at every update on a 2-core CPU, and a live camera lost those seconds of input
    (docs/performance.md). Handing it over at a fixed point keeps a seeded session
    repeatable, whatever the thread's speed."""

    def __init__(self, encoder: CNNEncoder, learning_rate: float = LEARNING_RATE,
                 background: bool = True, hold_at_margin: bool = False):
        self.encoder = encoder
        self.training_copy = nn.ModuleList(
            copy.deepcopy(conv) for conv in encoder.first_convolutions())
        """What the training moves; the model reads the encoder's own blocks meanwhile"""
        self.memory: deque[torch.Tensor] = deque(maxlen=MEMORY)
        self.learning_rate = learning_rate
        self.optim = torch.optim.Adam(self.training_copy.parameters(), lr=learning_rate)
        self.last_loss: float | None = None
        """The loss the learning handed over last ended on"""
        self.windows: torch.Generator | None = None
        """Draws the windows; None: torch's global RNG, which differs from run to run"""
        self.hold_at_margin = hold_at_margin
        """The setting block_hold_at_margin: no step on a window already past the margin"""
        self.background = background
        """False: learn inside `learn`, holding the stream up (the same result; what
        benchmarks/live_pace.py compares)"""
        self.learned: LearnedChange | None = None
        """Learned and not handed over yet (a checkpoint keeps it)"""
        self.started = False
        """Whether it has begun to learn in this process"""
        self._thread: threading.Thread | None = None
        self._failure: BaseException | None = None
        self._cancelled = threading.Event()

    def seed_windows(self, seed: int) -> None:
        """The same windows for the same seed, so that a seeded session is repeatable."""
        self.windows = torch.Generator().manual_seed(seed)

    def parameters(self) -> list[nn.Parameter]:
        """Those of the blocks `descriptor_of` reads (conv1 and conv2), as the model has them."""
        return [p for conv in self.encoder.first_convolutions() for p in conv.parameters()]

    def remember(self, x: torch.Tensor) -> None:
        """One input [1, 3, H, W]. The first learning starts as soon as the memory holds a
        window, so that it reaches the blocks at the next weight update, not the one after:
        until then the drawn blocks' steps are restless and layer 0 misses most events
        (docs/quality.md, session twenty-one)."""
        self.memory.append(x.detach())
        if not self.started and self.learned is None and len(self.memory) >= WINDOW:
            self._start()

    def drop_prediction_gradients(self) -> None:
        """Before the prediction's Adam steps: it skips parameters without a gradient."""
        for p in self.parameters():
            p.grad = None

    def learn(self) -> bool:
        """At a weight update: hands over what the last one's learning found, then starts
        learning from the memory as it is now; False while it holds less than a window."""
        self.hand_over()
        if len(self.memory) < WINDOW:
            return False
        self._start()
        return True

    def _start(self) -> None:
        """Learning from the memory as it is now, on a copy of the blocks as they are."""
        self.started = True
        inputs = torch.cat(list(self.memory))
        self._follow_the_blocks()
        with torch.no_grad():
            for trained, read in zip(self.training_copy.parameters(), self.parameters(),
                                     strict=True):
                trained.copy_(read)
        if not self.background:
            self._learn_from(inputs)
            return
        self._thread = threading.Thread(target=self._learn_from, args=(inputs,),
                                        name="sparse-change learning")
        self._thread.start()

    def _follow_the_blocks(self) -> None:
        """The copy and its Adam go where the model's blocks are: the model is moved to its
        device (a GPU) after this learner was made with its layer, and a copy left on the
        CPU failed the first weight update of `live` on CUDA."""
        device = self.parameters()[0].device
        if next(self.training_copy.parameters()).device == device:
            return
        self.training_copy.to(device)
        for state in self.optim.state.values():
            for key, value in state.items():
                if torch.is_tensor(value) and key != "step":
                    state[key] = value.to(device)

    @property
    def busy(self) -> bool:
        """Whether a learning runs on its thread now."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self) -> None:
        """Until the learning in progress is done (what it found waits for `hand_over`)."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._failure is not None:
            failure, self._failure = self._failure, None
            raise failure

    def cancel(self) -> None:
        """Ends the learning in progress at its next window and forgets it: for the thread
        that runs the model, before it ends (a Python thread outliving the Qt thread that
        started it aborts the process at exit)."""
        self._cancelled.set()
        try:
            self.wait()
        finally:
            self._cancelled.clear()
        self.learned = None

    def hand_over(self) -> None:
        """Adds what was learned to the model's blocks, as a change, so that whatever else
        moved them meanwhile (averaging across ranks) stays."""
        self.wait()
        if self.learned is None:
            return
        with torch.no_grad():
            for param, change in zip(self.parameters(), self.learned.change, strict=True):
                param.add_(change.to(param.device))
        self.last_loss = self.learned.loss
        self.learned = None

    def _learn_from(self, inputs: torch.Tensor) -> None:
        """STEPS_PER_UPDATE steps on random windows of `inputs`, on the copy."""
        try:
            start = [p.detach().clone() for p in self.training_copy.parameters()]
            floor = -math.log(MARGIN)
            loss = floor
            for _ in range(STEPS_PER_UPDATE):
                if self._cancelled.is_set():
                    return
                first = int(torch.randint(0, len(inputs) - WINDOW + 1, (1,),
                                          generator=self.windows))
                window = inputs[first:first + WINDOW]
                ratio = sparseness_ratio(descriptor_of(through_blocks(self.training_copy, window)))
                value = ratio.item()
                loss = max(value, floor)
                self.optim.zero_grad()
                if value < floor:
                    # Past the margin the loss is flat: the gradient is zero without a
                    # backward pass (most windows once learned). Adam would still step
                    # on its momentum, unless the blocks hold there.
                    if self.hold_at_margin:
                        continue
                    for p in self.training_copy.parameters():
                        p.grad = torch.zeros_like(p)
                else:
                    ratio.backward()  # sparseness_loss's gradient above the margin
                self.optim.step()
            ended = [p.detach() for p in self.training_copy.parameters()]
            self.learned = LearnedChange([e - s for e, s in zip(ended, start)], loss)
        except BaseException as failure:  # noqa: BLE001 - raised again by `wait`
            self._failure = failure
