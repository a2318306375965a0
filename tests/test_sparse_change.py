"""block_objective "sparse_change": layer 0's first blocks learn that changes are rare and large."""

import copy
import math

import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core import sparse_change
from streamer_core.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from streamer_core.networks import CNNEncoder, descriptor_of
from streamer_core.presets import preset_arguments
from streamer_core.sparse_change import (
    LEARNING_RATE,
    MARGIN,
    STEPS_PER_UPDATE,
    WINDOW,
    SparseChangeLearner,
    sparseness_loss,
)


def descriptors_with_steps(steps: list[float]) -> torch.Tensor:
    """Descriptors [len(steps) + 1, 4] whose consecutive steps (mean over channels): `steps`."""
    return torch.cumsum(torch.tensor([[0.0] + steps] * 4).T, dim=0)


def test_rare_large_changes_score_lower_than_even_ones():
    even = sparseness_loss(descriptors_with_steps([1.0] * 39))
    rare = sparseness_loss(descriptors_with_steps([0.8] * 35 + [2.0] * 4))
    assert even.item() == pytest.approx(0.0, abs=1e-6)
    assert rare.item() == pytest.approx(math.log(0.8 / 2.0), rel=1e-5)
    with pytest.raises(ValueError, match="no usual step"):
        sparseness_loss(descriptors_with_steps([1.0]))


def test_changes_sparse_beyond_the_margin_teach_nothing_more():
    descriptors = descriptors_with_steps([0.01] * 35 + [2.0] * 4).requires_grad_()
    loss = sparseness_loss(descriptors)  # the events 200 times the usual step
    assert loss.item() == pytest.approx(-math.log(MARGIN))
    loss.backward()
    assert torch.count_nonzero(descriptors.grad) == 0
    assert sparseness_loss(descriptors.detach(), margin=1000.0).item() == \
        pytest.approx(math.log(0.01 / 2.0), rel=1e-5)


def window_loss(encoder: CNNEncoder, frames: list[torch.Tensor]) -> float:
    with torch.no_grad():
        return sparseness_loss(descriptor_of(encoder.first_blocks(torch.cat(frames)))).item()


def test_learning_makes_a_streams_changes_sparser_and_moves_only_the_first_blocks():
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    frames = scene_frames(WINDOW, seed=3, scene_length=8)  # a new scene every 8 inputs, noise
    learner = SparseChangeLearner(encoder)
    for x in frames[:-1]:
        learner.remember(x)
    assert learner.learn() is False  # less than a window: nothing to learn from yet
    learner.remember(frames[-1])
    before = window_loss(encoder, frames)
    conv3 = encoder.conv3.weight.detach().clone()
    for _ in range(3):
        assert learner.learn() is True
    assert window_loss(encoder, frames) < before - 0.1
    assert torch.equal(encoder.conv3.weight, conv3)
    assert all(p.grad is None for p in learner.parameters())


def test_windows_past_the_margin_step_as_the_flat_loss_would_without_its_backward_pass(
        monkeypatch):
    monkeypatch.setattr(sparse_change, "MARGIN", 3.5)  # the drawn blocks: 3.2, soon past it
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    twin = copy.deepcopy(encoder)
    frames = scene_frames(WINDOW, seed=3, scene_length=8)
    learner = SparseChangeLearner(encoder)
    torch.manual_seed(1)
    for x in frames:
        learner.remember(x)  # a window: the first learning begins
    learner.hand_over()
    # The same windows, each with a backward pass of the clamped loss (the plain way)
    blocks = [p for conv in twin.first_convolutions() for p in conv.parameters()]
    optim = torch.optim.Adam(blocks, lr=LEARNING_RATE)
    inputs = torch.cat(frames)
    torch.manual_seed(1)
    past_the_margin = 0
    for _ in range(STEPS_PER_UPDATE):
        start = int(torch.randint(0, len(inputs) - WINDOW + 1, (1,)))
        loss = sparseness_loss(descriptor_of(twin.first_blocks(inputs[start:start + WINDOW])),
                               margin=3.5)
        past_the_margin += loss.item() == pytest.approx(-math.log(3.5))
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert 0 < past_the_margin < STEPS_PER_UPDATE  # both ways were taken
    for learned, plain in zip(learner.parameters(), blocks, strict=True):
        torch.testing.assert_close(learned, plain, rtol=0, atol=1e-7)


def sparse_model(objective: str):
    return small_model(block_objective=objective, demarcation_mode="change",
                       signal_space="features", window_size=40, max_layers=1,
                       optimize_every=4)


@pytest.mark.parametrize("objective", ["prediction", "sparse_change"])
def test_the_prediction_moves_the_first_blocks_only_under_its_own_objective(objective):
    model, optimizer = sparse_model(objective)
    layer = model.streamer
    conv1 = layer.f.encoder.conv1.weight.detach().clone()
    decoder = next(layer.p.parameters()).detach().clone()
    run(model, optimizer, scene_frames(8))  # updates, but less than a window remembered
    assert not torch.equal(next(layer.p.parameters()), decoder)
    moved = not torch.equal(layer.f.encoder.conv1.weight, conv1)
    assert moved == (objective == "prediction")
    if objective == "sparse_change":
        run(model, optimizer, scene_frames(WINDOW, seed=1))
        assert not torch.equal(layer.f.encoder.conv1.weight, conv1)  # its own learning
        assert layer.block_learner.last_loss is not None
        assert model.first_blocks_loss() == layer.block_learner.last_loss
    else:
        assert model.first_blocks_loss() is None


def test_seeded_windows_learn_the_same_blocks_whatever_the_global_rng(monkeypatch):
    monkeypatch.setattr(sparse_change, "MARGIN", 1000.0)  # every window teaches: they count
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    frames = scene_frames(WINDOW + 24, seed=2)  # windows can start anywhere in the memory

    def learned(seed: int | None) -> torch.Tensor:
        torch.rand(7)  # the global RNG moves on between runs, as in another process
        learner = SparseChangeLearner(copy.deepcopy(encoder))
        if seed is not None:
            learner.seed_windows(seed)
        for x in frames:
            learner.remember(x)  # the first learning: the only window of the first 40
        learner.learn()  # the second: windows anywhere in the 64 inputs
        learner.hand_over()
        return learner.encoder.conv1.weight.detach()

    assert torch.equal(learned(5), learned(5))
    assert not torch.equal(learned(None), learned(None))
    assert sparse_model("sparse_change")[0].streamer.block_learner.windows is not None  # seed 0


def test_the_first_blocks_adam_is_saved_and_restored(tmp_path):
    model, optimizer = sparse_model("sparse_change")
    run(model, optimizer, scene_frames(WINDOW + 4))
    model.streamer.block_learner.wait()
    steps = [s["step"] for s in model.streamer.block_learner.optim.state_dict()["state"].values()]
    assert steps and all(s > 0 for s in steps)
    path = tmp_path / "sparse.pt"
    save_checkpoint(path, model, optimizer)
    loaded, loaded_optimizer = load_checkpoint(path)
    learner = loaded.streamer.block_learner
    assert loaded.args.block_objective == "sparse_change" and learner is not None
    assert [s["step"] for s in learner.optim.state_dict()["state"].values()] == steps
    learned = model.streamer.block_learner.learned
    assert learned is not None  # the last update's learning, not handed over yet
    for restored, saved in zip(learner.learned.change, learned.change, strict=True):
        assert torch.equal(restored, saved)
    assert learner.learned.loss == learned.loss
    # At the next update both hand the same learning over: the blocks go on alike.
    more = scene_frames(4, seed=9)
    blocks_at_save = loaded.streamer.f.encoder.conv1.weight.detach().clone()
    run(model, optimizer, more)
    run(loaded, loaded_optimizer, more)
    assert optimizer.optimizer_steps == loaded_optimizer.optimizer_steps
    assert not torch.equal(loaded.streamer.f.encoder.conv1.weight, blocks_at_save)
    assert torch.equal(loaded.streamer.f.encoder.conv1.weight,
                       model.streamer.f.encoder.conv1.weight)
    assert small_model()[0].streamer.block_learner is None  # the default: the prediction


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda change: change[0].fill_(float("nan")), "learned change holds NaN"),
    (lambda change: change.pop(), "does not fit the blocks"),
])
def test_a_damaged_learned_change_is_refused(tmp_path, damage, reason):
    model, optimizer = sparse_model("sparse_change")
    run(model, optimizer, scene_frames(WINDOW + 4))
    path = tmp_path / "sparse.pt"
    save_checkpoint(path, model, optimizer)
    data = torch.load(path, weights_only=True)
    damage(data["studio"]["layers"][0]["blocks_learned"]["change"])
    torch.save(data, path)
    with pytest.raises(CheckpointError, match=reason):
        load_checkpoint(path)


def learner_with_memory(background: bool, seed: int = 4) -> SparseChangeLearner:
    torch.manual_seed(0)
    learner = SparseChangeLearner(CNNEncoder(16), background=background)
    learner.seed_windows(seed)
    for x in scene_frames(WINDOW + 8, seed=3, scene_length=8):
        learner.remember(x)
    return learner


def test_what_an_update_learns_reaches_the_blocks_at_the_next_one_alike_on_a_thread_or_not():
    blocks = {}
    for background in (True, False):
        torch.manual_seed(0)
        learner = SparseChangeLearner(CNNEncoder(16), background=background)
        learner.seed_windows(4)
        frames = scene_frames(WINDOW + 8, seed=3, scene_length=8)
        for x in frames[:WINDOW - 1]:
            learner.remember(x)
        assert learner.learn() is False and not learner.started  # less than a window
        drawn = [p.detach().clone() for p in learner.parameters()]
        for x in frames[WINDOW - 1:]:
            learner.remember(x)  # a window: the first learning begins
        learner.wait()
        assert all(torch.equal(p, d) for p, d in zip(learner.parameters(), drawn))
        assert learner.last_loss is None and learner.learned is not None
        assert learner.learn() is True  # hands the first learning over, starts the second
        assert not torch.equal(learner.parameters()[0], drawn[0])
        assert learner.last_loss is not None
        learner.hand_over()
        blocks[background] = [p.detach().clone() for p in learner.parameters()]
    for threaded, inline in zip(blocks[True], blocks[False], strict=True):
        torch.testing.assert_close(threaded, inline, rtol=0, atol=1e-6)


def test_a_change_of_the_blocks_while_it_learns_stays():
    learners = [learner_with_memory(background=False) for _ in range(2)]
    for learner in learners:
        learner.learn()
    with torch.no_grad():
        learners[1].parameters()[1].add_(0.5)  # conv1's bias, as an averaging across ranks
    for learner in learners:
        learner.hand_over()
    moved = learners[1].parameters()[1] - learners[0].parameters()[1]
    torch.testing.assert_close(moved, torch.full_like(moved, 0.5))


def test_a_failure_of_the_learning_thread_is_raised_where_it_is_handed_over(monkeypatch):
    def broken(*_args):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(sparse_change, "sparseness_ratio", broken)
    learner = learner_with_memory(background=True)  # its first learning begins, and fails
    with pytest.raises(RuntimeError, match="out of memory"):
        learner.hand_over()
    learner.hand_over()  # raised once; nothing learned to hand over
    assert learner.learned is None


def test_block_lr_sets_how_far_one_learning_moves_the_blocks(monkeypatch):
    monkeypatch.setattr(sparse_change, "MARGIN", 1000.0)  # every window teaches
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    frames = scene_frames(WINDOW, seed=3, scene_length=8)

    def change(rate: float) -> float:
        learner = SparseChangeLearner(copy.deepcopy(encoder), rate, background=False)
        learner.seed_windows(0)
        for x in frames:
            learner.remember(x)  # learns once it holds a window
        return sum(c.abs().sum().item() for c in learner.learned.change)

    ratio = change(1e-3) / change(1e-4)
    assert 5 < ratio < 15  # Adam's steps are about the rate each


def test_block_lr_reaches_the_learner_and_a_checkpoint_keeps_it(tmp_path):
    model, optimizer = small_model(block_objective="sparse_change", demarcation_mode="change",
                                   signal_space="features", max_layers=1, block_lr=2e-4)
    assert [g["lr"] for g in model.streamer.block_learner.optim.param_groups] == [2e-4]
    run(model, optimizer, scene_frames(WINDOW + 4))
    path = tmp_path / "rate.pt"
    save_checkpoint(path, model, optimizer)
    loaded, _ = load_checkpoint(path)
    assert loaded.args.block_lr == 2e-4
    assert [g["lr"] for g in loaded.streamer.block_learner.optim.param_groups] == [2e-4]
    assert sparse_model("sparse_change")[0].streamer.block_learner.learning_rate == LEARNING_RATE


@pytest.mark.parametrize("hold", [False, True])
def test_blocks_that_hold_at_the_margin_stay_where_a_window_past_it_finds_them(
        monkeypatch, hold):
    """block_hold_at_margin: once Adam has momentum, windows already sparse enough move the
    blocks only when they do not hold."""
    torch.manual_seed(0)
    learner = SparseChangeLearner(CNNEncoder(16), background=False, hold_at_margin=hold)
    learner.seed_windows(0)
    monkeypatch.setattr(sparse_change, "MARGIN", 1000.0)  # every window teaches: momentum
    for x in scene_frames(WINDOW, seed=3, scene_length=8):
        learner.remember(x)
    learner.hand_over()
    monkeypatch.setattr(sparse_change, "MARGIN", 1.0)  # every window is past it
    assert learner.learn() is True
    moved = sum(c.abs().sum().item() for c in learner.learned.change)
    assert learner.learned.loss == 0.0  # -log(1.0): at the margin
    assert (moved == 0.0) == hold


def test_block_hold_at_margin_reaches_the_learner_and_live_has_it():
    model, _ = small_model(block_objective="sparse_change", demarcation_mode="change",
                           signal_space="features", max_layers=1, block_hold_at_margin=True)
    assert model.streamer.block_learner.hold_at_margin
    assert not sparse_model("sparse_change")[0].streamer.block_learner.hold_at_margin
    assert preset_arguments("live")[0].block_hold_at_margin
    assert not preset_arguments("paper")[0].block_hold_at_margin
