"""The window with the learner: timeline segments, live threshold, checkpoints, exports."""

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from gui_helpers import SLOW, choose, layer_rows, open_window, wait_steps

from app.gui.infrastructure.settings import SettingsStore, StudioSettings
from streamer_core.demarcation import DEMARCATION_MODES
from streamer_core.event_representations import read_representations

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "synthetic:2:600"  # bounded, so it plays at the learner's pace: no skipped input


def test_timeline_draws_one_span_per_event_after_boundaries(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    history = window.history
    qtbot.waitUntil(lambda: bool(history.layers) and len(history.layers[0].boundaries) >= 3,
                    timeout=SLOW)
    window.timeline.set_following(False)
    window.timeline.show_whole_session()
    boundaries = history.layers[0].boundaries["time"].copy()
    bars = window.timeline.rows[0].bars.opts
    starts = np.asarray(bars["x0"])
    # One span per event: from the layer's first input to each boundary, and the open one.
    assert len(starts) == len(boundaries) + 1
    assert np.allclose(starts[1:], boundaries)
    ends = starts + np.asarray(bars["width"])
    assert np.allclose(ends[:-1], boundaries)
    assert len(bars["brushes"]) == len(starts)
    assert window.timeline.has_finite_signal(0)
    # The video shows the current event of each layer.
    window._redraw()
    badge = window.video.badges[0]
    starts, first = history.layers[0].event_starts()
    assert badge.layer == 0 and badge.started == starts[-1]
    assert badge.event == first + len(starts) - 1
    # Every closed event of layer 0 has its keyframe, the open one its picture so far.
    keyframes = window.learner.keyframes.keyframes(0)
    assert [k.end for k in keyframes] == pytest.approx(list(history.layers[0].boundaries[
        "time"][:len(keyframes)]))
    assert len(keyframes) >= len(boundaries)
    assert all(k.start <= k.time < k.end for k in keyframes)
    assert badge.picture is not None and badge.picture.dtype == np.uint8


def test_a_threshold_control_changes_the_running_demarcation(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 3)
    controls = window.controls
    choose(controls, "demarcation_mode", "fixed")
    assert controls.editors["loss_threshold"].isEnabled()

    def rows_with(threshold):
        rows = layer_rows(window)
        return np.flatnonzero(rows["threshold"] == threshold), rows

    # Cosine similarity is at most 1: above 1.5 every compared input ends an event.
    controls.editors["loss_threshold"].setValue(1.5)
    qtbot.waitUntil(lambda: len(rows_with(1.5)[0]) >= 3, timeout=SLOW)
    hits, rows = rows_with(1.5)
    assert rows["boundary"][hits].all()
    first = hits[0]
    compared = np.isfinite(rows["signal"][first:])
    assert (rows["threshold"][first:][compared] == 1.5).all()  # applied to every later step

    # ... and below -1.5 none does.
    controls.editors["loss_threshold"].setValue(-1.5)
    qtbot.waitUntil(lambda: len(rows_with(-1.5)[0]) >= 3, timeout=SLOW)
    hits, rows = rows_with(-1.5)
    assert not rows["boundary"][hits].any()


def test_an_invalid_live_change_is_refused_and_the_model_unchanged(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 2)
    controls = window.controls
    running_mode = window.learner.model_settings.demarcation_mode
    choose(controls, "demarcation_mode", "accum")  # needs distance
    assert controls.live_error.isVisibleTo(controls)
    assert "accum" in controls.live_error.text()
    wait_steps(qtbot, window, 3)
    assert window.learner.model_settings.demarcation_mode == running_mode != "accum"
    assert not any(m.level == "error" for m in window.notifier.messages)


def test_save_and_load_through_the_actions(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    checkpoint = tmp_path / "model.pt"
    wait_steps(qtbot, window, 4)
    window.action_save.trigger()  # no file chosen yet: asks (scripted), then saves
    qtbot.waitUntil(lambda: window.learner.last_saved == str(checkpoint), timeout=SLOW)
    saved = torch.load(checkpoint, weights_only=True)
    saved_inputs = saved["studio"]["base_counter"]
    saved_bounds = saved["studio"]["layers"][0]["hierarchy_boundaries"]
    assert window.settings.checkpoint_path == str(checkpoint)

    wait_steps(qtbot, window, 2)
    before = window.session.model_info
    # The timeline as the loaded model arrives (a step after it may land before the check).
    at_load: list[list[float]] = []
    window.learner.model_ready.connect(
        lambda info: at_load.append(list(window.history.layers[0].boundaries["time"])))
    window.action_load.trigger()
    qtbot.waitUntil(lambda: window.session.model_info is not before, timeout=SLOW)
    info = window.session.model_info
    assert info.reason == "loaded" and info.path == str(checkpoint)
    assert info.base_counter == saved_inputs
    # The timeline restarts from the loaded model's own boundaries.
    assert at_load == [saved_bounds[1:]]
    wait_steps(qtbot, window, 2)  # and learning goes on with it
    assert window.history.latest_step >= saved_inputs


def test_autosave_writes_beside_the_chosen_checkpoint_never_over_it(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    assert not window.files.autosave_timer.isActive()  # off by default
    window.autosave_actions[5].trigger()
    assert window.files.autosave_timer.isActive()
    assert window.files.autosave_timer.interval() == 5 * 60_000
    window.settings.checkpoint_path = str(tmp_path / "mine.pt")
    wait_steps(qtbot, window, 1)
    window.files.autosave()
    qtbot.waitUntil(lambda: window.learner.last_saved.endswith("mine.autosave.pt"), timeout=SLOW)
    assert (tmp_path / "mine.autosave.pt").is_file()
    assert not (tmp_path / "mine.pt").exists()
    window.autosave_actions[0].trigger()
    assert not window.files.autosave_timer.isActive()


def test_loading_a_bad_file_shows_a_message_and_keeps_the_model(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 2)
    (tmp_path / "model.pt").write_bytes(b"this is not a checkpoint")
    before = window.session.model_info
    window.action_load.trigger()
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=SLOW)
    message = window.notifier.last
    assert message.title == "Checkpoint not loaded"
    assert "model.pt" in message.text and "unchanged" in message.text
    wait_steps(qtbot, window, 2)
    assert window.session.model_info is before


def test_a_checkpoint_that_cannot_be_written_gives_a_message(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 1)
    window.settings.checkpoint_path = str(tmp_path / "no such folder" / "model.pt")
    window.action_save.trigger()
    qtbot.waitUntil(lambda: window.notifier.last is not None, timeout=SLOW)
    assert window.notifier.last.title == "Checkpoint not saved"
    assert "no such folder" in window.notifier.last.text
    wait_steps(qtbot, window, 1)  # still learning


def test_asking_for_a_gpu_without_one_falls_back_to_the_cpu(qtbot, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: nothing to fall back from")
    window = open_window(qtbot, tmp_path, SOURCE, device="cuda")
    assert window.notifier.messages[0].title == "No GPU"
    qtbot.waitUntil(lambda: window.session.model_info is not None, timeout=SLOW)
    assert window.session.model_info.device.startswith("CPU")


def test_settings_are_remembered_between_launches(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    window.controls.editors["window_size"].setValue(9)
    window.controls.editors["modifier"].setValue(0.95)
    window.autosave_actions[10].trigger()
    window.close()
    settings, notes = SettingsStore.at(tmp_path / "settings.ini").load()
    assert notes == []
    assert (settings.window_size, settings.modifier) == (9, 0.95)
    assert settings.autosave_minutes == 10
    assert settings.source == SOURCE


def test_export_hierarchy_json_and_trace(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    qtbot.waitUntil(lambda: bool(window.history.layers)
                    and window.history.layers[0].event_count >= 3, timeout=SLOW)
    window.action_export_json.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "hierarchy.json").exists(), timeout=SLOW)
    doc = json.loads((tmp_path / "hierarchy.json").read_text())
    assert doc["layers"][0]["name"] == "layer 0" and doc["duration"] > 0
    # Each event's representation, as `segment --representations` writes them.
    layer_0 = read_representations(doc)[0]
    assert len(layer_0) >= 3 and all(vector is not None for *_, vector in layer_0)
    window.action_export_trace.trigger()
    qtbot.waitUntil(lambda: (tmp_path / "trace.jsonl").exists(), timeout=SLOW)
    rows = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    assert len(rows) >= 4
    assert {"step", "time", "layer", "signal", "threshold", "boundary"} <= set(rows[0])
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)


def test_structural_changes_wait_for_a_reset(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    wait_steps(qtbot, window, 1)
    window.controls.editors["max_layers"].setValue(2)
    assert window.prefs.pending_changes() == ["max_layers"]
    assert "max layers" in window.controls.pending_label.text()
    before = window.session.model_info
    window.controls.apply_button.click()  # scripted dialogs confirm
    qtbot.waitUntil(lambda: window.session.model_info is not before, timeout=SLOW)
    assert window.session.model_info.reason == "reset"
    assert window.session.model_info.model_args.max_layers == 2
    assert window.prefs.pending_changes() == []


def test_the_self_test_passes(tmp_path):
    shot = tmp_path / "shot.png"
    result = subprocess.run([sys.executable, "-m", "app", "--self-test", "--screenshot",
                             str(shot)], cwd=ROOT, capture_output=True, text=True,
                            timeout=400)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "self-test passed" in result.stdout
    assert shot.stat().st_size > 10_000


def test_every_demarcation_mode_can_be_chosen_and_tuned_live(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    controls = window.controls
    modes = controls.editors["demarcation_mode"]
    offered = [modes.itemData(i) for i in range(modes.count())]
    assert sorted(offered) == sorted(DEMARCATION_MODES)
    wait_steps(qtbot, window, 2)

    choose(controls, "demarcation_mode", "hysteresis")
    editors = controls.editors
    assert editors["rearm_z"].isEnabled() and not editors["loss_threshold"].isEnabled()
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW) as sent:
        controls.editors["min_event_length"].setValue(7)
    assert sent.args[0] == {"min_event_length": 7}
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW) as sent:
        controls.editors["z_threshold"].setValue(4.5)
    assert sent.args[0]["z_threshold"] == 4.5
    assert window.learner.model_settings.z_threshold == 4.5
    assert window.learner.model_settings.min_event_length == 7
    # Reading the panel back (any later edit does) keeps the mode and its settings.
    assert controls.read(window.settings).demarcation_mode == "hysteresis"

    choose(controls, "demarcation_mode", "average")
    assert not editors["z_threshold"].isEnabled() and editors["modifier"].isEnabled()


def test_upper_layer_rule_and_escalation_ratio_apply_live(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    controls = window.controls
    assert controls.editors["upper_demarcation"].currentData() == "escalate"  # the live preset's
    wait_steps(qtbot, window, 2)
    assert window.timeline.signal_names == ("similarity", "surprise")
    assert window.timeline.upper_threshold is False  # their boundaries come from below
    assert window.timeline.new_scene_share is None  # layer 0 reads no picture here
    choose(controls, "demarcation_mode", "change")
    choose(controls, "signal_space", "features")  # now a share of the picture decides
    assert window.timeline.new_scene_share == window.settings.new_scene_share  # layer 1's line
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW):
        controls.editors["new_scene_share"].setValue(0.7)
    assert window.timeline.new_scene_share == pytest.approx(0.7)
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW) as sent:
        controls.editors["escalation_ratio"].setValue(4.0)
    assert sent.args[0] == {"escalation_ratio": 4.0}
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW) as sent:
        choose(controls, "upper_demarcation", "own")
    assert sent.args[0] == {"upper_demarcation": "own"}
    assert not controls.editors["escalation_ratio"].isEnabled()  # only escalation uses it
    assert window.learner.model_settings.upper_demarcation == "own"
    assert window.timeline.signal_names == ("feature step", "similarity")
    assert window.timeline.upper_threshold is True
    assert window.timeline.new_scene_share is None
    qtbot.waitUntil(lambda: window.learner.worker.model.args.upper_demarcation == "own",
                    timeout=SLOW)
    assert window.learner.worker.model.streamer.escalation.ratio == 4.0


def test_layer_zero_regions_apply_live_and_name_what_its_row_plots(qtbot, tmp_path):
    window = open_window(qtbot, tmp_path, SOURCE)
    controls = window.controls
    wait_steps(qtbot, window, 2)
    choose(controls, "demarcation_mode", "average")
    assert not controls.editors["signal_regions"].isEnabled()  # only `change` compares regions
    choose(controls, "demarcation_mode", "change")
    assert controls.editors["signal_regions"].isEnabled()
    choose(controls, "signal_space", "pixels")  # live compares features: regions of pixels
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW) as sent:
        controls.editors["signal_regions"].setValue(4)
    assert sent.args[0] == {"signal_regions": 4}
    assert window.timeline.signal_names[0] == "regional step"
    qtbot.waitUntil(lambda: window.learner.worker.model.args.signal_regions == 4, timeout=SLOW)
    with qtbot.waitSignal(window.learner.requests.demarcation, timeout=SLOW):
        controls.editors["signal_regions"].setValue(1)
    assert window.timeline.signal_names[0] == "similarity"
    choose(controls, "signal_space", "features")
    assert window.timeline.signal_names[0] == "feature step"


def test_upper_rows_name_what_decided_their_boundaries():
    """With layer 0 on features, layer 1's row plots the share of the picture that changed
    (against new_scene_share), not a surprise, and layer 2's the size of that change."""
    from types import SimpleNamespace

    from app.gui.controllers.learner_controller import LearnerController

    emitted, lines = {}, {}
    for preset in ("live", "paper"):
        settings = replace(StudioSettings.from_preset(preset), new_scene_share=0.7)
        fake = SimpleNamespace(
            model_settings=settings,
            signal_names=SimpleNamespace(emit=lambda *a, p=preset: emitted.setdefault(p, a)),
            new_scene_share=SimpleNamespace(emit=lambda v, p=preset: lines.setdefault(p, v)),
            loss_modes=SimpleNamespace(emit=lambda *a: None))
        LearnerController._name_signals(fake)
    assert emitted["live"] == ("feature step", "picture changed", False, "change size")
    assert lines["live"] == 0.7  # layer 1's line: the running model's setting
    paper = StudioSettings.from_preset("paper")  # own signals: their own comparison
    assert emitted["paper"][1:] == (paper.distance_mode, True, paper.distance_mode)
    assert lines["paper"] is None  # no share of the picture decides there
