"""The layer stack against the spec: growth, fresh starts, normalisation, gradients, shapes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from core_helpers import run, scene_frames, small_model
from streamer_core import (
    CNNDecoder,
    CNNEncoder,
    HierarchicalPrediction,
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
    TemporalEncoding,
)


def test_parent_is_created_on_input_evolve_every_plus_two():
    model, _ = small_model(evolve_every=3)
    frames = scene_frames(6)
    with torch.no_grad():
        for x in frames[:4]:
            model(x)
        assert model.get_num_layers() == 1
        model(frames[4])  # input number 5 = evolve_every + 2
        assert model.get_num_layers() == 2


def test_no_growth_beyond_max_layers_or_in_eval_mode():
    model, _ = small_model(evolve_every=0, max_layers=2)
    with torch.no_grad():
        run(model, None, scene_frames(12, scene_length=2))
    assert model.get_num_layers() == 2
    frozen, _ = small_model(evolve_every=0)
    frozen.eval()
    with torch.no_grad():
        run(frozen, None, scene_frames(4))
    assert frozen.get_num_layers() == 1


def test_first_input_and_input_after_optimizer_step_are_fresh_starts():
    model, optimizer = small_model(optimize_every=3, evolve_every=100)
    frames = scene_frames(8)
    first = model(frames[0])
    assert first[0].signal is None and not first[0].boundary
    optimizer.step()
    updated_at = None
    for i, x in enumerate(frames[1:], start=1):
        reports = model(x)
        if updated_at is not None:
            assert reports[0].signal is None  # fresh start: no loss, no boundary
            assert len(model.streamer.buffer) == 1
            break
        assert reports[0].signal is not None
        if optimizer.step():
            updated_at = i
            assert model.streamer.context is None and model.streamer.representation is None
    assert updated_at == 3  # three losses of the (only) top layer: inputs 1, 2, 3


def test_the_base_clock_updates_every_n_layer0_losses_however_many_layers():
    model, _ = small_model(evolve_every=0, window_size=2, demarcation_mode="fixed",
                           loss_threshold=2.0)  # every compared input is a boundary
    optimizer = StreamerOptimizer(model, StreamerOptimizerArguments(
        optimize_every=3, max_layers=3, optimize_clock="base"))
    updates = []
    for i, x in enumerate(scene_frames(16)):
        model(x)
        if optimizer.step():
            updates.append(i)
    assert model.get_num_layers() == 3
    # Layer 0 has a loss on every input but the first after each update (a fresh start).
    assert updates == [3, 7, 11, 15]
    with pytest.raises(ValueError, match="optimize_clock"):
        StreamerOptimizerArguments(optimize_clock="sometimes").validate()


@pytest.mark.parametrize("fast_path", [False, True])
def test_keep_events_carries_upper_events_across_an_update(fast_path):
    frames = scene_frames(24, scene_length=2)  # 8 updates, 14 inputs of layer 1

    def upper_inputs(keep_events):
        model, _ = small_model(evolve_every=2, demarcation_mode="fixed", loss_threshold=2.0,
                               keep_events=keep_events, fast_path=fast_path)
        optimizer = StreamerOptimizer(model, StreamerOptimizerArguments(
            optimize_every=2, max_layers=3, optimize_clock="base"))
        reports = run(model, optimizer, frames)
        assert optimizer.optimizer_steps >= 5
        return [r for r in reports if r.layer == 1]

    spec, kept = upper_inputs(False), upper_inputs(True)
    # Layer 1 gets two inputs per update: by the spec the first after it is a fresh start.
    compared_spec = sum(r.signal is not None for r in spec)
    compared_kept = sum(r.signal is not None for r in kept)
    assert compared_spec <= len(spec) // 2 + 1
    assert compared_kept >= len(kept) - 2 >= compared_spec + 4
    assert any(r.boundary for r in kept)


@pytest.mark.parametrize("fast_path", [False, True])
@pytest.mark.parametrize("signal_space", ["pixels", "features"])
def test_keep_events_layer0_is_not_blinded_by_an_update(fast_path, signal_space):
    """By the spec the input after an update is a fresh start (no signal) and `change`
    has no step for the one after it either; with keep_events layer 0 judges its last input
    again with the new weights, so every input from the fourth on is compared with a limit."""
    frames = scene_frames(14, scene_length=3)

    def steps_with_a_threshold(keep_events):
        model, _ = small_model(evolve_every=100, demarcation_mode="change", min_window=1,
                               min_event_length=1, signal_regions=4, signal_space=signal_space,
                               keep_events=keep_events, fast_path=fast_path)
        optimizer = StreamerOptimizer(model, StreamerOptimizerArguments(
            optimize_every=3, max_layers=3, optimize_clock="base"))
        reports, rebased = [], []
        for x in frames:
            reports += model(x)
            before = model.streamer.demarcation.previous
            if optimizer.step() and before is not None:
                after = model.streamer.demarcation.previous
                rebased.append(after is not None and not np.allclose(after, before))
        assert optimizer.optimizer_steps >= 3
        return [r.threshold is not None for r in reports if r.layer == 0], rebased

    spec, _ = steps_with_a_threshold(False)
    kept, rebased = steps_with_a_threshold(True)
    assert kept[3:] == [True] * (len(kept) - 3)  # a step from the third, a window after it
    assert sum(spec) <= len(spec) - 2 * 3  # two inputs without a step per update
    assert rebased and all(rebased)  # the last value is the new weights' own


def test_representations_are_unit_length_in_similarity_mode_only():
    sim, _ = small_model(distance_mode="similarity")
    dist, _ = small_model(distance_mode="distance", demarcation_mode="average")
    with torch.no_grad():
        run(sim, None, scene_frames(3))
        run(dist, None, scene_frames(3))
    assert abs(torch.linalg.vector_norm(sim.streamer.representation).item() - 1) < 1e-5
    assert abs(torch.linalg.vector_norm(dist.streamer.representation).item() - 1) > 1e-3


def test_force_base_dist_makes_layer_zero_use_mse():
    model, _ = small_model(force_base_dist=True, init_layers=2, evolve_every=100)
    assert model.layers()[0].distance_mode == "distance"
    assert model.layers()[1].distance_mode == "similarity"


def test_force_fixed_buffer_forces_boundary_when_buffer_has_filled():
    model, _ = small_model(force_fixed_buffer=True, buffer_size=3, demarcation_mode="fixed",
                           loss_threshold=-2.0)  # similarity never below -2: no own boundary
    with torch.no_grad():
        reports = run(model, None, scene_frames(9))
    bottom = [r for r in reports if r.layer == 0]
    assert [r.boundary for r in bottom] == [False, False, False, True, False, False, True,
                                            False, False]


def test_boundaries_are_recorded_in_seconds_and_sent_up():
    model, _ = small_model(init_layers=2, evolve_every=100, demarcation_mode="fixed",
                           loss_threshold=2.0, snippet_size=0.25)  # every loss is a boundary
    with torch.no_grad():
        reports = run(model, None, scene_frames(4))
    assert model.extract_rep()["boundaries"][0] == [0, 0.25, 0.5, 0.75]
    layer1 = [r.step for r in reports if r.layer == 1]
    assert layer1 == [1, 2, 3]  # one input to layer 1 per layer-0 boundary


def _params_with_grad(module):
    return {name for name, p in module.named_parameters() if p.grad is not None}


def _all_params(module):
    return {name for name, _ in module.named_parameters()}


def _grads_from_one_loss(loss_layer: int, fast_path: bool) -> dict[str, set]:
    """Which parameters get a gradient from one layer's loss alone (2 layers)."""
    model, optimizer = small_model(init_layers=2, evolve_every=100, demarcation_mode="fixed",
                                   loss_threshold=2.0, optimize_every=1000,
                                   fast_path=fast_path)
    for x in scene_frames(4):
        model(x)
    layers = model.layers()
    assert all(layer.objective_ready for layer in layers)
    optimizer._accumulate(layers[loss_layer], layers)
    model.finish_gradients()
    return {f"{name}{i}": (_params_with_grad(getattr(layer, name)),
                           _all_params(getattr(layer, name)))
            for i, layer in enumerate(layers) for name in ("f", "p")}


@pytest.mark.parametrize("fast_path", [False, True])
def test_each_loss_reaches_its_predictor_and_the_encoders_of_the_layers_it_saw(fast_path):
    top = _grads_from_one_loss(1, fast_path)
    for module in ("p1", "f1", "f0"):  # f0 includes the CNN encoder
        assert top[module][0] == top[module][1], module
    assert top["p0"][0] == set()  # layer 0's predictor is not in layer 1's loss
    bottom = _grads_from_one_loss(0, fast_path)
    for module in ("p0", "f0", "f1"):  # p0 includes the CNN decoder; f1 fed layer 0's input
        assert bottom[module][0] == bottom[module][1], module
    assert bottom["p1"][0] == set()


def test_same_seed_same_frames_same_boundaries_and_signals():
    frames = scene_frames(12)
    results = []
    for _ in range(2):
        model, optimizer = small_model(seed=7, evolve_every=3)
        results.append(run(model, optimizer, frames))
    assert results[0] == results[1]
    other, opt = small_model(seed=8, evolve_every=3)
    assert run(other, opt, frames) != results[0]


def test_set_demarcation_changes_the_running_rule_and_validates():
    model, _ = small_model(demarcation_mode="fixed", loss_threshold=-2.0)
    with torch.no_grad():
        assert not any(r.boundary for r in run(model, None, scene_frames(3)))
        model.set_demarcation(loss_threshold=2.0)
        assert all(r.boundary for r in run(model, None, scene_frames(3)) if r.layer == 0)
    try:
        model.set_demarcation(window_size=0)
    except ValueError as err:
        assert "window_size" in str(err)
    else:
        raise AssertionError("window_size 0 was accepted")
    assert model.args.window_size == 3


def test_learning_off_under_no_grad_leaves_no_pending_objective():
    model, optimizer = small_model()
    with torch.no_grad():
        run(model, None, scene_frames(3))
    assert not model.streamer.objective_ready
    run(model, optimizer, scene_frames(3))  # learning again works


def test_real_size_shapes():
    """The paper's sizes: D=1024, 128x128 frames, buffer 20 (shapes only)."""
    with torch.no_grad():
        enc = CNNEncoder(1024)
        features, attention = enc(torch.zeros(2, 3, 128, 128))
        assert features.shape == (2, 1024) and attention is None
        assert CNNDecoder(1024)(torch.zeros(1, 1024)).shape == (1, 3, 128, 128)
        f = TemporalEncoding(1024, 20, 1e-4, n_heads=8, encoder=CNNEncoder)
        rep, attention = f(torch.zeros(5, 3, 128, 128))
        assert rep.shape == (1, 1024) and attention is None
        p = HierarchicalPrediction(1024, 3, 1e-4, layer_num=1)
        assert p(torch.zeros(3, 1024)).shape == (1, 1024)
        model = StreamerModel(StreamerModelArguments(feature_dim=1024, buffer_size=20,
                                                     device="cpu", seed=0))
        model(torch.zeros(1, 3, 128, 128))
        model(torch.zeros(1, 3, 128, 128))
        assert model.streamer.context.shape == (1, 3, 128, 128)
        assert model.streamer.representation.shape == (1, 1024)


def test_model_runs_on_the_device_it_was_given():
    model, _ = small_model(device="cpu")
    assert model.device.type == "cpu"
    model(F.pad(torch.zeros(1, 3, 120, 128), (0, 0, 4, 4)))
    assert model.streamer.context.device.type == "cpu"


def test_inputs_seen_behind_count_on_the_base_clock_and_the_update_uses_the_learned_ones():
    """A live learner behind its source sees some inputs without gradients
    (learning_step's `behind`): the weights still change every optimize_every layer-0
    losses, from the gradients of the inputs learned from; an interval without any keeps
    them as they were."""
    from streamer_core.learning import learning_step

    model, _ = small_model(evolve_every=100)
    optimizer = StreamerOptimizer(model, StreamerOptimizerArguments(
        optimize_every=3, max_layers=3, optimize_clock="base"))
    behind = [False, False, False, True, True, True, True, True, False, False, False, True]
    # Moved by updates only (a max_norm embedding also renormalises rows as it reads them).
    learned = [p for name, p in model.streamer.p.named_parameters() if "pos_enc" not in name]
    weights = [p.detach().clone() for p in learned]
    updates, moved_between = [], []
    for i, (x, late) in enumerate(zip(scene_frames(len(behind)), behind, strict=True)):
        learning_step(model, optimizer, x, behind=late)
        now = [p.detach().clone() for p in learned]
        moved = any(not torch.equal(p, w) for p, w in zip(now, weights, strict=True))
        if optimizer.optimizer_steps > len(updates):
            updates.append(i)
            assert moved, "an update from the inputs learned from moved no weight"
        elif moved:
            moved_between.append(i)
        weights = now
    # Losses: inputs 1, 2 (learned) and 3 (behind); after the update a fresh start (4),
    # then 5, 6, 7 all behind: no update; then 8 (its prediction was made behind), 9, 10.
    assert updates == [3, 10]
    assert moved_between == []


def test_inputs_seen_behind_do_not_count_on_the_specs_top_clock():
    from streamer_core.learning import learning_step

    model, optimizer = small_model(optimize_every=2, evolve_every=100)  # the "top" clock
    for x in scene_frames(6):
        learning_step(model, optimizer, x, behind=True)
    assert optimizer.optimizer_steps == 0 and optimizer.step_counter == [0, 0, 0]
