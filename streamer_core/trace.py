"""A trace: one JSON row per input and layer (the CLI's --trace, the app's Export trace)."""

from __future__ import annotations

import math


def trace_row(video: int, step: int, time: float, layer: int, signal: float | None,
              threshold: float | None, boundary: bool, loss: float | None = None) -> dict:
    """One row; a signal, threshold or loss that is missing or not finite is null."""
    return {"video": int(video), "step": int(step), "time": float(time), "layer": int(layer),
            "signal": _finite(signal), "threshold": _finite(threshold),
            "boundary": bool(boundary), "loss": _finite(loss)}


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None
