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
import math
import os
import threading
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch

from .atomic_file import NotARegularFile, atomic_file, save_target
from .checkpoint_file import (  # noqa: F401 - re-exported: the module to import from
    FORMAT_VERSION,
    REFERENCE_KEYS,
    CheckpointError,
    read_checkpoint,
    read_reference_weights,
)
from .device import resolve_device
from .finite import first_nonfinite
from .first_blocks import DRAWN
from .model import StreamerModel, StreamerModelArguments, parameter_shapes
from .optimizer import StreamerOptimizer, StreamerOptimizerArguments
from .sparse_change import LearnedChange, SparseChangeLearner

# --- saving -----------------------------------------------------------------------------

def _layer_state(layer) -> dict:
    def grads(module) -> list[torch.Tensor | None]:
        return [None if p.grad is None else p.grad.detach().cpu() for p in module.parameters()]

    state = {
        "adam_f": layer.f.optim.state_dict(),
        "adam_p": layer.p.optim.state_dict(),
        "grad_f": grads(layer.f),
        "grad_p": grads(layer.p),
        "demarcation": layer.demarcation.state(),
        "side_watch": layer.sides.state(),
        "boundary_surprises": layer.escalation.state(),
        "hierarchy_boundaries": [float(b) for b in layer.hierarchy_boundaries],
        "inputs_until_growth": layer.inputs_until_growth,
        "last_base_counter": layer.last_base_counter,
    }
    if layer.block_learner is not None:  # sparse_change: the first blocks' own learning
        learner = layer.block_learner
        learner.wait()  # its Adam and what it learned, whole
        state["adam_blocks"] = learner.optim.state_dict()
        if learner.learned is not None:  # reaches the blocks at the next weight update
            state["blocks_learned"] = {"change": [c.cpu() for c in learner.learned.change],
                                       "loss": learner.learned.loss}
    return state


def checkpoint_dict(model: StreamerModel, optimizer: StreamerOptimizer | None = None) -> dict:
    model.finish_gradients(final=False)
    studio = {
        "format_version": FORMAT_VERSION,
        "seed": model.args.seed,
        "model_args": model.args.studio_dict(),
        "base_counter": model.base_counter,
        "lost_snippets": model.input_clock.state(),
        "layers": [_layer_state(layer) for layer in model.layers()],
    }
    if model.frozen_first_block is not None:  # what the events' features are read with
        # The key's name is older than the block's: files keep it.
        studio["first_block_as_drawn"] = model.frozen_first_block.state()
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

    A symbolic link is followed (its target is replaced, the link stays); a folder, device
    or FIFO is refused; the file keeps the mode of the one it replaces (a new one: the
    umask's). A model with NaN or infinite weights or gradients is not saved.

    On any failure (full disk, read-only folder, `cancel` set while writing) the temp file
    is removed, `path` keeps its previous content, and CheckpointError says why.
    """
    try:
        path = save_target(path)
    except NotARegularFile as err:
        raise CheckpointError(path, f"not saved: {err}") from None
    broken = first_nonfinite(model.named_parameters())
    if broken is None:
        broken = first_nonfinite((f"{name} (its gradient)", p.grad)
                                 for name, p in model.named_parameters())
    if broken is not None:
        raise CheckpointError(path, f"not saved: the model has diverged ({broken} holds NaN "
                                    "or infinite values); the previous file is unchanged")
    try:
        payload = checkpoint_dict(model, optimizer)
    except Exception as err:  # noqa: BLE001 - reported with the file name
        raise CheckpointError(path, f"could not collect the model state ({err})") from err
    try:  # what loading would refuse is not saved either
        for number, state in enumerate(payload["studio"]["layers"]):
            _check_numbers(state["demarcation"], f"layer {number} demarcation state", None)
            _check_numbers(state["boundary_surprises"], f"layer {number} boundary surprises")
    except ValueError as err:
        raise CheckpointError(path, f"not saved: the model has diverged ({err}); the "
                                    "previous file is unchanged") from None
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
        _check_numbers(asdict(args), "model argument", None)
    except (TypeError, ValueError, OverflowError) as err:
        raise CheckpointError(path, f"incompatible model arguments ({err})") from err
    return args


def load_checkpoint(path: str | os.PathLike, device: str = "auto"
                    ) -> tuple[StreamerModel, StreamerOptimizer]:
    """Builds a new model and optimizer from a file; the caller's running model is untouched.
    ValueError for a device that is not there (cuda without a GPU), before the file is
    read: a good file is not blamed for it."""
    resolve_device(device)
    data = read_checkpoint(path)
    args = model_arguments(data, path, device)
    try:
        num_layers = int(data["num_layers"])
        if not 1 <= num_layers <= args.max_layers:
            raise ValueError(f"num_layers {num_layers} outside 1..{args.max_layers}")
        _check_shapes(data["weights"], parameter_shapes(args, num_layers))
        # Built with drawn first blocks: the file's weights replace them anyway, and a
        # checkpoint loads without the shipped ones.
        model = StreamerModel(replace(args, init_layers=num_layers, first_blocks=DRAWN))
        model.args.init_layers, model.args.first_blocks = args.init_layers, args.first_blocks
        model.streamer.load_state_dict(data["weights"])
        model.freeze_first_block()  # files without one: the block as loaded
    except (RuntimeError, ValueError, TypeError, KeyError, AttributeError, OverflowError
            ) as err:
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
        saved_args = dict(studio.get("optimizer_args", {"max_layers": args.max_layers}))
        saved_args["world_size"] = 1  # the ranks of the run that saved it are gone
        opt_args = StreamerOptimizerArguments(**saved_args)
        if opt_args.max_layers != args.max_layers:
            raise ValueError(f"its optimizer arguments are for {opt_args.max_layers} layers, "
                             f"the model has up to {args.max_layers}")
        _check_numbers(asdict(opt_args), "optimizer arguments")
        optimizer = StreamerOptimizer(model, opt_args)
        if studio:
            _restore_studio_state(model, optimizer, studio)
    except (RuntimeError, ValueError, TypeError, KeyError, IndexError, AttributeError,
            OverflowError) as err:
        raise CheckpointError(path, f"resume state is damaged ({err})") from err
    return model, optimizer


def _check_shapes(weights: object, expected: dict[str, torch.Size]) -> None:
    """The file's weights against the shapes its arguments imply, before anything is built."""
    if not isinstance(weights, dict):
        raise ValueError("its weights are not a dictionary")
    missing = [name for name in expected if name not in weights]
    unexpected = [name for name in weights if name not in expected]
    if missing or unexpected:
        names = [f"missing {n}" for n in missing[:1]] + [f"unexpected {n}" for n in unexpected[:1]]
        raise ValueError(f"its weights do not match its arguments ({', '.join(names)})")
    for name, shape in expected.items():
        tensor = weights[name]
        if not isinstance(tensor, torch.Tensor) or tensor.shape != shape:
            got = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else type(tensor).__name__
            raise ValueError(f"{name} is {got}, its arguments make it {tuple(shape)}")


def _check_numbers(values: object, where: str, minimum: float | None = 0.0) -> None:
    """Every number in a nested structure is finite (and at least `minimum`)."""
    if isinstance(values, dict):
        for key, value in values.items():
            _check_numbers(value, f"{where}: {key}", minimum)
    elif isinstance(values, (list, tuple)):
        for value in values:
            _check_numbers(value, where, minimum)
    elif isinstance(values, torch.Tensor):
        if values.is_floating_point() and not bool(torch.isfinite(values).all()):
            raise ValueError(f"{where} holds NaN or infinite values")
        if minimum is not None and values.numel() and bool((values < minimum).any()):
            raise ValueError(f"{where} holds values below {minimum:g}")
    elif isinstance(values, (int, float)) and not isinstance(values, bool):
        if not math.isfinite(values):
            raise ValueError(f"{where} is {values}, not a finite number")
        if minimum is not None and values < minimum:
            raise ValueError(f"{where} is {values}, below {minimum:g}")


def _check_adam(module, where: str) -> None:
    """Adam state that would turn the first update into NaN: moments that are not finite, a
    negative second moment or step, hyperparameters out of range."""
    state = module.optim.state_dict()
    for param_state in state["state"].values():
        _check_numbers(param_state.get("exp_avg"), f"{where} first moment", None)
        _check_numbers(param_state.get("exp_avg_sq"), f"{where} second moment")
        _check_numbers(param_state.get("step"), f"{where} step count")
    for group in state["param_groups"]:
        lr, eps, decay = group.get("lr"), group.get("eps"), group.get("weight_decay", 0.0)
        betas = group.get("betas", (0.9, 0.999))
        numbers = [lr, eps, decay, *betas]
        if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers):
            raise ValueError(f"{where} settings are not finite numbers")
        if not (lr > 0 and eps > 0 and decay >= 0 and all(0 <= b < 1 for b in betas)):
            raise ValueError(f"{where} settings are out of range (lr {lr}, eps {eps})")


def _restore_block_learning(learner: SparseChangeLearner, state: dict, where: str) -> None:
    """The first blocks' Adam and what they learned to be handed over (older files: a fresh
    Adam, nothing learned)."""
    if "adam_blocks" in state:
        learner.optim.load_state_dict(state["adam_blocks"])
        _check_adam(learner, f"{where} first blocks' Adam")
        for group in learner.optim.param_groups:  # the setting block_lr decides
            group["lr"] = learner.learning_rate
    learned = state.get("blocks_learned")
    if learned is None:
        return
    shapes = [p.shape for p in learner.parameters()]
    change = learned["change"]
    if [getattr(c, "shape", None) for c in change] != shapes:
        raise ValueError(f"{where} first blocks' learned change does not fit the blocks")
    _check_numbers(change, f"{where} first blocks' learned change", None)
    _check_numbers(learned["loss"], f"{where} first blocks' loss", None)
    learner.learned = LearnedChange(list(change), float(learned["loss"]))


def _restore_studio_state(model: StreamerModel, optimizer: StreamerOptimizer,
                          studio: dict) -> None:
    _check_numbers(studio["base_counter"], "base_counter")
    model.base_counter = int(studio["base_counter"])
    model.input_clock.load_state(studio.get("lost_snippets", []))  # older files: none
    layers = model.layers()
    if len(studio["layers"]) != len(layers):
        raise ValueError("layer count differs from the weights")
    for number, (layer, state) in enumerate(zip(layers, studio["layers"])):
        where = f"layer {number}"
        layer.f.optim.load_state_dict(state["adam_f"])
        layer.p.optim.load_state_dict(state["adam_p"])
        _check_adam(layer.f, f"{where} encoder Adam")
        _check_adam(layer.p, f"{where} predictor Adam")
        if layer.block_learner is not None:
            _restore_block_learning(layer.block_learner, state, where)
        for module, grads in ((layer.f, state["grad_f"]), (layer.p, state["grad_p"])):
            params = list(module.parameters())
            if len(grads) != len(params):
                raise ValueError("gradient count differs from the parameters")
            _check_numbers(grads, f"{where} accumulated gradients", None)
            for param, grad in zip(params, grads):
                param.grad = None if grad is None else grad.to(param.device)
        _check_numbers(state["demarcation"], f"{where} demarcation state", None)
        _check_numbers(state.get("boundary_surprises", []), f"{where} boundary surprises")
        _check_numbers(state["hierarchy_boundaries"], f"{where} boundaries")
        _check_numbers(state["inputs_until_growth"], f"{where} inputs_until_growth")
        _check_numbers(state["last_base_counter"], f"{where} last_base_counter", -1)
        _check_numbers(state.get("side_watch", {}), f"{where} side watch state", None)
        layer.demarcation.load_state(state["demarcation"])
        layer.sides.load_state(state.get("side_watch", {}))  # older files: a fresh watch
        layer.escalation.load_state(state.get("boundary_surprises", []))  # older files: none
        layer.hierarchy_boundaries = [float(t) for t in state["hierarchy_boundaries"]]
        layer.inputs_until_growth = int(state["inputs_until_growth"])
        layer.last_base_counter = int(state["last_base_counter"])
    if model.frozen_first_block is not None and "first_block_as_drawn" in studio:
        model.frozen_first_block.load_state(studio["first_block_as_drawn"])
    if "optimizer" in studio:
        _check_numbers(studio["optimizer"], "optimizer counters")
        optimizer.load_state_dict(studio["optimizer"])
