"""Hierarchical reach: how much of a layer's loss each layer's encoder receives.

Group i of layer l = the layers {l-i, l+i} that exist; its weight is alpha^-i,
normalised over the groups to sum to 1 (the reference's hierarchical gradient
normalisation). The fast path applies the weight where the gradient enters a layer's
representation (`reach_scaled`), so one backward pass replaces one pass per group.
"""

from __future__ import annotations

import functools

import torch


def reach_groups(layer_num: int, num_layers: int, alpha: float,
                 reach: bool = True) -> tuple[list[list[int]], list[float]]:
    """Groups and their weights. Example: layer 1 of 4 -> groups [[1], [0, 2], [3]]."""
    groups = []
    for i in range(num_layers):
        group = sorted({n for n in (layer_num - i, layer_num + i) if 0 <= n < num_layers})
        if not group:
            break
        groups.append(group)
    raw = torch.tensor([1.0 / (alpha ** i) if reach else 1.0 for i in range(len(groups))])
    weights = (raw / raw.sum()).tolist()  # float32 arithmetic, as the reference
    return groups, weights


@functools.lru_cache(maxsize=256)
def reach_weight(loss_layer: int, rep_layer: int, num_layers: int, alpha: float,
                 reach: bool = True) -> float:
    """The weight of `rep_layer`'s group in `loss_layer`'s loss (0 if out of range).
    Cached: the backward pass asks for it once per representation and loss."""
    groups, weights = reach_groups(loss_layer, num_layers, alpha, reach)
    distance = abs(loss_layer - rep_layer)
    return weights[distance] if distance < len(groups) else 0.0


class ReachWeights:
    """Reach weights looked up at backward time, for the number of layers at that time."""

    def __init__(self, alpha: float = 3.0, reach: bool = True):
        self.alpha = alpha
        self.reach = reach
        self.num_layers = 1

    def weight(self, loss_layer: int, rep_layer: int) -> float:
        return reach_weight(loss_layer, rep_layer, self.num_layers, self.alpha, self.reach)


class _ScaleGrad(torch.autograd.Function):
    """Identity forward; backward multiplies by the reach weight of (loss layer, rep layer)."""

    @staticmethod
    def forward(ctx, rep: torch.Tensor, reach: ReachWeights, loss_layer: int,
                rep_layer: int) -> torch.Tensor:
        ctx.reach, ctx.loss_layer, ctx.rep_layer = reach, loss_layer, rep_layer
        return rep.view_as(rep)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return grad * ctx.reach.weight(ctx.loss_layer, ctx.rep_layer), None, None, None


def reach_scaled(rep: torch.Tensor, reach: ReachWeights, loss_layer: int,
                 rep_layer: int) -> torch.Tensor:
    if not rep.requires_grad:
        return rep
    return _ScaleGrad.apply(rep, reach, loss_layer, rep_layer)
