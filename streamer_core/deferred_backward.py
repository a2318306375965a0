"""Back-propagate a reused tensor's graph once, with the sum of the gradients it received.

A frame's CNN embedding stays in the buffer for up to `buffer_size` steps, and an upper
layer's representation enters every prediction of the layers below it until that layer
gets its next input. Each loss that uses such a tensor would otherwise run the backward
pass of the network that made it again. Since the gradient of a sum is the sum of the
gradients, a detached leaf stands in for the tensor: its hook adds up what every loss
sends, and the network's graph is run backward once, when the leaf can receive no more
gradient (no live graph or buffer holds it), or when the gradients must be complete
(before an optimizer step, or to save them). Only the order of float operations differs.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import torch


@dataclass(eq=False)  # compared by identity
class _Deferred:
    """A tensor with its graph, and the gradient its stand-in leaf has collected."""

    output: torch.Tensor | None
    grad: torch.Tensor | None = None
    done: bool = False

    def add_grad(self, grad: torch.Tensor) -> None:
        self.grad = grad.detach().clone() if self.grad is None else self.grad + grad


@dataclass
class DeferredBackward:
    """Stand-in leaves for tensors with graphs; runs each graph backward once."""

    pending: list[_Deferred] = field(default_factory=list)
    released: list[_Deferred] = field(default_factory=list)

    def stand_in(self, output: torch.Tensor) -> torch.Tensor:
        """A leaf equal to `output` whose gradients reach `output`'s graph later."""
        if not output.requires_grad:  # not learning: nothing to back-propagate
            return output
        leaf = output.detach().requires_grad_(True)
        record = _Deferred(output)
        leaf.register_hook(record.add_grad)
        weakref.finalize(leaf, self.released.append, record)
        self.pending.append(record)
        return leaf

    def backward(self, everything: bool = False, final: bool = True) -> None:
        """Back-propagates what the released leaves collected and frees their graphs.

        everything: also what the leaves still held have collected so far; with
        final=False their graphs are kept for the gradient still to come (saving a
        checkpoint), with final=True they are freed (an optimizer step is next: the
        weights those graphs saved are about to change, and every prediction restarts).
        """
        released = [r for r in self.released if not r.done]
        self.released.clear()
        held = [r for r in self.pending if not r.done and r not in released] if everything else []
        if final:
            released, held = released + held, []
        _run_backward(released, retain_graph=False)
        for record in released:
            record.done = True
            record.output = record.grad = None  # free the graph
        _run_backward(held, retain_graph=True)
        for record in held:
            record.grad = None  # sent on; only later gradient is still to come
        self.pending = [r for r in self.pending if not r.done]


def _run_backward(records: list[_Deferred], retain_graph: bool) -> None:
    with_grad = [r for r in records if r.grad is not None]
    if with_grad:
        torch.autograd.backward([r.output for r in with_grad], [r.grad for r in with_grad],
                                retain_graph=retain_graph)
