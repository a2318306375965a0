"""Unit tests of the buffer, demarcation, loss and reach groups against the spec."""

import math

import pytest
import torch

from streamer_core import EventDemarcation, MemBuffer, StreamerLoss
from streamer_core.reach import reach_groups

# --- MemBuffer ---------------------------------------------------------------------------


def test_buffer_keeps_arrival_order_until_full():
    buf = MemBuffer(3, "similarity")
    for name, s in [("a", 0.5), ("b", 0.9), ("c", 0.1)]:
        buf.add_input(name, s)
    assert buf.get_inputs() == ["a", "b", "c"]
    assert buf.counter == 3


def test_similarity_buffer_replaces_most_predictable_and_makes_it_newest():
    buf = MemBuffer(3, "similarity")
    for name, s in [("a", 0.5), ("b", 0.9), ("c", 0.1)]:
        buf.add_input(name, s)
    buf.add_input("d", 0.3)  # less predictable than b (0.9): replaces b, becomes newest
    assert buf.get_inputs() == ["a", "c", "d"]
    buf.add_input("e", 0.95)  # more predictable than everything: dropped
    assert buf.get_inputs() == ["a", "c", "d"]
    assert buf.counter == 5  # counts every input since the reset, kept or not


def test_distance_buffer_replaces_lowest_error():
    buf = MemBuffer(3, "distance")
    for name, e in [("a", 0.5), ("b", 0.1), ("c", 0.9)]:
        buf.add_input(name, e)
    buf.add_input("d", 0.05)  # smaller than the smallest: dropped
    assert buf.get_inputs() == ["a", "b", "c"]
    buf.add_input("e", 0.7)  # replaces b (0.1)
    assert buf.get_inputs() == ["a", "c", "e"]
    buf.add_input("f", 0.6)  # replaces a (0.5), the oldest: order shifts
    assert buf.get_inputs() == ["c", "e", "f"]


def test_buffer_reset_clears_everything():
    buf = MemBuffer(2, "similarity")
    buf.add_input("a", 0.1)
    buf.reset_buffer()
    assert len(buf) == 0 and buf.counter == 0 and buf.get_inputs() == []


# --- EventDemarcation ---------------------------------------------------------------------


def test_fixed_similarity_and_distance():
    sim = EventDemarcation("fixed", "similarity", threshold=0.5)
    assert [sim(v) for v in (0.6, 0.4, 0.5)] == [False, True, False]
    dist = EventDemarcation("fixed", "distance", threshold=0.5)
    assert [dist(v) for v in (0.6, 0.4, 0.5)] == [True, False, False]


def test_accum_resets_sum_after_boundary():
    dem = EventDemarcation("accum", "distance", threshold=1.0)
    assert [dem(v) for v in (0.4, 0.4, 0.4, 0.4, 0.4, 0.3)] == \
        [False, False, True, False, False, True]


def test_accum_needs_distance_mode():
    with pytest.raises(ValueError, match="accum"):
        EventDemarcation("accum", "similarity", threshold=1.0)


def test_average_first_value_is_stored_and_never_a_boundary():
    dem = EventDemarcation("average", "distance", window_size=3)
    assert dem(100.0) is False  # would be far above any mean, but it is first
    assert dem(1.0) is False  # below the mean 100
    assert dem(60.0) is True  # above mean(100, 1) = 50.5
    # window now (100, 1, 60): mean 53.67; 50 is below
    assert dem(50.0) is False
    # window keeps the last 3: (1, 60, 50) -> mean 37; 40 is above
    assert dem(40.0) is True


def test_average_similarity_multiply_and_add_modifiers():
    mul = EventDemarcation("average", "similarity", window_size=5, modifier=0.5)
    mul(0.8)
    assert mul(0.41) is False and mul.last_threshold == pytest.approx(0.4)
    assert mul(0.2) is True  # threshold mean(0.8, 0.41) * 0.5 = 0.3025
    add = EventDemarcation("average", "similarity", window_size=5, modifier_type="add",
                           modifier=-0.1)
    add(0.8)
    assert add(0.75) is False  # threshold 0.7
    assert add(0.6) is True  # threshold mean(0.8, 0.75) - 0.1 = 0.675


def test_demarcation_reset_makes_next_value_first_again():
    dem = EventDemarcation("average", "distance", window_size=3)
    dem(1.0)
    dem(1.0)
    dem.reset()
    assert dem(50.0) is False  # first after reset
    acc = EventDemarcation("accum", "distance", threshold=1.0)
    acc(0.9)
    acc.reset()
    assert acc(0.9) is False


def test_bad_demarcation_settings_are_refused():
    with pytest.raises(ValueError):
        EventDemarcation("sometimes", "distance")
    with pytest.raises(ValueError):
        EventDemarcation("average", "distance", window_size=0)


# --- StreamerLoss ------------------------------------------------------------------------


def test_similarity_loss_minimises_negative_cosine():
    loss = StreamerLoss("similarity")
    a = torch.tensor([[1.0, 0.0]])
    objective, signal = loss(a, torch.tensor([[1.0, 0.0]]))
    assert signal.item() == pytest.approx(1.0) and objective.item() == pytest.approx(-1.0)
    objective, signal = loss(a, torch.tensor([[0.0, 1.0]]))
    assert signal.item() == pytest.approx(0.0)


def test_similarity_loss_averages_over_pixels_of_images():
    loss = StreamerLoss("similarity")
    x = torch.randn(1, 3, 4, 4)
    _, signal = loss(x, -x)
    assert signal.item() == pytest.approx(-1.0)


def test_the_fast_paths_image_cosine_is_torchs_with_its_gradients():
    torch.manual_seed(0)
    target = torch.rand(2, 3, 8, 8)
    target[0, :, 1, 1] = 0.0  # a black pixel
    context = torch.randn(2, 3, 8, 8)
    context[1, :, 2, 3] = 0.0  # a zero prediction
    outputs = []
    for loss in (StreamerLoss("similarity"), StreamerLoss("similarity", fast_images=True)):
        leaf = context.clone().requires_grad_()
        objective, signal = loss(leaf, target)
        objective.backward()
        outputs.append((signal, leaf.grad, loss.per_region(leaf.detach(), target, 2)))
    (signal, grad, regions), (fast_signal, fast_grad, fast_regions) = outputs
    assert fast_signal.item() == pytest.approx(signal.item(), rel=1e-6)
    torch.testing.assert_close(fast_grad, grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(fast_regions, regions, rtol=1e-6, atol=1e-7)
    features = torch.randn(1, 16)  # not an image: torch's own cosine
    assert StreamerLoss("similarity", fast_images=True)(features, features)[1].item() == \
        pytest.approx(1.0)


def test_distance_loss_is_mse_with_positive_sign():
    loss = StreamerLoss("distance")
    objective, signal = loss(torch.zeros(1, 4), torch.full((1, 4), 2.0))
    assert signal.item() == pytest.approx(4.0) and objective.item() == pytest.approx(4.0)


# --- reach groups ------------------------------------------------------------------------


def _weights(alpha, n):
    raw = [alpha ** -i for i in range(n)]
    return [w / sum(raw) for w in raw]


@pytest.mark.parametrize("layer, num_layers, groups", [
    (0, 1, [[0]]),
    (0, 2, [[0], [1]]),
    (1, 2, [[1], [0]]),
    (0, 3, [[0], [1], [2]]),
    (1, 3, [[1], [0, 2]]),
    (2, 3, [[2], [1], [0]]),
    (1, 4, [[1], [0, 2], [3]]),
    (2, 4, [[2], [1, 3], [0]]),
    (3, 4, [[3], [2], [1], [0]]),
])
def test_reach_groups_and_weights(layer, num_layers, groups):
    got_groups, weights = reach_groups(layer, num_layers, alpha=3)
    assert got_groups == groups
    assert weights == pytest.approx(_weights(3, len(groups)), rel=1e-6)
    assert math.isclose(sum(weights), 1.0, rel_tol=1e-6)


def test_reach_off_weights_groups_equally():
    _, weights = reach_groups(1, 4, alpha=3, reach=False)
    assert weights == pytest.approx([1 / 3] * 3)
