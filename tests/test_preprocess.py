"""One picture -> one model input [1, 3, 128, 128] RGB in [-1, 1], whatever came in."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from streamer_core.sources import preprocess_frame, to_rgb


@pytest.mark.parametrize("shape", [(48, 64), (48, 64, 1), (48, 64, 3), (48, 64, 4), (7, 5, 3),
                                   (30, 1000, 3), (128, 128, 3), (720, 1280, 3)])
def test_any_picture_becomes_a_model_input(shape):
    rows, cols = np.indices(shape[:2])
    pattern = ((rows * 255) // max(1, shape[0] - 1) + 128 * ((cols // 3) % 2)) % 256
    image = np.broadcast_to(pattern.reshape(shape[:2] + (1,) * (len(shape) - 2)),
                            shape).astype(np.uint8)
    x = preprocess_frame(image)
    assert x.shape == (1, 3, 128, 128)
    assert x.dtype == torch.float32
    assert x.min() >= -1.0 and x.max() <= 1.0
    assert x.std() > 0.1  # the picture's content survived


def test_value_range_ends_and_channel_order():
    assert torch.all(preprocess_frame(np.zeros((40, 50, 3), np.uint8)) == -1.0)
    assert torch.all(preprocess_frame(np.full((40, 50), 255, np.uint8)) == 1.0)
    red = np.zeros((40, 50, 3), np.uint8)
    red[..., 0] = 255  # RGB red
    x = preprocess_frame(red)
    assert torch.all(x[0, 0] == 1.0) and torch.all(x[0, 1:] == -1.0)
    rgba = np.dstack([red, np.zeros((40, 50), np.uint8)])  # alpha is ignored
    assert torch.equal(preprocess_frame(rgba), x)


def test_mid_grey_and_16_bit_pictures():
    grey = preprocess_frame(np.full((20, 20, 3), 128, np.uint8))
    assert torch.allclose(grey, torch.full_like(grey, 128 / 255 * 2 - 1), atol=1e-6)
    deep = preprocess_frame(np.full((20, 20), 65535, np.uint16))
    assert torch.all(deep == 1.0)


def test_device_argument():
    x = preprocess_frame(np.zeros((10, 10, 3), np.uint8), device="cpu")
    assert x.device.type == "cpu"


def test_bgr_captures_become_rgb():
    bgr = np.zeros((4, 4, 3), np.uint8)
    bgr[..., 0] = 200  # blue in OpenCV's order
    assert to_rgb(bgr, "bgr")[0, 0].tolist() == [0, 0, 200]
    assert to_rgb(bgr, "rgb")[0, 0].tolist() == [200, 0, 0]
    bgra = np.dstack([bgr, np.full((4, 4), 7, np.uint8)])
    assert to_rgb(bgra, "bgr").shape == (4, 4, 3)
    assert to_rgb(np.full((4, 4), 9, np.uint8)).tolist() == np.full((4, 4, 3), 9).tolist()


@pytest.mark.parametrize("bad", [np.zeros((4, 4, 5), np.uint8), np.zeros((0, 4, 3), np.uint8),
                                 np.zeros((2, 4, 4, 3), np.uint8), np.zeros(5, np.uint8)])
def test_unusable_arrays_are_rejected(bad):
    with pytest.raises(ValueError):
        preprocess_frame(bad)
