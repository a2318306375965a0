"""Hierarchical gradient normalisation: accumulate after every input, step every so often."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch.distributed as dist

from .reach import reach_groups
from .settings import OPTIMIZER, check_settings, studio_fields

if TYPE_CHECKING:  # types only: the model does not need the optimizer, nor this it
    from .layer import StreamerLayer
    from .model import StreamerModel


@dataclass
class StreamerOptimizerArguments(studio_fields(OPTIMIZER)):
    """The reference's optimizer arguments, then, keyword-only, this project's settings
    from `settings.SETTINGS` (alpha and optimize_every are the reference's: in its order
    they stay written out here, with the table's checks)."""

    world_size: int = 1
    """Ranks whose weights are averaged (the reference's GPUs); above 1 only inside a
    torch.distributed process group of that size (`segment --distributed` under torchrun)"""
    alpha: float = 3
    """Reach: group i of layers at distance i gets weight alpha^-i (normalised)"""
    max_layers: int = 3
    optimize_every: int = 100
    """Parameter update after this many losses of the top layer (see optimize_clock)"""
    average_every: int = 1000
    """With world_size > 1: the ranks average their weights every this many inputs (calls
    of step(), as the reference counts); app/cli/distributed.py does it"""

    def validate(self) -> None:
        if self.world_size != 1 and self.world_size != process_group_size():
            raise ValueError(f"world_size {self.world_size} needs a torch.distributed process "
                             "group of that size (segment --distributed under torchrun); a "
                             "single process has world_size 1")
        if self.average_every < 1:
            raise ValueError("average_every must be 1 or more")
        check_settings(self, OPTIMIZER)
        if self.max_layers < 1:
            raise ValueError("max_layers must be at least 1")


def process_group_size() -> int:
    """Ranks of this process's torch.distributed group; 1 outside one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


class StreamerOptimizer:
    """Call `step()` after every `model(x)` while learning."""

    def __init__(self, model: StreamerModel, args: StreamerOptimizerArguments):
        args.validate()
        self.args = args
        self.model = model
        self.optimizer_steps = 0  # parameter updates so far
        self.reset()

    def reset(self) -> None:
        """Counters of the current accumulation interval."""
        n = self.args.max_layers
        self.f_counter = [0.0] * n
        self.p_counter = [0.0] * n
        self.step_counter = [0] * n

    def _accumulate(self, layer: StreamerLayer, layers: list[StreamerLayer]) -> None:
        """Back-propagates one layer's objective into p of the layer and f of every layer."""
        if not layer.objective_ready:
            self._count_without_gradients(layer)
            return
        num = layer.layer_num
        ts = float(layer.x_size) if self.args.hgn_timescale else 1.0
        self.p_counter[num] += ts
        groups, weights = reach_groups(num, len(layers), self.args.alpha, self.args.hgn_reach)
        if self.model.args.fast_path:
            # One pass; reach weights are applied where gradients enter representations.
            (layer.main_objective * ts).backward(retain_graph=True)
        else:  # the reference's way: one pass per reach group
            for group, weight in zip(groups, weights):
                params = layer.p.get_params()
                for g in group:
                    params += layers[g].f.get_params()
                (layer.main_objective * ts * weight).backward(inputs=params, retain_graph=True)
        for group in groups:
            for g in group:
                self.f_counter[g] += ts
        self.step_counter[num] += 1
        layer.objective_ready = False
        layer.main_objective = None  # consumed: let its graph go

    def _scale_gradients(self, layers: list[StreamerLayer]) -> None:
        for layer in layers:
            for module, counter in ((layer.f, self.f_counter), (layer.p, self.p_counter)):
                count = counter[layer.layer_num]
                if count == 0:
                    continue
                for param in module.parameters():
                    if param.grad is not None:
                        param.grad /= count

    def _clock_layer(self, layers: list[StreamerLayer]) -> int:
        return len(layers) - 1 if self.args.optimize_clock == "top" else 0

    def update_due(self) -> bool:
        """Whether the next `step()` will update the weights (a guard copies them first)."""
        layers = self.model.layers()
        clock = layers[self._clock_layer(layers)]
        counts = clock.objective_ready or (clock.main_objective is not None
                                           and self._counts_losses_without_gradients())
        return self.step_counter[clock.layer_num] + int(counts) >= self.args.optimize_every

    def step(self) -> bool:
        """Accumulates this input's gradients; returns True if the weights were updated."""
        layers = self.model.layers()
        reach = self.model.reach
        reach.num_layers, reach.alpha, reach.reach = (len(layers), self.args.alpha,
                                                      self.args.hgn_reach)
        for layer in layers:
            self._accumulate(layer, layers)
        clock = self._clock_layer(layers)
        if self.step_counter[clock] < self.args.optimize_every:
            return False
        if not any(self.p_counter):  # nothing learned since the last update
            self.reset()
            return False
        self.model.finish_gradients()
        self._scale_gradients(layers)
        self.model.optimize_model()
        self.reset()
        self.optimizer_steps += 1
        return True

    def _count_without_gradients(self, layer: StreamerLayer) -> None:
        """A loss without gradients (an input seen behind, learning.learning_step's
        `behind`, or the next one, whose prediction was made without them) teaches
        nothing, but under optimize_clock "base" it counts on the clock: the weights change
        every optimize_every layer-0 losses, from the gradients of those learned from,
        however far behind the learner is."""
        if layer.main_objective is None:
            return
        if layer.layer_num == 0 and self._counts_losses_without_gradients():
            self.step_counter[0] += 1
        layer.main_objective = None

    def _counts_losses_without_gradients(self) -> bool:
        """The "top" clock counts the top layer's objectives (the spec), "base" losses."""
        return self.args.optimize_clock != "top"

    def state_dict(self) -> dict:
        return {"f_counter": list(self.f_counter), "p_counter": list(self.p_counter),
                "step_counter": list(self.step_counter), "optimizer_steps": self.optimizer_steps}

    def load_state_dict(self, state: dict) -> None:
        """Counters of the interval in progress; one per layer the optimizer knows."""
        for key in ("f_counter", "p_counter", "step_counter"):
            if len(state[key]) != self.args.max_layers:
                raise ValueError(f"{key} has {len(state[key])} entries, not one for each of "
                                 f"{self.args.max_layers} layers")
        self.f_counter = [float(v) for v in state["f_counter"]]
        self.p_counter = [float(v) for v in state["p_counter"]]
        self.step_counter = [int(v) for v in state["step_counter"]]
        self.optimizer_steps = int(state["optimizer_steps"])
