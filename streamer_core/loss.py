"""Prediction loss: cosine similarity or mean squared error."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .buffer import SIMILARITY

PIXELS = "pixels"
FEATURES = "features"
SIGNAL_SPACES = (PIXELS, FEATURES)
"""Where layer 0's `change` rule reads the prediction error: per pixel (region), or per
channel of the encoder's pooled features (networks.descriptor_of)"""


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

    @torch.no_grad()
    def per_region(self, context: torch.Tensor, target: torch.Tensor,
                   regions: int) -> torch.Tensor:
        """Images [1, 3, H, W]: the signal averaged over each cell of a regions x regions
        grid [regions * regions]; their mean is the signal (for a grid that divides H, W)."""
        if self.dist_mode == SIMILARITY:
            per_pixel = self.criterion(context, target)  # [1, H, W]
        else:
            per_pixel = ((context - target) ** 2).mean(dim=1)  # [1, H, W]
        return F.adaptive_avg_pool2d(per_pixel, regions).flatten()

    # The reference's module protocol; the loss has no parameters.
    def get_params(self) -> list[nn.Parameter]:
        return []

    def step_params(self) -> None:
        pass

    def zero_params(self) -> None:
        pass
