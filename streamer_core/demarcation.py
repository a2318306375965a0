"""Event demarcation: turns the prediction signal into boundary decisions.

The reference's three rules (`PAPER_MODES`) plus peak-finding rules of this project
(`PEAK_MODES`). The paper's `average` rule marks every value above the running mean, so
about a third of all inputs become boundaries; the peak rules only mark values that
stand out from the recent signal by several (robust) standard deviations, and never two
boundaries closer than `min_event_length` inputs, so an event is a stretch of input
the model predicted well, ended by a surprise.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence

import numpy as np

from .buffer import DISTANCE, SIMILARITY

FIXED = "fixed"
ACCUM = "accum"
AVERAGE = "average"
ZSCORE = "zscore"
ROBUST = "robust"
HYSTERESIS = "hysteresis"
CHANGE = "change"
PAPER_MODES = (FIXED, ACCUM, AVERAGE)
PEAK_MODES = (ZSCORE, ROBUST, HYSTERESIS, CHANGE)
DEMARCATION_MODES = PAPER_MODES + PEAK_MODES
"""Every mode, the reference's first: what the app and the CLI offer"""
MODIFIER_TYPES = ("multiply", "add")

RECENT_STEPS = 4
"""change, with restless_ratio: the steps that tell how restless the picture is right now"""
RESTLESS_MEMORY = 8
"""change, with restless_ratio: a picture is restless while one of this many last steps
went beyond the usual limit"""
MAD_TO_SIGMA = 1.4826  # median absolute deviation of a normal distribution, in sigmas
MIN_SCALE = 1e-8  # a flat window still needs a value above it to mark a boundary


def t_quantile(z: float, dof: int) -> float:
    """Student's t quantile with `dof` degrees of freedom at the normal quantile `z`
    (Cornish-Fisher expansion: within 0.025 of the tables for z up to 2 from 3 degrees of
    freedom on, for z up to 2.6 from 5)."""
    g1 = (z ** 3 + z) / 4
    g2 = (5 * z ** 5 + 16 * z ** 3 + 3 * z) / 96
    g3 = (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / 384
    return z + g1 / dof + g2 / dof ** 2 + g3 / dof ** 3


def few_steps_widening(count: int, full: int, z: float) -> float:
    """How much wider a limit at `z` told from `count` steps is than one told from a full
    window of `full`: the ratio of the two Student-t prediction intervals for the next
    step (1.5 from 5 steps of 80, 1.07 from 20). A stream's first limits come from a
    handful of steps; from them an object moving about the view in the first seconds was
    marked as an event (synthetic 226 at 5.5 s, montage 205 at 3.5 s; docs/quality.md,
    session fifty-four)."""
    if count >= full or count < 2 or z <= 0:
        return 1.0

    def interval(n: int) -> float:
        return t_quantile(z, n - 1) * math.sqrt(1 + 1 / n)

    return interval(count) / interval(full)


class EventDemarcation:
    """Decides, one signal value at a time, whether an event ended; `last_threshold`
    records what the value was compared with (the app draws it), `last_surprise` how far
    the value went past the usual on the surprising side (0 if it did not): in standard
    deviations for the peak modes, in signal units for the paper's (see escalation).

    fixed:   boundary if s < threshold (similarity) or e > threshold (distance).
    accum:   (distance) running sum; boundary when it exceeds threshold, then reset.
    average: threshold = mean of the last `window_size` values, times or plus the
             modifier; the first value after a reset is stored and never a boundary.

    The peak modes compare each value with the last `window_size` values before it
    (every value is stored after the decision, boundary or not):
    zscore:     threshold = mean + z_threshold * standard deviation (mean - ... for
                similarity, where a surprise is a low value).
    robust:     threshold = median + z_threshold * 1.4826 * MAD: a few past peaks in
                the window move it little.
    hysteresis: robust, and after a boundary the rule is disarmed until a value falls
                back within median + rearm_z * 1.4826 * MAD: one long surprise (a
                scene that keeps being new) is one boundary, not a burst.
    change:     two-sided: a step of the signal level in either direction. The window
                holds the recent steps |value - previous value|; a step above their
                median + z_threshold * 1.4826 * MAD ends an event (z widened while the
                window holds fewer steps than it can: few_steps_widening). Needed because on
                real footage the signal is mostly a per-scene level (how well the
                model predicts that kind of scene): a cut to a scene the model predicts
                better raises the similarity, which the one-sided rules never mark.
                `last_threshold` is the previous value minus that step (plus, in
                distance mode), on the other side only for a jump that way.
                With `regions` (layer 0's signal per cell of a grid over the image,
                see StreamerModelArguments.signal_regions) a step is the mean of the
                cells' steps: a cut that one half of the picture predicts better and
                the other worse moves every cell, though hardly their mean. Then
                `last_value` is that step and `last_threshold` its limit.
                With `restless_ratio` r > 0, while the picture is restless (one of the
                last 8 steps went beyond that limit) a step must also be r times the
                median of the last 4 steps: while a hand-held camera shakes or pans
                every step is large, and none of them is an event; a cut out of it
                still is. In a calm view the limit alone decides, so an object coming
                soon after another one is not taken for a restless camera.
                `held_by_restless` says that the r-times rule alone held a step back
                (the caller may still take it for a cut, see layer._quiet_cut).
    All four: no boundary while fewer than `min_window` values are stored (the first
    value after a reset is never one), and none within `min_event_length` inputs of
    the previous boundary or of the reset (the refractory period: an event lasts at
    least that many inputs), unless the caller says the change is `urgent`.
    """

    def __init__(self, dem_mode: str, dist_mode: str, threshold: float = 0.25,
                 window_size: int = 50, modifier_type: str = "multiply",
                 modifier: float = 1.0, z_threshold: float = 3.0,
                 min_event_length: int = 1, rearm_z: float = 1.0, min_window: int = 5,
                 restless_ratio: float = 0.0):
        if dem_mode not in DEMARCATION_MODES:
            raise ValueError(f"demarcation mode must be one of {DEMARCATION_MODES}, "
                             f"got {dem_mode!r}")
        if dist_mode not in (SIMILARITY, DISTANCE):
            raise ValueError(f"unknown distance mode {dist_mode!r}")
        if dem_mode == ACCUM and dist_mode != DISTANCE:
            raise ValueError("accum demarcation needs the distance mode 'distance'")
        if modifier_type not in MODIFIER_TYPES:
            raise ValueError(f"modifier type must be one of {MODIFIER_TYPES}")
        if window_size < 1:
            raise ValueError("window size must be at least 1")
        check_peak_settings(dem_mode, z_threshold, min_event_length, rearm_z, min_window)
        if not (np.isfinite(restless_ratio) and restless_ratio >= 0):
            raise ValueError("restless_ratio must be a number, 0 or more")
        self.restless_ratio = restless_ratio
        self.dem_mode = dem_mode
        self.dist_mode = dist_mode
        self.threshold = threshold
        self.modifier_type = modifier_type
        self.modifier = modifier
        self.z_threshold = z_threshold
        self.min_event_length = min_event_length
        self.rearm_z = rearm_z
        self.min_window = min_window
        self.window: deque[float] = deque(maxlen=window_size)
        self.unusual: deque[bool] = deque(maxlen=RESTLESS_MEMORY)  # change: steps past the limit
        self.buffer = 0.0  # accum's running sum
        self.since_boundary = 0  # peak modes: inputs since the last boundary or reset
        self.armed = True  # hysteresis: False from a boundary until the signal settles
        self.previous: float | np.ndarray | None = None  # change: the last value (or cells) seen
        self.last_value: float | None = None  # what `last_threshold` was compared with
        self.last_threshold: float | None = None
        self.last_surprise = 0.0
        self.held_by_restless = False  # change: the last step beat the usual limit only

    @property
    def window_size(self) -> int:
        return self.window.maxlen or 0

    def _crosses(self, value: float, threshold: float) -> bool:
        return value < threshold if self.dist_mode == SIMILARITY else value > threshold

    def _excess(self, value: float, threshold: float) -> float:
        """How far `value` lies beyond `threshold` on the surprising side (0 if not)."""
        return max(threshold - value if self.dist_mode == SIMILARITY else value - threshold,
                   0.0)

    def __call__(self, value: float, regions: Sequence[float] | None = None,
                 urgent: bool = False) -> bool:
        """`regions`: the signal per cell of the image, used by `change` (see above).
        `urgent` (peak modes): the caller knows this change ends more than this layer's
        event (a new scene, see escalation); the refractory period does not hold it back."""
        self.last_surprise = 0.0
        self.last_value = value
        if self.dem_mode in PEAK_MODES:
            return self._peak(value, regions, urgent)

        if self.dem_mode == FIXED:
            self.last_threshold = self.threshold
            self.last_surprise = self._excess(value, self.threshold)
            return self._crosses(value, self.threshold)

        if self.dem_mode == ACCUM:
            self.buffer += value
            self.last_threshold = self.threshold - (self.buffer - value)  # what `value` had to beat
            self.last_surprise = self._excess(value, self.last_threshold)
            if self.buffer > self.threshold:
                self.buffer = 0.0
                return True
            return False

        if len(self.window) == 0:
            self.window.append(value)
            self.last_threshold = None
            return False
        avg = float(np.average(list(self.window)))
        avg = avg + self.modifier if self.modifier_type == "add" else avg * self.modifier
        self.last_threshold = avg
        self.last_surprise = self._excess(value, avg)
        boundary = self._crosses(value, avg)
        self.window.append(value)
        return bool(boundary)

    # --- peak modes ---------------------------------------------------------------------

    def _centre_and_scale(self) -> tuple[float, float]:
        values = np.asarray(self.window, dtype=np.float64)
        if self.dem_mode == ZSCORE:
            centre, scale = float(values.mean()), float(values.std())
        else:
            centre = float(np.median(values))
            scale = MAD_TO_SIGMA * float(np.median(np.abs(values - centre)))
        return centre, max(scale, MIN_SCALE)

    def _level(self, centre: float, scale: float, z: float) -> float:
        """The value z scales on the surprising side of the centre."""
        return centre - z * scale if self.dist_mode == SIMILARITY else centre + z * scale

    def _peak(self, value: float, regions: Sequence[float] | None, urgent: bool) -> bool:
        self.since_boundary += 1
        self.held_by_restless = False
        if self.dem_mode == CHANGE:  # what the window holds: steps, not values
            current = value if regions is None else np.asarray(regions, dtype=np.float64)
            previous, self.previous = self.previous, current
            # With regions the timeline shows the step: the cells' values are many.
            if previous is None or np.shape(previous) != np.shape(current):
                self.last_threshold = None  # the first value after a reset (or a new grid)
                self.last_value = value if regions is None else None
                return False
            sample = float(np.mean(np.abs(current - previous)))
            self.last_value = value if regions is None else sample
        else:
            sample = value
        if len(self.window) < max(1, self.min_window):
            self.last_threshold = None
            self.window.append(sample)
            return False
        centre, scale = self._centre_and_scale()
        if self.dem_mode == CHANGE:
            z = self.z_threshold * few_steps_widening(len(self.window), self.window_size,
                                                      self.z_threshold)
            limit = centre + z * scale
            usual_limit = limit
            if self.restless_ratio > 0 and any(self.unusual):  # beyond the last few, too
                recent = list(self.window)[-RECENT_STEPS:]
                limit = max(limit, self.restless_ratio * float(np.median(recent)))
            self.unusual.append(sample > usual_limit)
            surprising = sample > limit
            self.held_by_restless = sample > usual_limit and not surprising
            self.last_threshold = (limit if regions is not None else
                                   self._change_level(previous, value, limit, surprising))
            self.last_surprise = max(sample - centre, 0.0) / scale
        else:
            self.last_threshold = self._level(centre, scale, self.z_threshold)
            self.last_surprise = self._excess(value, centre) / scale
            if self.dem_mode == HYSTERESIS and not self.armed:
                # Re-armed by a value back near the usual level; that value is no boundary.
                self.armed = not self._crosses(value,
                                               self._level(centre, scale, self.rearm_z))
                self.window.append(sample)
                return False
            surprising = self._crosses(value, self.last_threshold)
        boundary = surprising and (self.since_boundary >= self.min_event_length or urgent)
        self.window.append(sample)
        if boundary:
            self.since_boundary = 0
            self.armed = False
        return boundary

    def _change_level(self, previous: float, value: float, limit: float,
                      jumped: bool) -> float:
        """The level `change` shows: on the usual surprising side of the previous value
        (below in similarity mode), on the other only for a jump there: a calm line,
        crossed at each boundary."""
        usual_down = self.dist_mode == SIMILARITY
        down = usual_down != (jumped and (value > previous) == usual_down)
        return previous - limit if down else previous + limit

    def step_growth(self) -> float | None:
        """`change`: how many times the last step is the larger of the two before it (None
        before there are three, and in the other modes). A cut makes the step jump at once;
        a hand-held camera getting under way makes it grow over a few inputs."""
        if self.dem_mode != CHANGE or len(self.window) < 3:
            return None
        last, before = self.window[-1], max(self.window[-2], self.window[-3])
        return last / before if before > 0 else math.inf

    def note_boundary(self) -> None:
        """Another reading of the same layer ended the event (see side_watch): the
        refractory period counts from there too."""
        self.since_boundary = 0

    def weights_changed(self) -> None:
        """The model was just optimized. `change` forgets the last value: new weights
        shift the whole signal, a step that is no event. The other modes ignore it (the
        reference's rules exactly so)."""
        if self.dem_mode == CHANGE:
            self.previous = None

    def rebase(self, value: float, regions: Sequence[float] | None = None) -> None:
        """The model was just optimized and judged its last input again: `change` takes
        that value as the last one seen, so that the next step is measured between two
        values of the new weights."""
        if self.dem_mode == CHANGE:
            self.previous = value if regions is None else np.asarray(regions, dtype=np.float64)

    def forget_nonfinite(self) -> None:
        """Drops the NaN and infinite values a diverged model fed it: kept, they would
        poison every later threshold (and make a checkpoint that cannot load)."""
        finite = [v for v in self.window if math.isfinite(v)]
        self.window.clear()
        self.window.extend(finite)
        if not math.isfinite(self.buffer):
            self.buffer = 0.0
        if self.previous is not None and not np.isfinite(self.previous).all():
            self.previous = None

    # --- state --------------------------------------------------------------------------

    def reset(self) -> None:
        self.window.clear()
        self.unusual.clear()
        self.buffer = 0.0
        self.since_boundary = 0
        self.armed = True
        self.previous = None
        self.last_threshold = None

    def state(self) -> dict:
        """What it remembers, for checkpoints (plain types only)."""
        previous = self.previous
        return {"window": list(self.window), "buffer": self.buffer,
                "since_boundary": self.since_boundary, "armed": self.armed,
                "unusual": list(self.unusual),
                "previous": previous.tolist() if isinstance(previous, np.ndarray) else previous}

    def load_state(self, state: dict) -> None:
        """Older checkpoints lack the peak modes' keys: they restart those counters."""
        self.window.clear()
        self.window.extend(float(v) for v in state.get("window", []))
        self.unusual.clear()
        self.unusual.extend(bool(v) for v in state.get("unusual", []))
        self.buffer = float(state.get("buffer", 0.0))
        self.since_boundary = int(state.get("since_boundary", 0))
        self.armed = bool(state.get("armed", True))
        previous = state.get("previous")
        if isinstance(previous, list):  # the cells of a regional signal
            self.previous = np.asarray(previous, dtype=np.float64)
        else:
            self.previous = None if previous is None else float(previous)


def check_peak_settings(dem_mode: str, z_threshold: float, min_event_length: int,
                        rearm_z: float, min_window: int) -> None:
    """Raises ValueError naming the first bad peak-mode setting (any mode: they are
    kept with the model and may be switched on later)."""
    if not (np.isfinite(z_threshold) and z_threshold >= 0):
        raise ValueError("z_threshold must be a number, 0 or more")
    if min_event_length < 1:
        raise ValueError("min_event_length must be at least 1 (input)")
    if not (np.isfinite(rearm_z) and rearm_z >= 0):
        raise ValueError("rearm_z must be a number, 0 or more")
    if dem_mode == HYSTERESIS and rearm_z > z_threshold:
        raise ValueError("rearm_z must not exceed z_threshold (hysteresis re-arms below "
                         "the boundary level)")
    if min_window < 1:
        raise ValueError("min_window must be at least 1")
