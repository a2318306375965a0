"""Checkpoints: the reference's format plus this project's resume state, saved atomically.

Reference keys: model_args, model_modality, model_snippet_size, num_layers, weights.
Ours live under `studio` (format version, seed/device, the model arguments the reference
does not know (peak demarcation, escalation), per-layer Adam state, accumulated
gradients, demarcation windows and boundary surprises, boundaries, counters, optimizer
counters and arguments).
A reference file has no `studio` key and loads with fresh optimizer state.

Resuming restores everything except the in-flight prediction of each layer: the next
input of every layer is a fresh start, exactly as after an optimizer step. On the fast
path, saving completes the gradients accumulated so far (`finish_gradients`) and keeps
the graphs that later inputs still add to, so saving does not change the running model.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import os
import threading
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

from .atomic_file import atomic_file
from .checkpoint_file import (  # noqa: F401 - re-exported: the module to import from
    FORMAT_VERSION,
    REFERENCE_KEYS,
    CheckpointError,
    read_checkpoint,
    read_reference_weights,
)
from .model import StreamerModel, StreamerModelArguments
from .optimizer import StreamerOptimizer, StreamerOptimizerArguments

# --- saving -----------------------------------------------------------------------------

def _layer_state(layer) -> dict:
    def grads(module) -> list[torch.Tensor | None]:
        return [None if p.grad is None else p.grad.detach().cpu() for p in module.parameters()]

    return {
        "adam_f": layer.f.optim.state_dict(),
        "adam_p": layer.p.optim.state_dict(),
        "grad_f": grads(layer.f),
        "grad_p": grads(layer.p),
        "demarcation": layer.demarcation.state(),
        "boundary_surprises": layer.escalation.state(),
        "hierarchy_boundaries": [float(b) for b in layer.hierarchy_boundaries],
        "inputs_until_growth": layer.inputs_until_growth,
        "last_base_counter": layer.last_base_counter,
    }


def checkpoint_dict(model: StreamerModel, optimizer: StreamerOptimizer | None = None) -> dict:
    model.finish_gradients(final=False)
    studio = {
        "format_version": FORMAT_VERSION,
        "seed": model.args.seed,
        "model_args": model.args.studio_dict(),
        "base_counter": model.base_counter,
        "layers": [_layer_state(layer) for layer in model.layers()],
    }
    if optimizer is not None:
        studio["optimizer_args"] = asdict(optimizer.args)
        studio["optimizer"] = optimizer.state_dict()
    return {
        "model_args": model.args.reference_dict(),
        "model_modality": model.modality,
        "model_snippet_size": model.args.snippet_size,
        "num_layers": model.get_num_layers(),
        "weights": {k: v.detach().cpu() for k, v in model.streamer.state_dict().items()},
        "studio": studio,
    }


class SaveCancelled(Exception):
    """Raised inside a save when its `cancel` event is set (the app is closing)."""


class _GuardedFile:
    """The temp file as torch.save sees it: remembers the OS error behind a failed write
    (torch reports a full disk as a bare RuntimeError) and stops when cancelled."""

    def __init__(self, handle, cancel: threading.Event | None):
        self.handle = handle
        self.cancel = cancel
        self.error: OSError | None = None
        self.cancelled = False  # torch may wrap SaveCancelled in its own error

    def write(self, data) -> int:
        if self.cancel is not None and self.cancel.is_set():
            self.cancelled = True
            raise SaveCancelled()
        try:
            return self.handle.write(data)
        except OSError as err:
            self.error = err
            raise

    def flush(self) -> None:
        try:
            self.handle.flush()
        except OSError as err:
            self.error = err
            raise


def save_checkpoint(path: str | os.PathLike, model: StreamerModel,
                    optimizer: StreamerOptimizer | None = None, *,
                    cancel: threading.Event | None = None) -> None:
    """Writes a temp file beside `path`, fsyncs, then renames: `path` is never half-written.

    On any failure (full disk, read-only folder, `cancel` set while writing) the temp file
    is removed, `path` keeps its previous content, and CheckpointError says why.
    """
    path = Path(path)
    try:
        payload = checkpoint_dict(model, optimizer)
    except Exception as err:  # noqa: BLE001 - reported with the file name
        raise CheckpointError(path, f"could not collect the model state ({err})") from err
    guarded = None
    try:
        with atomic_file(path, "wb") as handle:
            guarded = _GuardedFile(handle, cancel)
            torch.save(payload, guarded)
            guarded.flush()
        _remove_stale_temp_files(path)
    except (SaveCancelled, OSError, RuntimeError) as err:
        if guarded is not None and guarded.cancelled:
            raise CheckpointError(path, "not saved: cancelled while writing (the previous "
                                        "file is unchanged)") from err
        cause = err if isinstance(err, OSError) else (guarded.error if guarded else None)
        if cause is None:
            cause = _disk_full(path) or err
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
        raise CheckpointError(path, f"could not be saved ({reason})") from err


STALE_TEMP_SECONDS = 600.0
"""A temp file this old is left by a save that was killed (no save takes that long)"""


def _remove_stale_temp_files(path: Path) -> None:
    """Temp files of `path` that a killed process left behind go at the next good save."""
    now = time.time()
    with contextlib.suppress(OSError):
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with contextlib.suppress(OSError):
                if now - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                    leftover.unlink()


def _disk_full(path: Path) -> OSError | None:
    """torch's writer can fail on a full disk without an OS error to show: say so."""
    with contextlib.suppress(OSError):
        stats = os.statvfs(path.parent)
        if stats.f_bavail * stats.f_frsize < 1 << 20:
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return None


# --- loading ----------------------------------------------------------------------------

def model_arguments(data: dict, path: str | os.PathLike, device: str) -> StreamerModelArguments:
    known = {f.name for f in fields(StreamerModelArguments)}
    studio = data.get("studio") or {}
    saved = {k: v for k, v in {**dict(data["model_args"]), **dict(studio.get("model_args", {}))
                               }.items() if k in known}
    try:
        args = StreamerModelArguments(**saved)
        args = replace(args, init_ckpt="", device=device, seed=studio.get("seed"))
        args.validate()
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"incompatible model arguments ({err})") from err
    return args


def load_checkpoint(path: str | os.PathLike, device: str = "auto"
                    ) -> tuple[StreamerModel, StreamerOptimizer]:
    """Builds a new model and optimizer from a file; the caller's running model is untouched."""
    data = read_checkpoint(path)
    args = model_arguments(data, path, device)
    try:
        num_layers = int(data["num_layers"])
        if not 1 <= num_layers <= args.max_layers:
            raise ValueError(f"num_layers {num_layers} outside 1..{args.max_layers}")
        init_layers = args.init_layers
        model = StreamerModel(replace(args, init_layers=num_layers))
        model.args.init_layers = init_layers
        model.streamer.load_state_dict(data["weights"])
    except (RuntimeError, ValueError, TypeError, KeyError, AttributeError) as err:
        first_line = str(err).strip().splitlines()[0]
        raise CheckpointError(path, f"does not fit the model it describes ({first_line[:300]})"
                              ) from err
    broken = [name for name, tensor in model.streamer.state_dict().items()
              if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all())]
    if broken:
        raise CheckpointError(path, f"its weights hold NaN or infinite values ({broken[0]}"
                                    f"{' and others' if len(broken) > 1 else ''}): the model "
                                    "had diverged when it was saved")

    studio = data.get("studio") or {}
    try:
        opt_args = StreamerOptimizerArguments(**studio.get(
            "optimizer_args", {"max_layers": args.max_layers}))
        optimizer = StreamerOptimizer(model, opt_args)
        if studio:
            _restore_studio_state(model, optimizer, studio)
    except (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError) as err:
        raise CheckpointError(path, f"resume state is damaged ({err})") from err
    return model, optimizer


def _restore_studio_state(model: StreamerModel, optimizer: StreamerOptimizer,
                          studio: dict) -> None:
    model.base_counter = int(studio["base_counter"])
    layers = model.layers()
    if len(studio["layers"]) != len(layers):
        raise ValueError("layer count differs from the weights")
    for layer, state in zip(layers, studio["layers"]):
        layer.f.optim.load_state_dict(state["adam_f"])
        layer.p.optim.load_state_dict(state["adam_p"])
        for module, grads in ((layer.f, state["grad_f"]), (layer.p, state["grad_p"])):
            params = list(module.parameters())
            if len(grads) != len(params):
                raise ValueError("gradient count differs from the parameters")
            for param, grad in zip(params, grads):
                param.grad = None if grad is None else grad.to(param.device)
        layer.demarcation.load_state(state["demarcation"])
        layer.escalation.load_state(state.get("boundary_surprises", []))  # older files: none
        layer.hierarchy_boundaries = [float(t) for t in state["hierarchy_boundaries"]]
        layer.inputs_until_growth = int(state["inputs_until_growth"])
        layer.last_base_counter = int(state["last_base_counter"])
    if "optimizer" in studio:
        optimizer.load_state_dict(studio["optimizer"])
