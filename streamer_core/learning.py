"""One input through the model: the step the CLI pipeline and the app's learner share."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import torch

from .device import to_device
from .divergence import DivergenceGuard
from .layer import LayerStep
from .model import StreamerModel
from .optimizer import StreamerOptimizer


def learning_step(model: StreamerModel, optimizer: StreamerOptimizer | None, x: torch.Tensor,
                  learn: bool = True, stop: threading.Event | None = None,
                  guard: DivergenceGuard | None = None,
                  picture: np.ndarray | None = None, behind: bool = False) -> list[LayerStep]:
    """Feeds frame `x` [1, 3, 128, 128] (made from `picture`, if given: StreamerModel.forward)
    to the model. With `learn`, its gradients are accumulated and the weights updated when
    due; without, no graph is built. A `stop` set during the forward pass abandons the
    update (the app is closing). With a `guard` (the CLI and the app both pass one), the
    update goes through it: a diverged model gets its last good weights back and
    `guard.diverged` says what happened.

    `behind`: a live learner has newer inputs waiting. This one is then seen without
    gradients (about two thirds of a learning step's time on a CPU), so that every input
    reaches the layers and their steps stay one snippet apart; the optimizer still counts
    its loss on the update clock (StreamerOptimizer, a loss without gradients). Skipped
    instead, inputs a second or more apart were read against half-second steps, and a
    still camera's events were lost (benchmarks/live_lag.py, docs/quality.md)."""
    x = to_device(x, model.device)  # pinned, without waiting for the GPU
    if not learn:
        with torch.no_grad():
            return model(x, picture)
    if optimizer is None:
        raise ValueError("learning needs an optimizer")
    with torch.no_grad() if behind else contextlib.nullcontext():
        reports = model(x, picture)
    if stop is not None and stop.is_set():
        return reports
    if guard is not None:
        guard.step(reports)
    else:
        optimizer.step()
    return reports
