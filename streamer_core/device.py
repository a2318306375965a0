"""Device choice: CUDA when present, CPU otherwise, never hard-coded."""

from __future__ import annotations

import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str | torch.device = "auto") -> torch.device:
    """'auto' -> cuda if available else cpu; 'cuda' without a GPU is an error."""
    if isinstance(name, torch.device):
        return name
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' was asked for, but no CUDA GPU is available "
                         "(install a CUDA build of torch, or use 'cpu' / 'auto')")
    return device


def describe_device(device: torch.device) -> str:
    """A name for the status bar: the GPU's name, or 'CPU'."""
    if device.type == "cuda":
        return f"GPU: {torch.cuda.get_device_name(device)}"
    return f"CPU ({torch.get_num_threads()} threads)"


def to_device(x: torch.Tensor, device: torch.device | str) -> torch.Tensor:
    """`x` on `device` without a host synchronisation.

    A plain `.to("cuda")` of a CPU tensor waits until the GPU has finished all the work
    queued before it (torch synchronises the stream after copying from pageable memory).
    A frame copied into pinned memory is uploaded asynchronously instead; the pinned
    block is not reused before the copy is done (torch's caching host allocator records
    the copy on the stream)."""
    device = torch.device(device)
    if x.device == device or (device.type == "cuda" and device.index is None
                              and x.device.type == "cuda"):
        return x
    if device.type == "cuda" and x.device.type == "cpu":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)
