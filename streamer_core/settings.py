"""Every tunable setting, declared once: name, type, range, default, label, help.

The argument dataclasses take their studio fields from this table (the reference's own
fields stay written out, as the reference has them), validate against it, and the
checkpoint, the app's settings and its controls panel are built from it. Adding a
setting is one `Setting(...)` row here plus the code that uses it.

`live` settings change a running model at once (StreamerModel.set_demarcation for the model's,
the optimizer's arguments for its own); every other one needs a new model.
`when` says when a setting matters, e.g. {"demarcation_mode": PEAK_MODES}: the app
greys it out otherwise; it is kept and validated in every mode.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .demarcation import (
    ACCUM,
    AVERAGE,
    CHANGE,
    FIXED,
    HYSTERESIS,
    MODIFIER_TYPES,
    PEAK_MODES,
    ROBUST,
    ZSCORE,
)
from .escalation import ESCALATE, OWN
from .event_features import FEATURES as EVENT_FEATURES
from .event_features import MOTION, SUMMARY
from .first_blocks import DRAWN, LEARNED
from .loss import FEATURES, PIXELS
from .sparse_change import PREDICTION, SPARSE_CHANGE

MODEL = "model"
"""StreamerModelArguments (and StreamerLayerArguments, which get every model setting)"""
OPTIMIZER = "optimizer"
"""StreamerOptimizerArguments"""
OPTIMIZE_CLOCKS = ("top", "base")


@dataclass(frozen=True)
class Setting:
    """One row of the table."""

    name: str
    """The one name: argument field, checkpoint key, app setting, --set KEY"""
    type: type
    """bool, int, float or str"""
    default: Any
    """The dataclass default (the reference's where it has the field)"""
    label: str
    """Short name in the app"""
    help: str
    """One sentence: the app's tooltip, the CLI's description"""
    owner: str = MODEL
    live: bool = False
    """Changes a running model; otherwise a new model is needed"""
    reference: bool = False
    """A field of the reference's own arguments (its checkpoints' `model_args`)"""
    app: bool = True
    """Stored and shown by the desktop app (False: CLI --set and checkpoints only)"""
    low: float | None = None
    """Least valid value (inclusive unless `above`)"""
    above: bool = False
    """`low` itself is not valid: the value must be greater"""
    high: float | None = None
    multiple_of: int = 1
    choices: Mapping[str, str] = field(default_factory=dict)
    """str settings: each valid value and its label in the app"""
    when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The setting matters only while each named setting has one of these values"""
    step: float = 1
    decimals: int = 3
    suffix: str = ""

    def check(self, value: Any) -> None:
        """ValueError naming the setting if `value` is not valid for it."""
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(f"{self.name} must be true or false")
            return
        if self.type is str:
            if self.choices and value not in self.choices:
                raise ValueError(f"{self.name} must be one of {', '.join(self.choices)}")
            return
        whole = self.type is int
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)):
            raise ValueError(f"{self.name} must be a {'whole ' if whole else ''}number")
        if not math.isfinite(value):
            raise ValueError(f"{self.name} must be a finite number")
        too_low = self.low is not None and (value <= self.low if self.above else value < self.low)
        too_high = self.high is not None and value > self.high
        if too_low or too_high or (self.multiple_of > 1 and value % self.multiple_of):
            raise ValueError(f"{self.name} must be {self.valid_range()}")

    def valid_range(self) -> str:
        parts = []
        if self.low is not None and self.high is not None:
            parts.append(f"between {self.low:g} and {self.high:g}")
        elif self.low is not None:
            parts.append(f"above {self.low:g}" if self.above else f"at least {self.low:g}")
        elif self.high is not None:
            parts.append(f"at most {self.high:g}")
        if self.multiple_of > 1:
            parts.append(f"a multiple of {self.multiple_of}")
        return " and ".join(parts) or "a number"

    def applies(self, values: Mapping[str, Any]) -> bool:
        """Whether the setting matters under `values` (a dataclass's or settings' fields)."""
        return all(values[name] in allowed for name, allowed in self.when.items())


def _labels(values: tuple[str, ...]) -> dict[str, str]:
    return {value: value for value in values}


MAX_SIGNAL_REGIONS = 32
"""A grid of 32 x 32 cells of 4 x 4 pixels: finer cells follow motion, not shots"""

# In the app's order: the live demarcation rows first, then the model's structure.
SETTINGS: tuple[Setting, ...] = (
    Setting("demarcation_mode", str, AVERAGE, "Mode",
            "How a layer decides that an event ended: the paper's average, fixed and accum "
            "rules, or the peak rules change, zscore, robust and hysteresis "
            "(docs/quality.md).",
            live=True, reference=True,
            choices={AVERAGE: "average (running mean)", FIXED: "fixed threshold",
                     ACCUM: "accum (summed distance)", CHANGE: "change (step in the signal)",
                     ZSCORE: "zscore (peak over mean)", ROBUST: "robust (peak over median)",
                     HYSTERESIS: "hysteresis (robust, re-armed)"}),
    Setting("window_size", int, 50, "Window size",
            "Values remembered: the running mean's (average) or the usual level's (peak "
            "rules).",
            live=True, reference=True, low=1, when={"demarcation_mode": (AVERAGE, *PEAK_MODES)}),
    Setting("modifier_type", str, "multiply", "Modifier type",
            "How the modifier moves the running mean.",
            live=True, reference=True, choices=_labels(MODIFIER_TYPES),
            when={"demarcation_mode": (AVERAGE,)}),
    Setting("modifier", float, 1.0, "Modifier",
            "Running mean times modifier (or plus modifier): lower it for fewer boundaries "
            "in similarity mode.",
            live=True, reference=True, step=0.01, when={"demarcation_mode": (AVERAGE,)}),
    Setting("loss_threshold", float, 0.25, "Threshold",
            "fixed: a boundary when the similarity falls below it (or the distance rises "
            "above it); accum: when the summed distance exceeds it.",
            live=True, reference=True, step=0.01, when={"demarcation_mode": (FIXED, ACCUM)}),
    Setting("z_threshold", float, 3.0, "Deviations (z)",
            "Peak rules: how many (robust) standard deviations beyond the usual level end "
            "an event; raise it for fewer boundaries.",
            live=True, low=0.0, step=0.5, decimals=2, when={"demarcation_mode": PEAK_MODES}),
    Setting("min_event_length", int, 1, "Shortest event",
            "Peak rules: fewest inputs between two boundaries of a layer.",
            live=True, low=1, when={"demarcation_mode": PEAK_MODES}),
    Setting("rearm_z", float, 1.0, "Re-arm at (z)",
            "hysteresis: the signal must come back within this many deviations before the "
            "next boundary.",
            live=True, low=0.0, step=0.5, decimals=2, when={"demarcation_mode": (HYSTERESIS,)}),
    Setting("min_window", int, 5, "Warm-up values",
            "Peak rules: values stored before the first boundary after a reset.",
            live=True, low=1, when={"demarcation_mode": PEAK_MODES}),
    # 1 is the spec. A cut between two shots of one scene moves the similarity of each
    # region, while their mean, better here and worse there, hardly moves.
    Setting("signal_regions", int, 1, "Regions (layer 0)",
            "change, layer 0: compare the predicted and the seen picture in N x N regions "
            "and mark a step of their mean step (1: the whole picture, as the paper).",
            live=True, low=1, high=MAX_SIGNAL_REGIONS, when={"demarcation_mode": (CHANGE,)}),
    Setting("restless_ratio", float, 0.0, "Restless ratio",
            "change: while the picture is restless, a step must also be this many times the "
            "median of the last 4 steps, so a shaking or panning camera marks no events "
            "(0: off).",
            live=True, low=0.0, step=0.5, decimals=2, when={"demarcation_mode": (CHANGE,)}),
    # 0 is the spec. A cut within a scene and a swaying camera both change most of the
    # picture a little; only after the cut does the picture stay (docs/quality.md, rounds
    # ten and eleven).
    Setting("settle_ratio", float, 0.0, "Settle ratio",
            "change, layer 0 on features: a boundary where most of the picture changed, or "
            "much of it all over the picture, though less than at a new scene, stands only "
            "if the next input's step is this many times smaller, the picture settled (a "
            "cut), and is then marked there; a camera that keeps moving marks none; a new "
            "scene's change that the step missed stands if the next step is 2 times "
            "smaller (0: off, both).",
            live=True, low=0.0, step=0.25, decimals=2,
            when={"demarcation_mode": (CHANGE,), "signal_space": (FEATURES,)}),
    # "pixels" is the spec. With features a moving camera is no event and something new
    # in view is (docs/quality.md, "Events a webcam sees").
    Setting("signal_space", str, PIXELS, "Layer 0 compares",
            "change, layer 0: compare the predicted and the seen picture pixel by pixel, or "
            "by what the encoder's features say is in view (not where).",
            live=True, choices={PIXELS: "pixels (paper)", FEATURES: "features (what is in view)"},
            when={"demarcation_mode": (CHANGE,)}),
    # 0 is the spec. Someone walking into a street camera's view is a few pixels of the
    # picture that layer 0 pools over (side_watch).
    Setting("side_z_threshold", float, 0.0, "Side entries (z)",
            "change, layer 0 on features: also end an event when the prediction error at "
            "the picture's left and right edges changes this many robust deviations more "
            "than usual beyond the picture's typical region: someone entering or leaving a "
            "still view (0: off; raise it for fewer).",
            live=True, low=0.0, step=0.5, decimals=2,
            when={"demarcation_mode": (CHANGE,), "signal_space": (FEATURES,)}),
    # "prediction" is the spec. Learned from the prediction, the blocks the reading sees
    # drifted away from what it needs (docs/quality.md, rounds fifteen to eighteen);
    # `live` has "sparse_change".
    Setting("block_objective", str, PREDICTION, "First blocks learn",
            "Layer 0: what its first two convolution blocks (where `change` on features "
            "reads its boundaries) learn from: the prediction (paper), or that what is "
            "in view changes rarely and then by much (live; with it, a restless ratio of "
            "3 marks less inside hand-held shots).",
            choices={PREDICTION: "the prediction (paper)",
                     SPARSE_CHANGE: "sparse change"}),
    # From drawn blocks sparse change needs 1e-3 to reach its margin within the first
    # minute (rounds fifteen to twenty-one); blocks that start learned keep what they
    # learned with less, and a session's learning then pays (docs/quality.md, session
    # twenty-three); `live` has 1e-4.
    Setting("block_lr", float, 1e-3, "First blocks' rate",
            "Layer 0 under sparse change: the Adam learning rate of its first two "
            "convolution blocks' own learning (lower for blocks that start learned).",
            low=0.0, above=True, high=1.0, step=1e-4, decimals=5,
            when={"block_objective": (SPARSE_CHANGE,)}),
    # Off as it was: Adam steps on every window, and past the margin its momentum carried
    # the blocks on, several times as far as the windows that taught them; a replayed
    # stream then lost boundaries on its later passes (docs/quality.md, session
    # forty-four); `live` has it on.
    Setting("block_hold_at_margin", bool, False, "First blocks hold",
            "Layer 0 under sparse change: a window whose changes are already sparse enough "
            "moves its first blocks no further (live); off: Adam's momentum carries them on.",
            when={"block_objective": (SPARSE_CHANGE,)}),
    # "drawn" is the spec. Drawn blocks are restless, and a fresh model missed most
    # events of its first minute (docs/quality.md, session twenty-two); `live` has "learned".
    Setting("first_blocks", str, DRAWN, "First blocks start",
            "Layer 0: where a new model's first two convolution blocks start: drawn at "
            "random like every other weight (paper), or as they learned sparse change "
            "over the built-in synthetic scene (live: a new model marks events in its "
            "first minute too).",
            choices={DRAWN: "drawn (paper)", LEARNED: "learned (synthetic scene)"}),
    # Off is the spec. A webcam's exposure steps became events on a still camera
    # (docs/quality.md, session thirty-two); `live` has it on.
    Setting("steady_light", bool, False, "Steady light",
            "Layer 0: divide a sudden change of the whole picture's brightness (a webcam's "
            "exposure step, a flickering lamp) out of its input, easing back over seconds, "
            "so that it is not taken for an event (live); off: the input as it comes "
            "(paper)."),
    # Off is the spec. A camera shaking by a few pixels hid who entered a still view
    # (docs/quality.md, session thirty-four); `live` has it on.
    Setting("steady_view", bool, False, "Steady view",
            "Layer 0: move a shaking camera's small shifts (up to 3 of the input's 128 "
            "pixels) back out of its input, holding the view where it was, so that the "
            "shake does not hide events (live); off: the input as it comes (paper)."),
    # Off is the spec. Cuts between two close-ups of one film stepped no more than a face
    # moving in one (docs/quality.md, session thirty-nine); `live` has it on.
    Setting("frames_between", bool, False, "Frames between",
            "Layer 0: also read the source frames between its inputs, to tell a cut (the "
            "picture changed from one frame to the next) from motion (it changed over all "
            "of them): a cut ends the event above (live); off: the inputs only (paper)."),
    # "own" is the spec; see escalation for "escalate".
    Setting("upper_demarcation", str, OWN, "Upper layers",
            "How layers above 0 mark boundaries: escalate a boundary of the layer below "
            "that was far more surprising than most, or from their own signal (paper).",
            live=True, choices={ESCALATE: "escalate (surprise below)",
                                OWN: "own signal (paper)"}),
    Setting("escalation_ratio", float, 2.0, "Escalation ratio",
            "escalate: how many times more surprising the big boundaries must be than the "
            "rest; raise it for fewer, coarser upper events.",
            live=True, low=1.0, step=0.5, decimals=2,
            when={"upper_demarcation": (ESCALATE,)}),
    # Layer 0 reading features (signal_space) decides the layer above by this and by the
    # class split of its changes' size (escalation).
    Setting("new_scene_share", float, 0.5, "New scene share",
            "escalate, layer 0 on features: the share of the picture whose prediction error "
            "must change (each region against its usual step) for a boundary to end the "
            "layer-1 event too, if the new picture then stays for a second; raise it for "
            "fewer, coarser layer-1 events.",
            live=True, low=0.05, high=1.0, step=0.05, decimals=2,
            when={"upper_demarcation": (ESCALATE,), "demarcation_mode": (CHANGE,),
                  "signal_space": (FEATURES,)}),
    Setting("optimize_every", int, 100, "Optimize every",
            "Update the weights after this many losses of the top layer (see "
            "optimize_clock).",
            owner=OPTIMIZER, live=True, reference=True, low=1),

    Setting("distance_mode", str, "distance", "Signal",
            "How a prediction is compared with what came: cosine similarity or squared "
            "distance (MSE).",
            reference=True, choices={"similarity": "similarity (cosine)",
                                     "distance": "distance (MSE)"}),
    Setting("lr", float, 1e-4, "Learning rate", "Adam learning rate of every module.",
            reference=True, low=0.0, above=True, high=1.0, step=1e-5, decimals=7),
    Setting("evolve_every", int, 50000, "Evolve every",
            "A layer gets a layer above after this many inputs.",
            reference=True, low=0),
    Setting("max_layers", int, 3, "Max layers", "The most layers the stack grows to.",
            reference=True, low=1),
    Setting("snippet_size", float, 0.5, "Snippet", "Seconds of video per model input.",
            reference=True, low=0.0, above=True, step=0.05, decimals=2, suffix=" s"),
    Setting("feature_dim", int, 1024, "Feature dim",
            "Embedding size (a multiple of 8, for 8 attention heads); smaller is faster.",
            reference=True, low=8, multiple_of=8, step=8),
    Setting("buffer_size", int, 10, "Buffer size",
            "Inputs a layer keeps to summarise its event.", reference=True, low=1),
    Setting("force_fixed_buffer", bool, False, "Full buffer ends event",
            "A full buffer forces a boundary (else its oldest input makes room).",
            reference=True),
    Setting("force_base_dist", bool, True, "Layer 0 distance",
            "Layer 0 compares by distance (MSE) whatever Signal says.", reference=True),
    # "summary" is the spec. See event_features: online, the summaries of events far
    # apart in time are far apart whatever they show (docs/quality.md, "Retrieval").
    Setting("event_representation", str, SUMMARY, "Event representation",
            "What the Event memory, similar and --representations keep of each event: "
            "the summary its layer sends up (paper), the median over its pictures of "
            "what layer 0's first features say most of the picture shows, or for layer 0 "
            "of what moved in them.",
            choices={SUMMARY: "summary (paper)",
                     EVENT_FEATURES: "features (what it shows)",
                     MOTION: "motion (what moved in it)"}),
    Setting("alpha", float, 3.0, "Alpha",
            "Reach: gradients from layers i apart are weighted alpha^-i.",
            owner=OPTIMIZER, reference=True, low=0.0, above=True, step=0.5, decimals=2),

    # CLI (--set) and checkpoints only.
    # False is the spec. True: with frequent updates layers above 0 would otherwise almost
    # never compare a prediction, and layer 0 would be blind for two inputs per update (on
    # the fast path its buffered frames keep the old weights' embeddings until they leave
    # the buffer, at most buffer_size inputs).
    Setting("keep_events", bool, False, "Keep events over updates",
            "After a weight update every layer goes on with its current event instead of "
            "starting afresh: layers above 0 predict it again, layer 0 judges its last "
            "input again with the new weights, so that the next input is judged too.",
            app=False),
    # "top" is the spec: updates get rarer with every layer grown.
    Setting("optimize_clock", str, "top", "Optimize clock",
            "Whose losses optimize_every counts: the top layer's or layer 0's.",
            owner=OPTIMIZER, app=False, live=True, choices=_labels(OPTIMIZE_CLOCKS)),
    Setting("hgn_timescale", bool, True, "Timescale weighting",
            "Scale each loss by the input's timescale (steps since the layer's previous "
            "input).", owner=OPTIMIZER, app=False, live=True),
    Setting("hgn_reach", bool, True, "Reach weighting",
            "Weight groups of layers by alpha^-i; off: every group the same weight.",
            owner=OPTIMIZER, app=False, live=True),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def settings_of(owner: str, *, live: bool | None = None, reference: bool | None = None,
                app: bool | None = None) -> tuple[Setting, ...]:
    """The rows of one owner, optionally only the live/reference/app ones (or not)."""
    return tuple(s for s in SETTINGS if s.owner == owner
                 and (live is None or s.live == live)
                 and (reference is None or s.reference == reference)
                 and (app is None or s.app == app))


def names(rows: tuple[Setting, ...]) -> tuple[str, ...]:
    return tuple(s.name for s in rows)


def studio_fields(owner: str) -> type:
    """A dataclass of the owner's settings the reference lacks, keyword-only, to inherit
    from: the argument classes keep the reference's fields (and positions) as they are."""
    specs = [(s.name, s.type, field(default=s.default, kw_only=True, metadata={"help": s.help}))
             for s in settings_of(owner, reference=False)]
    return dataclasses.make_dataclass(f"Studio{owner.title()}Settings", specs)


def check_settings(args: object, owner: str) -> None:
    """ValueError naming the first of `args`' table settings that is not valid."""
    for setting in settings_of(owner):
        setting.check(getattr(args, setting.name))
