"""NaN or an infinity in named tensors: what a saved file or an update must not carry."""

from __future__ import annotations

from collections.abc import Iterable

import torch


def first_nonfinite(named: Iterable[tuple[str, torch.Tensor | None]]) -> str | None:
    """The name of the first floating-point tensor holding NaN or an infinity, if any."""
    for name, tensor in named:
        if (isinstance(tensor, torch.Tensor) and tensor.is_floating_point()
                and not bool(torch.isfinite(tensor).all())):
            return name
    return None
