"""Steady view: a shaking camera's small shifts taken out of layer 0's input.

A webcam on a desk that is knocked, or on a monitor someone touches, jitters by a few
pixels from frame to frame. Layer 0 does not take that for an event, but it hides the
events: while the whole picture changes the side watch is not heard (layer.py,
SIDE_VIEW_MOVED), so on OpenCV's still street camera shaken by up to 6 px a frame
layer 0 found 9 to 32 % of the people entering and leaving, against 68 % unshaken
(docs/quality.md, session thirty-four).

So each input is compared with the last one layer 0 took, by phase correlation: the
shift that lines the two pictures up, to a fraction of a pixel, and how sharp that match
is. A small shift of a picture that matches is moved back, all but VIEW_EASE of it, so
a shake is held to where the view was. A cut (no sharp match), a fast move (more than
MAX_SHIFT) and a still camera (less than STILL_SHIFT) leave the input as it comes. Where
the source picture is at hand (the CLI's and the app's steps pass it), it is moved back
at its own size and then shrunk to an input, which keeps the input's detail as the
still camera's (at_picture_size). Not kept in checkpoints: a resumed session starts from
the view it sees.

Known limit: the sub-pixel shift is read a little towards the nearest whole pixel (by
0.1 px, read twice 0.035 px on the shaken street camera), about what VIEW_EASE lets
through, so a camera knocked to a new place by less than MAX_SHIFT
and left there stays moved back (the uncovered edge repeats its border) until a cut or a
fast move; a slow pan goes through in steps of MAX_SHIFT. The synthetic scene's camera
sways and jitters by design, so most of its inputs are moved (docs/quality.md, session
thirty-four).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from .sources.preprocess import preprocess_frame

VIEW_EASE = 0.05
"""Share of each shift let through: the view would follow the camera's position over
about 20 inputs (10 s of `live`), but see the known limit above"""
MAX_SHIFT = 3.0
"""The largest shift (pixels of the 128 x 128 input) taken for shake: vtest.avi shaken
by 6 px a frame moves at most 2.7 px either way at this size; a faster move is the
camera's own"""
MIN_PEAK = 0.1
"""The phase correlation's peak below which two inputs do not show one view: consecutive
inputs of the shaken street camera peak at 0.16 and more, unrelated pictures at 0.05"""
STILL_SHIFT = 0.1
"""Shifts below this are left alone (pixels): on the still camera 99 % of them are
below 0.06, and moving its picture by such shifts cost layer 0 precision (0.88 -> 0.78,
one seed)"""


def _hann(height: int, width: int) -> torch.Tensor:
    """A 2-D window, so that the pictures' edges do not dominate the correlation."""
    return torch.outer(torch.hann_window(height, periodic=False),
                       torch.hann_window(width, periodic=False))


def _vertex(before: float, peak: float, after: float) -> float:
    """Where a parabola through three samples peaks, relative to the middle one."""
    bend = before - 2.0 * peak + after
    return 0.0 if bend >= 0 else 0.5 * (before - after) / bend


def spectrum(grey: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
    """A picture [H, W]'s spectrum as phase correlation reads it: mean removed, windowed."""
    return torch.fft.rfft2((grey - grey.mean()) * window)


def spectra_shift(before: torch.Tensor, after: torch.Tensor,
                  height: int, width: int) -> tuple[float, float, float]:
    """phase_shift from the two pictures' spectra (each input's is computed once)."""
    cross = after * before.conj()
    surface = torch.fft.irfft2(cross / cross.abs().clamp_min(1e-9), s=(height, width))
    # The peak, its four neighbours and where it is, read in one wait on a GPU.
    at = surface.flatten().argmax()
    y, x = at // width, at % width
    rows = torch.stack([y, y - 1, (y + 1) % height, y, y])
    columns = torch.stack([x, x, x, x - 1, (x + 1) % width])
    read = torch.cat([surface[rows, columns].double(), at.double().view(1)]).tolist()
    peak, above, below, left, right, index = read
    y, x = divmod(int(index), width)
    dy = y + _vertex(above, peak, below)
    dx = x + _vertex(left, peak, right)
    return (dy - height if dy > height / 2 else dy), (dx - width if dx > width / 2 else dx), peak


def phase_shift(before: torch.Tensor, after: torch.Tensor) -> tuple[float, float, float]:
    """How far `after` [H, W] is shifted from `before` (dy, dx in pixels, to a fraction of
    one) and the phase correlation's peak (1: the same picture, moved; near 0: unrelated)."""
    height, width = before.shape
    window = _hann(height, width).to(before)
    return spectra_shift(spectrum(before, window), spectrum(after, window), height, width)


def consecutive_peaks(greys: Sequence[torch.Tensor]) -> list[float]:
    """phase_shift's peak between each picture [H, W] of `greys` and the next, each
    picture's spectrum taken once."""
    if len(greys) < 2:
        return []
    height, width = greys[0].shape
    window = _hann(height, width).to(greys[0])
    spectra = [spectrum(grey, window) for grey in greys]
    return [spectra_shift(before, after, height, width)[2]
            for before, after in zip(spectra, spectra[1:])]


def moved_back(x: torch.Tensor, dy: float, dx: float) -> torch.Tensor:
    """The input [1, C, H, W] moved by (-dy, -dx) pixels; the edge it uncovers repeats the
    border."""
    _, _, height, width = x.shape
    theta = torch.tensor([[[1.0, 0.0, 2.0 * dx / width], [0.0, 1.0, 2.0 * dy / height]]],
                         dtype=x.dtype, device=x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def at_picture_size(picture: np.ndarray, dy: float, dx: float,
                    height: int, width: int) -> torch.Tensor:
    """The model input of `picture` moved by (-dy, -dx) pixels of a height x width input.

    Why: shrinking a picture blurs it according to where its pixels fall, so a shake moved
    back on the small input still changes its detail. vtest.avi shaken by up to 6 px a
    frame and moved back on the 128 x 128 input still steps 6.4 times as much as the still
    camera from input to input (typical 16 x 16 cell); moved back before it is shrunk, 4.7
    times (docs/quality.md, session thirty-six)."""
    rows, columns = picture.shape[:2]
    shift = np.float32([[1.0, 0.0, -dx * columns / width], [0.0, 1.0, -dy * rows / height]])
    moved = cv2.warpAffine(picture, shift, (columns, rows), flags=cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
    return preprocess_frame(moved)


class SteadyView:
    """Moves a shaking camera's input back to where the last input layer 0 took was."""

    def __init__(self) -> None:
        self.last: torch.Tensor | None = None  # the spectrum of the last input layer 0 took
        self.window: torch.Tensor | None = None  # _hann at the inputs' size and device

    def __call__(self, x: torch.Tensor, picture: np.ndarray | None = None) -> torch.Tensor:
        """One input [1, 3, H, W] in [-1, 1] -> the same, its shake moved back.

        With the `picture` x was made from (preprocess_frame), the picture is moved back at
        its own size and made an input again: shrunk after the move, the input keeps the
        detail a move of the small input blurs differently each time (at_picture_size)."""
        grey = x.mean(dim=1)[0].float()
        height, width = grey.shape
        if (self.window is None or self.window.shape != grey.shape
                or self.window.device != grey.device):
            self.window, self.last = _hann(height, width).to(grey), None
        seen = spectrum(grey, self.window)
        if self.last is not None:
            dy, dx, peak = spectra_shift(self.last, seen, height, width)
            if peak >= MIN_PEAK and STILL_SHIFT <= max(abs(dy), abs(dx)) <= MAX_SHIFT:
                # Read once more after moving the input back: the first reading leans
                # towards the nearest whole pixel (off by 0.10 px typically on the shaken
                # street camera; after this second reading 0.035).
                moved = spectrum(moved_back(x, dy, dx).mean(dim=1)[0].float(), self.window)
                left_y, left_x, _ = spectra_shift(self.last, moved, height, width)
                dy, dx = dy + left_y, dx + left_x
            dy, dx = (1.0 - VIEW_EASE) * dy, (1.0 - VIEW_EASE) * dx
            if peak >= MIN_PEAK and STILL_SHIFT <= max(abs(dy), abs(dx)) <= MAX_SHIFT:
                x = (moved_back(x, dy, dx) if picture is None
                     else at_picture_size(picture, dy, dx, height, width).to(x))
                seen = spectrum(x.mean(dim=1)[0].float(), self.window)
        self.last = seen
        return x

    def reset(self) -> None:
        self.last = None
