"""Divergence caught at run time: NaN never reaches the weights that are kept or saved.

A learning rate far too high, or poisoned resume state, makes a weight update produce NaN
or infinite weights, or weights so large that the next prediction overflows. The guard
copies the weights and Adam state just before each update; when an update leaves a
weight that is not finite, or a later prediction loss is not finite, it puts that copy
back, drops the gradients gathered since, and lets every layer start afresh, as after
an ordinary update. The caller gets a message to show; learning goes on.
"""

from __future__ import annotations

import copy
import math

import torch

from .layer import LayerStep
from .model import StreamerModel
from .optimizer import StreamerOptimizer


def weights_finite(model: StreamerModel) -> bool:
    flags = [torch.isfinite(p).all() for p in model.parameters()]
    return bool(torch.stack(flags).all()) if flags else True


class DivergenceGuard:
    """Use `step(reports)` in place of `optimizer.step()` after each `model(x)`."""

    def __init__(self, model: StreamerModel, optimizer: StreamerOptimizer):
        self.model = model
        self.optimizer = optimizer
        self.recoveries = 0
        self.diverged: str | None = None
        """What the last `step` undid, in words; None when it learned normally"""
        self._weights: dict[str, torch.Tensor] | None = None
        self._adam: list[list[dict]] = []

    def step(self, reports: list[LayerStep]) -> str | None:
        """Learns from this input; returns what happened if the model had diverged (also
        kept in `diverged`)."""
        self.diverged = self._learn(reports)
        return self.diverged

    def _learn(self, reports: list[LayerStep]) -> str | None:
        bad = [r.layer for r in reports if r.signal is not None and not math.isfinite(r.signal)]
        if bad:
            return self._recover(f"layer {bad[0]}'s prediction loss is not a number")
        if self.optimizer.update_due():
            self._keep_last_good()
        if self.optimizer.step() and not weights_finite(self.model):
            return self._recover("a weight update made weights NaN or infinite")
        return None

    def _keep_last_good(self) -> None:
        self._weights = {k: v.detach().clone() for k, v in self.model.streamer.state_dict().items()}
        self._adam = [[copy.deepcopy(module.optim.state_dict()) for module in (layer.f, layer.p)]
                      for layer in self.model.layers()]

    def _recover(self, reason: str) -> str:
        self.recoveries += 1
        self.model.finish_gradients()  # frees the graphs of the diverged predictions
        for param in self.model.parameters():
            param.grad = None
        self.optimizer.reset()
        restored = self._weights is not None
        if restored:
            # Layers grown after the copy keep their own (never updated) weights.
            self.model.streamer.load_state_dict(self._weights, strict=False)
            for layer, states in zip(self.model.layers(), self._adam):
                for module, state in zip((layer.f, layer.p), states):
                    module.optim.load_state_dict(copy.deepcopy(state))
        for layer in self.model.layers():  # predictions made with bad weights: start afresh
            layer.representation = layer.context = layer.main_objective = None
            layer.objective_ready = False
            layer.weights_changed()
            layer.demarcation.forget_nonfinite()
            layer.sides.forget_nonfinite()
            layer.escalation.load_state([s for s in layer.escalation.state() if math.isfinite(s)])
        kept = ("the weights from before the last update are restored" if restored
                else "its gradients are dropped")
        return (f"the model diverged at input {self.model.base_counter} ({reason}); {kept} "
                "and learning goes on (a lower learning rate may help)")
