"""What the user chose, as one dataclass, remembered between launches with QSettings.

Layering: dataclass defaults <- the `live` preset <- resources/default_settings.json <-
QSettings. A stored value of the wrong type or out of range falls back to the layer below
and is reported, so a damaged settings file never stops the app from starting.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, make_dataclass, replace
from pathlib import Path

from PySide6.QtCore import QSettings

from streamer_core import StreamerModelArguments, StreamerOptimizerArguments
from streamer_core.presets import PRESETS, preset_arguments
from streamer_core.settings import MODEL, OPTIMIZER, SETTINGS, Setting, names, settings_of

from .resources import resource_path

GROUP = "settings"
AUTOSAVE_SECONDS_ENV = "STREAMER_STUDIO_AUTOSAVE_SECONDS"
"""Autosave every this many seconds instead of the menu's minutes (tests, demos)"""
DEVICES = ("auto", "cpu", "cuda")

# The table's settings the app keeps (streamer_core.settings.SETTINGS, same names).
APP_SETTINGS: tuple[Setting, ...] = tuple(s for s in SETTINGS if s.app)
MODEL_FIELDS = names(settings_of(MODEL, app=True))
OPTIMIZER_FIELDS = names(settings_of(OPTIMIZER, app=True))
# Applied to the running model at once; every other model field needs a new model.
LIVE_FIELDS = names(tuple(s for s in APP_SETTINGS if s.live))
LIVE_MODEL_FIELDS = names(settings_of(MODEL, live=True, app=True))
STRUCTURAL_FIELDS = (*names(tuple(s for s in APP_SETTINGS if not s.live)), "device")


def table_values(model_args: StreamerModelArguments,
                 opt_args: StreamerOptimizerArguments) -> dict[str, object]:
    """The app's table settings as these arguments hold them, each of its table type."""
    args = {MODEL: model_args, OPTIMIZER: opt_args}
    return {s.name: s.type(getattr(args[s.owner], s.name)) for s in APP_SETTINGS}


def _tunable_fields() -> type:
    """The table's app settings as keyword-only dataclass fields, the `live` preset's
    values as defaults."""
    live = table_values(*preset_arguments("live"))
    return make_dataclass("TunableSettings", [
        (s.name, s.type, field(default=live[s.name], kw_only=True)) for s in APP_SETTINGS])


@dataclass
class StudioSettings(_tunable_fields()):
    """Everything the window remembers: the app's own choices below, and every setting
    of the table that `APP_SETTINGS` holds (defaults: the `live` preset)."""

    source: str = "camera:0"
    """Source spec as streamer_core.sources.open_source takes it"""
    preset: str = "live"
    device: str = "auto"
    learning: bool = True
    """False: the model segments without updating its weights"""
    follow_learner: bool = False
    """Files and bounded synthetic streams play at the learner's pace: no snippet skipped"""
    loop_files: bool = False
    """Play video files (and bounded synthetic streams) again when they end"""
    autosave_minutes: int = 0
    """0 = off"""
    checkpoint_path: str = ""
    """Where Save writes; empty until the user picks a file"""
    last_folder: str = ""
    timeline_span: float = 120.0
    """Seconds of stream the timeline shows while following live"""
    show_legend: bool = True
    """The card that explains the screen, until the user dismisses it"""
    record_session: bool = False
    """Write each session into a folder as it runs (video, events, keyframes, model)"""
    recordings_folder: str = ""
    """Where session folders go; empty: the user's videos folder"""

    @classmethod
    def from_preset(cls, name: str, base: StudioSettings | None = None) -> StudioSettings:
        """`base` (or defaults) with every model field taken from the preset."""
        return replace(base or cls(), preset=name, **table_values(*preset_arguments(name)))

    def model_arguments(self) -> tuple[StreamerModelArguments, StreamerOptimizerArguments]:
        """Validated arguments for a new model; ValueError names the first bad setting."""
        model_args, opt_args = preset_arguments(self.preset if self.preset in PRESETS
                                                else "live")
        model_args = replace(model_args, device=self.device,
                             **{f: getattr(self, f) for f in MODEL_FIELDS})
        opt_args = replace(opt_args, max_layers=self.max_layers,
                           **{f: getattr(self, f) for f in OPTIMIZER_FIELDS})
        model_args.validate()
        opt_args.validate()
        return model_args, opt_args

    def with_model_arguments(self, model_args: StreamerModelArguments,
                             opt_args: StreamerOptimizerArguments) -> StudioSettings:
        """These settings describing a model that already exists (a loaded checkpoint)."""
        return replace(self, **table_values(model_args, opt_args))

    def validate(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {', '.join(PRESETS)}")
        if self.device not in DEVICES:
            raise ValueError(f"device must be one of {', '.join(DEVICES)}")
        if self.autosave_minutes < 0:
            raise ValueError("autosave_minutes must be 0 (off) or more")
        if not (self.timeline_span > 0 and math.isfinite(self.timeline_span)):
            raise ValueError("timeline_span must be a positive number of seconds")
        if not self.source.strip():
            raise ValueError("source must not be empty")
        self.model_arguments()

    def differences(self, other: StudioSettings, names: tuple[str, ...]) -> list[str]:
        return [n for n in names if getattr(self, n) != getattr(other, n)]


def _coerce(value: object, like: object) -> object:
    """`value` as the type of `like`, or ValueError."""
    if isinstance(like, bool):
        if isinstance(value, bool):
            return value
        raise ValueError("expected true or false")
    if isinstance(like, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected a whole number")
        return value
    if isinstance(like, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError("expected a number")
        if not math.isfinite(value):
            raise ValueError("expected a finite number")
        return float(value)
    if isinstance(like, str):
        if not isinstance(value, str):
            raise ValueError("expected text")
        return value
    raise ValueError("unsupported setting type")


def merge(base: StudioSettings, values: dict[str, object],
          origin: str) -> tuple[StudioSettings, list[str]]:
    """`base` updated with the valid entries of `values`; notes for the rejected ones."""
    notes: list[str] = []
    known = {f.name for f in fields(StudioSettings)}
    current = asdict(base)
    for name, value in values.items():
        if name not in known:
            continue  # written by another version; harmless
        try:
            current[name] = _coerce(value, current[name])
        except ValueError as err:
            notes.append(f"{origin}: ignored {name}={value!r} ({err})")
    merged = StudioSettings(**current)
    try:
        merged.validate()
    except ValueError as err:
        notes.append(f"{origin}: {err}; using the {base.preset} preset's model settings")
        merged = StudioSettings.from_preset(base.preset if base.preset in PRESETS else "live",
                                            replace(merged, preset=base.preset))
        try:
            merged.validate()
        except ValueError:
            merged = base
    return merged, notes


def autosave_seconds_override() -> float | None:
    """$STREAMER_STUDIO_AUTOSAVE_SECONDS as a positive number, or None (said why if bad).

    The autosave menu stays in minutes; this is for tests and demos that cannot wait."""
    raw = os.environ.get(AUTOSAVE_SECONDS_ENV, "").strip()
    if not raw:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        seconds = math.nan
    if not (seconds > 0 and math.isfinite(seconds)):
        print(f"streamer-studio: ignoring {AUTOSAVE_SECONDS_ENV}={raw!r} (not a positive "
              "number of seconds)", file=sys.stderr)
        return None
    return seconds


def checked_settings(settings: StudioSettings) -> tuple[StudioSettings, list[str]]:
    """A valid copy of settings built in code (tests, --source, a caller's dataclass):
    wrong values are replaced as a damaged settings file's would be, with notes why."""
    preset = settings.preset if settings.preset in PRESETS else "live"
    return merge(StudioSettings.from_preset(preset), asdict(settings), "settings")


def default_settings() -> tuple[StudioSettings, list[str]]:
    """The `live` preset overlaid with resources/default_settings.json."""
    base = StudioSettings.from_preset("live")
    path = resource_path("default_settings.json")
    if not path.is_file():
        return base, []  # an install without the resources folder: built-in defaults
    try:
        values = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        return base, [f"{path}: not read ({err}); using built-in defaults"]
    if not isinstance(values, dict):
        return base, [f"{path}: not a JSON object; using built-in defaults"]
    preset = values.get("preset")
    if isinstance(preset, str) and preset in PRESETS:
        base = StudioSettings.from_preset(preset, base)
    return merge(base, values, str(path))


SCHEMA_VERSION = 2
"""Stored beside the settings as `schema_version`; settings from before it have none (0)"""
SCHEMA_KEY = "schema_version"
MIGRATIONS: dict[int, Callable[[dict[str, object]], None]] = {}
"""MIGRATIONS[n] turns stored settings of schema n into schema n + 1, in place"""


def migration(version: int) -> Callable[[Callable[[dict[str, object]], None]],
                                        Callable[[dict[str, object]], None]]:
    """Registers the function that upgrades stored settings from `version`."""
    def register(upgrade: Callable[[dict[str, object]], None]) -> Callable[[dict[str, object]],
                                                                             None]:
        MIGRATIONS[version] = upgrade
        return upgrade
    return register


@migration(0)
def _thresholds_for_the_whole_picture(stored: dict[str, object]) -> None:
    """Written before layer 0 compared regions: its thresholds were set for the whole
    picture. Choosing the live preset again applies the new default."""
    if "z_threshold" in stored and "signal_regions" not in stored:
        stored["signal_regions"] = 1


@migration(1)
def _thresholds_for_pixels(stored: dict[str, object]) -> None:
    """Written before layer 0 could compare features: its thresholds were set for pixels.
    Choosing the live preset again applies the new default."""
    if "z_threshold" in stored:
        stored.setdefault("signal_space", "pixels")
        stored.setdefault("restless_ratio", 0.0)


def migrate(stored: dict[str, object]) -> dict[str, object]:
    """Stored settings brought to SCHEMA_VERSION (a newer schema's are read as they are:
    what this version does not know is ignored)."""
    version = stored.pop(SCHEMA_KEY, 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        version = 0
    for step in range(version, SCHEMA_VERSION):
        MIGRATIONS[step](stored)
    return stored


SESSION_RUNNING_KEY = "session/running"
CLEAN_EXIT_KEY = "session/clean_exit"


@dataclass(frozen=True)
class LastSession:
    """How the app's last session ended, read at start-up."""

    crashed: bool
    """It started and never closed normally"""
    clean_exit: float
    """time.time() of the last normal close (0: none known)"""


class SettingsStore:
    """QSettings behind load/save; each value JSON-encoded so types survive every backend."""

    def __init__(self, qsettings: QSettings):
        self.qsettings = qsettings

    @classmethod
    def user(cls) -> SettingsStore:
        return cls(QSettings("StreamerStudio", "Streamer Studio"))

    @classmethod
    def at(cls, path: str | Path) -> SettingsStore:
        """A private INI file: tests, the self-test and the screenshot script use one."""
        return cls(QSettings(str(path), QSettings.Format.IniFormat))

    def load(self) -> tuple[StudioSettings, list[str]]:
        base, notes = default_settings()
        stored: dict[str, object] = {}
        self.qsettings.beginGroup(GROUP)
        try:
            for key in self.qsettings.childKeys():
                raw = self.qsettings.value(key)
                try:
                    stored[key] = json.loads(str(raw))
                except json.JSONDecodeError:
                    notes.append(f"stored settings: ignored unreadable {key}")
        finally:
            self.qsettings.endGroup()
        stored = migrate(stored)
        preset = stored.get("preset")
        if isinstance(preset, str) and preset in PRESETS and preset != base.preset:
            base = StudioSettings.from_preset(preset, base)
        settings, more = merge(base, stored, "stored settings")
        return settings, notes + more

    def save(self, settings: StudioSettings) -> None:
        self.qsettings.beginGroup(GROUP)
        try:
            for name, value in {SCHEMA_KEY: SCHEMA_VERSION, **asdict(settings)}.items():
                self.qsettings.setValue(name, json.dumps(value))
        finally:
            self.qsettings.endGroup()
        self.qsettings.sync()

    def begin_session(self) -> LastSession:
        """How the last session ended; then this one is marked as running until
        `end_session` (a crash, a kill or a power cut leaves the mark)."""
        running = self.qsettings.value(SESSION_RUNNING_KEY)
        try:
            clean_exit = float(self.qsettings.value(CLEAN_EXIT_KEY, 0.0))
        except (TypeError, ValueError):  # a damaged value: as if it never exited cleanly
            clean_exit = 0.0
        self.qsettings.setValue(SESSION_RUNNING_KEY, "true")
        self.qsettings.sync()
        return LastSession(crashed=str(running) == "true",
                           clean_exit=clean_exit if math.isfinite(clean_exit) else 0.0)

    def end_session(self) -> None:
        """The window closed normally: everything the user asked for is written."""
        self.qsettings.setValue(SESSION_RUNNING_KEY, "false")
        self.qsettings.setValue(CLEAN_EXIT_KEY, time.time())
        self.qsettings.sync()

    def window_state(self) -> tuple[object, object]:
        return self.qsettings.value("window/geometry"), self.qsettings.value("window/state")

    def save_window_state(self, geometry: object, state: object) -> None:
        self.qsettings.setValue("window/geometry", geometry)
        self.qsettings.setValue("window/state", state)
        self.qsettings.sync()
