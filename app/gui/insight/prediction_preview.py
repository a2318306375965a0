"""What layer 0 expected to see, and where it was surprised: taken on the learner thread.

Before a step, layer 0's prediction of the coming input is its `context` (decoded to an
image). After the step, the input it saw is compared with it region by region, in the
layer's own terms. Taken at most once per `interval` seconds, so that it costs learning
almost nothing (measured in docs/performance.md); the GUI shows the newest one. No Qt
here.

A layer whose loss is the cosine of each pixel's colour (`distance_mode` "similarity",
every preset's) learns which way each pixel's colour points, not how far: its
predictions are small (a pixel's length about 0.1 against the input's 0.4 to 1), a flat
grey when drawn as they are, and their squared error is mostly the input's own
brightness. Such a prediction is drawn with its scale stretched (one factor for the whole
picture), and its surprise is 1 - cosine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from streamer_core import StreamerModel
from streamer_core.loss import image_cosine

DEFAULT_INTERVAL = 0.5
"""Seconds of wall time between two previews at most"""
REGIONS = 16
"""The surprise map's grid (REGIONS x REGIONS)"""


@dataclass(frozen=True)
class PredictionFrame:
    time: float
    """Model time of the input it is about"""
    expected: np.ndarray
    """Layer 0's prediction, RGB uint8 H x W x 3"""
    seen: np.ndarray
    """The input, RGB uint8 H x W x 3"""
    surprise: np.ndarray
    """Prediction error per region [REGIONS, REGIONS], float32, 1 = the largest of this
    input's regions (at least MIN_SCALE)"""
    error: float
    """The whole picture's error in `measure`'s terms (inputs in [-1, 1])"""
    measure: str = "MSE"
    """What `error` and `surprise` are: "MSE", or "1 - cosine" (of each pixel's colour)"""


MIN_SCALE = 0.02
"""Errors below this read as no surprise at all (a well-predicted picture stays dark)"""
STRETCH_QUANTILE = 0.99
"""A scale-free prediction is drawn with this quantile of its pixels' lengths at full
length (1): the few longest do not set the scale"""


def to_picture(image: torch.Tensor) -> np.ndarray:
    """[1, 3, H, W] in [-1, 1] -> RGB uint8 H x W x 3."""
    scaled = ((image.detach().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return scaled[0].permute(1, 2, 0).cpu().numpy()


class PredictionPreview:
    """Used by the learner worker only (one thread)."""

    def __init__(self, interval: float = DEFAULT_INTERVAL,
                 clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.enabled = True
        self._last = -float("inf")

    def expectation(self, model: StreamerModel) -> torch.Tensor | None:
        """Layer 0's prediction of the coming input, when a preview is due and there is
        one (none on a fresh start)."""
        if not self.enabled or self.clock() - self._last < self.interval:
            return None
        context = model.streamer.context
        if context is None or context.dim() != 4:
            return None
        self._last = self.clock()
        return context.detach()

    @staticmethod
    def frame(expected: torch.Tensor, seen: torch.Tensor, time_: float,
              scale_free: bool = False) -> PredictionFrame:
        """`seen`: the input [1, 3, H, W] the prediction was for. `scale_free`: the layer's
        loss is the cosine of each pixel's colour (see the module's docstring)."""
        with torch.no_grad():
            expected = expected.float().cpu()
            seen = seen.float().cpu()
            if scale_free:
                error = (1 - image_cosine(expected, seen)).unsqueeze(1)  # [1, 1, H, W]
                lengths = expected.pow(2).sum(dim=1).sqrt().flatten()  # not norm(): 2 ms
                drawn = expected / max(float(lengths.quantile(STRETCH_QUANTILE)), 1e-6)
            else:
                error = (expected - seen).pow(2).mean(dim=1, keepdim=True)
                drawn = expected
            regions = F.adaptive_avg_pool2d(error, REGIONS)[0, 0]
            scale = max(float(regions.max()), MIN_SCALE)
            surprise = (regions / scale).numpy().astype(np.float32)
        return PredictionFrame(time_, to_picture(drawn), to_picture(seen), surprise,
                               float(error.mean()), "1 - cosine" if scale_free else "MSE")


def surprise_overlay(seen: np.ndarray, surprise: np.ndarray, opacity: float = 0.55
                     ) -> np.ndarray:
    """The picture with its surprise as heat (dark blue: as expected; red-yellow: not),
    region by region; RGB uint8, the picture's size."""
    height, width = seen.shape[:2]
    levels = np.clip(surprise * 255, 0, 255).astype(np.uint8)
    cells = cv2.resize(levels, (width, height), interpolation=cv2.INTER_NEAREST)
    heat = cv2.cvtColor(cv2.applyColorMap(cells, cv2.COLORMAP_INFERNO), cv2.COLOR_BGR2RGB)
    weight = (opacity * cells.astype(np.float32) / 255)[..., None]
    return (seen * (1 - weight) + heat * weight).round().astype(np.uint8)
