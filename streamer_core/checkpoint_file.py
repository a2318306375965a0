"""A checkpoint file read and checked, without a model: what the model needs to start
from pretrained weights (`init_ckpt`) and what `checkpoint` builds a model from.

Nothing here executes code from the file (`weights_only=True`).
"""

from __future__ import annotations

import os
import pickle
import zipfile
from pathlib import Path

import torch

FORMAT_VERSION = 1
"""Of the `studio` section this project adds"""
REFERENCE_KEYS = ("model_args", "model_modality", "model_snippet_size", "num_layers", "weights")


class CheckpointError(Exception):
    """A checkpoint could not be saved or loaded; the message names the file and why."""

    def __init__(self, path: str | os.PathLike, reason: str):
        super().__init__(f"{os.fspath(path)}: {reason}")
        self.path = os.fspath(path)
        self.reason = reason


def _unreadable(err: Exception) -> str:
    """Why torch could not read the file, in a few words: its own message is a paragraph
    about its defaults that a user of this app cannot act on."""
    text = str(err)
    if "GLOBAL" in text:  # a pickle that names code to run
        return "unsafe: it holds code or objects other than weights, which are not loaded"
    if "zip archive" in text or isinstance(err, (zipfile.BadZipFile, EOFError)):
        return "truncated or corrupt: the PyTorch file is incomplete"
    return "corrupt, or not a PyTorch file at all"


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Loads and checks the file's structure without executing code from it."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(path, "is a folder, not a checkpoint file")
    if not path.is_file():
        raise CheckpointError(path, "no such file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, zipfile.BadZipFile, EOFError, RuntimeError,
            ValueError, TypeError, AttributeError, ImportError, IndexError, KeyError) as err:
        raise CheckpointError(path, f"not a readable checkpoint ({_unreadable(err)})") from err
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


def read_reference_weights(path: str | os.PathLike) -> tuple[int, dict]:
    """(num_layers, weights) of a checkpoint, for `StreamerModelArguments.init_ckpt`."""
    data = read_checkpoint(path)
    return int(data["num_layers"]), data["weights"]
