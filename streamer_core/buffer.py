"""The working set of a layer: the inputs of the current event, bounded in size."""

from __future__ import annotations

from typing import Any

SIMILARITY = "similarity"
DISTANCE = "distance"
DISTANCE_MODES = (SIMILARITY, DISTANCE)


class MemBuffer:
    """Keeps at most `buffer_size` inputs with their signals and arrival order.

    When full, a new input replaces the most predictable stored input (highest
    similarity, or lowest distance), but only if the new one is less predictable;
    the replaced slot becomes the newest in arrival order.
    """

    def __init__(self, buffer_size: int = 20, dist_mode: str = SIMILARITY):
        if dist_mode not in DISTANCE_MODES:
            raise ValueError(f"distance mode must be one of {DISTANCE_MODES}, got {dist_mode!r}")
        self.dist_mode = dist_mode
        self.buffer_size = buffer_size
        self.reset_buffer()

    def reset_buffer(self) -> None:
        self.counter = 0  # inputs added since the last reset, replaced or not
        self.inputs: list[Any] = []
        self.error: list[float] = []
        self.pos: list[int] = []  # pos[slot] = arrival rank of the input in that slot

    def __len__(self) -> int:
        return len(self.inputs)

    def __bool__(self) -> bool:
        return len(self.inputs) > 0

    def __repr__(self) -> str:
        if not self:
            return "MemBuffer(empty)"
        return f"MemBuffer({len(self)} inputs, signals {min(self.error)}..{max(self.error)})"

    def add_input(self, x: Any, err: float) -> int | None:
        """Adds `x`; returns the slot it went into, or None if it was not kept."""
        self.counter += 1
        if len(self.inputs) < self.buffer_size:
            self.inputs.append(x)
            self.error.append(err)
            self.pos.append(len(self.inputs) - 1)
            return len(self.inputs) - 1

        if self.dist_mode == SIMILARITY:
            index = self.error.index(max(self.error))
            if err < self.error[index]:
                self.replace(index, x, err)
                return index
        else:
            index = self.error.index(min(self.error))
            if err > self.error[index]:
                self.replace(index, x, err)
                return index
        return None

    def replace(self, index: int, x: Any, err: float) -> None:
        old_rank = self.pos[index]
        self.inputs[index] = x
        self.error[index] = err
        self.pos = [rank - 1 if rank > old_rank else rank for rank in self.pos]
        self.pos[index] = self.buffer_size - 1

    def arrival_order(self) -> list[int]:
        """Slot indices sorted by arrival rank."""
        return [self.pos.index(rank) for rank in range(len(self.pos))]

    def get_inputs(self) -> list[Any]:
        return [self.inputs[slot] for slot in self.arrival_order()]
