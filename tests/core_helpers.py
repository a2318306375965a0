"""Small models and frame streams for the core tests (CPU, fast)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from streamer_core import (
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
)

SMALL = dict(max_layers=3, feature_dim=16, evolve_every=3, buffer_size=3, window_size=3,
             distance_mode="similarity", force_base_dist=False, init_layers=1, device="cpu")


def scene_frames(n: int, seed: int = 0, scene_length: int = 7) -> list[torch.Tensor]:
    """Frames [1, 3, 128, 128] in [-1, 1]: a few smooth scenes with noise, switching regularly."""
    g = torch.Generator().manual_seed(seed)
    scenes = [torch.rand(1, 3, 16, 16, generator=g) for _ in range(4)]
    frames = []
    for t in range(n):
        scene = F.interpolate(scenes[(t // scene_length) % 4], size=128, mode="bilinear")
        noisy = scene + 0.05 * torch.randn(1, 3, 128, 128, generator=g)
        frames.append((noisy * 2 - 1).clamp(-1, 1))
    return frames


def small_model(seed: int | None = 0, optimize_every: int = 4, **overrides
                ) -> tuple[StreamerModel, StreamerOptimizer]:
    args = StreamerModelArguments(**{**SMALL, "seed": seed, **overrides})
    model = StreamerModel(args)
    opt_args = StreamerOptimizerArguments(optimize_every=optimize_every,
                                          max_layers=args.max_layers)
    return model, StreamerOptimizer(model, opt_args)


def run(model: StreamerModel, optimizer: StreamerOptimizer | None,
        frames: list[torch.Tensor]) -> list:
    """Feeds frames (learning if an optimizer is given); returns every LayerStep."""
    reports = []
    for x in frames:
        reports += model(x)
        if optimizer is not None:
            optimizer.step()
    return reports
