"""The table of settings is the one source: dataclasses, validation, checkpoint keys, the
app's settings and its controls follow it, under one name per setting."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields

import pytest

from app.gui.infrastructure import settings as app_settings
from app.gui.infrastructure.settings import APP_SETTINGS, SettingsStore, StudioSettings
from app.gui.live.controls_panel import ControlsPanel
from core_helpers import small_model
from streamer_core import (
    StreamerLayerArguments,
    StreamerModelArguments,
    StreamerOptimizerArguments,
)
from streamer_core.checkpoint import checkpoint_dict
from streamer_core.settings import BY_NAME, MODEL, OPTIMIZER, SETTINGS, settings_of

OWNERS = {MODEL: StreamerModelArguments, OPTIMIZER: StreamerOptimizerArguments}


def _default(cls: type, name: str) -> object:
    field = {f.name: f for f in fields(cls)}[name]
    return field.default if field.default is not MISSING else field.default_factory()


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_a_field_of_its_arguments_with_the_tables_default(setting):
    assert _default(OWNERS[setting.owner], setting.name) == setting.default
    setting.check(setting.default)
    if setting.owner == MODEL and not setting.reference:  # the layer gets every one
        assert _default(StreamerLayerArguments, setting.name) == setting.default
    assert setting.help.endswith(".") and setting.help.count(". ") == 0  # one sentence


@pytest.mark.parametrize("setting", [s for s in SETTINGS if s.low is not None],
                         ids=lambda s: s.name)
def test_validation_comes_from_the_tables_range(setting):
    below = setting.low if setting.above else setting.low - 1
    args = OWNERS[setting.owner]()
    setattr(args, setting.name, setting.type(below))
    with pytest.raises(ValueError, match=setting.name):
        args.validate()


def test_a_choice_outside_the_table_is_refused_by_name():
    with pytest.raises(ValueError, match="upper_demarcation must be one of own, escalate|"
                                         "upper_demarcation must be one of escalate, own"):
        StreamerModelArguments(upper_demarcation="sideways").validate()


def test_the_checkpoint_saves_the_reference_fields_apart_from_ours():
    model, optimizer = small_model()
    data = checkpoint_dict(model, optimizer)
    studio_names = {s.name for s in settings_of(MODEL, reference=False)}
    assert set(data["studio"]["model_args"]) == studio_names
    assert not studio_names & set(data["model_args"])
    reference_names = {s.name for s in settings_of(MODEL, reference=True)}
    assert reference_names <= set(data["model_args"])


def test_the_app_keeps_every_app_setting_under_its_name(qtbot):
    names = {s.name for s in APP_SETTINGS}
    assert names <= {f.name for f in fields(StudioSettings)}
    assert set(app_settings.LIVE_FIELDS) | set(app_settings.STRUCTURAL_FIELDS) == names | {
        "device"}
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    assert set(panel.editors) == names
    for name, editor in panel.editors.items():
        assert editor.toolTip() == BY_NAME[name].help
    settings = StudioSettings.from_preset("paper")
    panel.set_settings(settings)
    assert panel.read(StudioSettings()) == settings  # every value round-trips the panel


def test_stored_settings_carry_a_schema_version_and_migrate(tmp_path, monkeypatch):
    store = SettingsStore.at(tmp_path / "s.ini")
    store.save(StudioSettings())
    assert json.loads(store.qsettings.value("settings/schema_version")) == (
        app_settings.SCHEMA_VERSION)
    # A later schema that renames a setting upgrades what an older version stored.
    monkeypatch.setattr(app_settings, "SCHEMA_VERSION", app_settings.SCHEMA_VERSION + 1)
    monkeypatch.setitem(app_settings.MIGRATIONS, app_settings.SCHEMA_VERSION - 1,
                        lambda stored: stored.update(window_size=stored.pop("old_window")))
    store.qsettings.setValue("settings/old_window", json.dumps(33))
    store.qsettings.remove("settings/window_size")
    store.qsettings.sync()
    loaded, notes = store.load()
    assert (loaded.window_size, notes) == (33, [])
