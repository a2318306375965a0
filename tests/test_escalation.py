"""Escalation: upper layers end their events at the most surprising boundaries below."""

import math
from collections.abc import Callable

import numpy as np
import pytest
import torch
from test_feature_signal import textured_background, view
from test_side_watch import still_street

from core_helpers import run, scene_frames, small_model
from streamer_core import EventDemarcation, StreamerModelArguments
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.escalation import MIN_BOUNDARIES, Escalation, split_level
from streamer_core.frames_between import CLEAR_CUT_SHARE, CUT_SHARE, IntervalReading
from streamer_core.layer import CUT_GREW_OUT_SHARE, IN_ONE_PLACE, StreamerLayer
from streamer_core.picture_change import PICTURE_HISTORY, PictureChange
from streamer_core.presets import preset_arguments


def test_split_level_finds_the_least_value_of_the_upper_class():
    assert split_level([1.0, 1.2, 0.9, 10.0, 12.0, 1.1], ratio=2.0) == pytest.approx(10.0)
    # Both classes compared as logarithms: 3 and 30 are as far apart as 0.3 and 3.
    assert split_level([0.3, 0.35, 3.0, 0.32], ratio=2.0) == pytest.approx(3.0)


def test_split_level_needs_classes_at_least_ratio_apart():
    values = [1.0, 1.2, 0.9, 2.0, 2.2]  # geometric means 1.02 and 2.1: ratio 2.06
    assert split_level(values, ratio=2.0) == pytest.approx(2.0)
    assert split_level(values, ratio=3.0) is None
    assert split_level([5.0, 5.0, 5.0], ratio=1.5) is None  # one class
    assert split_level([5.0], ratio=1.5) is None


def test_a_boundary_escalates_when_it_is_in_the_upper_class():
    escalation = Escalation(ratio=2.0)
    early = [escalation(s) for s in [20.0, 200.0, 400.0][:MIN_BOUNDARIES - 1]]
    assert not any(a.escalated for a in early)  # too few boundaries to tell classes apart
    for surprise in [15.0, 25.0, 18.0]:
        assert not escalation(surprise).escalated  # like most of the recent ones
    big = escalation(300.0)
    assert big.escalated and big.surprise == 300.0
    assert 25.0 < big.level <= 300.0
    assert not escalation(22.0).escalated


def test_the_second_boundary_escalates_when_it_is_ratio_times_the_first():
    # A session's first scene change often comes after a single ordinary boundary.
    escalation = Escalation(ratio=3.0)
    assert not escalation(0.02).escalated
    assert escalation(0.5).escalated
    again = Escalation(ratio=3.0)
    again(0.02)
    assert not again(0.05).escalated  # 2.5 times: one class


def test_no_surprise_counts_as_the_least_one():
    escalation = Escalation(ratio=2.0)
    for surprise in [0.0, -1.0, 0.0]:
        arrival = escalation(surprise)
    assert arrival.surprise > 0 and not arrival.escalated
    assert escalation(5.0).escalated  # far above "none at all"


@pytest.mark.parametrize("mode, values, surprising", [
    ("change", [0.5, 0.51, 0.5, 0.51, 0.5, 0.51, 0.5, 0.9], 0.9),  # a step of 0.4
    ("robust", [1.0, 1.1, 0.9, 1.0, 1.1, 0.9, 5.0], 5.0),  # distance: high is surprising
])
def test_demarcation_reports_how_surprising_a_value_was(mode, values, surprising):
    dist = "similarity" if mode == "change" else "distance"
    dem = EventDemarcation(mode, dist, window_size=10, z_threshold=3.0, min_window=5)
    for value in values[:-1]:
        dem(value)
    calm = dem.last_surprise
    assert dem(surprising) is True
    assert dem.last_surprise > 3.0  # beyond z_threshold deviations: a boundary
    assert calm < 3.0


def test_paper_average_surprise_is_the_excess_over_the_running_mean():
    dem = EventDemarcation("average", "similarity", window_size=3)
    for value in [0.8, 0.8, 0.8]:
        dem(value)
    assert dem(0.5) is True
    assert dem.last_surprise == pytest.approx(0.3)
    dem(0.9)
    assert dem.last_surprise == 0.0


def _escalating_model(optimize_every: int = 10_000, **overrides):
    return small_model(seed=4, optimize_every=optimize_every, init_layers=3,
                       evolve_every=1000, demarcation_mode="average",
                       upper_demarcation="escalate", escalation_ratio=1.2, **overrides)


def test_escalated_boundaries_are_nested_and_follow_the_arrivals():
    model, optimizer = _escalating_model(optimize_every=4)
    optimizer.args.optimize_clock = "base"  # frequent updates: fresh starts at layer 1
    base, upper = model.streamer, model.streamer.above
    arrivals, fresh = [], []
    original = upper.forward

    def spy(x, base_counter, arrival=None):
        arrivals.append((base_counter, arrival))
        if upper.context is None:
            fresh.append(base_counter)
        return original(x, base_counter, arrival)

    upper.forward = spy
    reports = run(model, optimizer, scene_frames(40))
    layer0 = [r.step for r in reports if r.layer == 0 and r.boundary]
    layer1 = [r.step for r in reports if r.layer == 1 and r.boundary]
    layer2 = [r.step for r in reports if r.layer == 2 and r.boundary]
    assert len(layer0) > len(layer1) > 0
    assert set(layer2) <= set(layer1) <= set(layer0)
    # Every escalated arrival ends a layer-1 event, its first input (a fresh start) too.
    assert {step for step, a in arrivals if a.escalated} == set(layer1)
    assert [step for step, _ in arrivals] == layer0  # every layer-0 boundary is an input
    assert len(base.escalation.surprises) == len(layer0)
    assert len(upper.escalation.surprises) == len(layer1)
    assert set(fresh) & set(layer1), "the run must cover an escalated fresh start"
    shown = [r for r in reports if r.layer == 1]
    assert all(r.signal == dict(arrivals)[r.step].surprise for r in shown)


def test_own_mode_ignores_the_arrivals():
    model, optimizer = small_model(seed=4, optimize_every=10_000, init_layers=3,
                                   evolve_every=1000, demarcation_mode="average")
    reports = run(model, optimizer, scene_frames(40))
    upper = [r for r in reports if r.layer == 1 and r.signal is not None]
    assert upper and all(-1.0 <= r.signal <= 1.0 for r in upper)  # its own cosine signal


def test_boundary_surprises_survive_a_checkpoint(tmp_path):
    model, optimizer = _escalating_model()
    run(model, optimizer, scene_frames(30))
    path = tmp_path / "m.pt"
    save_checkpoint(path, model, optimizer)
    loaded, _ = load_checkpoint(path, device="cpu")
    assert loaded.args.upper_demarcation == "escalate"
    assert loaded.args.escalation_ratio == 1.2
    for mine, theirs in zip(model.layers(), loaded.layers()):
        assert theirs.escalation.state() == mine.escalation.state()
    assert len(loaded.streamer.escalation.state()) > 0


def test_set_demarcation_switches_escalation_on_a_running_model():
    model, optimizer = small_model(seed=4, optimize_every=10_000, init_layers=2,
                                   evolve_every=1000, demarcation_mode="average")
    run(model, optimizer, scene_frames(10))
    history = model.streamer.escalation.state()
    assert history  # layer 0 has marked boundaries
    model.set_demarcation(upper_demarcation="escalate", escalation_ratio=3.0)
    assert model.streamer.above.args.upper_demarcation == "escalate"
    assert model.streamer.escalation.ratio == 3.0
    assert model.streamer.escalation.state() == history  # the history is kept
    model.set_demarcation(demarcation_mode="robust")  # surprises in other units: start again
    assert model.streamer.escalation.state() == []
    with pytest.raises(ValueError, match="upper_demarcation"):
        model.set_demarcation(upper_demarcation="sideways")
    with pytest.raises(ValueError, match="escalation_ratio"):
        model.set_demarcation(escalation_ratio=0.5)
    assert model.args.escalation_ratio == 3.0


def test_live_escalates_and_paper_keeps_the_spec():
    assert preset_arguments("live")[0].upper_demarcation == "escalate"
    assert preset_arguments("paper")[0].upper_demarcation == "own"
    assert "upper_demarcation" not in StreamerModelArguments().reference_dict()


def test_live_builds_layer_1_before_layer_0_can_end_its_first_event():
    """A cut in a session's first seconds ends layer 1's event too: layer 1 exists once
    layer 0's limit has the `min_window` steps it needs to mark anything (montage 204 lost
    a cut at 4 s to a layer 1 built at 6 s; docs/quality.md, session fifty-one)."""
    live = preset_arguments("live")[0]
    model, _ = small_model(demarcation_mode="change", evolve_every=live.evolve_every,
                           min_window=live.min_window, min_event_length=live.min_event_length,
                           window_size=live.window_size)
    with torch.no_grad():
        for x in scene_frames(3 * live.min_window):
            if model(x)[0].threshold is not None:  # layer 0's first input it could mark
                break
        else:
            pytest.fail("layer 0 never had a limit to mark a boundary by")
    assert model.get_num_layers() >= 2


def test_a_checkpoint_from_before_escalation_loads_with_the_spec_rule(tmp_path):
    model, optimizer = _escalating_model()
    run(model, optimizer, scene_frames(12))
    path = tmp_path / "old.pt"
    save_checkpoint(path, model, optimizer)
    data = torch.load(path, weights_only=True)
    for key in ("upper_demarcation", "escalation_ratio"):
        del data["studio"]["model_args"][key]
    for layer in data["studio"]["layers"]:
        del layer["boundary_surprises"]
    torch.save(data, path)
    loaded, _ = load_checkpoint(path, device="cpu")
    assert loaded.args.upper_demarcation == "own"  # what such a file was saved with
    assert loaded.streamer.escalation.state() == []
    run(loaded, None, scene_frames(3))


def test_the_least_value_of_the_upper_class_escalates_exactly():
    """The level is that value itself: exp(log(v)) rounds above v for this one."""
    least = 2.787039351967598
    assert math.exp(math.log(least)) > least
    escalation = Escalation(ratio=2.0)
    for surprise in [0.5, 0.6, 0.55, 9.0]:
        escalation(surprise)
    arrival = escalation(least)
    assert arrival.level == least and arrival.escalated


def _cut_over_two_inputs() -> list[torch.Tensor]:
    """A calm room where small things come and go, then a cut that shows over two inputs:
    half of the picture first, the rest one input later."""
    g = torch.Generator().manual_seed(3)
    room, other = torch.rand(1, 3, 8, 8, generator=g), torch.rand(1, 3, 8, 8, generator=g)
    room, other = (torch.nn.functional.interpolate(p, size=128, mode="nearest") * 2 - 1
                   for p in (room, other))
    frames = []
    for t in range(40):
        frame = room + 0.01 * torch.randn(1, 3, 128, 128, generator=g)
        if (t // 6) % 2 == 1:  # a small thing in view every other 6 inputs
            frame[..., 60:76, 60:76] = 1.0
        frames.append(frame.clamp(-1, 1))
    half = room.clone()
    half[..., :, :64] = other[..., :, :64]
    return frames + [half] + [other.clone() for _ in range(6)]


def test_a_cut_over_two_inputs_still_reaches_the_layer_above():
    model, optimizer = small_model(
        seed=0, optimize_every=10_000, init_layers=2, evolve_every=1000,
        demarcation_mode="change", signal_space="features", signal_regions=8,
        z_threshold=2.0, min_event_length=4, min_window=5, window_size=40,
        upper_demarcation="escalate", escalation_ratio=3.0)
    reports = run(model, optimizer, _cut_over_two_inputs())
    layer0 = [r.step for r in reports if r.layer == 0 and r.boundary]
    layer1 = [r.step for r in reports if r.layer == 1 and r.boundary]
    assert 40 in layer0  # the half cut
    # The cut reaches layer 1 once: at its half, or at its rest, which may then be a
    # layer-0 boundary within min_event_length.
    assert [step for step in layer1 if step >= 40] in ([40], [41])
    assert set(layer1) <= set(layer0)


def _picture_steps(scale: float, changed: int) -> list[float | None]:
    """PictureChange's share for 30 calm inputs of 64 regions (small steps), then one
    input where `changed` regions step far; every value times `scale`."""
    g = torch.Generator().manual_seed(5)
    picture, shares = PictureChange(), []
    value, last = torch.rand(64, generator=g), None
    for _ in range(30):
        value = value + 0.01 * torch.randn(64, generator=g)
        picture.step((scale * value).tolist(), last)
        shares.append(picture.share)
        last = (scale * value).tolist()
    value = value.clone()
    value[:changed] += 0.5
    picture.step((scale * value).tolist(), last)
    return shares + [picture.share]


def test_picture_change_is_the_share_of_regions_that_changed():
    calm = _picture_steps(1.0, 0)
    assert calm[:PICTURE_HISTORY + 1] == [None] * (PICTURE_HISTORY + 1)  # no usual step yet
    assert calm[PICTURE_HISTORY + 1] is not None
    assert max(calm[PICTURE_HISTORY + 1:]) < 0.3  # the regions' own noise
    assert _picture_steps(1.0, 48)[-1] >= 0.75  # three quarters of the picture changed
    assert _picture_steps(1.0, 8)[-1] < 0.3  # something small entered the view


def test_picture_change_keeps_its_scale_when_every_error_shrinks():
    """Learning makes a replayed scene change less surprising in absolute terms: its mean
    step fell 0.26 -> 0.13 over three passes, under round three's absolute floor."""
    assert _picture_steps(0.1, 48)[-1] == pytest.approx(_picture_steps(1.0, 48)[-1])


def test_the_picture_does_not_change_while_a_new_event_fills_the_buffer(monkeypatch):
    """After a boundary the prediction is made again from the new event's first inputs and
    moves at each of them. Told against two predictions, a third to half of a still
    picture's regions "changed" at its second to fifth input (on vtest.avi half of them:
    a false new scene at layer 1); against one, it stays at the regions' own noise. A cut
    still changes most of the picture."""
    boundaries = iter(range(1, 10**6))
    monkeypatch.setattr(EventDemarcation, "__call__",
                        lambda self, value, regions=None, urgent=False: next(boundaries) % 8 == 0)
    model, _ = small_model(signal_space="features", demarcation_mode="change",
                           upper_demarcation="escalate", init_layers=2, max_layers=2,
                           signal_regions=8)
    settling = []
    with torch.no_grad():
        for x in still_street(60):
            model(x)
            if 2 <= model.streamer.buffer.counter <= 5 and model.streamer.picture.share is not None:
                settling.append(model.streamer.picture.share)
        model(view(textured_background(7), 0))
    assert len(settling) >= 20 and max(settling) < 0.3
    assert model.streamer.picture.share >= 0.5


def test_a_new_grid_of_regions_starts_the_picture_afresh():
    """signal_regions changes live (Advanced): the regions' usual steps were of the old
    grid, and compared with the new one's they broke the model's next step."""
    model, _ = small_model(signal_space="features", demarcation_mode="change",
                           upper_demarcation="escalate", init_layers=2, max_layers=2,
                           signal_regions=8)
    street = still_street(24)
    with torch.no_grad():
        for x in street[:12]:
            model(x)
        assert model.streamer.picture.share is not None
        model.set_demarcation(signal_regions=4)
        for x in street[12:]:
            model(x)
    assert {step.shape for step in model.streamer.picture.steps} == {(16,)}
    assert model.streamer.picture.share is not None


def _picture_layer():
    live, _ = small_model(signal_space="features", demarcation_mode="change",
                          upper_demarcation="escalate", init_layers=2, escalation_ratio=2.5,
                          min_event_length=4)
    x = torch.zeros(1, 3, 128, 128)
    live.streamer(x, 0)
    live.streamer(x, 1)  # predicted now: the layer reads the picture
    assert live.streamer._reads_picture
    return live, live.streamer


def test_layer_0_on_features_escalates_by_the_share_of_the_picture():
    live, layer = _picture_layer()
    layer.picture.share = 0.49
    assert not layer._new_scene(10, 0.3, None)
    assert not layer._record_boundary(5.0, 0.3, 10).escalated
    layer.picture.share = 0.5
    arrival = layer._record_boundary(10.0, 0.3, 20)
    assert arrival.escalated
    # Layer 1 shows what decided; it compares the size of the change (0.3) with its own.
    assert (arrival.decided_by, arrival.level, arrival.surprise) == (0.5, 0.5, 0.3)
    live.set_demarcation(new_scene_share=0.6)
    assert not layer._new_scene(40, 0.3, None)
    paper, _ = small_model(demarcation_mode="average", upper_demarcation="escalate")
    assert not paper.streamer._reads_picture  # its layers escalate by the split


@pytest.mark.parametrize("focus, new_scene", [
    (0.3, True),  # the change spread over the picture, as at a cut
    (0.74, True),
    (IN_ONE_PLACE, False),  # an eighth of the regions carry most of it: something came in
    (0.9, False),
])
def test_a_change_in_one_place_is_no_new_scene_however_many_regions_it_lifted(
        focus, new_scene):
    """On a jittering camera a big object popping in lifts most regions past three times
    their usual step (share 0.56), but an eighth of them carry most of the change."""
    _, layer = _picture_layer()
    layer.picture.share, layer.picture.focus = 0.9, focus
    assert layer._new_scene(10, 0.3, None) == new_scene
    assert layer._record_boundary(5.0, 0.3, 10).escalated == new_scene


@pytest.mark.parametrize("largest_share, new_scene", [
    (None, True),  # the frames not read (or unreadable): the picture decides, as before
    (CUT_SHARE, True),  # one frame-to-frame step held that much of the change: a cut's
    (CUT_SHARE - 0.05, False),  # spread over the frames: a close-up's face turning
])
def test_a_change_the_frames_between_spread_out_is_no_new_scene(largest_share, new_scene):
    """Most of the picture changed, spread all over it, out of a still picture: a new
    scene by the picture alone. The frames between tell how it came: from one frame to
    the next (a cut) or over all of them (motion; montage 208, seed 0, 290.5 s)."""
    _, layer = _picture_layer()
    picture = layer.picture
    picture.share, picture.focus, picture.size, picture.size_before = 0.8, 0.5, 0.09, 0.01
    if largest_share is not None:
        layer.interval = IntervalReading(largest_at=2, share=largest_share, peak=0.3,
                                         others_peak=0.5)
    assert layer._new_scene(10, 0.3, None) == new_scene
    assert layer._record_boundary(5.0, 0.3, 10).escalated == new_scene


@pytest.mark.parametrize("share, focus, size_before, new_scene", [
    (0.56, 0.5, 0.09, False),  # part of a picture that moved as much before: an object popped in
    (0.56, 0.5, 0.02, True),  # out of a still picture (4.5 times the step before): a cut
    (0.75, 0.5, 0.09, True),  # nearly all of the picture: a new scene even out of motion
    (0.56, 0.25, 0.09, True),  # spread all over it: a cut out of a moving shot
    (0.56, 0.5, None, True),  # nothing before it to tell by: as before
])
def test_a_change_of_part_of_a_moving_picture_is_no_new_scene(share, focus, size_before,
                                                               new_scene):
    """Nor a cut, though the frames between call it one (not a clear one, as an object
    popping in reads): the layer-0 boundary stays."""
    _, layer = _picture_layer()
    picture = layer.picture
    picture.share, picture.focus, picture.size, picture.size_before = (share, focus, 0.09,
                                                                       size_before)
    assert layer._new_scene(10, 0.3, None) == new_scene
    popped = IntervalReading(largest_at=2, share=0.5, peak=0.14, others_peak=0.6)
    assert popped.is_cut and not popped.is_clear_cut
    assert layer._record_boundary(5.0, 0.3, 10, cut=popped).escalated == new_scene


def test_a_clear_cut_out_of_a_moving_picture_ends_the_event_above():
    """A cut between two close-ups of one face, the face moving before it, changed part
    of a moving picture as an object popping in does; its frames tell it apart: one
    frame-to-frame step holds most of the interval's change (montage 204, seed 2)."""
    _, layer = _picture_layer()
    picture = layer.picture
    picture.share, picture.focus, picture.size, picture.size_before = 0.58, 0.5, 0.067, 0.031
    assert layer._grew_out_of_motion()
    clear = IntervalReading(largest_at=3, share=CLEAR_CUT_SHARE + 0.1, peak=0.07,
                            others_peak=0.45)
    assert clear.is_clear_cut
    assert layer._record_boundary(5.0, 0.3, 10, cut=clear).escalated


@pytest.mark.parametrize("share, new_scene", [
    (CUT_GREW_OUT_SHARE + 0.02, True),  # a cut between two close-ups (montages 212, 216)
    (CUT_GREW_OUT_SHARE - 0.02, False),  # an object popping into a jittering view
])
def test_a_cut_of_most_of_a_moving_picture_ends_the_event_above(share, new_scene):
    """A cut between two close-ups of one face, the face moving before it, that the frames
    call a cut but no clear one, ends the event above once it changed most of the picture
    (CUT_GREW_OUT_SHARE); the same change without the frames' verdict grew out of the
    moving picture (GREW_OUT_SHARE), and so does a cut of a little less of it."""
    _, layer = _picture_layer()
    picture = layer.picture
    picture.share, picture.focus, picture.size, picture.size_before = share, 0.6, 0.067, 0.046
    cut = IntervalReading(largest_at=2, share=0.49, peak=0.1, others_peak=0.49)
    assert cut.is_cut and not cut.is_clear_cut
    assert not layer._new_scene(10, 0.3, None)
    assert layer._record_boundary(5.0, 0.3, 10, cut=cut).escalated == new_scene


def test_a_shaking_camera_changes_all_of_the_picture_but_little():
    """Once layer 0's boundaries fall into two classes of size, a change of the whole
    picture escalates only if it is a big one."""
    _, layer = _picture_layer()
    layer.picture.share = 0.9
    for step, size in enumerate([0.02, 0.03, 0.02, 0.4, 0.025, 0.5]):
        layer._record_boundary(float(step), size, 10 * step)
    assert not layer._record_boundary(7.0, 0.04, 70).escalated
    assert layer._record_boundary(8.0, 0.45, 80).escalated


def test_a_new_scene_reaches_the_layer_above_once():
    """The input after a cut changes all of the picture again (the prediction catches
    up); it is not a second boundary within min_event_length."""
    _, layer = _picture_layer()
    layer.picture.share = 0.9
    assert layer._record_boundary(5.0, 0.4, 10).escalated
    assert not layer._new_scene(11, 0.4, None)
    assert layer._new_scene(10 + layer.args.min_event_length, 0.4, None)


def _scripted_steps(marks: dict[int, float], calm: float = 0.01, limit: float = 0.09,
                    restless: frozenset[int] = frozenset()):
    """EventDemarcation.__call__ for layer 0: the step of its i-th call is marks[i] (else
    `calm`), a boundary where that is beyond `limit`; at the calls in `restless` a restless
    picture's limit alone held it back (held_by_restless). It counts the inputs since the
    last one and keeps the steps, as the real call does."""
    calls = iter(range(10**6))

    def call(self, value, regions=None, urgent=False):
        i = next(calls)
        self.last_value, self.last_threshold = marks.get(i, calm), limit
        self.held_by_restless = i in restless
        self.window.append(self.last_value)
        boundary = self.last_value > limit
        self.since_boundary = 0 if boundary else self.since_boundary + 1
        return boundary
    return call


def _still_street_without_new_scenes(monkeypatch, settle_ratio: float):
    """The reports of layers 0 and 1 over a still street of 20 inputs, with no input a new
    scene (`_new_scene`), and layer 0; the caller scripts the steps and the picture."""
    model, _ = small_model(signal_space="features", demarcation_mode="change",
                           upper_demarcation="escalate", init_layers=2, max_layers=2,
                           signal_regions=8, settle_ratio=settle_ratio)
    layer = model.streamer
    monkeypatch.setattr(layer, "_new_scene", lambda step, size, level: False)
    with torch.no_grad():
        return run(model, None, still_street(20)), layer


@pytest.mark.parametrize("settle_ratio, after, marked_at, steps_before", [
    (0.0, 0.04, 12, {}),  # off: marked where the step was, as before
    (1.5, 0.02, 13, {}),  # the picture settled (0.1 >= 1.5 x 0.02): marked one input later
    (1.5, 0.08, None, {}),  # it kept moving (a swaying camera): no boundary
    # the step grew over the inputs before (STEP_JUMPS): a camera getting going, not held
    (1.5, 0.02, None, {9: 0.06, 10: 0.08}),
])
def test_a_picture_wide_change_waits_for_the_picture_to_settle(monkeypatch, settle_ratio,
                                                              after, marked_at, steps_before):
    """A cut within a scene and a swaying camera both change most of the picture, not as
    much as a new scene; after a cut the picture stays, and its step jumped at once where
    a hand-held camera that stopped makes the step grow as it moves again. The input of
    layer 0's first call (input 1) is input 1, so its 11th call is input 12."""
    monkeypatch.setattr(EventDemarcation, "__call__",
                        _scripted_steps({**steps_before, 11: 0.1, 12: after}))
    monkeypatch.setattr(PictureChange, "step",
                        lambda self, regions, last: setattr(self, "share", 0.8))
    reports, layer = _still_street_without_new_scenes(monkeypatch, settle_ratio)
    marked = [r.step for r in reports if r.layer == 0 and r.boundary]
    assert marked == ([] if marked_at is None else [marked_at])
    sent_up = [r.step for r in reports if r.layer == 1 and r.step > 1]
    assert sent_up == marked  # layer 1 hears of it once, where it is marked
    assert layer.hierarchy_boundaries[1:] == [s * layer.args.snippet_size for s in marked]


@pytest.mark.parametrize("size_after, marked_at", [
    (0.03, 13),  # the picture's own change fell too: the held boundary stands
    (0.07, None),  # it grew: a hand-held camera going on moving, no boundary
])
def test_a_change_spread_over_the_picture_settles_only_if_the_picture_does(
        monkeypatch, size_after, marked_at):
    """A hand-held camera turning: the step against the prediction fell at the next input
    as after a cut, but the picture itself changed more than at the held input (montage
    203, seed 1, 118.0 s; whole clips u0 and u1)."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1, 12: 0.02}))
    calls = iter(range(10**6))

    def spread(self, regions, last):  # all over the picture; call 11 is the held input
        i = next(calls)
        self.share, self.focus = 0.6, 0.45
        self.size = {11: 0.05, 12: size_after}.get(i, 0.01)
    monkeypatch.setattr(PictureChange, "step", spread)
    reports, _ = _still_street_without_new_scenes(monkeypatch, settle_ratio=1.5)
    marked = [r.step for r in reports if r.layer == 0 and r.boundary]
    assert marked == ([] if marked_at is None else [marked_at])


def test_focus_tells_a_change_in_one_place_from_one_all_over_the_picture():
    picture = PictureChange()
    calm = [0.5] * 64
    picture.step(calm, calm)
    in_one_place = list(calm)
    in_one_place[10] = 0.9
    picture.step(in_one_place, calm)
    assert picture.focus == pytest.approx(1.0)
    picture.step([0.6] * 64, calm)
    assert picture.focus == pytest.approx(1 / 8)


@pytest.mark.parametrize("share, focus, held", [
    (0.35, 0.3, True),  # much of the picture, all over it: a hand-held camera moving
    (0.35, 0.9, False),  # as much, in one place: someone coming into a still view
    (0.2, 0.3, False),  # little of the picture
])
def test_a_change_spread_over_the_picture_waits_for_it_to_settle(share, focus, held):
    live, layer = _picture_layer()
    live.set_demarcation(settle_ratio=1.4)
    layer.picture.share, layer.picture.focus, layer.picture.size = share, focus, 0.1
    assert layer._holds_back(layer._new_scene_now(10)) is held
    live.set_demarcation(settle_ratio=0.0)
    assert layer._holds_back(layer._new_scene_now(10)) is False


@pytest.mark.parametrize("size_before, held", [
    (0.01, False),  # out of a still picture: a cut, marked at once
    (0.04, True),  # out of a picture already moving (a box swung by hand): it waits
    (None, False),  # nothing to tell it by: as before
])
def test_a_new_scene_waits_if_it_grew_out_of_a_moving_picture(size_before, held):
    live, layer = _picture_layer()
    live.set_demarcation(settle_ratio=1.4)
    picture = layer.picture
    picture.share, picture.focus, picture.size, picture.size_before = 0.9, 0.5, 0.09, size_before
    assert layer._new_scene_now(10)
    assert layer._holds_back(layer._new_scene_now(10)) is held


@pytest.mark.parametrize("after, marked_at", [
    (0.02, 13),  # the picture settled: marked one input later, a new scene still
    (0.08, None),  # it kept moving: no boundary, nothing above
])
def test_a_held_new_scene_ends_the_event_above_once_confirmed(monkeypatch, after, marked_at):
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1, 12: after}))

    # most of it changed, not 3 times the last step
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.05,
                                                         settle_ratio=1.5)
    assert marked == ([] if marked_at is None else [marked_at])
    assert above == marked


@pytest.mark.parametrize("moved_after, above_at", [(0.1, [13]), (1.5, [])])
def test_a_held_new_scene_is_told_from_the_view_of_the_held_input(
        monkeypatch, moved_after, above_at):
    """Held at input 12 and confirmed at 13: the change is 11 -> 12, and input 13 is
    already one of the views after it."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1, 12: 0.02}))
    marked, above = _marked_with_a_new_scene_at_input_12(
        monkeypatch, size_before=0.05, size_after=0.2, moved_after=moved_after,
        settle_ratio=1.5)
    assert marked == [13]
    assert above == above_at


def _marked_with_a_new_scene_at_input_12(monkeypatch, size_before: float,
                                         size_after: float = 0.01, moved_after: float = 0.1,
                                         new_scene_at: int | None = 12,
                                         view_of: Callable[[int], np.ndarray] | None = None,
                                         inputs: int = 20, **settings):
    """Layer 0's and layer 1's boundaries (inputs) on a still street where input 12 is a
    new scene by its share and size (0.09; `new_scene_at`, None: no input is one, by
    size), and no other input is; most of the picture
    changed at each input, by 0.09 up to input 12 and by `size_after` after it. What is
    in view (Readings.seen) changes at input 12 and then moves `moved_after` of that
    change back and forth, across it, or is `view_of` each input. The stream ends after
    `inputs` (StreamerModel.end_stream)."""
    def picture_step(self, regions, last):
        changing = layer.last_base_counter <= 12
        self.share, self.focus, self.size_before = 0.8, 0.5, size_before
        self.size = 0.09 if changing else size_after
    monkeypatch.setattr(PictureChange, "step", picture_step)

    def seen(step: int) -> np.ndarray:
        if step < 12:
            return np.zeros(4)
        across = np.array([1.0, -1.0, 1.0, -1.0])  # not towards the old view
        return np.ones(4) + (0.0 if step == 12 else moved_after * (-1) ** step * across)
    signal_values = StreamerLayer._signal_values

    def scripted_view(self, signal, x, picture=True):
        readings = signal_values(self, signal, x, picture)
        return readings._replace(seen=(view_of or seen)(self.last_base_counter))
    monkeypatch.setattr(StreamerLayer, "_signal_values", scripted_view)
    model, _ = small_model(signal_space="features", demarcation_mode="change",
                           upper_demarcation="escalate", init_layers=2, max_layers=2,
                           signal_regions=8, **settings)
    layer = model.streamer
    monkeypatch.setattr(layer, "_new_scene", lambda step, size, level: step == new_scene_at)
    with torch.no_grad():
        reports = run(model, None, still_street(inputs)) + model.end_stream()
    return ([r.step for r in reports if r.layer == 0 and r.boundary],
            [r.step for r in reports if r.layer == 1 and r.boundary])


@pytest.mark.parametrize("restless, after, size_after, marked_at", [
    (True, 0.03, 0.02, 13),  # only the restless limit held it back, and the picture settled
    (True, 0.05, 0.02, None),  # the pooled step did not settle twice over (the pan went on)
    (True, 0.03, 0.04, None),  # the picture's step not 3 times smaller: a hand-held camera
    (True, 0.03, 0.0, None),  # the same frame again: it tells nothing
    (False, 0.03, 0.02, None),  # below the usual limit too: no more than a pan's step
])
def test_a_cut_out_of_a_panning_shot_is_a_cut_once_the_picture_settles(
        monkeypatch, restless, after, size_after, marked_at):
    """Out of a panning shot a cut's step (0.07) can beat the usual limit but not the one
    the restless picture raised, and its change (0.09) does not stand out from the pan's
    step before it (0.05: not CUT_STANDS_OUT times); it is a cut if the pooled step then
    settles QUIET_CUT_SETTLE times over and the picture's CUT_STANDS_OUT times, as after
    a cut."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps(
        {11: 0.07, 12: after}, restless=frozenset({11} if restless else ())))
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.05,
                                                         size_after=size_after,
                                                         settle_ratio=1.4, min_event_length=4)
    assert marked == ([] if marked_at is None else [marked_at])
    assert above == marked


@pytest.mark.parametrize("size_after, moved_after, above_at", [
    (0.01, 0.1, [12]),  # the new picture stays: a new scene, a second late, at its own time
    (0.06, 1.5, [12]),  # its steps stay below SCENE_STAYS (0.063) of the change
    (0.2, 0.6, [12]),  # the picture moves on, what is in view stays: a cut to a panning shot
    (0.07, 0.7, []),  # both move as much as SCENE_STAYS of it: a hand passing in front
    (0.2, 1.5, []),  # both more than it (the hand leaving): an event of layer 0 only
])
def test_a_new_scene_ends_the_event_above_only_if_the_new_picture_stays(
        monkeypatch, size_after, moved_after, above_at):
    """A cut's new picture stays, or at least what is in view does where the new shot
    pans; a hand passing in front of the camera changes the picture and what is in view
    as much again as it moves on (SCENE_STAYS)."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1}))
    # out of a still picture (9 times the last step): marked at once, not held
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.01,
                                                         size_after=size_after,
                                                         moved_after=moved_after,
                                                         settle_ratio=1.4)
    assert marked == [12]
    assert above == above_at


def test_a_new_scene_tells_the_layer_above_how_far_what_is_in_view_moved(monkeypatch):
    """Layer 1 splits its boundaries for layer 2 by how far what is in view moved at each
    (Arrival.size), not by layer 0's step: a change of place moves it more than a cut
    within one place does, by more than their steps differ (docs/quality.md, session
    sixty-three)."""
    recorded = []
    record = Escalation.__call__

    def spy(self, surprise):
        recorded.append((self, surprise))
        return record(self, surprise)

    monkeypatch.setattr(Escalation, "__call__", spy)
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1}))
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.01,
                                                         settle_ratio=1.4)
    assert marked == [12] and above == [12]
    (layer_0, step), (layer_1, size) = recorded
    assert layer_1 is not layer_0 and step == pytest.approx(0.09)
    assert size == pytest.approx(1.0)  # what is in view went from zeros to ones


@pytest.mark.parametrize("inputs, size_after, moved_after, above_at", [
    (15, 0.01, 0.1, [12]),  # two inputs after it (a second) showed the new picture stay
    (14, 0.01, 0.1, [12]),  # one did
    (13, 0.01, 0.1, []),  # none came: nothing to tell by
    (15, 0.2, 1.5, []),  # two, and the picture moved on as much again: a hand passing
    (14, 0.2, 1.5, []),  # one did
])
def test_a_new_scene_in_the_last_second_of_a_stream_ends_the_event_above_at_its_end(
        monkeypatch, inputs, size_after, moved_after, above_at):
    """A change that would end the layer-1 event waits SCENE_LOOKAHEAD inputs to see the
    new picture stay; when the stream ends before, it is decided with the inputs that came,
    so the exported hierarchy holds the last scene."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1}))
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.01,
                                                         size_after=size_after,
                                                         moved_after=moved_after,
                                                         settle_ratio=1.4, inputs=inputs)
    assert marked == [12]
    assert above == above_at


def _view(*spans: tuple[int, int]) -> Callable[[int], np.ndarray]:
    """What is in view at each input: one picture during the spans [from, to), another
    between them."""
    return lambda step: np.ones(4) if any(a <= step < b for a, b in spans) else np.zeros(4)


def _close_up_moving(step: int) -> np.ndarray:
    """A cut at input 12 to a close-up whose face then turns: what is in view moves a
    little nearer the old shot (0.55 of the change from it, 0.6 from the new view), not
    back to it."""
    if step < 12:
        return np.zeros(4)
    return np.ones(4) if step == 12 else np.array([0.3, 0.3, 0.3, 1.3])


@pytest.mark.parametrize("view_of, above_at", [
    (_view((12, 99)), [12]),  # a new picture that stays: a new scene
    (_view((12, 14)), []),  # the old one back at input 14: a hand passed in front
    (_view((0, 9), (12, 99)), []),  # the view of inputs 0-8 back: the hand that hid it left
    (_close_up_moving, [12]),  # nearer the old view than the new, but not back (BACK_RATIO)
])
def test_a_view_that_comes_back_is_no_new_scene(monkeypatch, view_of, above_at):
    """A hand passing in front of the camera changes most of the picture twice, as it
    comes and as it goes, and each time what is in view then stays for a second. The
    view it hid comes back: within SCENE_LOOKAHEAD after it came (went_back), or as it
    goes, the view of a moment before it came (came_back)."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1}))
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.01,
                                                         view_of=view_of, settle_ratio=1.4)
    assert marked == [12]
    assert above == above_at


@pytest.mark.parametrize("size_before, size_after, above_at", [
    (0.01, 0.02, [13]),  # 9 times the step before, 4.5 times the steps after: a cut
    (0.01, 0.04, []),  # the steps after only 2.25 times smaller: not as after a cut
    (0.05, 0.02, []),  # grew out of a picture already moving: not sudden
])
def test_a_sharp_change_below_the_new_scenes_size_ends_the_event_above(
        monkeypatch, size_before, size_after, above_at):
    """A cut between two shots of one film changes most of the picture, but a tenth of
    what a cut between films does: in the lower class of size, it still ends the event
    above if it stood out CUT_STANDS_OUT times from the step before and the steps after,
    as a cut does. What is in view stays (moved_after 0.1), which alone would do for a
    new scene. Held at input 12 (most of the picture changed), confirmed at 13."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.1}))
    marked, above = _marked_with_a_new_scene_at_input_12(
        monkeypatch, size_before=size_before, size_after=size_after, new_scene_at=None,
        settle_ratio=1.4)
    assert marked == [13]
    assert above == above_at


@pytest.mark.parametrize("after, marked_at", [
    (0.02, 13),  # the picture settled (0.05 >= 2 x 0.02): a cut, marked one input later
    (0.04, None),  # it went on changing (a hand moving through foliage): nothing
])
def test_a_new_scene_the_pooled_step_missed_is_a_cut_once_the_picture_settles(
        monkeypatch, after, marked_at):
    """Two close-ups of one film cut together change every region, the pooled features
    little: the step (0.05) stays below the limit (0.09), and it is a cut only if the
    next step is QUIET_CUT_SETTLE times smaller."""
    monkeypatch.setattr(EventDemarcation, "__call__", _scripted_steps({11: 0.05, 12: after}))
    # out of a still picture: 9 times the last step
    marked, above = _marked_with_a_new_scene_at_input_12(monkeypatch, size_before=0.01,
                                                         settle_ratio=1.4, min_event_length=4)
    assert marked == ([] if marked_at is None else [marked_at])
    assert above == marked
