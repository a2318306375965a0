"""Steady view: a shaking camera's small shifts are moved back out of layer 0's input; a
still camera, a cut and a fast move are not touched."""

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from streamer_core.presets import preset_arguments
from streamer_core.sources.preprocess import preprocess_frame
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


def test_each_step_moves_back_the_shift_read_twice_against_the_last_input_taken():
    picture = _picture(0)
    view = SteadyView()
    taken = view(picture)
    for dy, dx in ((1.5, -1.0), (-0.7, 2.0), (0.0, 0.0)):
        shaken = _shaken(picture, dy, dx)
        found_dy, found_dx, _ = phase_shift(_grey(taken), _grey(shaken))
        if STILL_SHIFT <= max(abs(found_dy), abs(found_dx)):  # a shake: read once more
            left_dy, left_dx, _ = phase_shift(_grey(taken),
                                              _grey(moved_back(shaken, found_dy, found_dx)))
            found_dy, found_dx = found_dy + left_dy, found_dx + left_dx
        found_dy, found_dx = (1 - VIEW_EASE) * found_dy, (1 - VIEW_EASE) * found_dx
        expected = (moved_back(shaken, found_dy, found_dx)
                    if STILL_SHIFT <= max(abs(found_dy), abs(found_dx)) else shaken)
        taken = view(shaken)
        assert torch.allclose(taken, expected, atol=1e-5)
    smaller = F.interpolate(_shaken(picture, 1.5, 0.0), size=64, mode="bilinear")
    assert torch.equal(view(smaller), smaller)


def test_the_second_reading_finds_a_shake_closer_than_the_first():
    picture = _picture(0)
    first_off, second_off = 0.0, 0.0
    for dy, dx in ((1.3, -0.6), (-0.4, 2.2), (0.7, 0.7), (-1.8, -1.1)):
        shaken = _shaken(picture, dy, dx)
        found_dy, found_dx, _ = phase_shift(_grey(picture), _grey(shaken))
        left_dy, left_dx, _ = phase_shift(_grey(picture),
                                          _grey(moved_back(shaken, found_dy, found_dx)))
        first_off += abs(found_dy - dy) + abs(found_dx - dx)
        second_off += abs(found_dy + left_dy - dy) + abs(found_dx + left_dx - dx)
    assert second_off < 0.7 * first_off


def _big_picture() -> np.ndarray:
    """A 512 x 512 RGB source picture with texture at several scales."""
    rng = np.random.default_rng(0)
    coarse = cv2.resize(rng.uniform(0, 255, (16, 16, 3)).astype(np.float32), (512, 512),
                        interpolation=cv2.INTER_CUBIC)
    fine = cv2.GaussianBlur(rng.uniform(0, 255, (512, 512, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(0.6 * coarse + 0.4 * fine, 0, 255).astype(np.uint8)


def test_given_the_picture_a_shake_is_moved_back_before_the_picture_is_shrunk():
    picture = _big_picture()
    first = preprocess_frame(picture)
    left_by_input, left_by_picture = 0.0, 0.0
    for dx, dy in ((5, -3), (2, 4), (-6, 1)):  # pixels of the 512 x 512 picture
        shaken = cv2.warpAffine(picture, np.float32([[1, 0, dx], [0, 1, dy]]), (512, 512),
                                borderMode=cv2.BORDER_REFLECT)
        by_input, by_picture = SteadyView(), SteadyView()
        by_input(first)
        by_picture(first, picture)
        left_by_input += _inner_difference(by_input(preprocess_frame(shaken)), first)
        left_by_picture += _inner_difference(by_picture(preprocess_frame(shaken), shaken), first)
    assert left_by_picture < 0.8 * left_by_input


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


class _SpyView(SteadyView):
    """Records the picture each input came with; moves nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.given: list = []

    def __call__(self, x: torch.Tensor, picture=None) -> torch.Tensor:
        self.given.append(picture)
        return x


def test_the_cli_pipeline_hands_the_model_its_source_picture():
    from app.cli.pipeline import Segmenter
    from streamer_core.model import StreamerModel

    args, _ = preset_arguments("live")
    args.first_blocks = "drawn"
    model = StreamerModel(args)
    model.steady_view = _SpyView()
    picture = _big_picture()
    Segmenter(model, None, learn=False).step(picture)
    assert len(model.steady_view.given) == 1 and model.steady_view.given[0] is picture


def test_the_apps_learner_hands_the_model_its_source_picture(qapp):
    from app.gui.self_test import small_settings
    from app.gui.workers.learner_worker import LearnerWorker
    from streamer_core.sources import Frame
    from streamer_core.sources.mailbox import LatestMailbox

    mailbox = LatestMailbox()
    worker = LearnerWorker(mailbox, *small_settings().model_arguments())
    worker.start()
    worker.model.steady_view = _SpyView()
    picture = _big_picture()
    mailbox.put(Frame(picture, 0.0, 0))
    worker.on_snippet_ready()
    worker.model.stop_background_learning()  # not finish(): it quits this thread's loop
    assert len(worker.model.steady_view.given) == 1
    assert worker.model.steady_view.given[0] is picture
