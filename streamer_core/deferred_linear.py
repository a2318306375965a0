"""A Linear layer whose weight gradient is summed in one matrix product, later.

The CNN encoder's and decoder's Linear layers hold 65536 x D weights (268 MB at D=1024).
Back-propagating one input at a time makes each backward write a full-size outer
product and add it into `.grad`: memory traffic, not arithmetic, sets the pace. Keeping
the (input, output-gradient) rows and forming `G^T X` for many rows at once gives the
same sum with one pass over the weight. Part of the fast path; exact up to float
summation order.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


class DeferredWeightGrad:
    """Rows waiting to be summed into `linear.weight.grad`; `flush()` before reading it."""

    def __init__(self, linear: nn.Linear, capacity: int = 64):
        self.linear = linear
        self.capacity = capacity  # bounds memory: capacity * (in + out) floats
        self.inputs: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.inputs)

    def add(self, inputs: torch.Tensor, grad_output: torch.Tensor) -> None:
        self.inputs.append(inputs.detach())
        self.grads.append(grad_output.detach())
        if len(self.inputs) >= self.capacity:
            self.flush()

    def flush(self) -> None:
        if not self.inputs:
            return
        x = torch.cat(self.inputs)  # [N, in]
        g = torch.cat(self.grads)  # [N, out]
        self.inputs, self.grads = [], []
        weight = self.linear.weight
        if weight.grad is None:
            weight.grad = g.t() @ x  # [out, in]
        else:
            weight.grad.addmm_(g.t(), x)

    def clear(self) -> None:
        self.inputs, self.grads = [], []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return _DeferredLinear.apply(x, self.linear.weight, self.linear.bias, self)


class _DeferredLinear(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                sink: DeferredWeightGrad) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.sink = sink
        return F.linear(x, weight, bias)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        needs_x, needs_weight, needs_bias, _ = ctx.needs_input_grad
        if needs_weight:
            ctx.sink.add(x, grad)
        grad_x = grad @ weight if needs_x else None
        grad_bias = grad.sum(0) if needs_bias else None
        return grad_x, None, grad_bias, None
