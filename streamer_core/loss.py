"""Prediction loss: cosine similarity or mean squared error."""

from __future__ import annotations

import torch
import torch.nn as nn

from .buffer import SIMILARITY


class StreamerLoss(nn.Module):
    """Returns (objective to minimise, demarcation signal)."""

    def __init__(self, dist_mode: str):
        super().__init__()
        self.dist_mode = dist_mode
        self.criterion = nn.CosineSimilarity() if dist_mode == SIMILARITY else nn.MSELoss()

    def forward(self, context: torch.Tensor,
                target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        signal = self.criterion(context, target).mean()
        objective = -signal if self.dist_mode == SIMILARITY else signal
        return objective, signal

    # The reference's module protocol; the loss has no parameters.
    def get_params(self) -> list[nn.Parameter]:
        return []

    def step_params(self) -> None:
        pass

    def zero_params(self) -> None:
        pass
