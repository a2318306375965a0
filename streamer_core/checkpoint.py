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

import errno
import glob
import os
import pickle
import tempfile
import threading
import time
import zipfile
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .model import StreamerModel, StreamerModelArguments

if TYPE_CHECKING:
    from .optimizer import StreamerOptimizer

FORMAT_VERSION = 1
REFERENCE_KEYS = ("model_args", "model_modality", "model_snippet_size", "num_layers", "weights")


class CheckpointError(Exception):
    """A checkpoint could not be saved or loaded; the message names the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


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
    tmp_name = None
    guarded = None
    try:
        folder = path.parent  # Path("x").parent is Path(".")
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            guarded = _GuardedFile(handle, cancel)
            torch.save(payload, guarded)
            guarded.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_folder(folder)
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
    finally:
        if tmp_name is not None:
            with _ignore_os_error():
                os.unlink(tmp_name)


STALE_TEMP_SECONDS = 600.0
"""A temp file this old is left by a save that was killed (no save takes that long)"""


def _remove_stale_temp_files(path: Path) -> None:
    """Temp files of `path` that a killed process left behind go at the next good save."""
    now = time.time()
    with _ignore_os_error():
        for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
            with _ignore_os_error():
                if now - leftover.stat().st_mtime > STALE_TEMP_SECONDS:
                    leftover.unlink()


def _disk_full(path: Path) -> OSError | None:
    """torch's writer can fail on a full disk without an OS error to show: say so."""
    with _ignore_os_error():
        stats = os.statvfs(path.parent)
        if stats.f_bavail * stats.f_frsize < 1 << 20:
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return None


def _fsync_folder(folder: Path) -> None:
    """Makes the rename durable where the platform allows it."""
    with _ignore_os_error():
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _ignore_os_error:
    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:
        return exc_type is not None and issubclass(exc_type, OSError)


# --- loading ----------------------------------------------------------------------------

def read_checkpoint(path: str | os.PathLike) -> dict:
    """Loads and checks the file's structure without executing code from it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(path, "no such file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError,
            ValueError, TypeError, AttributeError, ImportError, IndexError, KeyError) as err:
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(path, f"not a readable checkpoint (corrupt, truncated or "
                                    f"unsafe: {first_line[:200]})") from err
    except OSError as err:
        raise CheckpointError(path, f"could not be read ({err.strerror or err})") from err
    if not isinstance(data, dict):
        raise CheckpointError(path, "not a STREAMER checkpoint (no dictionary inside)")
    missing = [key for key in ("model_args", "num_layers", "weights") if key not in data]
    if missing:
        raise CheckpointError(path, f"not a STREAMER checkpoint (missing {', '.join(missing)})")
    if data.get("model_modality", "video") != "video":
        raise CheckpointError(path, f"a {data['model_modality']!r} model; only video is supported")
    if not isinstance(data["model_args"], dict):
        raise CheckpointError(path, "not a STREAMER checkpoint (model_args is not a dictionary)")
    studio = data.get("studio")
    if studio is not None:
        version = studio.get("format_version") if isinstance(studio, dict) else None
        if not isinstance(version, int) or isinstance(version, bool):
            raise CheckpointError(path, "damaged: its Streamer Studio section has no valid "
                                        "format version")
        if version > FORMAT_VERSION:
            raise CheckpointError(path, f"written by a newer Streamer Studio (format "
                                        f"{version}, this one reads up to {FORMAT_VERSION})")
        if not isinstance(studio.get("model_args", {}), dict):
            raise CheckpointError(path, "damaged: its saved model arguments are not a "
                                        "dictionary")
    return data


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


def read_reference_weights(path: str | os.PathLike) -> tuple[int, dict]:
    """(num_layers, weights) of a checkpoint, for `StreamerModelArguments.init_ckpt`."""
    data = read_checkpoint(path)
    return int(data["num_layers"]), data["weights"]


def load_checkpoint(path: str | os.PathLike, device: str = "auto"
                    ) -> tuple[StreamerModel, StreamerOptimizer]:
    """Builds a new model and optimizer from a file; the caller's running model is untouched."""
    from .optimizer import StreamerOptimizer, StreamerOptimizerArguments

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
