"""Same weights + same frames = same signals, boundaries, gradients as the reference.

The oracle is the published reference implementation (`streamer-torch` 0.0.3), installed
by `make test` and loaded with its `.cuda()` calls neutralised (tests/reference_impl.py).
"""

import pytest
import torch

from core_helpers import SMALL, scene_frames
from reference_impl import reference
from streamer_core import (
    StreamerModel,
    StreamerModelArguments,
    StreamerOptimizer,
    StreamerOptimizerArguments,
)
from streamer_core.checkpoint import load_checkpoint

CONFIGS = {
    "similarity-average-fixed-buffer": (dict(force_fixed_buffer=True, evolve_every=3), 12),
    "distance-base-accum": (dict(distance_mode="distance", force_base_dist=True,
                                 demarcation_mode="accum", loss_threshold=0.5,
                                 evolve_every=100, max_layers=2), 8),
}


def _reference_args(overrides):
    args = {k: v for k, v in {**SMALL, **overrides}.items() if k != "device"}
    return args


def _build_pair(R, overrides, fast_path=False):
    """Reference and project models from the same global seed (same initial weights)."""
    args = _reference_args(overrides)
    opt_args = dict(optimize_every=3, max_layers=args["max_layers"])
    torch.manual_seed(0)
    ref = R.model.StreamerModel(R.model.StreamerModelArguments(**args),
                                encoder=R.networks.CNNEncoder, decoder=R.networks.CNNDecoder)
    ref_opt = R.optimizer.StreamerOptimizer(ref, R.optimizer.StreamerOptimizerArguments(
        **opt_args))
    torch.manual_seed(0)
    mine = StreamerModel(StreamerModelArguments(**args, device="cpu", fast_path=fast_path))
    opt = StreamerOptimizer(mine, StreamerOptimizerArguments(**opt_args))
    return ref, ref_opt, mine, opt


def _layers(ref_model):
    layer, out = ref_model.streamer, []
    while layer is not None:
        out.append(layer)
        layer = layer.above
    return out


def _relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    return ((a - b).norm() / b.norm().clamp_min(1e-12)).item()


def _assert_same_parameters_and_grads(ref, mine, exact=True):
    """Exact path: equal to float rounding. Fast path (compared before the first update:
    Adam turns the rounding of near-zero gradients into full steps of either sign):
    gradients within 1e-2 relative (float32 rounding: the reference itself is ~1e-3
    off float64 here); tests/test_fast_path.py checks the
    math in float64."""
    ref_params = dict(ref.streamer.named_parameters())
    for name, param in mine.streamer.named_parameters():
        torch.testing.assert_close(param, ref_params[name], rtol=1e-5, atol=1e-6,
                                   msg=lambda m, name=name: f"{name}: {m}")
        ref_grad = ref_params[name].grad
        if exact:
            assert (param.grad is None) == (ref_grad is None), name
            if ref_grad is not None:
                torch.testing.assert_close(param.grad, ref_grad, rtol=1e-5, atol=1e-7,
                                           msg=lambda m, name=name: f"{name}: {m}")
        elif ref_grad is not None:
            assert param.grad is not None, name
            assert _relative_error(param.grad, ref_grad) < 1e-2, name


@pytest.mark.parametrize("fast_path", [False, True], ids=["reference-path", "fast-path"])
@pytest.mark.parametrize("config", CONFIGS)
def test_matches_reference_step_by_step(config, fast_path):
    overrides, steps = CONFIGS[config]
    with reference() as R:
        ref, ref_opt, mine, opt = _build_pair(R, overrides, fast_path)
        assert list(ref.streamer.state_dict()) == list(mine.streamer.state_dict())
        optimizer_steps = 0
        for i, x in enumerate(scene_frames(steps)):
            torch.manual_seed(i)  # a layer grown at this step draws the same weights in both
            ref(x)
            ref_opt.step()
            torch.manual_seed(i)
            reports = mine(x)
            optimizer_steps += opt.step()
            ref_layers = _layers(ref)
            assert len(ref_layers) == mine.get_num_layers()
            for report in reports:
                ref_layer = ref_layers[report.layer]
                if report.signal is not None:
                    ref_objective = ref_layer.main_objective["l2_loss"].item()
                    # Fast path after an update: Adam's amplified rounding (see below).
                    tolerance = (1e-5 if not fast_path else
                                 1e-4 if optimizer_steps == 0 else 1e-2)
                    assert report.signal == pytest.approx(ref_objective, rel=tolerance,
                                                          abs=1e-7)
            if not fast_path or optimizer_steps == 0:
                mine.finish_gradients(final=False)  # the sum so far; later steps add to it
                _assert_same_parameters_and_grads(ref, mine, exact=not fast_path)
        assert optimizer_steps >= 1, "the test must cover a parameter update"
        assert mine.extract_rep() == ref.extract_rep()
        assert len(mine.extract_rep()["boundaries"][0]) > 2


def test_reference_checkpoint_loads_and_continues_identically(tmp_path):
    overrides = dict(evolve_every=3)
    frames = scene_frames(12)
    with reference() as R:
        ref, ref_opt, _, _ = _build_pair(R, overrides)
        for x in frames[:6]:
            ref(x)
        ref.modality = "video"
        ref.args.ckpt_dir = str(tmp_path)
        ref.save_model()  # the reference's own writer: only the reference keys
        mine, opt = load_checkpoint(tmp_path / "model_000.pth", device="cpu")
        assert mine.get_num_layers() == ref.get_num_layers() == 2
        # The reference's own way to resume from its file.
        saved = torch.load(tmp_path / "model_000.pth", weights_only=True)["model_args"]
        ref_args = R.model.StreamerModelArguments(**{**saved, "init_ckpt": str(
            tmp_path / "model_000.pth")})
        ref = R.model.StreamerModel(ref_args, encoder=R.networks.CNNEncoder,
                                    decoder=R.networks.CNNDecoder)
        ref_opt = R.optimizer.StreamerOptimizer(ref, R.optimizer.StreamerOptimizerArguments(
            optimize_every=2))
        opt.args.optimize_every = 2
        optimizer_steps = 0
        for i, x in enumerate(frames[6:]):
            torch.manual_seed(i)
            ref(x)
            ref_opt.step()
            torch.manual_seed(i)
            mine(x)
            optimizer_steps += opt.step()
        assert optimizer_steps >= 1
        assert mine.get_num_layers() == ref.get_num_layers()
        assert mine.extract_rep() == ref.extract_rep()
