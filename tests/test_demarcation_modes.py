"""The peak demarcation modes (zscore, robust, hysteresis) on hand-made signals."""

import dataclasses
import math

import numpy as np
import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core import EventDemarcation, StreamerModelArguments
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.demarcation import (
    DEMARCATION_MODES,
    PAPER_MODES,
    PEAK_MODES,
    few_steps_widening,
    t_quantile,
)
from streamer_core.presets import preset_arguments

SIGMA = 1.4826  # MAD of a normal distribution in standard deviations


def feed(dem: EventDemarcation, values: list[float]) -> list[bool]:
    return [dem(v) for v in values]


def test_the_mode_lists_keep_the_reference_modes_first():
    assert PAPER_MODES == ("fixed", "accum", "average")
    assert DEMARCATION_MODES == PAPER_MODES + PEAK_MODES
    assert set(PEAK_MODES) == {"zscore", "robust", "hysteresis", "change"}


def test_robust_threshold_is_median_plus_z_mad_of_the_values_before():
    dem = EventDemarcation("robust", "distance", window_size=5, z_threshold=2.0, min_window=5)
    assert feed(dem, [1, 1, 2, 2, 3]) == [False] * 5  # warming up: nothing to compare with
    assert dem.last_threshold is None
    # window 1,1,2,2,3: median 2, MAD 1
    assert dem(4.9) is False
    assert dem.last_threshold == pytest.approx(2 + 2 * SIGMA)
    # window 1,2,2,3,4.9: median 2, MAD 1 still (one outlier hardly moves it)
    assert dem(5.0) is True
    assert dem.last_threshold == pytest.approx(2 + 2 * SIGMA)


def test_robust_similarity_looks_for_low_values():
    dem = EventDemarcation("robust", "similarity", window_size=5, z_threshold=2.0,
                           min_window=5)
    feed(dem, [0.9, 0.9, 0.8, 0.8, 0.7])  # median 0.8, MAD 0.1
    assert dem(0.9) is False  # a well predicted input is no surprise in similarity
    assert dem.last_threshold == pytest.approx(0.8 - 2 * SIGMA * 0.1)
    dem = EventDemarcation("robust", "similarity", window_size=5, z_threshold=2.0,
                           min_window=5)
    feed(dem, [0.9, 0.9, 0.8, 0.8, 0.7])
    assert dem(0.5) is True


def test_zscore_uses_mean_and_standard_deviation():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]  # mean 3, std sqrt(2)
    below = EventDemarcation("zscore", "distance", window_size=5, z_threshold=2.0,
                             min_window=5)
    feed(below, values)
    assert below(5.8) is False
    assert below.last_threshold == pytest.approx(3 + 2 * math.sqrt(2))
    above = EventDemarcation("zscore", "distance", window_size=5, z_threshold=2.0,
                             min_window=5)
    feed(above, values)
    assert above(5.9) is True


def test_first_value_after_reset_is_never_a_boundary_whatever_its_size():
    for mode in ("zscore", "robust", "hysteresis"):  # change: see its own tests
        dem = EventDemarcation(mode, "distance", z_threshold=0.0, rearm_z=0.0, min_window=1)
        assert dem(1e9) is False and dem.last_threshold is None
        assert dem(2e9) is True  # compared with the first from the second value on
        dem.reset()
        assert dem(1e9) is False and dem.last_threshold is None


def test_no_boundary_until_min_window_values_are_stored():
    dem = EventDemarcation("robust", "distance", z_threshold=1.0, min_window=4)
    assert feed(dem, [0, 0, 0, 100]) == [False] * 4
    assert dem(100) is True  # the fifth value meets a window of four


def test_refractory_period_spaces_boundaries_by_min_event_length():
    dem = EventDemarcation("robust", "distance", z_threshold=3.0, min_event_length=3,
                           min_window=5)
    feed(dem, [0] * 9)  # a flat window: anything above it is a surprise
    # every 10 crosses (the median stays 0), but only every third input may end an event
    assert feed(dem, [10, 10, 10, 10, 10, 10, 10]) == [True, False, False, True, False,
                                                         False, True]


def test_an_urgent_change_is_not_held_back_by_the_refractory_period():
    # A cut that shows over two inputs: the first (half changed) is already a boundary;
    # the second, the new scene itself, must still end an event (the layer above's).
    dem = EventDemarcation("change", "similarity", z_threshold=2.0, min_event_length=4,
                           min_window=5)
    feed(dem, [0.5, 0.51, 0.5, 0.49, 0.5, 0.51, 0.5])
    assert dem(0.3)  # the first half of the cut
    assert not dem(0.9)  # the rest, within the refractory period
    dem2 = EventDemarcation("change", "similarity", z_threshold=2.0, min_event_length=4,
                            min_window=5)
    feed(dem2, [0.5, 0.51, 0.5, 0.49, 0.5, 0.51, 0.5])
    assert dem2(0.3)
    assert dem2(0.9, urgent=True)
    assert not dem2(0.9, urgent=True)  # urgent waives the wait, not the limit


def test_refractory_period_also_counts_from_the_reset():
    dem = EventDemarcation("robust", "distance", z_threshold=0.5, min_event_length=3,
                           min_window=1)
    assert feed(dem, [0, 10, 10]) == [False, False, True]
    dem.reset()
    assert feed(dem, [0, 10, 10]) == [False, False, True]


def test_min_event_length_one_allows_consecutive_boundaries():
    dem = EventDemarcation("robust", "distance", z_threshold=0.5, min_event_length=1,
                           min_window=1)
    assert feed(dem, [0, 10, 10]) == [False, True, True]


def test_hysteresis_waits_for_the_signal_to_settle_before_the_next_boundary():
    warm = [1, 0, 2, 1, 0, 2]  # median 1, MAD 1
    spikes = [10, 10, 1, 10]
    robust = EventDemarcation("robust", "distance", window_size=6, min_window=6)
    feed(robust, warm)
    assert feed(robust, spikes) == [True, True, False, True]
    hyst = EventDemarcation("hysteresis", "distance", window_size=6, min_window=6,
                            rearm_z=1.0)
    feed(hyst, warm)
    # the second 10 is still far above median + 1 MAD-sigma: disarmed; the 1 re-arms
    assert feed(hyst, spikes) == [True, False, False, True]
    assert hyst.last_threshold == pytest.approx(1.5 + 3 * SIGMA * 1.0)


def test_hysteresis_stays_disarmed_while_the_signal_stays_high():
    dem = EventDemarcation("hysteresis", "distance", window_size=50, min_window=6,
                           rearm_z=1.0)
    feed(dem, [1, 0, 2, 1, 0, 2])
    assert feed(dem, [10, 9, 8, 9, 10]) == [True, False, False, False, False]
    assert dem.armed is False


def test_state_round_trip_keeps_refractory_and_arming():
    def make() -> EventDemarcation:
        return EventDemarcation("hysteresis", "distance", window_size=8, min_window=3,
                                min_event_length=4)

    original = make()
    feed(original, [0, 1, 0, 1, 50])  # a boundary: disarmed, refractory running
    copy = make()
    copy.load_state(original.state())
    later = [0.5, 60, 0.5, 70, 80, 0.2, 90]
    assert feed(copy, later) == feed(original, later)
    assert copy.state() == original.state()


def test_old_checkpoint_state_without_peak_keys_loads():
    dem = EventDemarcation("robust", "distance", min_window=1)
    dem.load_state({"window": [1.0, 2.0], "buffer": 0.0})
    assert list(dem.window) == [1.0, 2.0] and dem.since_boundary == 0 and dem.armed


@pytest.mark.parametrize("bad, word", [
    (dict(z_threshold=-1.0), "z_threshold"),
    (dict(z_threshold=math.nan), "z_threshold"),
    (dict(min_event_length=0), "min_event_length"),
    (dict(rearm_z=-0.5), "rearm_z"),
    (dict(min_window=0), "min_window"),
    (dict(demarcation_mode="hysteresis", z_threshold=1.0, rearm_z=2.0), "rearm_z"),
    (dict(demarcation_mode="peaks"), "demarcation_mode"),
])
def test_bad_peak_settings_are_refused_by_name(bad, word):
    args = dataclasses.replace(preset_arguments("live")[0], **bad)
    with pytest.raises(ValueError, match=word):
        args.validate()


def test_paper_preset_keeps_the_reference_rule():
    paper, _ = preset_arguments("paper")
    assert (paper.demarcation_mode, paper.window_size, paper.modifier) == ("average", 50, 1.0)


def test_a_model_runs_with_a_peak_mode_and_reports_its_threshold():
    model, optimizer = small_model(demarcation_mode="change", min_window=2,
                                   min_event_length=2, z_threshold=0.5)
    reports = [r for r in run(model, optimizer, scene_frames(10)) if r.layer == 0]
    compared = [r for r in reports if r.threshold is not None]
    assert compared, "no signal was ever compared with a threshold"
    steps = [r.step for r in reports if r.boundary]
    assert all(b - a >= 2 for a, b in zip(steps, steps[1:]))  # refractory on the model


def test_checkpoint_keeps_peak_settings_outside_the_reference_args(tmp_path):
    model, optimizer = small_model(demarcation_mode="hysteresis", z_threshold=2.5,
                                   min_event_length=3, rearm_z=0.5, min_window=4,
                                   keep_events=True)
    optimizer.args.optimize_clock = "base"
    run(model, optimizer, scene_frames(5))
    path = tmp_path / "peak.pt"
    save_checkpoint(path, model, optimizer)
    saved = torch.load(path, weights_only=True)
    reference_fields = {f.name for f in dataclasses.fields(StreamerModelArguments)}
    assert "z_threshold" not in saved["model_args"]  # the reference builds args from it
    assert "keep_events" not in saved["model_args"]
    assert set(saved["model_args"]) < reference_fields
    loaded, loaded_optimizer = load_checkpoint(path, device="cpu")
    assert (loaded.args.z_threshold, loaded.args.min_event_length, loaded.args.rearm_z,
            loaded.args.min_window, loaded.args.keep_events) == (2.5, 3, 0.5, 4, True)
    assert loaded.streamer.args.keep_events and loaded_optimizer.args.optimize_clock == "base"
    for a, b in zip(model.layers(), loaded.layers()):
        assert a.demarcation.state() == b.demarcation.state()


def test_set_demarcation_switches_a_running_model_to_a_peak_mode():
    model, _ = small_model()
    model.set_demarcation(demarcation_mode="robust", z_threshold=4.0, min_event_length=5)
    for layer in model.layers():
        assert layer.demarcation.dem_mode == "robust"
        assert layer.demarcation.min_event_length == 5
    with pytest.raises(ValueError, match="min_event_length"):
        model.set_demarcation(min_event_length=0)
    assert model.args.min_event_length == 5


def test_change_marks_steps_of_the_level_in_both_directions():
    dem = EventDemarcation("change", "similarity", window_size=10, z_threshold=3.0,
                           min_window=4)
    # a level with small wiggles, then a step down, then a step up (a better predicted
    # scene: the one-sided rules never mark it)
    level = [0.50, 0.52, 0.50, 0.52, 0.50]  # steps 0.02: median 0.02, MAD 0
    assert feed(dem, level) == [False] * 5
    assert dem(0.20) is True
    assert dem.last_threshold == pytest.approx(0.50 - 0.02)  # below: it moved down
    assert feed(dem, [0.21, 0.20]) == [False, False]
    up = EventDemarcation("change", "similarity", window_size=10, z_threshold=3.0,
                          min_window=4)
    feed(up, level)
    assert up(0.51) is False
    assert up.last_threshold == pytest.approx(0.50 - 0.02)  # a small rise: shown below
    assert up(0.80) is True
    assert up.last_threshold == pytest.approx(0.51 + 0.02)  # the jump up: shown above
    # Distance mode: the surprising side is above; a drop beyond the limit shows below.
    dist = EventDemarcation("change", "distance", window_size=10, z_threshold=3.0,
                            min_window=4)
    feed(dist, level)
    assert dist(0.49) is False and dist.last_threshold == pytest.approx(0.50 + 0.02)
    assert dist(0.10) is True and dist.last_threshold == pytest.approx(0.49 - 0.02)


def test_change_first_value_and_refractory():
    dem = EventDemarcation("change", "distance", z_threshold=0.5, min_window=1,
                           min_event_length=3)
    assert dem(5.0) is False and dem.last_threshold is None  # no previous value
    assert dem(5.0) is False  # first step: stored, nothing to compare with yet
    # the step back down is as large, but comes one input after the boundary
    assert feed(dem, [10.0, 5.0, 5.0, 10.0]) == [True, False, False, True]
    dem.reset()
    assert dem(100.0) is False and dem.previous == 100.0


def test_cli_selects_a_peak_mode_and_names_a_bad_setting():
    from app.cli.errors import CliError
    from app.cli.model_setup import model_arguments

    args, _ = model_arguments("live", ["demarcation_mode=hysteresis", "rearm_z=0.5",
                                       "min_event_length=6"])
    assert (args.demarcation_mode, args.rearm_z, args.min_event_length) == (
        "hysteresis", 0.5, 6)
    with pytest.raises(CliError, match="min_window"):
        model_arguments("live", ["min_window=0"])


def test_change_ignores_the_level_step_that_new_weights_cause():
    dem = EventDemarcation("change", "similarity", window_size=10, z_threshold=3.0,
                           min_window=2)
    feed(dem, [0.50, 0.52, 0.50, 0.52])
    dem.weights_changed()  # the optimizer stepped: the next value starts a new level
    assert dem(0.90) is False and dem.last_threshold is None
    assert dem(0.50) is True  # a real step afterwards is still found
    for mode in ("average", "robust"):  # the other rules keep their history
        other = EventDemarcation(mode, "distance", min_window=1)
        feed(other, [1.0, 2.0])
        before = other.state()
        other.weights_changed()
        assert other.state() == before


def test_optimizing_the_model_tells_every_layer_its_weights_changed():
    model, _ = small_model(demarcation_mode="change", init_layers=2, evolve_every=100)
    for layer in model.layers():
        layer.demarcation.previous = 0.5
    model.optimize_model()
    assert [layer.demarcation.previous for layer in model.layers()] == [None, None]


def levels(steps: list[float]) -> list[float]:
    """A distance signal whose successive steps are `steps` (it only rises)."""
    return list(np.cumsum([1.0] + steps))


def restless_rule(ratio: float) -> EventDemarcation:
    return EventDemarcation("change", "distance", window_size=40, z_threshold=2.0,
                            min_window=5, min_event_length=2, restless_ratio=ratio)


def test_a_restless_camera_marks_at_most_where_it_starts_shaking():
    calm = [1.0, 0.6, 1.4, 0.8, 1.2] * 4  # steps between 0.6 and 1.4
    shaking = [3.0, 3.4, 2.8, 3.2] * 3  # every step far past the calm limit
    plain = feed(restless_rule(0.0), levels(calm + shaking))
    restless = feed(restless_rule(2.0), levels(calm + shaking))
    assert sum(plain[len(calm):]) >= 5  # without the ratio: a boundary every 2 inputs
    assert sum(restless[len(calm):]) <= 1


def test_in_a_calm_view_the_usual_limit_alone_decides():
    # A step past the calm limit (about 1.9) that is less than twice the median of the
    # last 4 steps: something new in view, and no step was unusual before it.
    calm = [1.0, 0.6, 1.4, 0.8, 1.2] * 4 + [1.2, 1.0, 1.4, 1.1]
    rule = restless_rule(2.0)
    decisions = feed(rule, levels(calm + [2.1]))
    assert decisions[-1] is True
    assert not any(decisions[:-1])


def test_a_step_only_the_restless_limit_held_back_is_told():
    """A step past the usual limit but below the one a restless picture raised is no
    boundary, and the layer hears that only the restless limit held it back (a cut out
    of a panning shot, see layer._quiet_cut); a step below the usual limit is not that."""
    calm = [1.0, 0.6, 1.4, 0.8, 1.2] * 4
    shaking = [3.0, 3.4, 2.8, 3.2]  # past the calm limit (about 1.9): the picture is restless
    rule = restless_rule(2.0)
    held_back = []
    for value in levels(calm + shaking + [5.0, 1.0]):  # 5.0 < 2 x median of the last 4
        boundary = rule(value)
        held_back.append((boundary, rule.held_by_restless))
    assert held_back[-2] == (False, True)
    assert held_back[-1] == (False, False)


def test_step_growth_tells_a_step_that_jumped_from_one_that_grew():
    """A cut makes the step jump at once; a camera getting under way makes it grow."""
    rule = restless_rule(0.0)
    feed(rule, levels([1.0, 1.0]))
    assert rule.step_growth() is None  # two steps: nothing to tell by yet
    feed(rule, [rule.previous + 2.0, rule.previous + 2.0 + 3.0])  # steps 1, 1, 2, 3
    assert rule.step_growth() == pytest.approx(1.5)  # 3 against the larger of 1 and 2
    feed(rule, [rule.previous + 12.0])
    assert rule.step_growth() == pytest.approx(4.0)
    assert EventDemarcation("average", "distance").step_growth() is None


def test_restless_memory_survives_a_checkpoint():
    rule = restless_rule(2.0)
    feed(rule, levels([1.0, 0.6, 1.4, 0.8, 1.2] * 4 + [3.0, 3.2]))
    copy = restless_rule(2.0)
    copy.load_state(rule.state())
    assert list(copy.unusual) == list(rule.unusual) and any(copy.unusual)
    assert feed(copy, [10.0, 13.1]) == feed(rule, [10.0, 13.1])


@pytest.mark.parametrize("z, dof, table", [(1.96, 3, 3.182), (1.96, 4, 2.776),
                                           (1.96, 10, 2.228), (1.645, 4, 2.132),
                                           (2.576, 5, 4.032), (2.576, 20, 2.845)])
def test_the_t_quantile_is_the_tables(z, dof, table):
    assert t_quantile(z, dof) == pytest.approx(table, abs=0.025)


def test_a_limit_told_from_few_steps_is_wider_until_the_window_is_full():
    widening = [few_steps_widening(n, 80, 2.0) for n in (5, 10, 20, 40, 80, 200)]
    assert widening[0] > 1.4 and widening[1] > 1.15
    assert widening == sorted(widening, reverse=True)
    assert widening[-2:] == [1.0, 1.0]


def test_change_needs_a_larger_step_while_it_has_few_steps_to_tell_by():
    """Steps 0.01 and 0.02 by turns: the usual limit is 0.015 + 2 * 1.4826 * 0.005; told
    from 6 steps of a window of 40, z = 2 is widened."""
    usual_limit = 0.015 + 2.0 * SIGMA * 0.005
    few_limit = 0.015 + 2.0 * few_steps_widening(6, 40, 2.0) * SIGMA * 0.005
    step = (usual_limit + few_limit) / 2  # beyond the usual limit, not beyond the widened
    few = EventDemarcation("change", "distance", window_size=40, z_threshold=2.0,
                           min_window=6)
    full = EventDemarcation("change", "distance", window_size=6, z_threshold=2.0,
                            min_window=6)
    values = list(np.cumsum([0.0, 0.01, 0.02, 0.01, 0.02, 0.01, 0.02]))
    for dem in (few, full):
        assert feed(dem, values) == [False] * 7
    assert few(values[-1] + step) is False
    assert few.last_threshold == pytest.approx(values[-1] + few_limit)  # the level drawn
    assert full(values[-1] + step) is True
    assert full.last_threshold == pytest.approx(values[-1] + usual_limit)


def test_live_marks_no_event_while_an_object_moves_in_a_streams_first_seconds():
    """Synthetic stream 226: a limit from the first few steps marked an object moving
    about the view at 5.5 s (docs/quality.md, session fifty-four)."""
    from app.cli.model_setup import new_model
    from app.cli.pipeline import Segmenter
    from streamer_core.sources import SyntheticSource

    model, optimizer = new_model("live", [], seed=0)
    segmenter = Segmenter(model, optimizer, max_steps=12)  # 0 to 5.5 s
    with SyntheticSource(226, 120.0) as source:
        segmenter.run(source)
    assert segmenter.steps == 12
    assert [t for t in model.event_boundaries()[0] if t > 0] == []
