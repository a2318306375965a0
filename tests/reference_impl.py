"""Loads the reference implementation (`streamer-torch` 0.0.3) as a test oracle.

The reference hard-codes `.cuda()` and imports logging packages it does not need for
the math; both are neutralised here, only for the duration of a `reference()` block.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import types
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

_STUBS = {
    "torch.utils.tensorboard": {"SummaryWriter": object},
    "streamer.utils.logging": {"TBWriter": object, "JsonLogger": object},
}
# streamer.models/__init__ imports torchvision for its inference helper: load the
# package without running it.


@contextlib.contextmanager
def reference() -> Iterator[types.SimpleNamespace]:
    """Yields the reference's modules; `.cuda()` is the identity inside the block."""
    pytest.importorskip("streamer", reason="streamer-torch (the reference) is not installed")
    package_dir = Path(importlib.util.find_spec("streamer").origin).parent
    stubs = {**_STUBS, "streamer.models": {"__path__": [str(package_dir / "models")]}}
    saved = {name: sys.modules.get(name) for name in stubs}
    for name, attrs in stubs.items():
        stub = types.ModuleType(name)
        stub.__dict__.update(attrs)
        sys.modules[name] = stub
    tensor_cuda, module_cuda = torch.Tensor.cuda, torch.nn.Module.cuda
    torch.Tensor.cuda = lambda self, *a, **k: self
    torch.nn.Module.cuda = lambda self, *a, **k: self
    try:
        yield types.SimpleNamespace(
            model=importlib.import_module("streamer.models.model"),
            layer=importlib.import_module("streamer.models.layer"),
            networks=importlib.import_module("streamer.models.networks"),
            optimizer=importlib.import_module("streamer.optimizers.streamer_optimizer"),
            buffer=importlib.import_module("streamer.core.buffer"),
            demarcation=importlib.import_module("streamer.core.demarcation"),
        )
    finally:
        torch.Tensor.cuda, torch.nn.Module.cuda = tensor_cuda, module_cuda
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
