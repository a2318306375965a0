"""Steady light: a webcam's exposure steps and flicker taken out of layer 0's input.

A webcam's auto-exposure moves the whole picture's brightness in a step, and a
flickering lamp does it for a frame; neither is an event. On OpenCV's still street
camera with exposure steps drawn over it (benchmarks/still_camera_faults.py) layer 0
marked 5 to 7 of every 8 or 9 steps as events (docs/quality.md, session thirty-two).

A change of light multiplies every part of the picture by about the same factor; someone
entering changes a few parts, a cut or a moving camera changes each part differently. So
each input's brightness is measured over LIGHT_GRID x LIGHT_GRID regions, and where the
regions' ratios to the last input's agree (their spread around their median at most
LIGHT_AGREE of the median's own distance from 1) the median is taken for a change of light
and divided out. What was divided out eases back
by LIGHT_EASE an input, so a real change of the light settles in over seconds, as a
gradual drift that no boundary reads, and nothing accumulates. Not kept in checkpoints:
a resumed session starts from the light it sees.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LIGHT_GRID = 8
"""Regions a side over which the brightness is compared (16 x 16 of the 128 x 128 input)"""
LIGHT_AGREE = 0.15
"""The most the regions' log brightness ratios may spread (median absolute deviation), as
a share of their median's size, for the median to count as a change of light. Exposure
steps and flicker drawn over a still street camera spread 0.01 to 0.06 of it; a hand-held
camera's changes (montage 59) 0.24 and more, and dividing those out cost layer 0 two false
boundaries inside its hand-held pieces at 0.1 of a log unit (docs/quality.md, session
thirty-two)"""
LIGHT_EASE = 0.05
"""Share of the correction (in log) given up each input: about 10 s at `live`'s 0.5 s"""
MAX_CORRECTION = 4.0
"""The most the input's brightness is scaled either way"""
DARK = 0.02
"""Regions darker than this count as this dark: their ratios are noise"""


class SteadyLight:
    """Divides sudden changes of the whole picture's brightness out of each input."""

    def __init__(self) -> None:
        self.last: torch.Tensor | None = None  # the last input's regions' brightness
        self.gain = 1.0  # what the light changed by, still divided out

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """One input [1, 3, H, W] in [-1, 1] -> the same with the light held steady."""
        pixels = (x + 1.0) / 2.0
        light = F.adaptive_avg_pool2d(pixels.mean(dim=1, keepdim=True), LIGHT_GRID)
        light = light.flatten().clamp_min(DARK)
        if self.last is not None and self.last.shape == light.shape:
            ratios = torch.log(light / self.last)
            centre = ratios.median()
            spread = (ratios - centre).abs().median()
            centre, spread = torch.stack([centre, spread]).tolist()
            if spread <= LIGHT_AGREE * abs(centre):
                self.gain *= math.exp(centre)
        self.last = light
        self.gain = min(max(self.gain ** (1.0 - LIGHT_EASE), 1.0 / MAX_CORRECTION),
                        MAX_CORRECTION)
        if abs(self.gain - 1.0) < 1e-4:
            return x
        return (pixels / self.gain).clamp(0.0, 1.0) * 2.0 - 1.0

    def reset(self) -> None:
        self.last = None
        self.gain = 1.0
