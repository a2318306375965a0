"""A model and optimizer from the command line: a preset or a checkpoint, then --set."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
from collections.abc import Iterator
from pathlib import Path

import torch

from streamer_core import (
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
)
from streamer_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from streamer_core.model import LIVE_MODEL_FIELDS
from streamer_core.presets import preset_arguments
from streamer_core.settings import OPTIMIZER, names, settings_of

from .errors import CliError
from .overrides import parse_assignments, split_overrides, with_overrides

MAX_THREADS = max(256, 4 * (os.cpu_count() or 1))
"""--threads above this is a typo (torch segfaults on 100000)"""

# What a loaded model can still change: its shape is fixed by the weights.
RESUMABLE_MODEL_KEYS = LIVE_MODEL_FIELDS
RESUMABLE_OPTIMIZER_KEYS = names(settings_of(OPTIMIZER))


def model_arguments(preset: str, assignments: list[str], snippet: float | None = None,
                    device: str = "auto", seed: int | None = None
                    ) -> tuple[StreamerModelArguments, StreamerOptimizerArguments]:
    """The preset's arguments with --set, --snippet, --device and --seed applied, validated."""
    try:
        model_args, opt_args = preset_arguments(preset)
    except ValueError as err:
        raise CliError(str(err)) from None
    model_changes, opt_changes = split_overrides(
        own_options_refused(parse_assignments(assignments)), StreamerModelArguments,
        StreamerOptimizerArguments)
    model_args = with_overrides(model_args, model_changes)
    opt_args = with_overrides(opt_args, opt_changes)
    extra: dict = {"device": device}
    if snippet is not None:
        extra["snippet_size"] = snippet
    if seed is not None:
        extra["seed"] = seed
    model_args = dataclasses.replace(model_args, **extra)
    # The optimizer keeps per-layer counters: it must know as many layers as the model.
    opt_args = dataclasses.replace(opt_args, max_layers=model_args.max_layers)
    try:
        model_args.validate()
        opt_args.validate()
    except ValueError as err:
        raise CliError(f"bad settings: {err}") from None
    return model_args, opt_args


def own_options_refused(values: dict[str, str]) -> dict[str, str]:
    """The --set values, checked: a setting that has its own option is refused, since
    that option's default would silently win over it (device: --device)."""
    if "device" in values:
        raise CliError("the device is chosen with --device (auto, cpu or cuda), not --set")
    return values


def new_model(preset: str, assignments: list[str], snippet: float | None = None,
              device: str = "auto", seed: int | None = None
              ) -> tuple[StreamerModel, StreamerOptimizer]:
    model_args, opt_args = model_arguments(preset, assignments, snippet, device, seed)
    try:
        model = StreamerModel(model_args)
        return model, StreamerOptimizer(model, opt_args)
    except CheckpointError as err:  # --set init_ckpt=FILE that is not a checkpoint
        raise CliError(f"cannot load init_ckpt {err}") from None
    except ValueError as err:  # e.g. cuda asked for without a GPU
        raise CliError(str(err)) from None
    except RuntimeError as err:  # init_ckpt weights of another shape
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise CliError(f"cannot build the model ({first_line[:300]})") from None


def resumed_model(path: str | Path, assignments: list[str], snippet: float | None = None,
                  device: str = "auto") -> tuple[StreamerModel, StreamerOptimizer]:
    """The checkpoint's model, with the settings a trained model may still change."""
    values = own_options_refused(parse_assignments(assignments))
    model_changes, opt_changes = split_overrides(
        values, StreamerModelArguments, StreamerOptimizerArguments)
    fixed = sorted((set(model_changes) - set(RESUMABLE_MODEL_KEYS))
                   | (set(opt_changes) - set(RESUMABLE_OPTIMIZER_KEYS)))
    if fixed:
        allowed = ", ".join([*RESUMABLE_MODEL_KEYS, *RESUMABLE_OPTIMIZER_KEYS])
        raise CliError(f"{fixed[0]} cannot change when continuing from a checkpoint (the "
                       f"saved model fixes it); settings that can: {allowed}")
    if not Path(path).exists():
        raise CliError(f"checkpoint not found: {path}")
    try:
        model, optimizer = load_checkpoint(path, device=device)
    except CheckpointError as err:
        raise CliError(f"cannot load checkpoint {err}") from None
    except ValueError as err:  # e.g. cuda asked for without a GPU
        raise CliError(str(err)) from None
    if snippet is not None and abs(snippet - model.args.snippet_size) > 1e-9:
        raise CliError(f"the checkpoint was trained with --snippet "
                       f"{model.args.snippet_size:g}; it cannot run at {snippet:g}")
    try:
        if model_changes:
            model.set_demarcation(**model_changes)
        if opt_changes:
            new_args = dataclasses.replace(optimizer.args, **opt_changes)
            new_args.validate()
            optimizer.args = new_args
    except ValueError as err:
        raise CliError(f"bad settings: {err}") from None
    return model, optimizer


def model_for(args: argparse.Namespace) -> tuple[StreamerModel, StreamerOptimizer]:
    """The model a command's options ask for: --checkpoint's, or a new one of --preset."""
    if args.checkpoint:
        if args.seed is not None:
            raise CliError("--seed only applies to a new model, not with --checkpoint")
        return resumed_model(args.checkpoint, args.settings, args.snippet, args.device)
    return new_model(args.preset or "live", args.settings, args.snippet, args.device,
                     args.seed)


def save_model(path: str | Path, model: StreamerModel,
               optimizer: StreamerOptimizer | None) -> None:
    try:
        save_checkpoint(path, model, optimizer)
    except CheckpointError as err:
        raise CliError(f"cannot save checkpoint {err}") from None


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """torch's intra-op thread count for one command, restored after it."""
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
