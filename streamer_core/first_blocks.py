"""Where layer 0's first convolution blocks start (`first_blocks`).

Layer 0 reading features marks a boundary where the pooled output of its first two
convolution blocks steps far more than usual (sparse_change). Drawn at random, those
blocks are restless: a fresh model found few of the events of its first minute, until
its own learning had calmed them (docs/quality.md, session twenty-one). Under "learned"
a new model starts from blocks that already learned sparse change, shipped with this
package (`LEARNED_BLOCKS`): made by `scripts/learn_first_blocks.py` from one `live`
session over the built-in synthetic scene, no footage and no labels. Every other weight
is drawn as before (seeded), and the session goes on learning the blocks.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn as nn

from .finite import first_nonfinite
from .networks import DESCRIPTOR_DEPTH

DRAWN = "drawn"
LEARNED = "learned"

LEARNED_BLOCKS = Path(__file__).parent / "data" / "first_blocks.pt"
"""The shipped blocks: {conv1.weight, conv1.bias, conv2.weight, conv2.bias}"""


def block_tensors(convolutions: tuple[nn.Conv2d, ...]) -> dict[str, torch.Tensor]:
    """The first blocks' parameters by name (conv1.weight, ...), detached, on the CPU."""
    return {f"conv{i}.{name}": param.detach().cpu().clone()
            for i, conv in enumerate(convolutions, start=1)
            for name, param in conv.named_parameters()}


def save_blocks(convolutions: tuple[nn.Conv2d, ...], path: str | os.PathLike) -> None:
    """Writes the blocks' parameters to `path` (a one-off file made by a script)."""
    torch.save(block_tensors(convolutions), path)


def load_blocks(convolutions: tuple[nn.Conv2d, ...],
                path: str | os.PathLike | None = None) -> None:
    """Copies the saved blocks (`path`, default the shipped ones) into `convolutions`, in
    place, on their device. ValueError if the file is missing, damaged or of other shapes."""
    path = LEARNED_BLOCKS if path is None else path
    if len(convolutions) != DESCRIPTOR_DEPTH:
        raise ValueError(f"expected {DESCRIPTOR_DEPTH} convolutions, got {len(convolutions)}")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ValueError(f"the learned first blocks are missing: {path}") from None
    except Exception as err:  # noqa: BLE001 - any unreadable file is the same problem
        raise ValueError(f"the learned first blocks cannot be read from {path} ({err})"
                         ) from None
    expected = block_tensors(convolutions)
    if not isinstance(saved, dict) or set(saved) != set(expected):
        raise ValueError(f"{path} does not hold the first blocks' parameters")
    for name, tensor in expected.items():
        value = saved[name]
        if not isinstance(value, torch.Tensor) or value.shape != tensor.shape:
            raise ValueError(f"{path}: {name} has another shape than the model's")
    broken = first_nonfinite(saved.items())
    if broken is not None:
        raise ValueError(f"{path}: {broken} holds NaN or infinite values")
    with torch.no_grad():
        for i, conv in enumerate(convolutions, start=1):
            for name, param in conv.named_parameters():
                param.copy_(saved[f"conv{i}.{name}"].to(param.device, param.dtype))
