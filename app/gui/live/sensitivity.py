"""One "sensitivity" per layer: a position from "fewer, longer events" to "more, shorter
events", mapped onto the demarcation setting that decides that layer's boundaries under
the active mode. No Qt: the controls panel shows it, tests check it.

The table's demarcation settings are shared by the layers that decide from their own
signal, so the knobs are: layer 0's (its demarcation mode's setting) and, when the layers
above escalate, theirs (`escalation_ratio`); when they use their own signal, one knob
moves all layers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from streamer_core.buffer import DISTANCE, SIMILARITY
from streamer_core.demarcation import ACCUM, AVERAGE, FIXED, HYSTERESIS, PEAK_MODES
from streamer_core.escalation import ESCALATE

from ..infrastructure.settings import StudioSettings

POSITIONS = 7
"""Slider positions 0 (fewest, longest events) .. POSITIONS - 1 (most, shortest)"""
WORDS = ("far fewer, longer events", "fewer, longer events", "somewhat fewer events",
         "middle", "somewhat more events", "more, shorter events",
         "far more, shorter events")

# Each setting's value at positions 0..6: a boundary needs less and less surprise.
Z_VALUES = (5.0, 4.0, 3.0, 2.0, 1.6, 1.3, 1.0)  # the live preset's 2.0 in the middle
ESCALATION_VALUES = (6.0, 4.0, 3.0, 2.0, 1.75, 1.5, 1.25)  # the live preset's 2.0 in the middle
ACCUM_VALUES = (4.0, 2.0, 1.0, 0.5, 0.25, 0.125, 0.0625)
# (distance: a boundary above the level, similarity: below it).
MODIFIER_VALUES = {("multiply", DISTANCE): (1.5, 1.3, 1.15, 1.0, 0.95, 0.9, 0.8),
                   ("multiply", SIMILARITY): (0.9, 0.95, 0.98, 1.0, 1.01, 1.02, 1.05),
                   ("add", DISTANCE): (0.2, 0.1, 0.05, 0.0, -0.02, -0.05, -0.1),
                   ("add", SIMILARITY): (-0.2, -0.1, -0.05, 0.0, 0.02, 0.05, 0.1)}
FIXED_VALUES = {DISTANCE: (1.0, 0.5, 0.35, 0.25, 0.15, 0.1, 0.05),
                SIMILARITY: (0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9)}


@dataclass(frozen=True)
class Knob:
    """One slider: which layers it moves and the setting it sets at each position."""

    layers: str
    """Who it moves, in words: "Layer 0", "Layers 1–2", "All layers" """
    setting: str
    values: tuple[float, ...]

    def position(self, settings: StudioSettings) -> int:
        """The position whose value is nearest the setting's current one."""
        current = float(getattr(settings, self.setting))
        return min(range(POSITIONS), key=lambda i: (abs(self.values[i] - current), i))

    def apply(self, settings: StudioSettings, position: int) -> StudioSettings:
        """`settings` with this knob at `position` (clamped to the slider's ends)."""
        value = self.values[max(0, min(POSITIONS - 1, position))]
        changed = replace(settings, **{self.setting: value})
        if self.setting == "z_threshold" and settings.demarcation_mode == HYSTERESIS:
            changed.rearm_z = min(changed.rearm_z, value)  # re-arming lies below the peak
        return changed


def _base_distance_mode(settings: StudioSettings) -> str:
    """Layer 0's comparison: distance when force_base_dist says so (StreamerLayer)."""
    return DISTANCE if settings.force_base_dist else settings.distance_mode


def _own_signal_knob(settings: StudioSettings, layers: str) -> Knob | None:
    """The knob of the layers that decide from their own signal, for the active mode
    (None for a mode without one: its settings stay under Advanced)."""
    mode = settings.demarcation_mode
    if mode in PEAK_MODES:
        return Knob(layers, "z_threshold", Z_VALUES)
    if mode == ACCUM:
        return Knob(layers, "loss_threshold", ACCUM_VALUES)
    direction = DISTANCE if _base_distance_mode(settings) != SIMILARITY else SIMILARITY
    if mode == FIXED:
        return Knob(layers, "loss_threshold", FIXED_VALUES[direction])
    if mode == AVERAGE:
        return Knob(layers, "modifier", MODIFIER_VALUES[(settings.modifier_type, direction)])
    return None


def knobs(settings: StudioSettings) -> list[Knob]:
    """The sliders the plain panel shows for these settings, bottom layer first."""
    if settings.max_layers == 1:
        found = [_own_signal_knob(settings, "Layer 0")]
    elif settings.upper_demarcation != ESCALATE:
        found = [_own_signal_knob(settings, "All layers")]
    else:
        top = settings.max_layers - 1
        upper = "Layer 1" if top == 1 else f"Layers 1–{top}"
        found = [_own_signal_knob(settings, "Layer 0"),
                 Knob(upper, "escalation_ratio", ESCALATION_VALUES)]
    return [knob for knob in found if knob is not None]
