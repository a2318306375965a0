"""The stack of STREAMER layers, fed one frame at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace

import numpy as np
import torch
import torch.nn as nn

from .buffer import DISTANCE
from .checkpoint_file import read_reference_weights
from .demarcation import ACCUM, CHANGE, check_peak_settings
from .device import resolve_device, to_device
from .escalation import check_escalation_ratio
from .event_features import FEATURES, MOTION, EventFeatures, FrozenFirstBlock
from .first_blocks import LEARNED, load_blocks
from .frames_between import FramesBetween
from .input_clock import InputClock
from .layer import LayerStep, StreamerLayer, StreamerLayerArguments
from .networks import CNNDecoder, CNNEncoder
from .reach import ReachWeights, reach_scaled
from .settings import MODEL, check_settings, names, settings_of, studio_fields
from .steady_light import SteadyLight
from .steady_view import SteadyView


@dataclass
class StreamerModelArguments(studio_fields(MODEL)):
    """The reference's model arguments (same names, defaults and order), then, keyword-only,
    this project's settings from `settings.SETTINGS` and device, seed and fast_path."""

    log_base_every: int = 1000
    """Unused here (reference: tensorboard logging period)"""
    main: bool = True
    """Unused here (reference: main process in distributed runs)"""
    max_layers: int = 3
    feature_dim: int = 1024
    evolve_every: int = 50000
    buffer_size: int = 10
    force_fixed_buffer: bool = False
    loss_threshold: float = 0.25
    lr: float = 1e-4
    init_layers: int = 1
    init_ckpt: str = ""
    ckpt_dir: str = ""
    snippet_size: float = 0.5
    demarcation_mode: str = "average"
    distance_mode: str = "distance"
    force_base_dist: bool = True
    window_size: int = 50
    modifier_type: str = "multiply"
    modifier: float = 1.0
    device: str = field(default="auto", kw_only=True)
    """'auto' (CUDA if available), 'cpu' or 'cuda'"""
    seed: int | None = field(default=None, kw_only=True)
    """Seeds weight initialisation (also of layers created later); None: torch's global RNG"""
    fast_path: bool = field(default=True, kw_only=True)
    """Same math as the reference with each expensive pass done once (see encoded_frames);
    False runs the reference's straightforward computation (tests, benchmarks)"""

    def validate(self) -> None:
        """Raises ValueError naming the first bad setting."""
        check_settings(self, MODEL)
        if not 1 <= self.init_layers <= self.max_layers:
            raise ValueError("init_layers must be between 1 and max_layers")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ValueError("device must be auto, cpu or cuda")
        if self.seed is not None and not 0 <= self.seed < 2**63:
            raise ValueError("seed must be a whole number from 0 to 2**63 - 1")
        if self.demarcation_mode == ACCUM and self.distance_mode != DISTANCE:
            raise ValueError("accum demarcation needs distance_mode 'distance'")
        check_peak_settings(self.demarcation_mode, self.z_threshold, self.min_event_length,
                            self.rearm_z, self.min_window)
        check_escalation_ratio(self.escalation_ratio)

    def reference_dict(self) -> dict:
        """The fields the reference writes to checkpoints as `model_args` (the reference
        builds its arguments from that dict, so it must hold no other key)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name not in STUDIO_ONLY_FIELDS}

    def studio_dict(self) -> dict:
        """This project's saved fields the reference does not know."""
        return {name: getattr(self, name) for name in STUDIO_SAVED_FIELDS}


STUDIO_SAVED_FIELDS = names(settings_of(MODEL, reference=False))
"""Saved under the checkpoint's `studio` key: the reference's `model_args` must not hold them"""
STUDIO_ONLY_FIELDS = frozenset({"device", "seed", "fast_path", *STUDIO_SAVED_FIELDS})
LIVE_MODEL_FIELDS = names(settings_of(MODEL, live=True))
"""Fields a running model can change (StreamerModel.set_demarcation)"""


class StreamerModel(nn.Module):
    """Feeds frames to the bottom layer; owns the step counter and the layer stack."""

    modality = "video"

    def __init__(self, args: StreamerModelArguments, logger: object | None = None,
                 encoder: type[nn.Module] | None = CNNEncoder,
                 decoder: type[nn.Module] | None = CNNDecoder):
        super().__init__()
        args.validate()
        self.args = args
        self.logger = logger
        self.base_counter = 0
        self.input_clock = InputClock(args.snippet_size)
        """Where the inputs fall on the stream's clock, when snippets were lost (see
        snippets_lost); the layers count inputs"""
        self.reach = ReachWeights()  # the optimizer keeps it current
        self._rng_state = (torch.Generator().manual_seed(args.seed).get_state()
                           if args.seed is not None else None)
        num_layers, weights = args.init_layers, None
        if args.init_ckpt:  # pretrained weights: build as many layers as they hold
            num_layers, weights = read_reference_weights(args.init_ckpt)
        layer_args = self.layer_arguments()
        self._seeding = False
        with self.seeded_init():
            streamer = StreamerLayer(layer_args, 0, num_layers, encoder=encoder,
                                     decoder=decoder, logger=logger,
                                     init_context=self.seeded_init)
        self.streamer = streamer.to(resolve_device(args.device))
        if args.seed is not None and streamer.block_learner is not None:
            streamer.block_learner.seed_windows(args.seed)
        self.event_features = (EventFeatures() if args.event_representation in (FEATURES, MOTION)
                               else None)
        self.block_before: torch.Tensor | None = None
        """Under `motion`, the frozen first block of the last input: what moved since"""
        self.steady_light = SteadyLight() if args.steady_light else None
        self.steady_view = SteadyView() if args.steady_view else None
        self.frames_between = FramesBetween() if args.frames_between else None
        self.streamer.frames_between = self.frames_between
        self.input_seen: torch.Tensor | None = None
        """The last input as layer 0 took it (steady_light, steady_view: with the light and
        the view held steady)"""
        if weights is not None:
            self.streamer.load_state_dict(weights)
        if weights is None and args.first_blocks == LEARNED:
            if not self.streamer.f.has_encoder:
                raise ValueError("first_blocks 'learned' needs layer 0's image encoder")
            load_blocks(self.streamer.f.encoder.first_convolutions())
        self.frozen_first_block: FrozenFirstBlock | None = None
        self.freeze_first_block()

    def freeze_first_block(self) -> None:
        """Events' features are read with layer 0's first convolution as it is now, frozen:
        as the model starts (the shipped learned block under first_blocks "learned", else
        drawn) or as loaded (a checkpoint may then load its own). Only under
        event_representation "features" and "motion"."""
        if self.event_features is not None:
            self.frozen_first_block = FrozenFirstBlock(self.streamer.f.encoder.conv1)

    def layer_arguments(self) -> StreamerLayerArguments:
        return layer_arguments(self.args, self.getReps)

    # --- seeded construction ----------------------------------------------------------

    @contextlib.contextmanager
    def seeded_init(self) -> Iterator[None]:
        """Draws initial weights from the model's own RNG stream when seeded."""
        if self._rng_state is None or self._seeding:  # unseeded, or already inside
            yield
            return
        self._seeding = True
        try:
            with torch.random.fork_rng(devices=[]):
                torch.random.set_rng_state(self._rng_state)
                yield
                self._rng_state = torch.random.get_rng_state()
        finally:
            self._seeding = False

    # --- structure --------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self.streamer.device

    def layers(self) -> list[StreamerLayer]:
        """Bottom-up."""
        stack, layer = [], self.streamer
        while layer is not None:
            stack.append(layer)
            layer = layer.above
        return stack

    def get_num_layers(self) -> int:
        return self.streamer.get_num_layers(0)

    def getReps(self, layer_num: int) -> torch.Tensor:  # noqa: N802 (reference name)
        """Representations of the layers from the bottom up to the first without one [L, D]."""
        reps = []
        for layer in self.layers():
            if layer.representation is None:
                break
            rep = layer.representation
            if self.args.fast_path:
                rep = reach_scaled(rep, self.reach, layer_num, layer.layer_num)
            reps.append(rep)
        return torch.cat(reps, dim=0)

    def finish_gradients(self, everything: bool = True, final: bool = True) -> None:
        """Fast path: make every parameter's `.grad` complete (the optimizer calls it;
        final=False keeps what later inputs still add to, for saving mid-interval)."""
        for layer in self.layers():
            layer.finish_gradients(everything, final)

    # --- streaming --------------------------------------------------------------------

    def forward(self, x: torch.Tensor, picture: np.ndarray | None = None) -> list[LayerStep]:
        """One frame [1, 3, 128, 128] in [-1, 1]; returns what each layer did with it.
        `picture`: the source picture x was made from, if at hand (steady_view uses it)."""
        x = to_device(x, self.device)
        if self.frames_between is not None:
            self.frames_between.take_input(x)
        if self.steady_view is not None:
            x = self.steady_view(x, picture)
        if self.steady_light is not None:
            x = self.steady_light(x)
        self.input_seen = x
        reports = self.streamer(x, base_counter=self.base_counter)
        self.base_counter += 1
        if self.event_features is not None:  # the reports carry these representations
            _carry(reports, self._events_closed_by(x, reports))
        return reports

    def end_stream(self) -> list[LayerStep]:
        """The stream ended: what layer 0 still held back from the layers above goes up
        (StreamerLayer.end_stream), so the hierarchy holds every boundary it marked. Learns
        nothing from it (no graph is built)."""
        with torch.no_grad():
            reports = self.streamer.end_stream()
        if self.event_features is not None:
            _carry(reports, self.event_features.close(reports, self.base_counter))
        return reports

    def _events_closed_by(self, x: torch.Tensor, reports: list[LayerStep]
                          ) -> dict[int, torch.Tensor | None]:
        """The events this input closed, with their features (event_features)."""
        if self.args.event_representation != MOTION:
            return self.event_features.observe(self.frozen_first_block.prevailing(x),
                                               reports, self.get_num_layers())
        in_view, moving, self.block_before = self.frozen_first_block.read(
            x, self.block_before)
        return self.event_features.observe(in_view, reports, self.get_num_layers(), moving)

    def stop_background_learning(self) -> None:
        """Ends what learns beside the stream (layer 0's first blocks under sparse_change),
        forgetting what it had not handed over: for a thread that is done with the model."""
        if self.streamer.block_learner is not None:
            self.streamer.block_learner.cancel()

    def first_blocks_loss(self) -> float | None:
        """The loss layer 0's first blocks ended on in the learning handed over at the last
        weight update (`block_objective` "sparse_change"); None under the prediction or
        before any was handed over."""
        learner = self.streamer.block_learner
        return learner.last_loss if learner is not None else None

    def open_representation(self, layer_num: int) -> torch.Tensor | None:
        """The representation of the event `layer_num` has open, as its boundary would
        report it (event_representation), None if there is none yet."""
        if self.event_features is not None:
            return self.event_features.current(layer_num)
        return self.layers()[layer_num].representation

    def extract_rep(self) -> dict:
        """{"boundaries": {layer: [seconds]}}; upper layers closed at layer 0's last boundary."""
        bounds = self.event_boundaries()
        for layer_num, layer_bounds in bounds.items():
            if layer_num != 0 and layer_bounds[-1] != bounds[0][-1]:
                layer_bounds.append(bounds[0][-1])
        return {"boundaries": bounds}

    def event_boundaries(self) -> dict[int, list[float]]:
        """Each layer's boundary times as it marked them (seconds, from 0). Unlike
        extract_rep (the reference's), upper layers are not closed at layer 0's last
        boundary: the export writes each layer's open event up to the stream's end
        instead, and closing it there too would add a boundary nobody marked."""
        return {layer.layer_num: [float(t) for t in layer.hierarchy_boundaries]
                for layer in self.layers()}

    def reset_model(self) -> None:
        self.streamer.reset_layer()
        self.base_counter = 0
        self.input_clock.reset()
        if self.event_features is not None:
            self.event_features.reset()
        self.block_before = None
        if self.steady_light is not None:
            self.steady_light.reset()
        if self.steady_view is not None:
            self.steady_view.reset()
        if self.frames_between is not None:
            self.frames_between.reset()

    def pass_over(self, x: torch.Tensor) -> None:
        """A source frame [1, 3, 128, 128] between two inputs, which the sampler passed
        over: under frames_between kept until the next input (a cut or motion?), else
        nothing."""
        if self.frames_between is not None:
            self.frames_between.pass_over(to_device(x, self.device))

    def snippets_lost(self, count: int) -> None:
        """`count` snippets of the stream never reached the model (a live reader behind
        its source dropped them) before its next input: its events stay where they happened
        on the stream's clock (`input_clock`, `stream_boundaries`)."""
        self.input_clock.lose(self.base_counter, count)

    def stream_seconds(self) -> float:
        """Where the next input falls on the stream's clock: the inputs since the reset
        and the snippets lost between them."""
        return self.input_clock.stream_time(self.base_counter * self.args.snippet_size)

    def stream_boundaries(self) -> dict[int, list[float]]:
        """event_boundaries on the stream's clock: later by the snippets lost before each."""
        return self.input_clock.boundaries(self.event_boundaries())

    def frames_lost(self) -> None:
        """Frames between the last input and the next never came (frames_between)."""
        if self.frames_between is not None:
            self.frames_between.frames_lost()

    def optimize_model(self) -> None:
        self.streamer.optimize_layer()
        for layer in self.layers():
            if self.args.keep_events and layer.resume():
                continue
            layer.weights_changed()

    def set_demarcation(self, **changes: object) -> None:
        """Changes live settings (LIVE_MODEL_FIELDS, by name) on the running model; a new
        rule, or layer 0's rule on another grid of regions, starts with an empty window
        and no boundary surprises (they are measured in the rule's units)."""
        fixed = [name for name in changes if name not in LIVE_MODEL_FIELDS]
        if fixed:
            raise ValueError(f"{fixed[0]} cannot change on a running model; settings that "
                             f"can: {', '.join(LIVE_MODEL_FIELDS)}")
        trial = replace(self.args, **changes)
        trial.validate()
        new_grid = (trial.signal_regions != self.args.signal_regions
                    or trial.signal_space != self.args.signal_space)
        for key, value in changes.items():
            setattr(self.args, key, value)
            for layer in self.layers():
                setattr(layer.args, key, value)
        for layer in self.layers():
            old = layer.demarcation
            new = layer.make_demarcation()
            # Only layer 0's `change` reads the grid: there a new grid is a new signal.
            new_signal = new_grid and layer.layer_num == 0 and new.dem_mode == CHANGE
            same_rule = new.dem_mode == old.dem_mode and not new_signal
            if same_rule and new.window_size == old.window_size:
                new.load_state(old.state())  # keep history when only the level moves
            if not same_rule:
                layer.escalation.reset()
            if new_signal:
                layer.picture.reset()  # the regions' usual steps were of the old grid
            layer.demarcation = new
            layer.escalation.ratio = self.args.escalation_ratio
            layer.sides.retune(layer.args)


def _carry(reports: list[LayerStep], closed: dict[int, torch.Tensor | None]) -> None:
    """Each boundary's report carries the event it closed as event_features read it."""
    for report in reports:
        if report.boundary:
            report.representation = closed[report.layer]


def layer_arguments(args: StreamerModelArguments, reps_fn) -> StreamerLayerArguments:
    """A layer's arguments: every field of the model's it has, same name."""
    values = {f.name: getattr(args, f.name) for f in fields(StreamerLayerArguments)
              if f.name != "reps_fn"}
    return StreamerLayerArguments(**values, reps_fn=reps_fn)


def parameter_shapes(args: StreamerModelArguments, num_layers: int) -> dict[str, torch.Size]:
    """The state-dict shapes of a model with `num_layers` layers, worked out on the meta
    device: nothing is allocated, so a file's declared sizes (feature_dim 65536, say) are
    checked against its weights before a model of that size is built."""
    with torch.random.fork_rng(devices=[]), torch.device("meta"):
        layer = StreamerLayer(layer_arguments(args, None), 0,
                              num_layers, encoder=CNNEncoder, decoder=CNNDecoder)
    return {name: tensor.shape for name, tensor in layer.state_dict().items()}
