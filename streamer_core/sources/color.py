"""Any picture a capture or a caller hands over -> H x W x 3 uint8 in RGB order."""

from __future__ import annotations

import cv2
import numpy as np

_GRAY_TO = {"bgr": cv2.COLOR_GRAY2RGB, "rgb": cv2.COLOR_GRAY2RGB}
_FOUR_TO = {"bgr": cv2.COLOR_BGRA2RGB, "rgb": cv2.COLOR_RGBA2RGB}


def to_uint8(image: np.ndarray) -> np.ndarray:
    """16-bit and float pictures to 8 bits (floats are taken as [0, 1])."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    if image.dtype == np.bool_:
        return image.astype(np.uint8) * 255
    if np.issubdtype(image.dtype, np.floating):
        return np.clip(np.nan_to_num(image) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


def to_rgb(image: np.ndarray, order: str = "bgr") -> np.ndarray:
    """Gray (H x W or H x W x 1), 3- or 4-channel in `order` ('bgr' or 'rgb') -> RGB uint8.

    OpenCV captures deliver BGR(A); callers of preprocess_frame deliver RGB(A).
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"expected a numpy image, got {type(image).__name__}")
    if order not in ("bgr", "rgb"):
        raise ValueError(f"order must be 'bgr' or 'rgb', not {order!r}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"not a picture: array of shape {image.shape}")
    image = to_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(np.ascontiguousarray(image), _GRAY_TO[order])
    channels = image.shape[2]
    if channels == 3:
        if order == "rgb":
            return np.ascontiguousarray(image)
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)
    if channels == 4:
        return cv2.cvtColor(np.ascontiguousarray(image), _FOUR_TO[order])
    raise ValueError(f"pictures need 1, 3 or 4 channels, not {channels}")
