"""The plain controls: one sensitivity per layer mapped onto the demarcation settings of the
active mode, and the Advanced section (closed by default) listing only what applies."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from app.gui.infrastructure.settings import StudioSettings
from app.gui.live.controls_panel import ControlsPanel
from app.gui.live.sensitivity import POSITIONS, WORDS, knobs
from streamer_core.buffer import DISTANCE, SIMILARITY
from streamer_core.demarcation import ACCUM, AVERAGE, DEMARCATION_MODES, EventDemarcation
from streamer_core.escalation import ESCALATE, OWN, Escalation
from streamer_core.settings import BY_NAME


def mode_settings(mode: str, distance: str, upper: str = ESCALATE,
                  modifier_type: str = "multiply") -> StudioSettings:
    """The live preset with another demarcation mode, comparing by `distance` everywhere."""
    return replace(StudioSettings.from_preset("live"), demarcation_mode=mode,
                   distance_mode=distance, force_base_dist=distance == DISTANCE,
                   upper_demarcation=upper, modifier_type=modifier_type)


COMBINATIONS = [(mode, distance, modifier_type)
                for mode in DEMARCATION_MODES for distance in (DISTANCE, SIMILARITY)
                for modifier_type in (("multiply", "add") if mode == AVERAGE else ("multiply",))
                if not (mode == ACCUM and distance == SIMILARITY)]


def recorded_signal(distance: str, length: int = 600) -> np.ndarray:
    """A prediction signal as a layer reports it: a level per scene (the model predicts
    some scenes better), noise, and a surprise at some scene changes. Seeded."""
    rng = np.random.default_rng(7)
    levels = np.repeat(rng.uniform(0.2, 0.6, length // 20), 20)
    values = levels + rng.normal(0.0, 0.03, length)
    values[rng.choice(length, 30, replace=False)] += rng.uniform(0.1, 0.5, 30)
    values = np.clip(values, 0.01, None)
    return values if distance == DISTANCE else np.clip(1.0 - values, 0.0, 1.0)


def boundaries(settings: StudioSettings, signal: np.ndarray) -> int:
    """Boundaries layer 0 marks on `signal` with these settings (as StreamerLayer builds
    its demarcation)."""
    s = settings
    distance = DISTANCE if s.force_base_dist else s.distance_mode
    demarcation = EventDemarcation(
        s.demarcation_mode, distance, threshold=s.loss_threshold, window_size=s.window_size,
        modifier_type=s.modifier_type, modifier=s.modifier, z_threshold=s.z_threshold,
        min_event_length=s.min_event_length, rearm_z=s.rearm_z, min_window=s.min_window,
        restless_ratio=s.restless_ratio)
    return sum(bool(demarcation(float(v))) for v in signal)


@pytest.mark.parametrize("mode,distance,modifier_type", COMBINATIONS)
def test_every_position_gives_valid_settings(mode, distance, modifier_type):
    for upper in (ESCALATE, OWN):
        settings = mode_settings(mode, distance, upper, modifier_type)
        settings.validate()
        assert len(knobs(settings)) == (2 if upper == ESCALATE else 1), "a mode without knob"
        for knob in knobs(settings):
            assert BY_NAME[knob.setting].applies(vars(settings)), (
                f"{knob.setting} does not act in {mode}")
            for position in range(POSITIONS):
                moved = knob.apply(settings, position)
                moved.validate()  # the table's checks and the model's own
                assert knob.position(moved) == position


@pytest.mark.parametrize("mode,distance,modifier_type", COMBINATIONS)
def test_layer_0_boundaries_grow_with_the_position(mode, distance, modifier_type):
    settings = mode_settings(mode, distance, modifier_type=modifier_type)
    signal = recorded_signal(distance)
    base_knob = knobs(settings)[0]
    counts = [boundaries(base_knob.apply(settings, p), signal) for p in range(POSITIONS)]
    assert counts == sorted(counts), f"{mode}/{distance}: {counts}"
    assert counts[-1] > counts[0], f"{mode}/{distance}: the slider changes nothing: {counts}"


def test_upper_layers_escalate_more_boundaries_with_the_position():
    settings = StudioSettings.from_preset("live")
    upper_knob = knobs(settings)[1]
    assert upper_knob.setting == "escalation_ratio" and upper_knob.layers == "Layers 1–2"
    rng = np.random.default_rng(3)
    surprises = np.exp(rng.normal(0.0, 1.2, 300))  # boundary surprises of layer 0
    counts = []
    for position in range(POSITIONS):
        escalation = Escalation(upper_knob.apply(settings, position).escalation_ratio)
        counts.append(sum(escalation(s).escalated for s in surprises))
    assert counts == sorted(counts) and counts[-1] > counts[0], counts


def test_the_live_preset_starts_every_slider_in_the_middle():
    settings = StudioSettings.from_preset("live")
    assert [WORDS[k.position(settings)] for k in knobs(settings)] == ["middle", "middle"]


def test_own_signal_layers_share_one_knob():
    settings = replace(StudioSettings.from_preset("paper"))
    assert [k.layers for k in knobs(settings)] == ["All layers"]
    assert [k.layers for k in knobs(replace(settings, max_layers=1))] == ["Layer 0"]


@pytest.fixture
def panel(qtbot) -> ControlsPanel:
    panel = ControlsPanel()
    qtbot.addWidget(panel)
    panel.set_settings(StudioSettings.from_preset("live"))
    panel.show()
    return panel


def test_slider_sets_the_mapped_field_and_applies_it_live(panel, qtbot):
    assert [k.setting for k in panel.knobs] == ["z_threshold", "escalation_ratio"]
    live = StudioSettings.from_preset("live")
    assert panel.slider_words[0].text() == WORDS[panel.knobs[0].position(live)]
    with qtbot.waitSignal(panel.live_setting_changed) as changed:
        panel.sliders[0].setValue(POSITIONS - 1)
    assert changed.args == ["z_threshold"]
    assert panel.read(StudioSettings()).z_threshold == knobs(
        StudioSettings.from_preset("live"))[0].values[-1]
    assert panel.slider_words[0].text() == "far more, shorter events"


def test_advanced_is_closed_and_lists_only_the_modes_fields(panel):
    assert not panel.advanced.is_open()
    assert panel.sliders[0].isVisible() and not panel.editors["z_threshold"].isVisible()
    panel.advanced.button.click()
    assert panel.advanced.is_open() and panel.editors["z_threshold"].isVisible()
    shown = {name for name in panel.editors if panel.field_shown(name)}
    assert {"z_threshold", "signal_regions", "escalation_ratio"} <= shown
    assert not {"modifier", "modifier_type", "loss_threshold", "rearm_z"} & shown

    panel.editors["demarcation_mode"].setCurrentIndex(
        panel.editors["demarcation_mode"].findData("average"))
    shown = {name for name in panel.editors if panel.field_shown(name)}
    assert {"modifier", "modifier_type", "window_size"} <= shown
    assert not {"z_threshold", "signal_regions", "rearm_z", "loss_threshold"} & shown
    assert [k.setting for k in panel.knobs] == ["modifier", "escalation_ratio"]

    panel.editors["upper_demarcation"].setCurrentIndex(
        panel.editors["upper_demarcation"].findData(OWN))
    assert not panel.field_shown("escalation_ratio")
    assert [k.layers for k in panel.knobs] == ["All layers"]


def test_the_open_advanced_section_fits_the_panel_at_its_narrowest(panel, qtbot):
    panel.resize(panel.minimumWidth(), 600)  # the Controls dock as a 1280x720 window has it
    panel.advanced.button.click()
    body = panel.widget()
    qtbot.waitUntil(lambda: body.width() >= body.sizeHint().width(), timeout=2000)
    assert panel.viewport().width() >= body.sizeHint().width()  # Connect and Stop were cut


def test_every_field_has_a_one_sentence_tooltip(panel):
    for name, editor in panel.editors.items():
        tip = editor.toolTip()
        assert tip == BY_NAME[name].help and tip.endswith("."), name
    for box in (panel.preset_box, panel.device_box, panel.learning_box, panel.follow_box,
                panel.loop_box, panel.reset_button, panel.save_button, *panel.sliders):
        assert box.toolTip(), box
