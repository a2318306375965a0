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
from .sources import Frame, preprocess_frame


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


def pass_over_between(model: StreamerModel, snippet: Frame, last_taken: int | None) -> None:
    """Gives the model the frames passed over before `snippet` (sources.SnippetTaker), if
    they reach back to the input it took last (`last_taken`, that frame's index): after a
    snippet it never took, some are missing, and the interval is not read
    (frames_between)."""
    if model.frames_between is None:
        return
    if snippet.follows is None or snippet.follows != last_taken:
        model.frames_lost()
        return
    for picture in snippet.between:
        model.pass_over(preprocess_frame(picture))
