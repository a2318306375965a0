"""event_representation "features": each event is the median of what most of its pictures
show, the same whatever the weights did in between; "motion": a layer-0 event is what moved
in it (streamer_core.event_features)."""

from __future__ import annotations

import copy

import torch

from core_helpers import run, scene_frames, small_model
from streamer_core import LayerStep
from streamer_core.event_features import EventFeatures, moving_in
from streamer_core.networks import CNNEncoder, first_block_of, prevailing_in, prevailing_of
from streamer_core.presets import preset_arguments


def _step(*boundaries: bool) -> list[LayerStep]:
    return [LayerStep(layer, 0, 0.0, 0.5, 0.4, boundary)
            for layer, boundary in enumerate(boundaries)]


def test_an_event_is_the_median_of_its_inputs_and_the_boundary_input_starts_the_next():
    tracker = EventFeatures()
    for value in (1.0, 2.0, 9.0):  # layer 0's first event; layer 1 sees them too
        assert tracker.observe(torch.tensor([[value]]), _step(False, False), 2) == {}
    closed = tracker.observe(torch.tensor([[4.0]]), _step(True, False), 2)
    assert closed[0].tolist() == [[2.0]]  # 1, 2, 9: an outlier does not move it
    tracker.observe(torch.tensor([[5.0]]), _step(False, False), 2)
    closed = tracker.observe(torch.tensor([[6.0]]), _step(True, True), 2)
    assert closed[0].tolist() == [[4.0]]  # 4, 5 (the lower middle of an even count)
    assert closed[1].tolist() == [[4.0]]  # 1, 2, 9, 4, 5: both of its layer-0 events
    assert tracker.current(0).tolist() == [[6.0]] == tracker.current(1).tolist()
    tracker.reset()
    assert tracker.current(0) is None
    # a layer grown on this very step may mark a boundary (escalated) before any input
    assert tracker.observe(torch.tensor([[1.0]]), _step(True, True), 1) == {0: None, 1: None}


def test_a_boundary_that_arrives_late_starts_its_event_at_its_own_input():
    """A new scene reaches layer 1 three inputs after the change (pending_scene): the
    inputs since the change are the new scene's, not the old one's. At the stream's end
    the new event has what came since the change."""
    def at(step: int, layer_1: LayerStep | None = None) -> list[LayerStep]:
        return [LayerStep(0, step, step * 0.5, 0.5, 0.4, False), *filter(None, [layer_1])]
    tracker = EventFeatures()
    for step, value in enumerate((1.0, 1.0, 1.0, 7.0, 7.0, 7.0)):  # the change at input 3
        tracker.observe(torch.tensor([[value]]), at(step), 2)
    change = LayerStep(1, 3, 1.5, 0.9, None, True)
    closed = tracker.observe(torch.tensor([[7.0]]), at(6, change), 2)
    assert closed[1].tolist() == [[1.0]]  # the old scene's inputs only (else 1, 1, 1, 7, 7, 7)
    assert tracker.current(1).tolist() == [[7.0]]
    assert len(tracker.open[1].newest) == 4  # inputs 3-6
    for step in (7, 8):
        tracker.observe(torch.tensor([[2.0]]), at(step), 2)
    closed = tracker.close([LayerStep(1, 7, 3.5, 0.9, None, True)], step=9)
    assert closed[1].tolist() == [[7.0]]
    assert tracker.current(1).tolist() == [[2.0]]  # inputs 7 and 8, not none


def test_long_events_keep_a_bounded_sample():
    tracker = EventFeatures(most_inputs=8)
    for value in range(100):
        tracker.observe(torch.tensor([[float(value)]]), _step(False), 1)
    kept = [x.item() for x in tracker.open[0].inputs]
    assert len(kept) <= 8 and kept[0] == 0.0 and kept[-1] >= 80  # the whole event, thinned
    assert 40 <= tracker.current(0).item() <= 60  # still the middle of the whole event


def test_prevailing_features_see_the_room_not_the_object_passing():
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    wall = torch.full((1, 3, 128, 128), 0.3)
    with_object = wall.clone()
    with_object[:, :, 40:80, 40:80] = -0.9  # a dark square on a tenth of the picture
    other_wall = torch.full((1, 3, 128, 128), -0.2)
    seen = encoder.prevailing(torch.cat([wall, with_object, other_wall]))
    assert seen.shape == (3, 32)
    assert torch.allclose(seen[0], seen[1])
    assert not torch.allclose(seen[0], seen[2], atol=1e-3)



def test_prevailing_features_keep_the_wall_whatever_the_floor():
    # A textured wall over the top two thirds, a floor below, dark or bright: the median
    # over the pixels lands in the wall's spread on the floor's side (the floor moved it
    # 0.55 against 0.83 for another wall); over regions it is a wall region's median.
    noise = torch.Generator().manual_seed(1)

    def room(wall: float, floor: float) -> torch.Tensor:
        picture = torch.full((1, 3, 128, 128), floor)
        picture[:, :, :85] = wall + 0.25 * torch.randn(1, 3, 85, 128, generator=noise)
        return picture

    torch.manual_seed(0)
    seen = CNNEncoder(16).prevailing(torch.cat([room(0.2, -0.9), room(0.2, 0.9),
                                                room(-0.2, -0.9)]))
    other_floor, other_wall = (seen[0] - seen[1]).norm(), (seen[0] - seen[2]).norm()
    assert other_floor < 0.2 * other_wall

def test_the_model_reports_each_events_features_and_sends_up_its_summaries():
    frames = scene_frames(7, scene_length=2)
    model, _ = small_model(event_representation="features", max_layers=2)
    reports = run(model, None, frames)
    closed = [r for r in reports if r.boundary and r.layer == 0]
    assert len(closed) >= 2
    assert all(r.representation.shape == (1, 32) for r in closed)
    # the layer above still learns from the summaries (feature_dim 16), as in the spec
    assert all(x.shape == (1, 16) for x in model.layers()[1].buffer.get_inputs())
    # the first event: the median of its inputs' features, by the model's own encoder
    encoder = model.layers()[0].f.encoder
    expected = encoder.prevailing(torch.cat(frames[:closed[0].step])).median(dim=0).values
    assert torch.allclose(closed[0].representation[0], expected)
    assert model.open_representation(0).shape == (1, 32)
    model.reset_model()
    assert model.open_representation(0) is None


def test_events_are_read_with_the_first_block_as_it_started_while_learning_moves_it():
    frames = scene_frames(24, scene_length=3)
    model, optimizer = small_model(seed=5, optimize_every=3, event_representation="features")
    drawn = copy.deepcopy(model.streamer.f.encoder.conv1)
    reports = run(model, optimizer, frames)
    learned = model.streamer.f.encoder.conv1
    assert not torch.equal(learned.weight, drawn.weight)  # learning moved the block
    closed = [r for r in reports if r.boundary and r.layer == 0]
    starts = [0, *(r.step for r in closed)]
    assert len(closed) >= 2
    for event, start in zip(closed, starts):
        inputs = torch.cat(frames[start:event.step])
        as_drawn = prevailing_of(drawn, inputs).median(dim=0).values
        assert torch.allclose(event.representation[0], as_drawn)
    by_learned = prevailing_of(learned, inputs).median(dim=0).values
    assert not torch.allclose(closed[-1].representation[0], by_learned)


def _room_with_object(at: tuple[int, int]) -> torch.Tensor:
    """A wall, a dark window that never moves, and a red square (24 x 24) at `at`."""
    picture = torch.full((1, 3, 128, 128), 0.3)
    picture[:, :, 8:40, 8:40] = -0.9
    row, column = at
    picture[:, 0, row:row + 24, column:column + 24] = 0.9
    picture[:, 1:, row:row + 24, column:column + 24] = -0.8
    return picture


def test_what_moved_is_the_object_not_the_furniture_nor_where_it_was():
    torch.manual_seed(0)
    conv = CNNEncoder(16).conv1
    before = first_block_of(conv, _room_with_object((70, 20)))
    block = first_block_of(conv, _room_with_object((70, 80)))
    moving = moving_in(block, before, prevailing_in(block))[0]

    def inside(rows: slice, columns: slice) -> torch.Tensor:  # first block: half the side
        return block[0, :, rows, columns].flatten(1).mean(dim=1)

    distance = {name: (moving - inside(*where)).norm() for name, where in {
        "object": (slice(37, 45), slice(42, 50)),
        "window": (slice(6, 18), slice(6, 18)),
        "where it was": (slice(37, 45), slice(12, 20))}.items()}
    assert distance["object"] < 0.3 * min(distance["window"], distance["where it was"])


def test_motion_keeps_layer_0_events_by_what_moved_and_the_layers_above_by_what_was_seen():
    tracker = EventFeatures()
    for seen, moved in ((1.0, 7.0), (2.0, 8.0), (3.0, 9.0)):
        tracker.observe(torch.tensor([[seen]]), _step(False, False), 2, torch.tensor([[moved]]))
    closed = tracker.observe(torch.tensor([[4.0]]), _step(True, True), 2, torch.tensor([[0.0]]))
    assert closed[0].tolist() == [[8.0]] and closed[1].tolist() == [[2.0]]


def test_the_model_remembers_layer_0_events_by_what_moved_under_motion():
    frames = scene_frames(14, scene_length=3)
    model, _ = small_model(seed=2, event_representation="motion", max_layers=2)
    reports = run(model, None, frames)
    closed = [r for r in reports if r.boundary and r.layer == 0]
    assert len(closed) >= 2
    conv, before, moving = model.frozen_first_block.conv, None, []
    for x in frames:
        block = first_block_of(conv, x)
        moving.append(moving_in(block, before, prevailing_in(block)))
        before = block
    for event, start in zip(closed, [0, *(r.step for r in closed)]):
        expected = torch.cat(moving[start:event.step]).median(dim=0).values
        assert torch.allclose(event.representation[0], expected, atol=1e-6)
    model.reset_model()  # a new stream: nothing moved before its first picture
    assert model.block_before is None


def test_the_live_preset_remembers_what_moved_and_paper_its_summaries():
    assert preset_arguments("live")[0].event_representation == "motion"
    assert preset_arguments("paper")[0].event_representation == "summary"
