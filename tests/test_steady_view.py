"""Steady view: a shaking camera's small shifts are moved back out of layer 0's input; a
still camera, a cut and a fast move are not touched."""

import pytest
import torch
import torch.nn.functional as F

from streamer_core.presets import preset_arguments
from streamer_core.steady_view import (
    MAX_SHIFT,
    STILL_SHIFT,
    VIEW_EASE,
    SteadyView,
    moved_back,
    phase_shift,
)


def _picture(seed: int) -> torch.Tensor:
    """An input [1, 3, 128, 128] in [-1, 1] with texture at several scales."""
    generator = torch.Generator().manual_seed(seed)
    coarse = F.interpolate(torch.rand(1, 3, 8, 8, generator=generator), size=128,
                           mode="bilinear", align_corners=False)
    fine = F.avg_pool2d(torch.rand(1, 3, 132, 132, generator=generator), 5, 1)
    return (0.6 * coarse + 0.4 * fine) * 2.0 - 1.0


def _shaken(x: torch.Tensor, dy: float, dx: float) -> torch.Tensor:
    """The camera moved so that the picture shows shifted by (dy, dx)."""
    return moved_back(x, -dy, -dx)


def _grey(x: torch.Tensor) -> torch.Tensor:
    return x.mean(dim=1)[0]


@pytest.mark.parametrize(("dy", "dx"), [(1.0, -1.0), (-2.0, 0.5), (0.0, 2.5)])
def test_phase_correlation_finds_the_shift(dy, dx):
    picture = _picture(0)
    found_dy, found_dx, peak = phase_shift(_grey(picture), _grey(_shaken(picture, dy, dx)))
    assert found_dy == pytest.approx(dy, abs=0.35)
    assert found_dx == pytest.approx(dx, abs=0.35)
    assert peak > 0.3


def test_unrelated_pictures_do_not_match():
    assert phase_shift(_grey(_picture(0)), _grey(_picture(1)))[2] < 0.1


def _inner_difference(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean difference away from the edges a shift uncovers."""
    return float((a - b)[..., 8:-8, 8:-8].abs().mean())


def test_a_shaken_input_is_moved_back_to_the_last_one():
    view = SteadyView()
    picture = _picture(0)
    first = view(picture)
    shaken = _shaken(picture, 1.5, -1.0)
    steadied = view(shaken)
    assert _inner_difference(steadied, first) < 0.5 * _inner_difference(shaken, first)


def test_a_still_camera_a_cut_and_a_fast_move_are_left_as_they_come():
    picture = _picture(0)
    for after in (picture.clone(),  # nothing moved (below STILL_SHIFT)
                  _picture(1),  # a cut: no sharp match
                  _shaken(picture, 2 * MAX_SHIFT, 0.0)):  # the camera's own move
        view = SteadyView()
        view(picture)
        assert torch.equal(view(after), after)
    assert STILL_SHIFT < 1.0 < MAX_SHIFT


def test_a_camera_shaking_about_one_place_is_held_there_and_a_reset_forgets_it():
    picture = _picture(0)
    view = SteadyView()
    first = view(picture)
    generator = torch.Generator().manual_seed(1)
    jitters = (torch.rand(12, 2, generator=generator) * 4.0 - 2.0).tolist()  # +-2 px
    shaken = [_shaken(picture, dy, dx) for dy, dx in jitters]
    held = [view(x) for x in shaken]
    raw_apart = sum(_inner_difference(x, first) for x in shaken)
    held_apart = sum(_inner_difference(x, first) for x in held)
    assert held_apart < 0.4 * raw_apart
    assert VIEW_EASE < 0.5
    view.reset()
    assert torch.equal(view(shaken[0]), shaken[0])


def test_each_step_matches_phase_shift_of_the_last_input_taken_and_a_new_size_starts_over():
    picture = _picture(0)
    view = SteadyView()
    taken = view(picture)
    for dy, dx in ((1.5, -1.0), (-0.7, 2.0), (0.0, 0.0)):
        shaken = _shaken(picture, dy, dx)
        found_dy, found_dx, _ = phase_shift(_grey(taken), _grey(shaken))
        expected = (moved_back(shaken, (1 - VIEW_EASE) * found_dy, (1 - VIEW_EASE) * found_dx)
                    if STILL_SHIFT <= (1 - VIEW_EASE) * max(abs(found_dy), abs(found_dx))
                    else shaken)
        taken = view(shaken)
        assert torch.allclose(taken, expected, atol=1e-5)
    smaller = F.interpolate(_shaken(picture, 1.5, 0.0), size=64, mode="bilinear")
    assert torch.equal(view(smaller), smaller)


def test_live_holds_the_view_steady_and_paper_does_not():
    assert preset_arguments("live")[0].steady_view
    assert not preset_arguments("paper")[0].steady_view


def test_a_model_moves_the_shake_back_only_with_steady_view():
    from streamer_core.model import StreamerModel

    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    assert model.steady_view is not None
    picture = _picture(0)
    model(picture)
    shaken = _shaken(picture, 1.5, -1.0)
    model(shaken)
    assert _inner_difference(model.input_seen, picture) < _inner_difference(shaken, picture)
    args.steady_view = False
    assert StreamerModel(args).steady_view is None
