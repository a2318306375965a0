"""Invalid settings (window size 0, a negative learning rate, snippet 0) are refused with a
message wherever they come from: the controls, code, the stored settings, the CLI."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from gui_helpers import SLOW, open_window, wait_steps

from app.__main__ import main
from app.gui.infrastructure.settings import SettingsStore, StudioSettings, checked_settings
from app.gui.live.main_window import MainWindow
from app.gui.self_test import small_settings
from streamer_core.checkpoint import save_checkpoint
from streamer_core.presets import preset_arguments

INVALID = {"window_size": 0, "lr": -0.001, "snippet_size": 0.0}


def test_the_controls_cannot_take_invalid_values(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:2:600")
    c = window.controls
    c.editors["window_size"].setValue(0)
    c.editors["lr"].setValue(-0.001)
    c.editors["snippet_size"].setValue(0.0)
    c.editors["optimize_every"].setValue(0)
    c.editors["feature_dim"].setValue(0)
    assert c.editors["window_size"].value() >= 1 and c.editors["lr"].value() > 0
    assert c.editors["snippet_size"].value() > 0 and c.editors["optimize_every"].value() >= 1
    assert c.editors["feature_dim"].value() >= 8
    settings = c.read(window.settings)
    settings.validate()  # whatever the controls hold is a model the app can build
    assert window.settings.window_size >= 1
    wait_steps(qtbot, window, 1)
    assert not any(m.level == "error" for m in window.notifier.messages)


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_settings_given_in_code_are_replaced_with_a_message(qtbot, tmp_path, name):
    settings = replace(small_settings("synthetic:2:600"), device="cpu",
                       **{name: INVALID[name]})
    window = MainWindow(SettingsStore.at(tmp_path / "s.ini"), settings, popups=False,
                        scan_cameras=False)
    qtbot.addWidget(window)
    warning = window.notifier.messages[0]
    assert warning.level == "warning" and name in warning.text
    window.settings.validate()
    assert getattr(window.settings, name) == getattr(StudioSettings.from_preset("live"), name)
    assert window.settings.source == "synthetic:2:600"  # only the model settings reset
    shown = window.controls.read(window.settings)
    assert getattr(shown, name) == getattr(window.settings, name)
    qtbot.waitUntil(lambda: window.session.model_info is not None, timeout=SLOW)


def test_checked_settings_keep_valid_settings_as_they_are():
    settings = replace(small_settings("camera:1"), window_size=7, lr=0.002)
    checked, notes = checked_settings(settings)
    assert checked == settings and notes == []


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_stored_settings_are_refused_with_a_note(tmp_path, name):
    store = SettingsStore.at(tmp_path / "s.ini")
    store.qsettings.setValue(f"settings/{name}", json.dumps(INVALID[name]))
    store.qsettings.sync()
    loaded, notes = store.load()
    live, _ = preset_arguments("live")
    assert getattr(loaded, name) == getattr(live, name)
    assert any(name in note for note in notes), notes
    loaded.validate()


def test_settings_stored_before_regions_keep_comparing_the_whole_picture(tmp_path):
    store = SettingsStore.at(tmp_path / "s.ini")
    store.qsettings.setValue("settings/z_threshold", json.dumps(12.0))  # the old default
    store.qsettings.sync()
    loaded, notes = store.load()
    assert (loaded.z_threshold, loaded.signal_regions, notes) == (12.0, 1, [])
    store.save(replace(loaded, signal_regions=4))
    assert store.load()[0].signal_regions == 4  # a stored choice is kept
    fresh = SettingsStore.at(tmp_path / "new.ini").load()[0]
    assert fresh.signal_regions == preset_arguments("live")[0].signal_regions


def test_an_invalid_live_setting_from_code_is_refused_and_the_model_unchanged(qtbot,
                                                                               tmp_path):
    window = open_window(qtbot, tmp_path, "synthetic:2:600")
    qtbot.waitUntil(lambda: window.session.model_info is not None, timeout=SLOW)
    window.settings.window_size = 0
    assert window.prefs.apply_live(["window_size"]) is False
    assert "window_size" in window.controls.live_error.text()
    assert window.learner.model_settings.window_size >= 1
    wait_steps(qtbot, window, 1)
    assert window.learner.worker.model.args.window_size == window.learner.model_settings.window_size


# --- the command line ------------------------------------------------------------------

def _cli_error(argv: list[str], capsys) -> str:
    rc = main(argv)
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert rc == 2, (argv, captured.err)
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert captured.out == ""
    return lines[0]


@pytest.mark.parametrize("assignment, named", [
    ("window_size=0", "window_size"), ("lr=-0.001", "lr"), ("snippet_size=0", "snippet_size"),
    ("optimize_every=0", "optimize_every"), ("lr=nan", "lr")])
def test_the_cli_refuses_invalid_settings_in_one_line(capsys, assignment, named):
    line = _cli_error(["segment", "synthetic:1:2", "--set", assignment, "--device", "cpu"],
                      capsys)
    assert line.startswith("streamer-studio segment: error:") and named in line


def test_the_cli_refuses_snippet_0_and_invalid_changes_to_a_loaded_model(capsys, tmp_path):
    line = _cli_error(["segment", "synthetic:1:2", "--snippet", "0"], capsys)
    assert "--snippet" in line
    model_args, opt_args = small_settings().model_arguments()
    from streamer_core import StreamerModel, StreamerOptimizer

    model = StreamerModel(replace(model_args, device="cpu"))
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, StreamerOptimizer(model, opt_args))
    line = _cli_error(["segment", "synthetic:1:2", "--checkpoint", str(path), "--set",
                       "window_size=0"], capsys)
    assert "window_size" in line
