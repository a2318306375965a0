"""Steady light: a change of the whole picture's brightness is divided out of layer 0's
input; someone entering and a cut are not."""

import pytest
import torch
import torch.nn.functional as F

from streamer_core.presets import preset_arguments
from streamer_core.steady_light import LIGHT_EASE, SteadyLight


def _picture(seed: int) -> torch.Tensor:
    """A picture's pixels [1, 3, 128, 128] in [0, 0.75] (room to brighten): bright and dark
    parts, and texture."""
    generator = torch.Generator().manual_seed(seed)
    parts = torch.rand(1, 1, 4, 4, generator=generator) * 0.6 + 0.1
    texture = torch.rand(1, 3, 128, 128, generator=generator) * 0.1
    return F.interpolate(parts, size=128, mode="nearest") * 0.9 + texture * 0.75


def _input(pixels: torch.Tensor) -> torch.Tensor:
    return pixels.clamp(0.0, 1.0) * 2.0 - 1.0


@pytest.mark.parametrize("factor", [1.3, 0.7])
def test_an_exposure_step_is_divided_out(factor):
    light = SteadyLight()
    before = light(_input(_picture(0)))
    after = light(_input(_picture(0) * factor))
    unsteady = _input(_picture(0) * factor)
    assert (after - before).abs().mean() < 0.1 * (unsteady - before).abs().mean()


def test_someone_entering_is_left_as_it_is():
    light = SteadyLight()
    light(_input(_picture(0)))
    entered = _picture(0)
    entered[..., 40:90, 0:30] = 0.05  # a dark coat at the left edge
    assert torch.equal(light(_input(entered)), _input(entered))


def test_a_cut_is_left_as_it_is():
    light = SteadyLight()
    light(_input(_picture(0)))
    cut = _picture(1)  # another picture: darker in some places, brighter in others
    assert torch.equal(light(_input(cut)), _input(cut))


def test_the_correction_eases_back_and_a_reset_forgets_it():
    light = SteadyLight()
    light(_input(_picture(0)))
    brighter = _input(_picture(0) * 1.3)
    light(brighter)
    first = light.gain
    for _ in range(10):
        light(brighter)
    assert 1.0 < light.gain < first * (1 - LIGHT_EASE)  # on its way back to the light seen
    light.reset()
    assert light.gain == 1.0
    assert torch.equal(light(brighter), brighter)


def test_live_holds_the_light_steady_and_paper_does_not():
    assert preset_arguments("live")[0].steady_light
    assert not preset_arguments("paper")[0].steady_light


def test_a_model_divides_the_light_out_only_with_steady_light():
    from streamer_core.model import StreamerModel

    args, _ = preset_arguments("live")
    assert StreamerModel(args).steady_light is not None
    args.steady_light = False
    assert StreamerModel(args).steady_light is None


def test_layer_0_takes_the_input_with_the_light_held_steady():
    from streamer_core.model import StreamerModel

    args, _ = preset_arguments("live")
    model = StreamerModel(args)
    with torch.no_grad():
        model(_input(_picture(0)))
        first = model.input_seen
        brighter = _input(_picture(0) * 1.3)
        model(brighter)
    assert (model.input_seen - first).abs().mean() < 0.1 * (brighter - first).abs().mean()
