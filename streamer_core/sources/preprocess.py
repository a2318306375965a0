"""The one place a picture becomes a model input: [1, 3, 128, 128] RGB in [-1, 1]."""

from __future__ import annotations

import cv2
import numpy as np
import torch

from ..device import to_device
from .color import to_rgb

MODEL_SIZE = 128


def resize_for_model(image: np.ndarray, size: int = MODEL_SIZE) -> np.ndarray:
    """Whole frame squeezed to size x size (no crop), as the reference's Resize does.

    INTER_AREA when shrinking stands in for torchvision's antialiased resize.
    """
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    shrinking = height * width > size * size
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
    return cv2.resize(image, (size, size), interpolation=interpolation)


def preprocess_frame(image: np.ndarray,
                     device: torch.device | str | None = None) -> torch.Tensor:
    """Any H x W, H x W x 1, H x W x 3 (RGB) or H x W x 4 (RGBA) uint8 picture -> model input."""
    rgb = resize_for_model(to_rgb(image, "rgb"))
    # Scaled in numpy, single-threaded: torch's thread pool costs 10x more than the work
    # on a busy 2-core machine. Same order of operations as the reference: / 255 * 2 - 1.
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32)
    chw /= 255.0
    chw *= 2.0
    chw -= 1.0
    tensor = torch.from_numpy(chw).unsqueeze(0)
    return tensor if device is None else to_device(tensor, device)
