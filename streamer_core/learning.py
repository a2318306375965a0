"""One input through the model: the step the CLI pipeline and the app's learner share."""

from __future__ import annotations

import threading

import torch

from .device import to_device
from .layer import LayerStep
from .model import StreamerModel
from .optimizer import StreamerOptimizer


def learning_step(model: StreamerModel, optimizer: StreamerOptimizer | None, x: torch.Tensor,
                  learn: bool = True, stop: threading.Event | None = None
                  ) -> list[LayerStep]:
    """Feeds frame `x` [1, 3, 128, 128] to the model. With `learn`, its gradients are
    accumulated and the weights updated when due; without, no graph is built. A `stop`
    set during the forward pass abandons the update (the app is closing)."""
    x = to_device(x, model.device)  # pinned, without waiting for the GPU
    if not learn:
        with torch.no_grad():
            return model(x)
    if optimizer is None:
        raise ValueError("learning needs an optimizer")
    reports = model(x)
    if stop is None or not stop.is_set():
        optimizer.step()
    return reports
