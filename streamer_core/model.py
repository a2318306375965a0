"""The stack of STREAMER layers, fed one frame at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, fields

import torch
import torch.nn as nn

from .buffer import DISTANCE, DISTANCE_MODES
from .demarcation import (
    ACCUM,
    CHANGE,
    DEMARCATION_MODES,
    MODIFIER_TYPES,
    check_peak_settings,
)
from .device import resolve_device
from .escalation import OWN, UPPER_MODES, check_escalation_ratio
from .layer import LayerStep, StreamerLayer, StreamerLayerArguments
from .networks import CNNDecoder, CNNEncoder
from .reach import ReachWeights, reach_scaled

MAX_SIGNAL_REGIONS = 32
"""A grid of 32 x 32 cells of 4 x 4 pixels: finer cells follow motion, not shots"""


@dataclass
class StreamerModelArguments:
    """The reference's model arguments (same names and defaults) plus device and seed."""

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
    z_threshold: float = 3.0
    """Peak modes (zscore, robust, hysteresis): how many (robust) standard deviations
    beyond the window's centre a value must lie to end an event"""
    min_event_length: int = 1
    """Peak modes: fewest inputs between two boundaries of a layer (refractory period)"""
    rearm_z: float = 1.0
    """hysteresis: after a boundary, no other until a value is back within this many
    (robust) standard deviations of the centre"""
    min_window: int = 5
    """Peak modes: stored values needed before the first boundary after a reset"""
    signal_regions: int = 1
    """`change` at layer 0: 1 (the spec) judges the mean similarity of the predicted and
    the seen image; N > 1 also takes it per cell of an N x N grid, and a step is the mean
    of the cells' steps. A cut between two shots of one scene moves the similarity of
    each region, while their mean, better here and worse there, hardly moves"""
    upper_demarcation: str = OWN
    """How layers above 0 mark boundaries: "own" (the spec: each from its own prediction
    signal, by demarcation_mode) or "escalate" (a boundary of the layer below whose
    surprise stands out among that layer's recent ones; see escalation)"""
    escalation_ratio: float = 2.0
    """escalate: how many times more surprising (geometric mean) the upper class of
    boundaries must be than the lower for any to escalate"""
    keep_events: bool = False
    """False (the spec): after a weight update every layer starts afresh, losing its next
    input's loss and boundary. True: layers above 0 predict their current event again
    with the new weights and go on; with frequent updates they would otherwise almost
    never compare a prediction (layer 0 still starts afresh: its cached frames are
    encoded with the old weights)"""
    device: str = "auto"
    """'auto' (CUDA if available), 'cpu' or 'cuda'"""
    seed: int | None = None
    """Seeds weight initialisation (also of layers created later); None: torch's global RNG"""
    fast_path: bool = True
    """Same math as the reference with each expensive pass done once (see encoded_frames);
    False runs the reference's straightforward computation (tests, benchmarks)"""

    def validate(self) -> None:
        """Raises ValueError naming the first bad setting."""
        checks = [
            (self.max_layers >= 1, "max_layers must be at least 1"),
            (self.feature_dim >= 8 and self.feature_dim % 8 == 0,
             "feature_dim must be a positive multiple of 8 (8 attention heads)"),
            (self.evolve_every >= 0, "evolve_every must be 0 or more"),
            (self.buffer_size >= 1, "buffer_size must be at least 1"),
            (self.lr > 0, "lr (learning rate) must be positive"),
            (1 <= self.init_layers <= self.max_layers,
             "init_layers must be between 1 and max_layers"),
            (self.snippet_size > 0, "snippet_size must be positive"),
            (self.demarcation_mode in DEMARCATION_MODES,
             f"demarcation_mode must be one of {', '.join(DEMARCATION_MODES)}"),
            (self.distance_mode in DISTANCE_MODES,
             f"distance_mode must be one of {', '.join(DISTANCE_MODES)}"),
            (self.window_size >= 1, "window_size must be at least 1"),
            (1 <= self.signal_regions <= MAX_SIGNAL_REGIONS,
             f"signal_regions must be between 1 and {MAX_SIGNAL_REGIONS}"),
            (self.modifier_type in MODIFIER_TYPES,
             f"modifier_type must be one of {', '.join(MODIFIER_TYPES)}"),
            (self.device in ("auto", "cpu") or self.device.startswith("cuda"),
             "device must be auto, cpu or cuda"),
            (self.upper_demarcation in UPPER_MODES,
             f"upper_demarcation must be one of {', '.join(UPPER_MODES)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)
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


PEAK_FIELDS = ("z_threshold", "min_event_length", "rearm_z", "min_window", "signal_regions")
"""Settings of the peak demarcation modes"""
STUDIO_SAVED_FIELDS = (*PEAK_FIELDS, "upper_demarcation", "escalation_ratio", "keep_events")
"""Saved under the checkpoint's `studio` key: the reference's `model_args` must not hold them"""
STUDIO_ONLY_FIELDS = frozenset({"device", "seed", "fast_path", *STUDIO_SAVED_FIELDS})
DEMARCATION_FIELDS = {"demarcation_mode": "mode", "loss_threshold": "threshold",
                      "window_size": "window_size", "modifier_type": "modifier_type",
                      "modifier": "modifier", "z_threshold": "z_threshold",
                      "min_event_length": "min_event_length", "rearm_z": "rearm_z",
                      "min_window": "min_window", "signal_regions": "regions",
                      "upper_demarcation": "upper",
                      "escalation_ratio": "escalation_ratio"}
"""Fields a running model can change (StreamerModel.set_demarcation's keyword for each)"""


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
        self.reach = ReachWeights()  # the optimizer keeps it current
        self._rng_state = (torch.Generator().manual_seed(args.seed).get_state()
                           if args.seed is not None else None)
        num_layers, weights = args.init_layers, None
        if args.init_ckpt:  # pretrained weights: build as many layers as they hold
            from .checkpoint import read_reference_weights
            num_layers, weights = read_reference_weights(args.init_ckpt)
        layer_args = self.layer_arguments()
        self._seeding = False
        with self.seeded_init():
            streamer = StreamerLayer(layer_args, 0, num_layers, encoder=encoder,
                                     decoder=decoder, logger=logger,
                                     init_context=self.seeded_init)
        self.streamer = streamer.to(resolve_device(args.device))
        if weights is not None:
            self.streamer.load_state_dict(weights)

    def layer_arguments(self) -> StreamerLayerArguments:
        a = self.args
        return StreamerLayerArguments(
            max_layers=a.max_layers, feature_dim=a.feature_dim, evolve_every=a.evolve_every,
            buffer_size=a.buffer_size, loss_threshold=a.loss_threshold, lr=a.lr,
            reps_fn=self.getReps, snippet_size=a.snippet_size,
            demarcation_mode=a.demarcation_mode, distance_mode=a.distance_mode,
            force_base_dist=a.force_base_dist, window_size=a.window_size,
            modifier_type=a.modifier_type, modifier=a.modifier,
            force_fixed_buffer=a.force_fixed_buffer, fast_path=a.fast_path,
            z_threshold=a.z_threshold, min_event_length=a.min_event_length,
            rearm_z=a.rearm_z, min_window=a.min_window, signal_regions=a.signal_regions,
            upper_demarcation=a.upper_demarcation,
            escalation_ratio=a.escalation_ratio, keep_events=a.keep_events)

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

    def forward(self, x: torch.Tensor) -> list[LayerStep]:
        """One frame [1, 3, 128, 128] in [-1, 1]; returns what each layer did with it."""
        reports = self.streamer(x.to(self.device), base_counter=self.base_counter)
        self.base_counter += 1
        return reports

    def extract_rep(self) -> dict:
        """{"boundaries": {layer: [seconds]}}; upper layers closed at layer 0's last boundary."""
        hierarchy: dict = {"boundaries": {}}
        self.streamer.extract_rep(hierarchy)
        bounds = hierarchy["boundaries"]
        for layer_num, layer_bounds in bounds.items():
            if layer_num != 0 and layer_bounds[-1] != bounds[0][-1]:
                layer_bounds.append(bounds[0][-1])
        return hierarchy

    def reset_model(self) -> None:
        self.streamer.reset_layer()
        self.base_counter = 0

    def optimize_model(self) -> None:
        self.streamer.optimize_layer()
        for layer in self.layers():  # new weights predict at a new level: not an event
            layer.demarcation.weights_changed()

    def set_demarcation(self, mode: str | None = None, threshold: float | None = None,
                        window_size: int | None = None, modifier_type: str | None = None,
                        modifier: float | None = None, z_threshold: float | None = None,
                        min_event_length: int | None = None, rearm_z: float | None = None,
                        min_window: int | None = None, regions: int | None = None,
                        upper: str | None = None,
                        escalation_ratio: float | None = None) -> None:
        """Changes demarcation on the running model; a new rule, or layer 0's rule on
        another grid of regions, starts with an empty window and no boundary surprises
        (they are measured in the rule's units)."""
        keywords = locals()
        changes = {field: keywords[keyword] for field, keyword in DEMARCATION_FIELDS.items()
                   if keywords[keyword] is not None}
        trial = StreamerModelArguments(**{**self.args.__dict__, **changes})
        trial.validate()
        new_grid = trial.signal_regions != self.args.signal_regions
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
            layer.demarcation = new
            layer.escalation.ratio = self.args.escalation_ratio
