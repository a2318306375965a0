"""Layer 0's signal per region of the image (`signal_regions`) and `change` over regions."""

import numpy as np
import pytest
import torch

from core_helpers import run, scene_frames, small_model
from streamer_core import EventDemarcation
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.demarcation import few_steps_widening
from streamer_core.loss import StreamerLoss
from streamer_core.presets import preset_arguments


def change_rule() -> EventDemarcation:
    return EventDemarcation("change", "similarity", window_size=10, z_threshold=3.0,
                            min_window=4)


def test_a_cut_that_keeps_the_mean_is_a_step_of_the_regions():
    calm = [[0.50, 0.50], [0.52, 0.50], [0.50, 0.52], [0.52, 0.52], [0.50, 0.50]]
    cut = [0.80, 0.20]  # one half now predicted better, the other worse: mean 0.50
    regional, whole = change_rule(), change_rule()
    assert [regional(float(np.mean(c)), c) for c in calm] == [False] * 5
    assert [whole(float(np.mean(c))) for c in calm] == [False] * 5
    assert whole(float(np.mean(cut))) is False  # the mean did not move
    assert regional(float(np.mean(cut)), cut) is True
    # The timeline shows the step and its limit: steps 0.01, 0.02, 0.01, 0.02 before,
    # four of the window's ten.
    assert regional.last_value == pytest.approx(0.30)
    z = 3.0 * few_steps_widening(4, 10, 3.0)
    assert regional.last_threshold == pytest.approx(0.015 + z * 1.4826 * 0.005)


def test_one_region_decides_as_the_whole_signal():
    values = np.random.default_rng(0).normal(0.5, 0.05, 200)
    values[[60, 120, 121, 170]] -= 0.6
    whole, one_region = change_rule(), change_rule()
    for v in values:
        assert whole(float(v)) == one_region(float(v), [float(v)])
        assert whole.last_surprise == pytest.approx(one_region.last_surprise)
    assert whole.state()["window"] == pytest.approx(one_region.state()["window"])


def test_first_regional_value_and_a_new_grid_are_no_step():
    dem = change_rule()
    assert dem(0.5, [0.5, 0.5]) is False and dem.last_value is None
    assert dem(0.5, [0.5, 0.5, 0.5, 0.5]) is False  # 2 x 2 after 2 x 1: starts again
    assert dem.last_value is None and dem.last_threshold is None
    assert dem(0.5, [0.6, 0.4, 0.5, 0.5]) is False and dem.last_value == pytest.approx(0.05)


@pytest.mark.parametrize("dist_mode", ["similarity", "distance"])
def test_the_regions_average_to_the_signal(dist_mode):
    g = torch.Generator().manual_seed(0)
    context, target = (torch.rand(1, 3, 128, 128, generator=g) * 2 - 1 for _ in range(2))
    loss = StreamerLoss(dist_mode)
    _, signal = loss(context, target)
    regions = loss.per_region(context, target, 8)
    assert regions.shape == (64,)
    assert regions.mean().item() == pytest.approx(signal.item(), abs=1e-6)


def test_each_region_holds_its_own_part_of_the_picture():
    target = torch.ones(1, 3, 128, 128)
    context = target.clone()
    context[..., 64:] = -1  # the right half predicted as its opposite
    regions = StreamerLoss("similarity").per_region(context, target, 2)  # row by row
    assert regions.tolist() == pytest.approx([1.0, -1.0, 1.0, -1.0])


def test_layer_zero_reports_the_regional_step_and_the_layers_above_their_own_signal():
    model, optimizer = small_model(demarcation_mode="change", signal_regions=4, min_window=2,
                                   z_threshold=2.0, init_layers=2, evolve_every=100)
    reports = run(model, optimizer, scene_frames(40))
    base = [r for r in reports if r.layer == 0 and r.threshold is not None]
    assert len(base) > 20
    steps = np.array([r.signal for r in base])
    limits = np.array([r.threshold for r in base])
    assert (steps >= 0).all() and (limits >= 0).all()
    assert any(r.boundary for r in base)
    # Outside the refractory period a step beyond its limit is a boundary, and only then.
    for r in base:
        if r.boundary:
            assert r.signal > r.threshold
    upper = [r for r in reports if r.layer == 1 and r.signal is not None]
    assert upper and all(-1.0 <= r.signal <= 1.0 for r in upper)  # a similarity, as before
    assert isinstance(model.streamer.demarcation.previous, np.ndarray)
    assert model.streamer.demarcation.previous.shape == (16,)


def test_regions_are_changed_live_saved_and_restored(tmp_path):
    model, optimizer = small_model(demarcation_mode="change", min_window=2)
    run(model, optimizer, scene_frames(6))
    assert model.streamer.demarcation.state()["window"]
    model.streamer.escalation(3.0)
    model.set_demarcation(signal_regions=4)
    assert model.args.signal_regions == 4 and model.streamer.args.signal_regions == 4
    # Steps of the whole picture and of regions differ in scale: layer 0 starts afresh.
    assert model.streamer.demarcation.state()["window"] == []
    assert model.streamer.escalation.state() == []
    run(model, optimizer, scene_frames(6, seed=1))
    path = tmp_path / "regions.pt"
    save_checkpoint(path, model, optimizer)
    assert "signal_regions" not in torch.load(path, weights_only=True)["model_args"]
    loaded, _ = load_checkpoint(path, device="cpu")
    assert loaded.args.signal_regions == 4
    before, after = model.streamer.demarcation, loaded.streamer.demarcation
    assert after.state() == before.state()
    np.testing.assert_allclose(after.previous, before.previous)
    with pytest.raises(ValueError, match="signal_regions"):
        model.set_demarcation(signal_regions=0)
    assert model.args.signal_regions == 4


def test_a_new_grid_keeps_the_history_of_rules_that_ignore_it():
    model, optimizer = small_model(demarcation_mode="robust", min_window=2)
    run(model, optimizer, scene_frames(6))
    window = model.streamer.demarcation.state()["window"]
    assert window
    model.set_demarcation(signal_regions=4)  # `robust` judges the whole picture's value
    assert model.streamer.demarcation.state()["window"] == window


def test_live_compares_regions_and_paper_the_whole_picture():
    assert preset_arguments("live")[0].signal_regions > 1
    assert preset_arguments("paper")[0].signal_regions == 1


def test_the_cli_names_a_bad_region_count():
    from app.cli.errors import CliError
    from app.cli.model_setup import model_arguments

    assert model_arguments("live", ["signal_regions=4"])[0].signal_regions == 4
    with pytest.raises(CliError, match="signal_regions"):
        model_arguments("live", ["signal_regions=33"])
