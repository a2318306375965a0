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


def image_cosine(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """Cosine similarity along dim 1 of images [N, C, H, W], per pixel [N, H, W], from sums
    over the channels: torch's `cosine_similarity` to float rounding, gradients too (a
    zero vector's as well). On a CPU torch's takes 5.5 ms for a 128 x 128 picture, most
    of it its norm along the strided channel dim, and layer 0 takes three a step; this,
    0.17 ms (benchmarks/image_cosine.py)."""
    a_norm = (a * a).sum(1, keepdim=True).clamp_min(eps * eps).sqrt()
    b_norm = (b * b).sum(1, keepdim=True).clamp_min(eps * eps).sqrt()
    return ((a / a_norm) * (b / b_norm)).sum(1)


class StreamerLoss(nn.Module):
    """Returns (objective to minimise, demarcation signal). With `fast_images` (the fast
    path), the cosine of images is `image_cosine`; the reference path keeps torch's."""

    def __init__(self, dist_mode: str, fast_images: bool = False):
        super().__init__()
        self.dist_mode = dist_mode
        self.fast_images = fast_images and dist_mode == SIMILARITY
        self.criterion = nn.CosineSimilarity() if dist_mode == SIMILARITY else nn.MSELoss()

    def _compare(self, context: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.fast_images and context.dim() == 4:
            return image_cosine(context, target)
        return self.criterion(context, target)

    def forward(self, context: torch.Tensor,
                target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        signal = self._compare(context, target).mean()
        objective = -signal if self.dist_mode == SIMILARITY else signal
        return objective, signal

    @torch.no_grad()
    def per_region(self, context: torch.Tensor, target: torch.Tensor,
                   regions: int) -> torch.Tensor:
        """Images [1, 3, H, W]: the signal averaged over each cell of a regions x regions
        grid [regions * regions]; their mean is the signal (for a grid that divides H, W)."""
        if self.dist_mode == SIMILARITY:
            per_pixel = self._compare(context, target)  # [1, H, W]
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
