"""Encode each frame once: the CNN embedding is computed when the frame arrives.

The reference re-encodes every buffered frame at every step. Weights change only at
optimizer steps, and an optimizer step makes every layer's next input a fresh start
(its buffer is emptied), so a frame's embedding stays valid for as long as the frame
can be used. The embedding's graph is back-propagated once (see deferred_backward).
"""

from __future__ import annotations

import torch
import torch.nn as nn

from .deferred_backward import DeferredBackward


class EncodedFrames:
    """Frames [1, 3, H, W] -> embedding leaves [1, D] that stand in for them in the buffer."""

    def __init__(self, encoder: nn.Module):
        self.encoder = encoder
        self.deferred = DeferredBackward()

    @property
    def pending(self) -> list:
        return self.deferred.pending

    def encode(self, frame: torch.Tensor) -> torch.Tensor:
        self.deferred.backward()  # frames released since the last call: a safe moment
        embedding, _ = self.encoder(frame)
        return self.deferred.stand_in(embedding)

    def backward(self, everything: bool = False, final: bool = True) -> None:
        self.deferred.backward(everything, final)
