"""Layer 0's prediction error in the encoder's pooled features (`signal_space="features"`)."""

import pytest
import torch
import torch.nn.functional as F

from core_helpers import small_model
from streamer_core import StreamerModelArguments
from streamer_core.checkpoint import load_checkpoint, save_checkpoint
from streamer_core.networks import CNNEncoder, descriptor_of


def textured_background(seed: int = 0) -> torch.Tensor:
    """A [1, 3, 160, 160] picture with detail at several scales, in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    coarse = F.interpolate(torch.rand(1, 3, 10, 10, generator=g), size=160, mode="bilinear")
    fine = F.interpolate(torch.rand(1, 3, 40, 40, generator=g), size=160, mode="bilinear")
    return (0.6 * coarse + 0.4 * fine) * 2 - 1


def view(background: torch.Tensor, shift: int, with_object: bool = False) -> torch.Tensor:
    """The 128 x 128 window `shift` pixels into the background: a panning camera."""
    frame = background[:, :, shift:shift + 128, shift:shift + 128].clone()
    if with_object:  # something saturated and new comes into view
        frame[:, 0, 40:80, 50:90], frame[:, 1:, 40:80, 50:90] = 1.0, -1.0
    return frame


def test_the_descriptor_sees_what_is_in_view_more_than_where():
    torch.manual_seed(0)
    encoder = CNNEncoder(16)
    background = textured_background()
    still, panned = (descriptor_of(encoder.blocks(view(background, s))) for s in (0, 12))
    changed = descriptor_of(encoder.blocks(view(background, 0, with_object=True)))
    moved = (still - panned).abs().mean()
    assert (still - changed).abs().mean() > 2 * moved
    assert still.shape == (1, 128)  # 64 channels after two blocks: maximum and mean


def features_model(**overrides):
    return small_model(demarcation_mode="change", signal_space="features", z_threshold=4.0,
                       window_size=40, min_window=5, min_event_length=2, max_layers=1,
                       **overrides)


def test_a_panning_camera_is_no_event_and_something_new_in_view_is():
    model, _ = features_model()
    background = textured_background(1)
    pan = [view(background, s % 32) for s in range(24)]  # the camera sways, nothing new
    enters = [view(background, s % 32, with_object=True) for s in range(24, 30)]
    with torch.no_grad():
        reports = [r for x in pan + enters for r in model(x) if r.layer == 0]
    boundaries = [r.step for r in reports if r.boundary]
    assert boundaries == [24]  # the input where the object came into view, and no other


def test_after_a_boundary_the_next_step_is_the_pictures_not_the_predictions_restart():
    """The prediction starts over with a new event; a still picture after the boundary
    has not changed, so its next step is nothing (measured against the old prediction it
    was the prediction's restart: on a still street camera 'most of the picture changed'
    right after every boundary, and layer 1 took it for a new scene)."""
    model, _ = features_model(signal_regions=4)
    background = textured_background(1)
    frames = ([view(background, s % 32) for s in range(24)]
              + [view(background, 24, with_object=True)] * 4)  # enters, then stays still
    with torch.no_grad():
        reports = [r for x in frames for r in model(x) if r.layer == 0]
    assert [r.step for r in reports if r.boundary] == [24]
    after = reports[25]
    assert after.signal == pytest.approx(0.0, abs=1e-6)


def test_pixels_stay_the_default_and_bad_spaces_are_refused():
    assert StreamerModelArguments().signal_space == "pixels"
    with pytest.raises(ValueError, match="signal_space"):
        StreamerModelArguments(signal_space="colours").validate()


def test_the_signal_space_is_saved_and_can_be_switched_live(tmp_path):
    model, optimizer = features_model()
    background = textured_background(2)
    with torch.no_grad():
        for s in range(8):
            model(view(background, s))
    save_checkpoint(tmp_path / "m.pt", model, optimizer)
    loaded, _ = load_checkpoint(tmp_path / "m.pt")
    assert loaded.args.signal_space == "features"
    assert loaded.streamer.args.signal_space == "features"
    window = len(model.streamer.demarcation.window)
    assert window > 0
    model.set_demarcation(signal_space="pixels")  # another signal: steps of another scale
    assert model.args.signal_space == model.streamer.args.signal_space == "pixels"
    assert len(model.streamer.demarcation.window) == 0


def test_settings_stored_before_features_keep_comparing_pixels():
    from app.gui.infrastructure.settings import migrate

    older = migrate({"schema_version": 1, "z_threshold": 6.0, "signal_regions": 8})
    assert older["signal_space"] == "pixels" and older["restless_ratio"] == 0.0
    assert "signal_space" not in migrate({"schema_version": 1})  # nothing tuned: defaults
