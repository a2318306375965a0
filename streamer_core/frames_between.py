"""How a change spread over the source frames between two of layer 0's inputs.

Layer 0 takes one picture every snippet (0.5 s), so a cut between two close-ups of one
film and a face moving in one of them can step as much from input to input. The frames in
between tell them apart: a cut happens from one frame to the next, motion spreads over all
of them. Read in layer 0's own features (its first blocks, pooled over the picture, as
the boundaries are: networks.descriptor_of), the largest frame-to-frame step of a cut
holds most of the step over the interval; of motion, a small share. A hand-held camera's
jerk can hold as much; then the two frames still show one view, moved, and a cut's do not,
though the frames on either side of them do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn

from .networks import descriptor_of, descriptor_steps, through_blocks
from .steady_view import consecutive_peaks

CUT_SHARE = 0.4
"""The largest frame-to-frame step holds this share of the interval's steps or more: the
change happened from one frame to the next, as at a cut (or a hand-held camera's jerk)"""
SAME_VIEW_PEAK = 0.25
"""The phase correlation's peak (steady_view.phase_shift) between the two frames of that
step from which they show one view, moved: a jerk of a hand-held camera peaked at 0.34 and
more, the cuts at 0.12 and less, two close-ups of one face included (montages 95-97 and
110, docs/quality.md session thirty-nine)"""
APART_RATIO = 0.75
"""The two frames of a cut show one view less than this share as well as the interval's
other pairs of frames do (the median of their phase-correlation peaks). At the 73 cuts
the frames found on montages 110 and u6 the other pairs peaked at 0.22 to 1.00 and the
cut's two frames at 0.04 to 0.16, at most 0.45 of them; a cut between two close-ups of
Megamind.avi (montage 153) at 0.60. Where no pair of frames shows one view clearly (a
jittering camera over a flat wall, turbid water, a noisy webcam) a low peak tells
nothing: objects coming and going in the synthetic scene peaked at 0.90 and 1.73 times
the others and were taken for cuts that ended the layer-1 event (docs/quality.md,
session forty-five)"""
CLEAR_CUT_SHARE = 0.65
"""A cut whose largest frame-to-frame step holds this share of the interval's steps or
more happened from one frame to the next beyond doubt: it ends the event above even out of
a picture already moving (layer.GREW_OUT_SHARE). A cut between two close-ups of one face,
the face moving before it, held 0.77 (montage 204, seed 2); objects popping in or out of
the synthetic scene's jittering view, taken for cuts, held 0.41 to 0.54 (session
forty-nine)"""
MIN_STEPS = 3
"""Fewer frame-to-frame steps in an interval (a source under 6 pictures a second, or one
repeating its frames) tell a cut from motion no better than the inputs alone"""
MAX_FRAMES = 64
"""Source frames kept between two inputs (0.5 s at 128 fps); an interval with more is not
read"""


class IntervalReading(NamedTuple):
    """How the change between two inputs spread over the frames between them."""

    largest_at: int
    """The frame before the largest frame-to-frame step (0: the last input)"""
    share: float
    """That step's share of all the interval's steps"""
    peak: float
    """The phase correlation's peak between the two frames of that step (1: one view)"""
    others_peak: float | None = None
    """The median peak of the interval's other pairs of consecutive frames (None: none)"""

    @property
    def is_gradual(self) -> bool:
        """The change spread over the frames between: no one step held CUT_SHARE of it.
        Motion, whatever its size (a close-up's face turning, a hand-held camera); at the
        escalations of montages 95, 151, 153, 201, 203, 204, 208, whole clips u0 and u1 and
        five synthetic streams the largest step held 0.41-0.98 of the interval's change at
        the true cuts and scene changes (one of 289 held 0.26), 0.23-0.38 at fifteen of
        the seventeen false ones (docs/quality.md, session fifty). Not where that step's
        two frames show two views (`shows_two_views`): a scene change of the synthetic
        scene, between two rooms of a like mix of colours, held 0.33 of its jittering,
        noisy interval, its two frames peaking at 0.13 against the others' 0.40 (stream
        217, seed 0); the face turning in a close-up peaked at 0.49-0.57 as the other
        frames did (montage 213, seed 2; session fifty-two). Nor where no other pair of
        frames shows one view (`others_show_one_view`): their steps are then jitter and
        noise as much as motion, and dilute a cut's share (a scene change of stream 224,
        seed 1, held 0.39, the other frames peaking at 0.15; session fifty-three)."""
        return (self.share < CUT_SHARE and not self.shows_two_views
                and self.others_show_one_view)

    @property
    def is_clear_cut(self) -> bool:
        """A cut whose step holds CLEAR_CUT_SHARE of the interval's steps or more."""
        return self.is_cut and self.share >= CLEAR_CUT_SHARE

    @property
    def is_cut(self) -> bool:
        """The change happened from one frame to the next (CUT_SHARE) between two frames
        that do not show one view (SAME_VIEW_PEAK), clearly less so than the other frames
        of the interval do (APART_RATIO)."""
        return self.share >= CUT_SHARE and self.shows_two_views

    @property
    def others_show_one_view(self) -> bool:
        """The interval's other pairs of frames show one view (SAME_VIEW_PEAK), or there are
        none: where they do not (a jittering camera over a flat wall, turbid water) the
        frames tell little of how the change spread. The six false new scenes of session
        fifty's probes that the spread took out (montages 153, 203, 208 and whole clip
        u0) had others peaking at 0.31-0.39."""
        return self.others_peak is None or self.others_peak >= SAME_VIEW_PEAK

    @property
    def shows_two_views(self) -> bool:
        """The two frames of the largest step do not show one view (SAME_VIEW_PEAK), clearly
        less so than the other frames of the interval do (APART_RATIO)."""
        return (self.peak < SAME_VIEW_PEAK
                and (self.others_peak is None or self.peak < APART_RATIO * self.others_peak))


class FramesBetween:
    """The source frames between the last input and the next one, model-sized, kept until
    the next input; then the interval they span can be asked how its change spread."""

    def __init__(self) -> None:
        self._last_input: torch.Tensor | None = None
        self._between: list[torch.Tensor] = []
        self._complete = True
        self._interval: list[torch.Tensor] = []

    def reset(self) -> None:
        """A new stream: nothing before its first input."""
        self.__init__()

    def pass_over(self, x: torch.Tensor) -> None:
        """A source frame [1, 3, H, W] the sampler passed over, before the next input."""
        if self._last_input is None or not self._complete:
            return
        if len(self._between) >= MAX_FRAMES:
            self.frames_lost()  # too many to keep
            return
        self._between.append(x.detach())

    def frames_lost(self) -> None:
        """Some frames before the next input never came (a reader too slow for a live
        source dropped them): with a gap, motion would look like a cut, so this interval
        is not read."""
        self._complete = False
        self._between = []

    def take_input(self, x: torch.Tensor) -> None:
        """The next input [1, 3, H, W]: it closes the interval from the last one."""
        x = x.detach()
        whole = self._last_input is not None and self._complete
        self._interval = [self._last_input, *self._between, x] if whole else []
        self._last_input = x
        self._between = []
        self._complete = True

    def read(self, convolutions: Sequence[nn.Conv2d]) -> IntervalReading | None:
        """How the change of the interval from the last input to this one spread, read by
        `convolutions` (layer 0's first blocks); None with fewer than MIN_STEPS steps that
        changed anything."""
        if len(self._interval) - 1 < MIN_STEPS:
            return None
        with torch.no_grad():
            frames = torch.cat(self._interval).to(convolutions[0].weight.device)
            descriptors = descriptor_of(through_blocks(convolutions, frames))
            steps = descriptor_steps(descriptors)
        moved = steps[steps > 0]  # a repeated frame (a camera short of light) shows nothing
        if len(moved) < MIN_STEPS:
            return None
        at = int(steps.argmax())
        peaks = consecutive_peaks([_grey(frame) for frame in frames])
        others = peaks[:at] + peaks[at + 1:]
        return IntervalReading(at, float(moved.max() / moved.sum()), peaks[at],
                               float(np.median(others)) if others else None)


def _grey(x: torch.Tensor) -> torch.Tensor:
    """A model input's picture [3, H, W] as the grey picture [H, W] phase correlation reads."""
    return x.mean(dim=0)
