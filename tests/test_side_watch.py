"""Layer 0's second reading: someone entering or leaving at the picture's sides (side_watch)."""

from types import SimpleNamespace

import pytest
import torch
from test_feature_signal import textured_background, view

from core_helpers import small_model
from streamer_core import StreamerModelArguments
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.layer import SIDE_VIEW_MOVED
from streamer_core.picture_change import PictureChange
from streamer_core.presets import preset_arguments
from streamer_core.side_watch import (
    SIDE_ALONE,
    SIDE_GRID,
    SIDE_HISTORY,
    SIDE_RATIO,
    SideWatch,
    side_steps,
)


def test_the_steps_are_the_sides_and_the_typical_cell_inside():
    before = torch.zeros(4, SIDE_GRID, SIDE_GRID)
    at_the_left = before.clone()
    at_the_left[:, :, 0] = 1.0  # the left column changed, nothing else
    everywhere = before + 1.0  # a flicker, or the camera moved: all of it changed
    inside = before.clone()
    inside[:, 4:8, 4:8] = 1.0  # someone walking inside: a few cells of the rest
    assert side_steps(before, at_the_left) == pytest.approx((0.5, 0.0))  # one side of two
    assert side_steps(before, everywhere) == pytest.approx((1.0, 1.0))
    assert side_steps(before, inside) == pytest.approx((0.0, 0.0))


def test_people_walking_inside_do_not_hide_someone_entering_at_a_side():
    """The typical cell inside (the median), not the mean of the cells: on a busy street
    the mean moved with the people walking inside and hid who entered meanwhile."""
    before = torch.zeros(4, SIDE_GRID, SIDE_GRID)
    alone = before.clone()
    alone[:, :, 0] = 1.0
    busy = alone.clone()
    busy[:, 2:14, 3:9] = 1.0  # a crowd inside, 72 of the 224 inner cells
    assert side_steps(before, busy) == pytest.approx(side_steps(before, alone))


def watch_after_a_still_view(steps: int = 30) -> SideWatch:
    """A side watch that has seen `steps` inputs of sensor noise only."""
    args = SimpleNamespace(side_z_threshold=3.0, window_size=40, min_event_length=2,
                           min_window=10)
    watch = SideWatch(args)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        watch(0.01 * torch.randn(4, SIDE_GRID, SIDE_GRID, generator=g))
    return watch


@pytest.mark.parametrize(("view_moves", "ends"), [(0.0, True), (0.5, False)])
def test_the_sides_speak_for_a_still_view_only(view_moves, ends):
    """The left edge changes a lot: someone entering a still view ends the event; where
    the whole view moved too (a hand-held camera), the sides changed less than SIDE_RATIO
    times its typical cell, though still far more than usual beyond it."""
    watch = watch_after_a_still_view()
    change = torch.full((4, SIDE_GRID, SIDE_GRID), view_moves)
    change[:, :, 0] = 2.0  # the sides' step: (2.0 + view_moves) / 2
    assert ((2.0 + view_moves) / 2 >= SIDE_RATIO * view_moves) is ends
    assert watch(watch.previous + change) is ends


def still_street(frames: int, seed: int = 0) -> list[torch.Tensor]:
    """A still view, a little sensor noise, and someone walking to and fro in the middle
    all along (on a street camera the pooled reading's usual step is people moving)."""
    background = view(textured_background(3), 0)
    g = torch.Generator().manual_seed(seed)
    street = []
    for i in range(frames):
        frame = background + 0.02 * torch.randn(background.shape, generator=g)
        left = 30 + (i * 7) % 60
        frame[:, :, 40:80, left:left + 12] = 0.9
        street.append(frame)
    return street


def walks_in_at_the_left(frame: torch.Tensor) -> torch.Tensor:
    """A dark figure a few pixels wide at the left edge of the picture."""
    frame = frame.clone()
    frame[:, :, 50:90, 0:7] = -0.9
    return frame


def side_model(side_z_threshold: float, **overrides):
    return small_model(demarcation_mode="change", signal_space="features", z_threshold=4.0,
                       window_size=40, min_window=10, min_event_length=2, max_layers=1,
                       side_z_threshold=side_z_threshold, **overrides)


def layer0_boundaries(model, frames: list[torch.Tensor]) -> list[int]:
    with torch.no_grad():
        return [r.step for x in frames for r in model(x) if r.layer == 0 and r.boundary]


def picture_reads(monkeypatch, **values: float) -> None:
    """Every input's PictureChange reads `values` (its share, its size) once it can tell them."""
    step = PictureChange.step

    def forced(self, regions, last_regions):
        step(self, regions, last_regions)
        for name, value in values.items():
            if getattr(self, name) is not None:
                setattr(self, name, value)

    monkeypatch.setattr(PictureChange, "step", forced)


def test_someone_entering_at_a_side_ends_the_event_the_pooled_reading_misses():
    street = still_street(34)
    frames = street[:28] + [walks_in_at_the_left(x) for x in street[28:]]
    watched, _ = side_model(3.0)
    unwatched, _ = side_model(0.0)
    assert layer0_boundaries(watched, frames) == [28]
    assert layer0_boundaries(unwatched, frames) == []  # a few pixels of the pooled picture


@pytest.mark.parametrize(("picture_change", "ends"), [(0.5 * SIDE_VIEW_MOVED, True),
                                                       (1.2 * SIDE_VIEW_MOVED, False)])
def test_the_sides_are_not_heard_while_the_whole_picture_changes(monkeypatch,
                                                                 picture_change, ends):
    """A hand-held camera that turns changes its sides most; what tells it from someone
    entering a still view is that the picture as a whole changed a lot too. Here every
    input's picture change is `picture_change`: only below SIDE_VIEW_MOVED does someone
    walking in at the left end the event."""
    picture_reads(monkeypatch, size=picture_change)
    street = still_street(34)
    frames = street[:28] + [walks_in_at_the_left(x) for x in street[28:]]
    model, _ = side_model(3.0, signal_regions=8)  # regions: the picture's change is read
    assert layer0_boundaries(model, frames) == ([28] if ends else [])


def test_someone_entering_before_the_usual_level_is_known_ends_the_event():
    """14 inputs into the stream the pooled reading judges (min_window 10) and the sides
    have no usual level yet (SIDE_HISTORY): they speak alone, the pooled reading misses it."""
    street = still_street(40)
    early = street[:14] + [walks_in_at_the_left(x) for x in street[14:]]
    watched, _ = side_model(3.0)
    unwatched, _ = side_model(0.0)
    assert 14 < SIDE_HISTORY
    assert layer0_boundaries(watched, early) == [14]
    assert layer0_boundaries(unwatched, early) == []


def fresh_watch() -> SideWatch:
    args = SimpleNamespace(side_z_threshold=3.0, window_size=40, min_event_length=2,
                           min_window=10)
    return SideWatch(args)


def sides_change(times: float, typical: float = 0.01) -> torch.Tensor:
    """A step whose sides changed `times` as much as its typical cell."""
    change = torch.full((4, SIDE_GRID, SIDE_GRID), typical)
    change[:, :, 0] = typical * (2 * times - 1)
    return change


@pytest.mark.parametrize(("times", "ends"), [(0.8 * SIDE_ALONE, False), (1.2 * SIDE_ALONE, True)])
def test_before_their_usual_level_the_sides_speak_alone(times, ends):
    watch = fresh_watch()
    still = torch.zeros(4, SIDE_GRID, SIDE_GRID)
    for _ in range(3):
        assert not watch(still)  # nothing changed: no event
    assert side_steps(still, sides_change(times)) == pytest.approx((0.01 * times, 0.01))
    assert watch(sides_change(times)) is ends


def test_the_sides_alone_keep_the_shortest_event_then_give_way_to_their_usual_level():
    """The sides of a view change 8 times as much as the rest at every input (a road at
    the edge): alone they end an event every min_event_length inputs; once their usual
    level is known, such a step is the usual one and ends none."""
    watch = fresh_watch()
    frames = [sides_change(8.0) * (i % 2) for i in range(60)]  # to and fro
    ends = [i for i, frame in enumerate(frames) if watch(frame)]
    assert ends == list(range(2, SIDE_HISTORY + 1, 2))


def test_a_panning_camera_is_still_no_event_with_the_sides_watched():
    background = textured_background(1)
    pan = [view(background, s % 32) for s in range(30)]  # the whole picture moves
    model, _ = side_model(3.0)
    assert layer0_boundaries(model, pan) == []


def test_both_readings_share_the_shortest_event():
    """Something new in the middle ends an event; someone entering at a side the input
    after is within min_event_length of it: no second boundary there."""
    street = still_street(34)
    for frame in street[28:]:  # something red comes into view, low in the middle, and stays
        frame[:, 0, 95:125, 50:90], frame[:, 1:, 95:125, 50:90] = 1.0, -1.0
    frames = street[:29] + [walks_in_at_the_left(x) for x in street[29:]]
    model, _ = side_model(3.0)
    assert layer0_boundaries(model, frames) == [28]


def test_the_watch_is_off_in_the_spec_on_in_live_and_checked():
    assert StreamerModelArguments().side_z_threshold == 0.0
    assert preset_arguments("live")[0].side_z_threshold == 2.5
    with pytest.raises(ValueError, match="side_z_threshold"):
        StreamerModelArguments(side_z_threshold=-1.0).validate()


def test_its_usual_level_is_saved_kept_over_a_live_change_and_fresh_in_older_files(tmp_path):
    model, optimizer = side_model(3.0)
    layer0_boundaries(model, still_street(12))
    window = list(model.streamer.sides.demarcation.window)
    assert len(window) >= 5
    save_checkpoint(tmp_path / "m.pt", model, optimizer)
    loaded, _ = load_checkpoint(tmp_path / "m.pt")
    assert list(loaded.streamer.sides.demarcation.window) == pytest.approx(window)
    assert loaded.args.side_z_threshold == 3.0

    model.set_demarcation(side_z_threshold=4.0)  # the app's control: a new level, same history
    assert model.streamer.sides.demarcation.z_threshold == 4.0
    assert list(model.streamer.sides.demarcation.window) == pytest.approx(window)

    state = torch.load(tmp_path / "m.pt", weights_only=True)
    for layer in state["studio"]["layers"]:
        del layer["side_watch"]  # as a file saved before the watch existed
    torch.save(state, tmp_path / "old.pt")
    older, _ = load_checkpoint(tmp_path / "old.pt")
    assert len(older.streamer.sides.demarcation.window) == 0


def test_someone_at_a_side_is_never_a_new_scene(monkeypatch):
    """Layer 1 ends its event at a layer-0 boundary that changed most of the picture; on
    vtest.avi some people walking in did (half of the regions). Here every input counts as
    most of the picture changed, spread over it (not in one place, IN_ONE_PLACE): an
    object new in the middle reaches layer 1, someone at a side does not."""
    picture_reads(monkeypatch, share=0.9, focus=0.3)
    street = still_street(34)
    in_the_middle = [x.clone() for x in street]
    for frame in in_the_middle[28:]:
        frame[:, 0, 95:125, 50:90], frame[:, 1:, 95:125, 50:90] = 1.0, -1.0
    at_a_side = street[:28] + [walks_in_at_the_left(x) for x in street[28:]]
    for frames, scene in ((in_the_middle, [28]), (at_a_side, [])):
        model, _ = small_model(demarcation_mode="change", signal_space="features",
                               z_threshold=4.0, window_size=40, min_window=10,
                               min_event_length=2, max_layers=2, evolve_every=2,
                               signal_regions=8, upper_demarcation="escalate",
                               side_z_threshold=3.0)
        with torch.no_grad():
            reports = [r for x in frames for r in model(x)]
        assert [r.step for r in reports if r.layer == 0 and r.boundary][:1] == [28]
        assert [r.step for r in reports if r.layer == 1 and r.boundary] == scene
